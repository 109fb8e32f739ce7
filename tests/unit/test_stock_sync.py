"""Stock sync on fakes (shared/services/stock_sync.py): marking from ZORT events, flushing to the marketplace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from shared.domain.errors import ExternalSystemError
from shared.domain.events import EventKind, EventStatus
from shared.domain.product import Product
from shared.domain.stock import SkuResult, StockState, StockSyncSettings, StockWarehouse
from shared.services import intake
from shared.services.processing import process_event
from shared.services.stock_sync import flush_all, flush_tenant, resync_tenant, set_paused, stock_sync_state
from tests.checks import present
from tests.fakes import FakeContext, fake_context

T = "faco"


class MarketplaceDown(ExternalSystemError):
    system = "marketplace"


def stock_context(*skus: str, buffer: int = 0, warehouse: StockWarehouse | None = None) -> FakeContext:
    context = fake_context(T, "soco")
    context.stock_sync[T] = StockSyncSettings(enabled=True, buffer=buffer, warehouse=warehouse)
    for sku in skus:
        context.products.merge(Product(tenant=T, sku=sku, marketplace_listed=True))
    return context


def zort_quantity(context: FakeContext, sku: str, stock: str, tenant: str = T) -> EventStatus | None:
    payload = {"id": 1, "sku": sku, "name": sku, "stock": stock, "availablestock": stock}
    acceptance = intake.record_event(
        context.events,
        context.queue,
        tenant=tenant,
        kind=EventKind.ZORT,
        identity=[sku, stock, str(len(context.events.events))],
        body={"method": "UPDATEPRODUCTQUANTITY", "query": {}, "payload": payload},
    )
    return process_event(context, tenant, acceptance.event_id, context.settings.retry_delays)


def dirty(context: FakeContext, tenant: str = T) -> set[str]:
    """The SKUs not confirmed yet: dirty, in flight or in a feed that has not reported."""
    return {r.sku for r in context.stock.dirty(tenant)}


def in_feed(context: FakeContext, tenant: str = T) -> set[str]:
    return {r.sku for r in context.stock.dirty(tenant) if r.state(context.clock()) is StockState.IN_FEED}


def test_a_zort_stock_change_reaches_the_marketplace_within_one_flush() -> None:
    context = stock_context("A")
    context.zorts[T].stock["A"] = Decimal("7.00")
    assert zort_quantity(context, "A", "7.00") is EventStatus.COMPLETED
    assert "stock to sync in faco (1)" in present(context.events.list()[0].outcome)
    assert dirty(context) == {"A"}
    report = flush_tenant(context, T)
    assert report.result == "sent" and report.writes == 1
    assert context.marketplaces[T].stock == {}  # UpdateStock answered a feed: nothing is confirmed yet
    assert in_feed(context) == {"A"} and present(context.stock.get(T, "A")).sent_quantity == 7
    report = flush_tenant(context, T)  # the next flush asks FeedStatus: Finished, no error for A
    assert "1 settled" in report.polled and report.result == "nothing to send"
    assert context.marketplaces[T].stock == {"A": 7}
    assert dirty(context) == set()
    stored = context.stock.get(T, "A")
    assert stored and stored.sent_quantity == 7 and stored.result is SkuResult.ACCEPTED and stored.sent_at


def test_ten_out_of_order_webhooks_end_at_zorts_current_value() -> None:
    context = stock_context("A")
    for stock in ("9", "3", "8", "1", "7", "2", "6", "4", "10", "5"):  # late, reordered hints
        zort_quantity(context, "A", stock)
    context.zorts[T].stock["A"] = Decimal("4.00")  # what ZORT says now
    flush_tenant(context, T)
    flush_tenant(context, T)
    assert context.marketplaces[T].stock == {"A": 4}
    assert [call for call in context.marketplaces[T].calls if call[0] == "update_stock"] == [
        ("update_stock", ([("A", 4)], None))
    ]


def test_the_buffer_applies_and_never_goes_negative_and_the_warehouse_is_sent() -> None:
    warehouse = StockWarehouse("SellerWarehouseId", "WH-1")
    context = stock_context("A", "B", buffer=3, warehouse=warehouse)
    context.zorts[T].stock.update({"A": Decimal("10.00"), "B": Decimal("2.00")})
    context.stock.mark_dirty(T, ["A", "B"], context.clock())
    flush_tenant(context, T)
    flush_tenant(context, T)
    assert context.marketplaces[T].stock == {"A": 7, "B": 0}
    assert [c[1][1] for c in context.marketplaces[T].calls if c[0] == "update_stock"] == [warehouse]


def test_only_tenants_that_sell_the_sku_and_sync_stock_are_marked() -> None:
    context = stock_context("A")
    context.products.merge(Product(tenant="soco", sku="A", marketplace_listed=True))
    zort_quantity(context, "B", "1")  # faco does not sell B
    assert dirty(context) == set()
    zort_quantity(context, "A", "1", tenant="soco")  # soco's webhook, soco has stock sync off
    assert dirty(context) == set() and dirty(context, "soco") == set()
    context.zort_stores.update({T: "shared-store", "soco": "shared-store"})
    context.stock_sync["soco"] = StockSyncSettings(enabled=True)
    zort_quantity(context, "A", "1", tenant="soco")  # one ZORT store behind both storefronts
    assert dirty(context) == {"A"} and dirty(context, "soco") == {"A"}


def test_a_429_keeps_the_skus_dirty_and_they_go_in_the_next_flush() -> None:
    skus = [f"S{i:04d}" for i in range(1200)]
    context = stock_context(*skus)
    context.zorts[T].stock.update({sku: Decimal(5) for sku in skus})
    context.stock.mark_dirty(T, skus, context.clock())
    context.marketplaces[T].fail_next(
        MarketplaceDown("E429", "Too many requests", status=429, retryable=True, retry_after=30), times=1
    )
    report = flush_tenant(context, T)
    assert report.result == "throttled" and report.writes == 1
    assert dirty(context) == set(skus) and context.marketplaces[T].stock == {}
    assert flush_tenant(context, T).result == "waiting"  # Retry-After is honoured between flushes
    context.clock.advance(31)
    report = flush_tenant(context, T)
    assert report.result == "sent" and report.writes == 3
    assert in_feed(context) == set(skus)
    flush_tenant(context, T)
    assert dirty(context) == set() and len(context.marketplaces[T].stock) == 1200


def test_a_sku_refused_in_a_completed_feed_stays_dirty_visible_and_is_sent_again() -> None:
    context = stock_context("A", "B")
    marketplace = context.marketplaces[T]
    context.zorts[T].stock.update({"A": Decimal(1), "B": Decimal(2)})
    marketplace.refuse["B"] = "Seller SKU 'B' not found"
    context.stock.mark_dirty(T, ["A", "B"], context.clock())
    assert flush_tenant(context, T).result == "sent"  # one feed with both; nothing confirmed yet
    assert marketplace.stock == {} and dirty(context) == {"A", "B"}
    flush_tenant(context, T)  # polled: Finished, its FeedErrors name B; B goes again at once (first retry)
    assert marketplace.stock == {"A": 1} and dirty(context) == {"B"}
    assert marketplace.calls[-1] == ("update_stock", ([("B", 2)], None))
    [feed] = context.feeds.refused_recently(T)
    assert feed.refused == {"B": "1: Seller SKU 'B' not found"} and not feed.open
    [state] = stock_sync_state(context, [T])  # while sent again, the refusal stays visible
    assert [(f.sku, f.reason, f.failures) for f in state.failures] == [("B", "1: Seller SKU 'B' not found", 1)]
    flush_tenant(context, T)  # refused again: now it waits its back-off (5 minutes)
    [state] = stock_sync_state(context, [T])
    assert [(f.sku, f.result, f.reason, f.failures) for f in state.failures] == [
        ("B", "refused", "1: Seller SKU 'B' not found", 2)
    ]
    assert state.dirty == 1 and state.in_feed == 0 and not state.open_feeds
    del marketplace.refuse["B"]
    assert flush_tenant(context, T).result == "nothing to send"
    context.clock.advance(300)
    assert flush_tenant(context, T).result == "sent"
    flush_tenant(context, T)
    assert marketplace.stock == {"A": 1, "B": 2} and dirty(context) == set()
    assert present(context.stock.get(T, "B")).failures == 0


def test_a_sku_zort_does_not_know_is_not_written_and_stays_visible() -> None:
    context = stock_context("A")
    context.stock.mark_dirty(T, ["A"], context.clock())
    flush_tenant(context, T)
    assert context.marketplaces[T].stock == {} and present(context.stock.get(T, "A")).result is SkuResult.NOT_IN_ZORT
    assert dirty(context) == {"A"}


def test_a_tenant_with_sync_off_sends_nothing() -> None:
    context = stock_context("A")
    context.stock_sync[T] = StockSyncSettings(enabled=False)
    context.products.merge(Product(tenant=T, sku="A", marketplace_listed=True))
    zort_quantity(context, "A", "3")
    context.stock.mark_dirty(T, ["A"], context.clock())
    assert flush_tenant(context, T).result == "off" and flush_all(context) == []
    assert not [c for c in context.marketplaces[T].calls if c[0] == "update_stock"]
    assert not context.zorts[T].calls


def test_the_kill_switch_stops_writing_and_the_marks_wait_for_it() -> None:
    context = stock_context("A")
    context.zorts[T].stock["A"] = Decimal(3)
    set_paused(context, T, True, "wrong stock in ZORT")
    zort_quantity(context, "A", "3")
    assert flush_tenant(context, T).result == "paused" and context.marketplaces[T].stock == {}
    set_paused(context, T, False)
    assert flush_tenant(context, T).result == "sent"
    flush_tenant(context, T)
    assert context.marketplaces[T].stock == {"A": 3}


def test_a_crash_mid_flush_loses_no_dirty_sku_and_the_resend_is_the_same_value() -> None:
    skus = [f"S{i:04d}" for i in range(800)]
    context = stock_context(*skus)
    context.zorts[T].stock.update({sku: Decimal(2) for sku in skus})
    context.stock.mark_dirty(T, skus, context.clock())
    marketplace = context.marketplaces[T]
    real = marketplace.update_stock
    calls: list[int] = []

    def crash_on_second(rows: Sequence[tuple[str, int]], warehouse: StockWarehouse | None = None) -> str:
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("the host died")
        return real(rows, warehouse)

    marketplace.update_stock = crash_on_second  # type: ignore[method-assign]  # patched for this test only
    with pytest.raises(RuntimeError):
        flush_tenant(context, T)
    assert dirty(context) == set(skus)  # nothing lost
    [state] = stock_sync_state(context, [T])
    assert state.in_feed == 500 and state.in_flight == 300 and state.dirty == 0  # the first feed was recorded
    marketplace.update_stock = real  # type: ignore[method-assign]  # patched for this test only
    report = flush_tenant(context, T)  # the crashed flush is gone (the claim is free): its SKUs go at once
    assert report.result == "sent" and report.writes == 1 and "1 settled" in report.polled
    flush_tenant(context, T)
    assert dirty(context) == set() and set(marketplace.stock.values()) == {2} and len(marketplace.stock) == 800


def test_a_sku_changed_while_in_flight_is_sent_again_after() -> None:
    context = stock_context("A")
    context.zorts[T].stock["A"] = Decimal(5)
    context.stock.mark_dirty(T, ["A"], context.clock())
    marketplace = context.marketplaces[T]
    real = marketplace.update_stock

    def changed_meanwhile(rows: Sequence[tuple[str, int]], warehouse: StockWarehouse | None = None) -> str:
        context.stock.mark_dirty(T, ["A"], context.clock())  # a webhook processed during the write
        context.zorts[T].stock["A"] = Decimal(4)
        return real(rows, warehouse)

    marketplace.update_stock = changed_meanwhile  # type: ignore[method-assign]  # patched for this test only
    flush_tenant(context, T)
    marketplace.update_stock = real  # type: ignore[method-assign]  # patched for this test only
    flush_tenant(context, T)  # the feed finished with 5, but A was marked since it was taken: sent again
    assert marketplace.stock == {"A": 5} and in_feed(context) == {"A"}
    assert marketplace.calls[-1] == ("update_stock", ([("A", 4)], None))
    flush_tenant(context, T)
    assert marketplace.stock == {"A": 4} and dirty(context) == set()


def test_a_sku_changed_while_its_feed_is_open_waits_for_the_feed_then_goes_again() -> None:
    context = stock_context("A")
    context.zorts[T].stock["A"] = Decimal(5)
    context.stock.mark_dirty(T, ["A"], context.clock())
    marketplace = context.marketplaces[T]
    marketplace.finish_on_ask = False  # the marketplace is slow to process the feed
    flush_tenant(context, T)
    context.zorts[T].stock["A"] = Decimal(3)
    context.stock.mark_dirty(T, ["A"], context.clock())  # changed while its feed is open
    flush_tenant(context, T)
    assert [c for c in marketplace.calls if c[0] == "update_stock"] == [("update_stock", ([("A", 5)], None))]
    assert in_feed(context) == {"A"}
    marketplace.finish_on_ask = True
    flush_tenant(context, T)  # the feed closes; A was marked since: the latest value goes now
    assert marketplace.calls[-1] == ("update_stock", ([("A", 3)], None))
    flush_tenant(context, T)
    assert marketplace.stock == {"A": 3} and dirty(context) == set()


def test_a_tenant_without_credentials_keeps_its_skus_blocked_visible_until_configured() -> None:
    context = stock_context("A")
    context.zorts[T].stock["A"] = Decimal(3)
    zort_api = context.zorts.pop(T)
    context.stock.mark_dirty(T, ["A"], context.clock())
    report = flush_tenant(context, T)
    assert report.result == "blocked" and "zort is not configured" in report.detail
    [state] = stock_sync_state(context, [T])
    assert state.last_result == "blocked" and state.dirty == 1
    context.zorts[T] = zort_api
    assert flush_tenant(context, T).result == "sent"
    flush_tenant(context, T)
    assert context.marketplaces[T].stock == {"A": 3}


def test_a_retryable_zort_failure_keeps_the_skus_dirty() -> None:
    context = stock_context("A")

    class ZortDown(ExternalSystemError):
        system = "zort"

    context.zorts[T].fail_next(ZortDown("500", "down", retryable=True))
    context.stock.mark_dirty(T, ["A"], context.clock())
    assert flush_tenant(context, T).result == "failed"
    assert dirty(context) == {"A"} and present(context.stock.get(T, "A")).state(context.clock()) is StockState.DIRTY


def test_a_resync_marks_every_listed_sku_and_one_flush_writes_at_most_four_batches() -> None:
    skus = [f"S{i:04d}" for i in range(2300)]
    context = stock_context(*skus)
    context.products.merge(Product(tenant=T, sku="ZORT-ONLY", source="zort"))
    context.zorts[T].stock.update({sku: Decimal(1) for sku in skus})
    assert resync_tenant(context, T) == 2300
    first = flush_tenant(context, T)
    assert first.writes == 4 and first.counts == {"sent": 2000} and len(context.feeds.open_feeds(T)) == 4
    assert len(in_feed(context)) == 2000 and len(dirty(context)) == 2300
    second = flush_tenant(context, T)
    assert second.writes == 1 and "4 settled" in second.polled and len(in_feed(context)) == 300
    flush_tenant(context, T)
    assert dirty(context) == set()
    context.clock.advance(timedelta(minutes=1).total_seconds())


def test_a_stock_resync_event_marks_every_listed_sku_and_is_blocked_while_sync_is_off() -> None:
    """The `stock-resync` kind through the pipeline: recorded, applied by its registered handler,
    blocked (naming the setting) while the tenant's sync is off, completed when replayed after."""
    from shared.services.operations import record_stock_resync
    from shared.services.processing import replay

    context = stock_context("A", "B")
    context.stock_sync[T] = StockSyncSettings(enabled=False)
    accepted = record_stock_resync(context, T, "someone@example.com", context.clock())
    assert process_event(context, T, accepted.event_id, context.settings.retry_delays) is EventStatus.BLOCKED
    event = context.events.get(T, accepted.event_id)
    assert present(event).kind is EventKind.STOCK_RESYNC and "MARKETPLACE_STOCK_SYNC_FACO=true" in present(
        present(event).reason
    )
    assert dirty(context) == set()
    context.stock_sync[T] = StockSyncSettings(enabled=True)
    replay(context, T, accepted.event_id)
    assert process_event(context, T, accepted.event_id, context.settings.retry_delays) is EventStatus.COMPLETED
    assert dirty(context) == {"A", "B"}
    assert "2 SKU(s) marked" in present(present(context.events.get(T, accepted.event_id)).outcome)
    assert "asked by someone@example.com" in present(present(context.events.get(T, accepted.event_id)).outcome)
