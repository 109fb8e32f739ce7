"""Stock sync against Azurite and the sandboxes: the UpdateStock and GetProducts adapters, the stock
repository, and a ZORT stock webhook reaching the marketplace sandbox through one flush."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests

from shared.adapters.seller_center import SellerCenterError
from shared.domain.events import EventKind, EventStatus
from shared.domain.product import Product
from shared.domain.stock import SkuOutcome, SkuResult, StockState, StockTenantState, StockWarehouse
from shared.services.intake import record_event
from shared.services.processing import process_event
from shared.services.stock_sync import flush_tenant, stock_sync_state

T = "faco"
USER = "faco@thor.local"
STORE = "thor-faco"


def skus(n: int) -> list[str]:
    prefix = uuid.uuid4().hex[:6].upper()
    return [f"{prefix}-{i:04d}" for i in range(n)]


def marketplace_stock(stack) -> dict[str, int]:
    answer = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
    return answer.get(USER, {}).get("main", {})


def set_zort_stock(stack, stock: dict[str, str]) -> None:
    requests.post(stack.servers["zort"].url + "/_sandbox/stock", json={"store": STORE, "stock": stock}, timeout=5)


def sandbox_requests(stack, server: str, needle: str) -> list[dict]:
    log = requests.get(stack.servers[server].url + "/_sandbox/requests", timeout=5).json()
    return [r for r in log if needle in r["path"] or r["query"].get("Action") == needle]


@pytest.fixture()
def syncing(context, monkeypatch):
    from shared.bootstrap import get_context, reset_context

    monkeypatch.setenv(f"MARKETPLACE_STOCK_SYNC_{T.upper()}", "true")
    reset_context()
    return get_context()


# --- adapters ------------------------------------------------------------------------------------


def test_update_stock_keeps_what_it_is_told_and_names_the_skus_it_refuses(context, stack):
    a, b, c = skus(3)
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/stock/refuse",
        json={"skus": [b], "message": "Seller SKU '%s' not found"},
        timeout=5,
    )
    refused = context.marketplace(T).update_stock([(a, 5), (b, 1), (c, 0)])
    assert refused == {b: f"E001: Seller SKU '{b}' not found"}
    assert {a: 5, c: 0}.items() <= marketplace_stock(stack).items() and b not in marketplace_stock(stack)
    [call] = sandbox_requests(stack, "marketplace", "UpdateStock")
    assert call["method"] == "POST" and call["body"].startswith("<?xml") and "<Warehouse><Stock>" in call["body"]


def test_update_stock_sends_the_warehouse_in_each_row_and_refuses_more_than_500_before_sending(context, stack):
    (a,) = skus(1)
    context.marketplace(T).update_stock([(a, 2)], StockWarehouse("GSCFacilityId", "477584939"))
    answer = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
    assert answer[USER]["GSCFacilityId:477584939"][a] == 2
    with pytest.raises(ValueError):
        context.marketplace(T).update_stock([(sku, 1) for sku in skus(501)])


def test_a_throttled_update_stock_is_a_retryable_429_with_retry_after_and_is_sent_once(context, stack):
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/stock/limits",
        json={"free_calls": 1, "min_interval": 60},
        timeout=5,
    )
    a, b = skus(2)
    context.marketplace(T).update_stock([(a, 1)])
    with pytest.raises(SellerCenterError) as throttled:
        context.marketplace(T).update_stock([(b, 1)])
    assert throttled.value.status == 429 and throttled.value.retryable and throttled.value.code == "E429"
    assert 0 < throttled.value.retry_after <= 60
    assert len(sandbox_requests(stack, "marketplace", "UpdateStock")) == 2  # no in-call retry


def test_zort_available_stock_reads_getproducts_by_skulist_in_chunks(context, stack):
    wanted = skus(450)
    set_zort_stock(stack, {sku: f"{n % 7}.00" for n, sku in enumerate(wanted[:449])})
    found = context.zort(T).available_stock(wanted)
    assert len(found) == 449 and wanted[449] not in found  # unknown to ZORT: left out
    assert found[wanted[3]] == Decimal("3.00")
    calls = sandbox_requests(stack, "zort", "/v4/Product/GetProducts")
    assert len(calls) == 3 and all(c["method"] == "GET" for c in calls)
    assert [len(c["headers"]["skulist"].split(",")) for c in calls] == [200, 200, 50]
    assert {c["headers"]["storename"] for c in calls} == {STORE}


# --- the repository ----------------------------------------------------------------------------------


def test_the_repository_keeps_a_sku_marked_while_in_flight_dirty(context):
    repo = context.stock
    now = datetime.now(timezone.utc)
    a, b = skus(2)
    assert repo.mark_dirty(T, [a, b, a], now) == 1
    found = {r.sku: r for r in repo.dirty(T) if r.sku in (a, b)}
    assert set(found) == {a, b} and found[a].mark and found[a].mark != found[b].mark
    taken = {r.sku: r for r in repo.take(list(found.values()), now)}
    assert repo.get(T, a).state(now) is StockState.IN_FLIGHT
    repo.mark_dirty(T, [b], now)  # changed again while in flight
    repo.record([SkuOutcome(taken[s], SkuResult.ACCEPTED, now, 4, Decimal(4)) for s in (a, b)])
    stored_a, stored_b = repo.get(T, a), repo.get(T, b)
    assert not stored_a.dirty and stored_a.sent_quantity == 4 and stored_a.state(now) is StockState.CLEAN
    assert stored_b.dirty and stored_b.sent_quantity == 4 and stored_b.result is SkuResult.ACCEPTED


def test_the_repository_keeps_refusals_and_the_tenant_state(context):
    repo = context.stock
    now = datetime.now(timezone.utc).replace(microsecond=0)
    (a,) = skus(1)
    repo.mark_dirty(T, [a], now)
    [record] = repo.take([r for r in repo.dirty(T) if r.sku == a], now)
    repo.record([SkuOutcome(record, SkuResult.REFUSED, now, 1, Decimal(1), "E001: nope")])
    assert any(r.sku == a and r.reason == "E001: nope" and r.failures == 1 for r in repo.failures(T))
    repo.save_tenant_state(
        StockTenantState("somx", paused=True, paused_reason="audit", paused_at=now, last_counts={"x": 1})
    )
    state = repo.tenant_state("somx")
    assert state.paused and state.paused_reason == "audit" and state.paused_at == now and state.last_counts == {"x": 1}
    assert repo.tenant_state("sope") == StockTenantState("sope")


# --- through the processor and one flush -----------------------------------------------------------


def test_a_zort_stock_webhook_reaches_the_marketplace_sandbox_within_one_flush(syncing, stack):
    (sku,) = skus(1)
    syncing.products.upsert_many([Product(tenant=T, sku=sku, marketplace_listed=True)])
    payload = {"id": 1234, "sku": sku, "name": "x", "stock": "20.00", "availablestock": "10.00"}
    body = {"method": "UPDATEPRODUCTQUANTITY", "query": {}, "payload": payload}
    event_id = record_event(
        syncing.events, syncing.queue, tenant=T, kind=EventKind.ZORT, identity=body, body=body
    ).event_id
    assert process_event(syncing, T, event_id) is EventStatus.COMPLETED
    set_zort_stock(stack, {sku: "8.00"})  # ZORT's current value, newer than the webhook's
    report = flush_tenant(syncing, T)  # (other tests' dirty SKUs, unknown to ZORT, may share the flush)
    assert report.counts.get("accepted") == 1 and report.writes == 1, report
    assert marketplace_stock(stack)[sku] == 8
    stored = syncing.stock.get(T, sku)
    assert not stored.dirty and stored.sent_quantity == 8 and stored.zort_available == Decimal("8.00")
    [state] = stock_sync_state(syncing, [T])
    assert state.enabled and state.last_result == report.result and state.last_flush_at is not None
