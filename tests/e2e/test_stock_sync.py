"""Through the local runner: a ZORT stock webhook reaches the marketplace sandbox by the stock flush timer."""

from __future__ import annotations

import uuid

import pytest
import requests

from localdev.sandboxes.zort import send_webhook
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

T = "faar"  # stock sync on, buffer 1, in local.settings.example.json


def test_a_zort_stock_webhook_reaches_the_storefront_by_the_flush_timer(stack, timer_runner, key):
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

    def storefront():
        shown = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
        return shown.get(user, {}).get("main", {}).get(sku)

    def webhook(stock: str):
        payload = {"id": 7, "sku": sku, "name": "e2e", "stock": stock, "availablestock": stock}
        zort_url = f"{base}/webhooks/{T}/zort?code={key}"
        assert send_webhook(zort_url, "UPDATEPRODUCTQUANTITY", payload, values[f"ZORT_KEY1_{T.upper()}"]).ok

    # The product webhook may still be in the queue: until Thor knows faar sells the SKU, a stock webhook
    # marks nothing, so ZORT's next one (another hint: a new event) is sent each second.
    hints = iter(range(50, 1000))
    eventually(lambda: webhook(f"{next(hints)}.00") or storefront() == 8, timeout=30, interval=1.0)  # 9 less 1
    requests.post(
        stack.servers["zort"].url + "/_sandbox/stock",
        json={"store": values[f"ZORT_STORENAME_{T.upper()}"], "stock": {sku: "0.00"}},
        timeout=5,
    )
    webhook("4.00")  # a stale hint: ZORT's current value wins
    assert eventually(lambda: storefront() == 0, timeout=20)
