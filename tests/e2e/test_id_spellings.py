"""One marketplace order is one Thor order, however its id is spelled (issue 9, part 3), through the runner."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from localdev.stack import Stack
from tests.conftest import eventually
from tests.e2e.test_contract import assert_problem, call, fresh_key

pytestmark = pytest.mark.e2e


def oms_orders(thor: Stack, order_ref: str) -> list[Any]:
    orders = requests.get(thor.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    return [o["order"] for o in orders if o["order"]["orderRef"] == order_ref]


def test_three_spellings_of_one_order_are_one_order(thor: Stack, key: str) -> None:
    answers = [
        call(thor, "POST", "/webhooks/faco/orders", key, json={"event": "onOrderCreated", "payload": {"OrderId": s}})
        for s in (8860001, "08860001", "008860001")
    ]
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert [a.json()["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert {a.json()["eventId"] for a in answers} == {answers[0].json()["eventId"]}
    assert {a.json()["internalOrderId"] for a in answers} == {"faco-8860001"}

    view = eventually(
        lambda: (lambda r: r.status_code == 200 and r.json()["items"] and r.json())(
            call(thor, "GET", "/v1/orders/faco-8860001/status", key)
        )
    )
    assert view["marketplaceOrderId"] == "8860001"
    assert eventually(lambda: oms_orders(thor, "faco-8860001"))
    assert not oms_orders(thor, "faco-08860001") and not oms_orders(thor, "faco-008860001")
    assert len(oms_orders(thor, "faco-8860001")) == 1

    # the routes take the internal id in any spelling too
    padded = call(thor, "GET", "/v1/orders/faco-008860001/status", key)
    assert padded.status_code == 200 and padded.json()["internalOrderId"] == "faco-8860001"
    refund = {"products": [{"sku": view["items"][0]["sku"], "quantity": 1}], "action": "REFUND", "value": 1}
    refunded = call(
        thor,
        "POST",
        "/v1/orders/faco-08860001/refund",
        key,
        params={"tenant": "faco"},
        headers=fresh_key(),
        json=refund,
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["order"]["internalOrderId"] == "faco-8860001"


def test_status_change_spellings_are_one_event(thor: Stack, key: str) -> None:
    def status_change(order_id: str | int, item_ids: list[str]) -> requests.Response:
        return call(
            thor,
            "POST",
            "/webhooks/faco/orders/status",
            key,
            json={
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": order_id, "OrderItemIds": item_ids, "NewStatus": "canceled"},
            },
        )

    first, second = status_change("8860002", ["88600020"]), status_change(8860002, ["088600020"])
    assert (first.json()["status"], second.json()["status"]) == ("accepted", "duplicate")
    assert first.json()["eventId"] == second.json()["eventId"]


@pytest.mark.parametrize("order_id", [0, "0", -1, 179.0, "12a", True, "", " 1"])
def test_ids_that_are_not_positive_integers_are_refused(thor: Stack, key: str, order_id: str | float | bool) -> None:
    created = call(
        thor, "POST", "/webhooks/faco/orders", key, json={"event": "onOrderCreated", "payload": {"OrderId": order_id}}
    )
    assert_problem(created, 400, "payload.OrderId")
    changed = call(
        thor,
        "POST",
        "/webhooks/faco/orders/status",
        key,
        json={
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": 1, "OrderItemIds": ["2", order_id], "NewStatus": "shipped"},
        },
    )
    assert_problem(changed, 400, "payload.OrderItemIds.1")


@pytest.mark.parametrize("internal_id", ["faco-0", "faco-000", "faco-12a", "faco-1.0", "faco--1"])
def test_routes_refuse_internal_ids_that_name_no_order(thor: Stack, key: str, internal_id: str) -> None:
    assert_problem(call(thor, "GET", f"/v1/orders/{internal_id}/status", key), 404, "internalOrderId")
    refund = {"products": [{"sku": "X", "quantity": 1}], "action": "REFUND", "value": 1}
    assert_problem(
        call(
            thor,
            "POST",
            f"/v1/orders/{internal_id}/refund",
            key,
            params={"tenant": "faco"},
            headers=fresh_key(),
            json=refund,
        ),
        404,
        "id",
    )
