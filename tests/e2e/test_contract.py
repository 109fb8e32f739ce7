"""Every endpoint's inbound contract through real HTTP: problems for bad input, never a 500."""

from __future__ import annotations

import concurrent.futures
import json
import re
import uuid
from typing import Any

import pytest
import requests
from requests.models import Response

from localdev.sandboxes.zort import SEED_EXAMPLES, send_webhook
from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2026-11-23T00:34:10.477Z


def call(thor: Any, method: Any, path: Any, key: Any, **kwargs: Any) -> Response:
    kwargs.setdefault("timeout", 10)
    return requests.request(
        method, f"{thor.thor_url}{path}", params={"code": key, **kwargs.pop("params", {})}, **kwargs
    )


def fresh_key() -> dict[str, str]:
    """A new Idempotency-Key (the refund route requires one): one refund each."""
    return {"Idempotency-Key": uuid.uuid4().hex}


def assert_problem(answer: Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in answer.text
    if field:
        assert body["field"] == field, body
    return body


@pytest.mark.parametrize(
    "body,field",
    [
        ({"event": "onOrderCreated", "payload": {"OrderId": "abc"}}, "payload.OrderId"),
        ({"event": "onOrderCreated", "payload": {"OrderId": True}}, "payload.OrderId"),
        ({"event": "onOrderCreated", "payload": {}}, "payload.OrderId"),
        ({"event": "onOrderShipped", "payload": {"OrderId": 1}}, "event"),
        ({"payload": {"OrderId": 1}}, "event"),
    ],
)
def test_order_webhook_names_the_bad_field(thor: Stack, key: str, body: dict[str, Any], field: str) -> None:
    assert_problem(call(thor, "POST", "/webhooks/faco/orders", key, json=body), 400, field)


def test_status_webhook_rejects_unknown_status_and_empty_items(thor: Stack, key: str) -> None:
    bad_status = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": "1", "OrderItemIds": ["2"], "NewStatus": "canceled|ready_to_ship"},
    }
    assert_problem(call(thor, "POST", "/webhooks/faco/orders/status", key, json=bad_status), 400, "payload.NewStatus")
    no_items = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": "1", "OrderItemIds": [], "NewStatus": "shipped"},
    }
    assert_problem(call(thor, "POST", "/webhooks/faco/orders/status", key, json=no_items), 400, "payload.OrderItemIds")


@pytest.mark.parametrize(
    "data,content_type,status",
    [
        (b"{not json", "application/json", 400),
        (b'{"event":"onOrderCreated","event":"x","payload":{"OrderId":1}}', "application/json", 400),  # repeated key
        (b"[1,2,3]", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"", "application/json", 400),
        (b"<xml/>", "application/xml", 415),
        (b"x" * (1024 * 1024 + 1), "application/json", 413),
    ],
)
def test_malformed_bodies_get_problems(
    thor: Stack, key: str, data: str | bytes, content_type: str, status: int
) -> None:
    for path in ("/webhooks/faco/orders", "/webhooks/faco/products", "/v1/orders/faco-1/refund?tenant=faco"):
        assert_problem(call(thor, "POST", path, key, data=data, headers={"Content-Type": content_type}), status)


def test_status_of_unknown_or_malformed_order_is_404(thor: Stack, key: str) -> None:
    for order_id in ("faco-999999999", "nope", "xxxx-1", "faco-" + "9" * 80):
        assert_problem(call(thor, "GET", f"/v1/orders/{order_id}/status", key), 404, "internalOrderId")


def test_same_order_created_ten_times_at_once_is_recorded_once(thor: Stack, key: str) -> None:
    body = {"event": "onOrderCreated", "payload": {"OrderId": 5550001}}
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: call(thor, "POST", "/webhooks/facl/orders", key, json=body), range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 9
    assert len({a.json()["eventId"] for a in answers}) == 1
    eventually(lambda: call(thor, "GET", "/v1/orders/facl-5550001/status", key).status_code == 200)
    oms = eventually(
        lambda: [
            o
            for o in requests.get(thor.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
            if o["order"]["orderRef"] == "facl-5550001"
        ]
    )
    assert len(oms) == 1


def _order_view(thor: Stack, key: str, internal_id: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        answer = call(thor, "GET", f"/v1/orders/{internal_id}/status", key)
        return answer.json() if answer.status_code == 200 and answer.json()["items"] else None

    return eventually(ready)


def test_refund_flow_with_idempotency_key(thor: Stack, key: str) -> None:
    call(thor, "POST", "/webhooks/fape/orders", key, json={"event": "onOrderCreated", "payload": {"OrderId": 7770001}})
    view = _order_view(thor, key, "fape-7770001")
    sku = view["items"][0]["sku"]
    body = {"products": [{"sku": sku, "quantity": 1}], "action": "REFUND", "value": 1.5}
    path = "/v1/orders/fape-7770001/refund"
    first = call(thor, "POST", path, key, params={"tenant": "fape"}, json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    assert RFC3339_UTC.match(first.json()["refund"]["createdAt"]), first.json()["refund"]["createdAt"]
    for moment in [view["updatedAt"], view["promisedShippingTime"], *(entry["at"] for entry in view["timeline"])]:
        assert RFC3339_UTC.match(moment), moment  # before: str(datetime), "2026-11-23 00:34:10.477552+00:00"
    assert first.json()["order"]["refundedTotal"] == "1.50" and first.json()["refund"]["value"] == "1.50"
    assert_problem(call(thor, "POST", path, key, params={"tenant": "fape"}, json=body), 400, "Idempotency-Key")
    assert first.json()["order"]["refundedTotal"] == "1.50"  # the refused request refunded nothing
    again = call(thor, "POST", path, key, params={"tenant": "fape"}, json=body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == first.json()
    other = call(
        thor,
        "POST",
        path,
        key,
        params={"tenant": "fape"},
        json={**body, "value": 2},
        headers={"Idempotency-Key": "k-1"},
    )
    assert_problem(other, 422, "Idempotency-Key")
    too_many = {"products": [{"sku": sku, "quantity": 99}], "action": "SAME_PRODUCT", "value": 0}
    assert_problem(
        call(thor, "POST", path, key, params={"tenant": "fape"}, headers=fresh_key(), json=too_many),
        422,
        "products.quantity",
    )
    unknown = {"products": [{"sku": "NOT-IN-ORDER", "quantity": 1}], "action": "REFUND", "value": 1}
    assert_problem(
        call(thor, "POST", path, key, params={"tenant": "fape"}, headers=fresh_key(), json=unknown), 422, "products.sku"
    )
    assert_problem(
        call(thor, "POST", path, key, params={"tenant": "faco"}, headers=fresh_key(), json=body), 422, "tenant"
    )
    assert_problem(call(thor, "POST", path, key, headers=fresh_key(), json=body), 400, "tenant")
    assert_problem(
        call(thor, "POST", path, key, params={"tenant": "fape"}, headers=fresh_key(), json={**body, "action": "GIFT"}),
        400,
        "action",
    )
    assert_problem(
        call(
            thor, "POST", "/v1/orders/fape-1234/refund", key, params={"tenant": "fape"}, headers=fresh_key(), json=body
        ),
        404,
    )

    def refunded_in_oms() -> list[dict[str, Any]]:
        orders = requests.get(thor.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
        return [
            o for o in orders if o["order"]["orderRef"] == "fape-7770001" and o["order"].get("refundedAmount") == 1.5
        ]

    assert eventually(refunded_in_oms)


def test_zort_seed_examples_are_accepted_as_form_and_as_json(thor: Stack, key: str, stack: Stack) -> None:
    url = f"{thor.thor_url}/webhooks/soco/zort?code={key}"
    key1 = stack.values["ZORT_KEY1_SOCO"]
    for method, payload in SEED_EXAMPLES.items():
        query = {"id": "1234", "number": "SO-0001", "paymentstatus": "Paid"}
        for as_form in (True, False):
            answer = send_webhook(url, method, payload, key1, as_form=as_form, query=query)
            assert answer.status_code == 200, (method, answer.text)
            assert answer.json()["status"] in {"accepted", "duplicate"}


def test_zort_key1_is_checked(thor: Stack, key: str, stack: Stack) -> None:
    url = f"{thor.thor_url}/webhooks/soco/zort?code={key}"
    payload = SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"]
    assert_problem(send_webhook(url, "UPDATEPRODUCTQUANTITY", payload, "wrong"), 401, "Authorization")
    other_tenant = stack.values["ZORT_KEY1_FACO"]
    assert_problem(send_webhook(url, "UPDATEPRODUCTQUANTITY", payload, other_tenant), 401, "Authorization")
    no_auth = requests.post(url + "&method=UPDATEPRODUCTQUANTITY", data={"payload": json.dumps(payload)}, timeout=5)
    assert_problem(no_auth, 401, "Authorization")
    key1 = stack.values["ZORT_KEY1_SOCO"]
    assert_problem(send_webhook(url, "NOTANEVENT", payload, key1), 400, "method")
    assert_problem(send_webhook(url, "ADDORDER", {"id": 1}, key1), 400, "payload.number")


def test_zort_tracking_reaches_status_endpoint_and_oms(thor: Stack, key: str, stack: Stack) -> None:
    call(thor, "POST", "/webhooks/socl/orders", key, json={"event": "onOrderCreated", "payload": {"OrderId": 8880001}})
    _order_view(thor, key, "socl-8880001")
    url = f"{thor.thor_url}/webhooks/socl/zort?code={key}"
    tracking = [{"trackingno": "THP-8880001", "trackingurl": "https://track.example/THP-8880001", "shippingdate": None}]
    answer = send_webhook(
        url,
        "UPDATEORDERTRACKING",
        tracking,
        stack.values["ZORT_KEY1_SOCL"],
        query={"id": "99", "number": "socl-8880001"},
    )
    assert answer.status_code == 200, answer.text

    def tracked() -> dict[str, Any] | None:
        view = call(thor, "GET", "/v1/orders/socl-8880001/status", key).json()
        return view if all(i["trackingNumber"] == "THP-8880001" for i in view["items"]) else None

    view = eventually(tracked)
    assert view["items"][0]["trackingUrl"] == "https://track.example/THP-8880001"

    def shipped_in_oms() -> bool:
        orders = requests.get(thor.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
        order = next((o["order"] for o in orders if o["order"]["orderRef"] == "socl-8880001"), None)
        return order is not None and any(s.get("trackingNumber") == "THP-8880001" for s in order.get("shipments") or [])

    assert eventually(shipped_in_oms)
