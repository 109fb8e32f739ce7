"""Price sync on fakes (shared/services/price_sync.py): marking from ZORT, flushing in ProductUpdate feeds
under the feed budget, confirmation by the feed, the guard, sales, the kill switch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared.domain.errors import ExternalSystemError
from shared.domain.events import EventKind, EventStatus
from shared.domain.price_settings import PriceSyncSettings
from shared.domain.prices import FEED_SPACING, FREE_FEEDS, PriceResult
from shared.domain.product import Product
from shared.services import intake
from shared.services.price_sync import (
    PriceActionError,
    confirm_price,
    flush_tenant,
    price_journey,
    price_sync_state,
    resync_tenant,
    set_paused,
    set_sale,
)
from shared.services.processing import process_event
from tests.checks import present
from tests.fakes import FakeContext, fake_context

T = "facl"  # Chile: CLP, no cents; America/Santiago (UTC-3 in December)


class Throttled(ExternalSystemError):
    system = "marketplace"


def price_context(*skus: str, tenant: str = T, **settings: object) -> FakeContext:
    context = fake_context(tenant, "soco")
    currency = {"facl": "CLP", "fape": "PEN", "faco": "COP"}[tenant]
    context.price_sync[tenant] = PriceSyncSettings(enabled=True, currency=currency, **settings)  # type: ignore[arg-type]
    for sku in skus:
        context.products.merge(Product(tenant=tenant, sku=sku, marketplace_listed=True))
    return context


def zort_product(context: FakeContext, sku: str, price: str, tenant: str = T, method: str = "UPDATEPRODUCT") -> None:
    payload = {"id": 1, "sku": sku, "name": sku, "sellprice": price, "purchaseprice": "1.00"}
    acceptance = intake.record_event(
        context.events,
        context.queue,
        tenant=tenant,
        kind=EventKind.ZORT,
        identity=[sku, price, str(len(context.events.events))],
        body={"method": method, "query": {}, "payload": payload},
    )
    assert process_event(context, tenant, acceptance.event_id, context.settings.retry_delays) is EventStatus.COMPLETED


def marked(context: FakeContext, tenant: str = T) -> set[str]:
    return {r.sku for r in context.prices.dirty(tenant)}


def sent_feeds(context: FakeContext, tenant: str = T) -> list[list[Any]]:
    return [rows for name, rows in context.marketplaces[tenant].calls if name == "update_prices"]


def test_a_zort_price_change_reaches_the_marketplace_within_one_flush_and_is_confirmed_by_its_feed() -> None:
    context = price_context("A")
    context.zorts[T].sellprice["A"] = Decimal("59990.00")
    zort_product(context, "A", "59990.00")
    assert "price to sync in facl (1)" in present(context.events.list()[0].outcome)
    assert marked(context) == {"A"}
    report = flush_tenant(context, T)
    assert report.result == "sent" and len(report.feeds) == 1
    assert [row.price for row in sent_feeds(context)[0]] == ["59990"]
    assert context.marketplaces[T].prices == {}  # a feed, not a result: nothing confirmed yet
    assert present(context.prices.get(T, "A")).state(context.clock()) == "in-feed"
    report = flush_tenant(context, T)  # FeedStatus: Finished, no error for A
    assert "1 settled" in report.polled
    assert context.marketplaces[T].prices["A"].price == "59990"
    stored = context.prices.get(T, "A")
    assert stored and not stored.dirty and stored.confirmed == "59990" and stored.result is PriceResult.ACCEPTED
    journey = price_journey(context, T, "A")
    assert journey and journey["zortSaid"] == "59990.00"
    assert [step["what"] for step in journey["history"]] == ["sent", "confirmed"]


def test_ten_changes_of_one_sku_end_at_the_last() -> None:
    context = price_context("A")
    for price in ("1000", "1100", "1200", "1150", "1300", "1250", "1400", "1350", "1500", "1450"):
        zort_product(context, "A", price)
    context.zorts[T].sellprice["A"] = Decimal("1450")  # ZORT's current price: the flush reads it
    flush_tenant(context, T)
    context.zorts[T].sellprice["A"] = Decimal("1490")
    zort_product(context, "A", "1490")  # changed while its feed is open: sent again after it
    flush_tenant(context, T)  # settles the first feed; A stays marked (marked since taken)
    assert marked(context) == {"A"}
    flush_tenant(context, T)  # sends 1490
    flush_tenant(context, T)  # confirms it
    assert [rows[0].price for rows in sent_feeds(context)] == ["1450", "1490"]
    assert context.marketplaces[T].prices["A"].price == "1490"
    assert marked(context) == set()


def test_a_clp_price_is_never_sent_with_cents_and_markup_and_adjustment_apply() -> None:
    context = price_context("A", "B", markup_percent=Decimal("10"), adjustment=Decimal("-0.4"))
    context.zorts[T].sellprice.update({"A": Decimal("999.99"), "B": Decimal("10.05")})
    zort_product(context, "A", "999.99")
    zort_product(context, "B", "10.05")
    flush_tenant(context, T)
    prices = {row.sku: row.price for row in sent_feeds(context)[0]}
    assert prices == {"A": "1100", "B": "11"}  # 999.99 × 1.10 − 0.4 = 1099.589 → 1100; 10.655 → 11
    assert all("." not in row.price for rows in sent_feeds(context) for row in rows)


def test_pen_keeps_cents_rounded_half_up() -> None:
    context = price_context("A", tenant="fape")
    context.zorts["fape"].sellprice["A"] = Decimal("19.995")
    zort_product(context, "A", "19.995", tenant="fape")
    flush_tenant(context, "fape")
    assert sent_feeds(context, "fape")[0][0].price == "20.00"


def test_a_429_keeps_skus_marked_and_they_go_after_retry_after() -> None:
    context = price_context("A", "B")
    context.zorts[T].sellprice.update({"A": Decimal("100"), "B": Decimal("200")})
    zort_product(context, "A", "100")
    zort_product(context, "B", "200")
    context.marketplaces[T].fail_next(
        Throttled("E429", "Too many requests", status=429, retryable=True, retry_after=90)
    )
    report = flush_tenant(context, T)
    assert report.result == "throttled" and report.wait_until == context.clock() + timedelta(seconds=90)
    assert marked(context) == {"A", "B"}
    assert present(context.prices.get(T, "A")).result is PriceResult.DEFERRED
    context.clock.advance(40)
    report = flush_tenant(context, T)  # before Retry-After (50 s away): nothing sent
    assert report.result == "waiting" and len(sent_feeds(context)) == 1  # the refused call only
    context.clock.advance(51)
    report = flush_tenant(context, T)
    assert report.result == "sent" and len(sent_feeds(context)) == 2
    flush_tenant(context, T)
    assert {sku: row.price for sku, row in context.marketplaces[T].prices.items()} == {"A": "100", "B": "200"}
    assert marked(context) == set()


def test_a_refused_sku_is_visible_with_the_marketplaces_message_and_retried() -> None:
    context = price_context("A", "B")
    context.zorts[T].sellprice.update({"A": Decimal("100"), "B": Decimal("200")})
    zort_product(context, "A", "100")
    zort_product(context, "B", "200")
    context.marketplaces[T].refuse["B"] = "Seller SKU 'B' not found"
    flush_tenant(context, T)
    flush_tenant(context, T)  # the feed finished with an error for B
    assert marked(context) == {"B"}
    state = price_sync_state(context, [T])[0]
    assert state.counts["refused"] == 1
    assert [(row.sku, row.reason) for row in state.attention] == [("B", "1: Seller SKU 'B' not found")]
    del context.marketplaces[T].refuse["B"]
    context.clock.advance(30)
    flush_tenant(context, T)  # retried at the next flush after a first refusal
    flush_tenant(context, T)
    assert marked(context) == set() and context.marketplaces[T].prices["B"].price == "200"
    history = [step["what"] for step in present(context.prices.get(T, "B")).history]
    assert history == ["sent", "refused", "sent", "confirmed"]


def test_a_sixty_percent_jump_waits_for_a_persons_confirmation_and_is_sent_after_it() -> None:
    context = price_context("A")
    context.zorts[T].sellprice["A"] = Decimal("10000")
    zort_product(context, "A", "10000")
    flush_tenant(context, T)
    flush_tenant(context, T)
    context.zorts[T].sellprice["A"] = Decimal("16000")  # +60 %
    zort_product(context, "A", "16000")
    report = flush_tenant(context, T)
    assert report.counts == {"held": 1} and len(sent_feeds(context)) == 1
    assert price_sync_state(context, [T])[0].counts["held"] == 1
    flush_tenant(context, T)  # still held: nothing sent, ZORT not read again
    assert len(sent_feeds(context)) == 1
    with pytest.raises(PriceActionError):
        confirm_price(context, T, "B", by="ana@seller")
    confirm_price(context, T, "A", by="ana@seller")
    flush_tenant(context, T)
    flush_tenant(context, T)
    assert context.marketplaces[T].prices["A"].price == "16000"
    steps = present(context.prices.get(T, "A")).history
    assert {"what": "confirmed by a person", "price": "16000", "by": "ana@seller"}.items() <= {
        k: v for step in steps if step["what"] == "confirmed by a person" for k, v in step.items()
    }.items()


def test_a_price_of_zero_is_held_even_the_first_time() -> None:
    context = price_context("A")
    context.zorts[T].sellprice["A"] = Decimal("0")
    zort_product(context, "A", "0")
    report = flush_tenant(context, T)
    assert report.counts == {"held": 1} and sent_feeds(context) == []


def test_a_sale_is_sent_in_the_tenants_local_time_and_ends_on_time() -> None:
    santiago_now = datetime(2026, 12, 10, 12, 0, tzinfo=timezone.utc)
    context = price_context("A")
    context.clock.now = santiago_now
    context.zorts[T].sellprice["A"] = Decimal("59990")
    start = datetime(2026, 12, 10, 3, 0, tzinfo=timezone.utc)  # 00:00 in Santiago (UTC-3)
    end = datetime(2026, 12, 11, 2, 59, 59, tzinfo=timezone.utc)  # 23:59:59 in Santiago
    set_sale(context, T, ["A"], Decimal("49990.4"), start, end, by="ana@seller")
    flush_tenant(context, T)
    row = sent_feeds(context)[0][0]
    assert (row.price, row.sale_price, row.sale_from, row.sale_to) == (
        "59990",
        "49990",
        "2026-12-10 00:00:00",
        "2026-12-10 23:59:59",
    )
    flush_tenant(context, T)  # confirmed
    context.clock.now = end - timedelta(seconds=1)
    flush_tenant(context, T)
    assert len(sent_feeds(context)) == 1  # still on sale: nothing to send
    context.clock.now = end
    flush_tenant(context, T)  # the sale is over: the normal price goes again, without the sale
    row = sent_feeds(context)[-1][0]
    assert len(sent_feeds(context)) == 2 and (row.price, row.sale_price) == ("59990", "")
    flush_tenant(context, T)
    assert present(context.prices.get(T, "A")).sale is None and marked(context) == set()


def test_sync_off_sends_nothing_and_marks_nothing() -> None:
    context = price_context("A")
    del context.price_sync[T]
    context.zorts[T].sellprice["A"] = Decimal("100")
    zort_product(context, "A", "100")
    assert marked(context) == set()
    assert flush_tenant(context, T).result == "off"
    assert sent_feeds(context) == []


def test_a_crash_mid_flush_loses_no_mark() -> None:
    context = price_context("A", "B")
    context.zorts[T].sellprice.update({"A": Decimal("100"), "B": Decimal("200")})
    zort_product(context, "A", "100")
    zort_product(context, "B", "200")
    context.marketplaces[T].fail_next(RuntimeError("the process died"))
    with pytest.raises(RuntimeError):
        flush_tenant(context, T)
    assert marked(context) == {"A", "B"}
    assert marked(context) == {"A", "B"} and present(context.prices.get(T, "A")).state(context.clock()) == "in-flight"
    assert flush_tenant(context, T).result == "sent"  # the crashed flush is gone (the claim is free): at once
    flush_tenant(context, T)
    assert marked(context) == set() and set(context.marketplaces[T].prices) == {"A", "B"}


def test_the_kill_switch_sends_nothing_and_marks_keep_accruing() -> None:
    context = price_context("A")
    context.zorts[T].sellprice["A"] = Decimal("100")
    set_paused(context, T, True, "price error in ZORT")
    zort_product(context, "A", "100")
    assert flush_tenant(context, T).result == "paused" and sent_feeds(context) == []
    set_paused(context, T, False)
    assert flush_tenant(context, T).result == "sent"


def test_feeds_spend_the_free_budget_first_then_wait_the_spacing() -> None:
    skus = [f"S{n:05d}" for n in range(3000)]
    context = price_context(*skus)
    context.prices.mark(T, skus, context.clock())
    context.zorts[T].sellprice.update({sku: Decimal("1000") for sku in skus})
    budget = context.prices.budget("s")
    budget.calls = [context.clock() - timedelta(minutes=10)] * (FREE_FEEDS - 2)  # 2 free feeds left
    context.prices.save_budget(budget)
    report = flush_tenant(context, T)
    assert len(report.feeds) == 2 and report.counts.get("sent") == 2000  # the free ones at once
    report = flush_tenant(context, T)
    assert report.result == "waiting" and report.wait_until and report.wait_until > context.clock()
    context.clock.advance(
        (FEED_SPACING - timedelta(seconds=20)).total_seconds()
    )  # the slot is 25 s away: the flush waits for it
    report = flush_tenant(context, T)
    assert len(report.feeds) == 1
    times = context.prices.budget("s").calls[-2:]
    assert times[1] - times[0] >= FEED_SPACING
    flush_tenant(context, T)
    assert marked(context) == set()


def test_a_resync_sends_every_listed_sku_again_even_unchanged() -> None:
    context = price_context("A")
    context.zorts[T].sellprice["A"] = Decimal("100")
    zort_product(context, "A", "100")
    flush_tenant(context, T)
    flush_tenant(context, T)
    zort_product(context, "A", "100")  # the same price again: nothing to send
    flush_tenant(context, T)
    assert len(sent_feeds(context)) == 1 and marked(context) == set()
    assert resync_tenant(context, T) == 1
    flush_tenant(context, T)
    assert len(sent_feeds(context)) == 2


def test_tenants_sharing_a_zort_store_each_get_the_price() -> None:
    context = price_context("A")
    context.price_sync["faco"] = PriceSyncSettings(enabled=True, currency="COP")
    context.marketplaces["faco"] = context.marketplaces.pop("soco")
    context.zorts["faco"] = context.zorts.pop("soco")
    context.zort_stores.update({T: "store", "faco": "store"})
    context.products.merge(Product(tenant="faco", sku="A", marketplace_listed=True))
    zort_product(context, "A", "100")
    assert marked(context) == {"A"} and marked(context, "faco") == {"A"}


def test_a_sale_given_in_the_storefronts_zone_is_written_in_the_marketplaces_zone() -> None:
    from dataclasses import replace

    from shared.domain.prices import parse_local
    from shared.domain.times import zone

    context = price_context("A", tenant="faco")
    tenants = dict(context.settings.tenants)
    marketplace = replace(
        present(tenants["faco"].marketplace), time_zone="America/Santiago"
    )  # MARKETPLACE_TIMEZONE_FACO
    tenants["faco"] = replace(tenants["faco"], marketplace=marketplace)
    context.settings = replace(context.settings, tenants=tenants)
    context.clock.now = datetime(2026, 12, 9, 12, 0, tzinfo=timezone.utc)
    context.zorts["faco"].sellprice["A"] = Decimal("100000")
    bogota = zone("America/Bogota")
    start, end = parse_local("2026-12-10 00:00", bogota), parse_local("2026-12-10 23:59:59", bogota)
    set_sale(context, "faco", ["A"], Decimal("80000"), start, end, by="ana@seller")
    flush_tenant(context, "faco")
    row = sent_feeds(context, "faco")[0][0]
    assert (row.sale_from, row.sale_to) == ("2026-12-10 02:00:00", "2026-12-11 01:59:59")  # Santiago is 2 h ahead
