"""The feed-sync engine (shared/services/feed_sync.py, shared/domain/feed_sync.py) on fakes: what stock and
price sync share: the kill switch stops writes but not confirmations, a dead flush's SKUs go at the next
flush, a claim whose release timed out is asked again, a price flush waiting for its slot reads nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared.domain.feed_sync import SyncRecord, pick_due
from shared.domain.price_settings import PriceSyncSettings
from shared.domain.prices import FREE_FEEDS
from shared.domain.product import Product
from shared.domain.stock import StockSyncSettings
from shared.ports import Claim, StorageUnavailable
from shared.services import price_sync, stock_sync
from tests.fakes import FakeContext, fake_context

T = "facl"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def synced_context(*skus: str) -> FakeContext:
    context = fake_context(T)
    context.price_sync[T] = PriceSyncSettings(enabled=True, currency="CLP")
    context.stock_sync[T] = StockSyncSettings(enabled=True)
    for sku in skus:
        context.products.merge(Product(tenant=T, sku=sku, marketplace_listed=True))
        context.zorts[T].sellprice[sku] = Decimal("1000")
        context.zorts[T].stock[sku] = Decimal("5")
    return context


def test_in_flight_blocks_a_sku_outside_a_flush_but_not_under_the_tenants_claim() -> None:
    taken = SyncRecord(T, "A", dirty=True, mark="m", sending_mark="m", sending_at=NOW)
    assert not taken.due(NOW + timedelta(minutes=1))
    assert taken.due(NOW + timedelta(minutes=1), claimed=True)  # whoever took it is gone
    assert pick_due([taken], NOW, 10) == [] and pick_due([taken], NOW, 10, claimed=True) == [taken]
    in_feed = SyncRecord(T, "B", dirty=True, feed_id="F")
    assert not in_feed.due(NOW, claimed=True)  # its feed settles it first


@pytest.mark.parametrize("kind", ["stock", "price"])
def test_the_kill_switch_stops_writes_but_not_confirmations(kind: str) -> None:
    context = synced_context("A")
    module: Any = stock_sync if kind == "stock" else price_sync
    if kind == "stock":
        context.stock.mark_dirty(T, ["A"], context.clock())
    else:
        context.prices.mark(T, ["A"], context.clock())
    assert module.flush_tenant(context, T).result == "sent"
    module.set_paused(context, T, True, "audit")
    report = module.flush_tenant(context, T)
    assert report.result == "paused" and report.feeds == [] and "1 settled" in report.polled
    repo: Any = context.stock if kind == "stock" else context.prices
    assert repo.dirty(T) == []  # confirmed while paused


def test_a_claim_whose_release_timed_out_is_released_on_the_second_ask() -> None:
    context = synced_context("A")
    context.stock.mark_dirty(T, ["A"], context.clock())
    release = context.claims.release
    failures = [StorageUnavailable("storage did not answer")]

    def flaky(tenant: str, name: str, claim: Claim) -> str | None:
        if failures:
            raise failures.pop()
        return release(tenant, name, claim)

    context.claims.release = flaky  # type: ignore[method-assign]
    assert stock_sync.flush_tenant(context, T).result == "sent"
    assert failures == []
    assert stock_sync.flush_tenant(context, T).result == "nothing to send"  # not "busy": the claim is free


def test_a_price_flush_waiting_for_its_feed_budget_does_not_read_the_marked_set() -> None:
    context = synced_context("A")
    context.prices.mark(T, ["A"], context.clock())
    budget = context.prices.budget("s")
    budget.calls = [context.clock() - timedelta(seconds=10)] * FREE_FEEDS  # the next slot is ~2 minutes away
    context.prices.save_budget(budget)
    reads: list[str] = []
    dirty = context.prices.dirty

    def counted(tenant: str, limit: int = 25_000) -> list[Any]:
        reads.append(tenant)
        return dirty(tenant, limit)

    context.prices.dirty = counted  # type: ignore[method-assign]
    report = price_sync.flush_tenant(context, T)
    assert report.result == "waiting" and report.wait_until is not None and reads == []
    context.clock.advance(130)
    assert price_sync.flush_tenant(context, T).result == "sent" and reads == [T]
