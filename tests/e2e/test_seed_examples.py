"""The seed's examples, verbatim, through real HTTP against the local runner."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

ORDER_CREATED = """
{
  "event": "onOrderCreated",
  "payload":{
    "OrderId": 3272813
  }
}
"""
STATUS_CHANGED = """
{
  "event":"onOrderItemsStatusChanged",
  "payload":{
    "OrderId":"1537945",
    "OrderItemIds":[
      "1300368",
      "1300369"
    ],
    "NewStatus":"shipped"
  }
}
"""
PRODUCT_CREATED = """
{
  "event": "onProductCreated",
  "payload": {
    "SellerSkus": [
      "881172242"
    ]
  }
}
"""


def post(thor: Stack, path: str, body: str | bytes, key: str, **kwargs: Any) -> requests.Response:
    return requests.post(
        f"{thor.thor_url}{path}",
        params={"code": key},
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
        **kwargs,
    )


def oms_orders_for(thor: Stack, order_ref: str) -> list[dict[str, Any]]:
    orders = requests.get(thor.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    return [o for o in orders if o["order"].get("orderRef") == order_ref]


def test_order_created_reaches_status_endpoint_and_oms(thor: Stack, key: str) -> None:
    answer = post(thor, "/webhooks/faco/orders", ORDER_CREATED, key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] in {"accepted", "duplicate"}
    assert body["internalOrderId"] == "faco-3272813"
    assert body["eventId"].startswith("order-created-")

    def synced() -> dict[str, Any] | None:
        status = requests.get(f"{thor.thor_url}/v1/orders/faco-3272813/status", params={"code": key}, timeout=5)
        return status.json() if status.status_code == 200 and status.json()["items"] else None

    view = eventually(synced)
    assert view["tenant"] == "faco" and view["marketplaceOrderId"] == "3272813"
    assert all(item["sku"] and item["status"] for item in view["items"])
    text = json.dumps(view)
    for personal in ("address", "email", "phone", "FirstName", "first_name"):
        assert personal not in text
    oms_orders = eventually(lambda: oms_orders_for(thor, "faco-3272813"))
    assert len(oms_orders) == 1
    assert len(oms_orders[0]["order"]["orderLines"]) == len(view["items"])


def test_status_change_and_products_examples_are_accepted(thor: Stack, key: str) -> None:
    for path, body in (("/webhooks/sope/orders/status", STATUS_CHANGED), ("/webhooks/sope/products", PRODUCT_CREATED)):
        answer = post(thor, path, body, key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] in {"accepted", "duplicate"}


def test_without_key_is_401_and_with_header_key_is_accepted(thor: Stack, key: str) -> None:
    assert requests.post(f"{thor.thor_url}/webhooks/faco/orders", data=ORDER_CREATED, timeout=5).status_code == 401
    assert post(thor, "/webhooks/faco/orders", ORDER_CREATED, "wrong").status_code == 401
    answer = requests.post(
        f"{thor.thor_url}/webhooks/faco/orders", data=ORDER_CREATED, headers={"x-functions-key": key}, timeout=5
    )
    assert answer.status_code == 200


def test_unknown_tenant_is_404_problem(thor: Stack, key: str) -> None:
    answer = post(thor, "/webhooks/xxxx/orders", ORDER_CREATED, key)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == "tenantId"
