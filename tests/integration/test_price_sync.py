"""Price sync against Azurite and the sandboxes: ProductUpdate and FeedStatus for prices, ZORT's
sellprice, the price repository and the feed budget, and a ZORT price reaching the marketplace sandbox
through a flush, confirmed by its feed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from shared.adapters.seller_center import SellerCenterError
from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus
from shared.domain.prices import FeedBudget, PriceResult, PriceToSend
from shared.domain.product import Product
from shared.services.intake import record_event
from shared.services.price_sync import flush_tenant, price_journey
from shared.services.processing import process_event
from tests.checks import present

T = "faco"  # COP: no cents
USER = "faco@thor.local"
STORE = "thor-faco"


def skus(n: int) -> list[str]:
    prefix = uuid.uuid4().hex[:6].upper()
    return [f"P{prefix}-{i:04d}" for i in range(n)]


def marketplace_prices(stack: Stack) -> dict[str, dict[str, str]]:
    answer = requests.get(stack.servers["marketplace"].url + "/_sandbox/prices", timeout=5).json()
    return answer["prices"].get(USER, {})


def set_zort_prices(stack: Stack, prices: dict[str, str]) -> None:
    requests.post(stack.servers["zort"].url + "/_sandbox/prices", json={"store": STORE, "prices": prices}, timeout=5)


def sandbox_requests(stack: Stack, action: str) -> list[dict[str, Any]]:
    log = requests.get(stack.servers["marketplace"].url + "/_sandbox/requests", timeout=5).json()
    return [r for r in log if r["query"].get("Action") == action]


@pytest.fixture()
def syncing(context: Context, monkeypatch: pytest.MonkeyPatch) -> Context:
    from shared.bootstrap import get_context, reset_context

    monkeypatch.setenv(f"MARKETPLACE_PRICE_SYNC_{T.upper()}", "true")
    monkeypatch.setenv(f"MARKETPLACE_PRICE_ZORT_CURRENCY_{T.upper()}", "COP")
    reset_context()
    return get_context()


def test_product_update_answers_a_feed_whose_status_names_refused_skus_and_the_sandbox_keeps_prices(
    context: Context, stack: Stack
) -> None:
    a, b = skus(2)
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/stock/refuse",
        json={"skus": [b], "message": "Seller SKU '%s' not found"},
        timeout=5,
    )
    marketplace = context.marketplace(T)
    feed = marketplace.update_prices(
        [PriceToSend(a, "59990", "49990", "2026-12-01 00:00:00", "2099-12-31 23:59:59"), PriceToSend(b, "100")]
    )
    assert len(feed) == 32 and a not in marketplace_prices(stack)
    report = marketplace.feed_status(feed)
    assert (
        report.finished
        and report.action == "ProductUpdate"
        and report.refused() == {b: f"1: Seller SKU '{b}' not found"}
    )
    kept = marketplace_prices(stack)[a]
    assert (kept["Price"], kept["SpecialPrice"], kept["Effective"]) == ("59990", "49990", "49990")
    [call] = sandbox_requests(stack, "ProductUpdate")
    assert (
        call["method"] == "POST"
        and "<BusinessUnit><OperatorCode>faco</OperatorCode><Price>59990</Price>" in call["body"]
    )


def test_a_throttled_product_update_is_a_retryable_429_with_retry_after(context: Context, stack: Stack) -> None:
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/stock/limits",
        json={"free_calls": 1, "min_interval": 60},
        timeout=5,
    )
    a, b = skus(2)
    context.marketplace(T).update_prices([PriceToSend(a, "1")])
    with pytest.raises(SellerCenterError) as throttled:
        context.marketplace(T).update_prices([PriceToSend(b, "1")])
    assert (
        throttled.value.status == 429 and throttled.value.retryable and 0 < present(throttled.value.retry_after) <= 60
    )


def test_zort_sell_prices_reads_getproducts(context: Context, stack: Stack) -> None:
    a, b, c = skus(3)
    set_zort_prices(stack, {a: "19990.50", b: "0"})
    assert context.zort(T).sell_prices([a, b, c]) == {a: Decimal("19990.50"), b: Decimal("0.00")}


def test_the_repository_keeps_a_sku_marked_again_while_in_its_feed_and_the_budget_saves_as_read(
    context: Context,
) -> None:
    repo = context.prices
    now = datetime.now(timezone.utc).replace(microsecond=0)
    a, b = skus(2)
    repo.mark(T, [a, b], now, {a: "100.00"})
    taken = {r.sku: r for r in repo.take([r for r in repo.dirty(T) if r.sku in (a, b)], now)}
    assert taken[a].zort_said == "100.00" and taken[a].state(now) == "in-flight"
    for record in taken.values():
        record.feed_id, record.sent, record.result = "feed-x" + a, "100", PriceResult.SENT
        record.note(now, "sent", price="100")
    repo.save(list(taken.values()))
    in_feed = {r.sku: r for r in repo.in_feed(T, "feed-x" + a)}
    assert set(in_feed) == {a, b} and in_feed[a].history[0]["what"] == "sent"
    repo.mark(T, [b], now)  # changed while its feed is being settled: the write that clears it must fail
    for record in in_feed.values():
        record.feed_id, record.confirmed, record.result = "", "100", PriceResult.ACCEPTED
    repo.save(list(in_feed.values()), frozenset({a, b}))
    assert (
        not present(repo.get(T, a)).dirty
        and present(repo.get(T, b)).dirty
        and present(repo.get(T, b)).confirmed == "100"
    )
    seller = uuid.uuid4().hex
    budget = repo.budget(seller)
    budget.spend(now)
    assert repo.save_budget(budget)
    stale = FeedBudget(seller)  # read before the write above
    assert not repo.save_budget(stale)
    assert repo.budget(seller).calls == [now]


def test_a_zort_price_reaches_the_marketplace_sandbox_within_one_flush_without_cents(
    syncing: Context, stack: Stack
) -> None:
    (sku,) = skus(1)
    syncing.products.upsert_many([Product(tenant=T, sku=sku, marketplace_listed=True)])
    payload = {"id": 1, "sku": sku, "name": "x", "sellprice": "19990.40", "purchaseprice": "1.00"}
    body = {"method": "UPDATEPRODUCT", "query": {}, "payload": payload}
    event_id = record_event(
        syncing.events, syncing.queue, tenant=T, kind=EventKind.ZORT, identity=body, body=body
    ).event_id
    assert process_event(syncing, T, event_id) is EventStatus.COMPLETED
    set_zort_prices(stack, {sku: "19990.60"})  # ZORT's current price, newer than the webhook's
    report = flush_tenant(syncing, T)
    assert report.result in ("sent", "partial") and report.feeds, report
    assert sku not in marketplace_prices(stack)
    flush_tenant(syncing, T)  # polls FeedStatus: Finished
    assert marketplace_prices(stack)[sku]["Price"] == "19991"
    journey = price_journey(syncing, T, sku)
    assert journey and journey["zortSaid"] == "19990.40" and journey["zortPrice"] == "19990.60"
    assert journey["confirmed"] == "19991" and journey["state"] == "synced"
    budget = syncing.prices.budget(syncing.settings.marketplace(T).seller_id)
    assert budget.calls and budget.calls[-1] > datetime.now(timezone.utc) - timedelta(minutes=1)
