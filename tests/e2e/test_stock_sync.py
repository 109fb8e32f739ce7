"""Through the local runner: a ZORT stock webhook reaches the marketplace sandbox by the stock flush timer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from localdev.sandboxes.zort import send_webhook
from localdev.stack import Stack
from tests.checks import present
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

T = "faar"  # stock sync on, buffer 1, in local.settings.example.json


def test_a_zort_stock_webhook_reaches_the_storefront_by_the_flush_timer(
    stack: Stack, timer_runner: Stack, key: str
) -> None:
    values = stack.values
    sku = f"E2E-{uuid.uuid4().hex[:8]}"
    base = timer_runner.thor_url
    answer = requests.post(
        f"{base}/webhooks/{T}/products",
        params={"code": key},
        json={"event": "onProductCreated", "payload": {"SellerSkus": [sku]}},
        timeout=10,
    )
    assert answer.status_code == 200
    requests.post(
        stack.servers["zort"].url + "/_sandbox/stock",
        json={"store": values[f"ZORT_STORENAME_{T.upper()}"], "stock": {sku: "9.00"}},
        timeout=5,
    ).raise_for_status()
    user = values[f"MARKETPLACE_USER_ID_{T.upper()}"]

    def storefront() -> int | None:
        shown = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
        return shown.get(user, {}).get("main", {}).get(sku)

    def webhook(stock: str) -> None:
        payload = {"id": 7, "sku": sku, "name": "e2e", "stock": stock, "availablestock": stock}
        zort_url = f"{base}/webhooks/{T}/zort?code={key}"
        assert send_webhook(zort_url, "UPDATEPRODUCTQUANTITY", payload, values[f"ZORT_KEY1_{T.upper()}"]).ok

    # The product webhook may still be in the queue: until Thor knows faar sells the SKU, a stock webhook
    # marks nothing, so ZORT's next one (another hint: a new event) is sent each second.
    hints = iter(range(50, 1000))

    def webhook_then_storefront() -> bool:
        webhook(f"{next(hints)}.00")
        return storefront() == 8

    eventually(webhook_then_storefront, timeout=30, interval=1.0)  # 9 less 1
    requests.post(
        stack.servers["zort"].url + "/_sandbox/stock",
        json={"store": values[f"ZORT_STORENAME_{T.upper()}"], "stock": {sku: "0.00"}},
        timeout=5,
    )
    webhook("4.00")  # a stale hint: ZORT's current value wins
    assert eventually(lambda: storefront() == 0, timeout=20)


def test_a_feed_is_confirmed_by_on_feed_completed_on_any_route_and_a_refused_sku_stays_visible(
    stack: Stack, timer_runner: Stack, key: str
) -> None:
    """The marketplace sandbox answers UpdateStock with a feed, keeps FeedStatus at Queued (its delay is an
    hour) until it sends onFeedCompleted to Thor's *orders* route, half a second after the feed: the feed
    finishes only with the webhook, which the route answers 200. (Thor's handler or the next poll, both
    asking FeedStatus, then confirms the SKUs; tests/unit/test_feeds.py proves each path alone.) The
    refused SKU stays dirty with the marketplace's message."""
    values = stack.values
    market, base = stack.servers["marketplace"].url, timer_runner.thor_url
    good, bad = f"E2E-{uuid.uuid4().hex[:8]}", f"E2E-{uuid.uuid4().hex[:8]}"
    requests.post(
        market + "/_sandbox/feeds",
        json={"delay": 3600, "webhook_delay": 0.5, "webhook_url": f"{base}/webhooks/{{tenant}}/orders?code={key}"},
        timeout=5,
    ).raise_for_status()
    requests.post(
        market + "/_sandbox/stock/refuse", json={"skus": [bad], "message": "Seller SKU '%s' not found"}, timeout=5
    )
    try:
        assert (
            requests.post(
                f"{base}/webhooks/{T}/products",
                params={"code": key},
                json={"event": "onProductCreated", "payload": {"SellerSkus": [good, bad]}},
                timeout=10,
            ).status_code
            == 200
        )
        requests.post(
            stack.servers["zort"].url + "/_sandbox/stock",
            json={"store": values[f"ZORT_STORENAME_{T.upper()}"], "stock": {good: "5.00", bad: "5.00"}},
            timeout=5,
        ).raise_for_status()
        user = values[f"MARKETPLACE_USER_ID_{T.upper()}"]
        hints = iter(range(50, 1000))

        def webhooks() -> None:
            for sku in (good, bad):
                payload = {"id": 7, "sku": sku, "name": "e2e", "stock": f"{next(hints)}.00"}
                send_webhook(
                    f"{base}/webhooks/{T}/zort?code={key}",
                    "UPDATEPRODUCTQUANTITY",
                    payload,
                    values[f"ZORT_KEY1_{T.upper()}"],
                )

        def answered_webhooks() -> list[dict[str, Any]]:
            found = requests.get(market + "/_sandbox/feeds", timeout=5).json()
            return [f for f in found if f["status"] == "Finished" and f["webhook"] == "HTTP 200"]

        def storefront() -> int | None:
            shown = requests.get(market + "/_sandbox/stock", timeout=5).json()
            return shown.get(user, {}).get("main", {}).get(good)

        def webhooks_then_storefront() -> bool:
            webhooks()
            return storefront() == 4

        eventually(webhooks_then_storefront, timeout=60, interval=1.0)  # 5 less the buffer
        from shared.adapters.stock_repo import StockRepository
        from shared.adapters.storage import Storage
        from shared.settings import read_storage

        repo = StockRepository(Storage(read_storage(values)))
        assert eventually(lambda: (r := repo.get(T, good)) is not None and not r.dirty, timeout=20)
        assert answered_webhooks()  # the sandbox's onFeedCompleted was answered 200 by the orders route
        refused = eventually(lambda: r if (r := repo.get(T, bad)) is not None and r.reason else None, timeout=20)
        assert refused.dirty and "not found" in present(refused.reason)
    finally:
        requests.post(market + "/_sandbox/feeds", json={"delay": 0, "webhook_url": None}, timeout=5)
        requests.post(market + "/_sandbox/stock/refuse", json={"skus": []}, timeout=5)
