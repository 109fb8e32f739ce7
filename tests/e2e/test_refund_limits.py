"""Refund values are checked against what was paid for the refunded units, through the runner (issue 9, part 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from localdev.sandboxes.marketplace import item_count, item_sku, product_facts
from localdev.stack import Stack
from tests.checks import present
from tests.conftest import eventually
from tests.e2e.test_contract import assert_problem, call, fresh_key

pytestmark = pytest.mark.e2e

ORDER_ID = 7780002  # one item in the marketplace sandbox


def test_a_refund_may_not_exceed_the_units_paid_price_and_the_view_shows_it(thor: Stack, key: str) -> None:
    assert item_count(ORDER_ID) == 1
    sku = item_sku(ORDER_ID, 0)
    paid = product_facts(sku)["price"]
    call(thor, "POST", "/webhooks/fape/orders", key, json={"event": "onOrderCreated", "payload": {"OrderId": ORDER_ID}})
    internal_id = f"fape-{ORDER_ID}"

    def view() -> dict[str, Any] | None:
        answer = call(thor, "GET", f"/v1/orders/{internal_id}/status", key)
        return answer.json() if answer.status_code == 200 and answer.json()["items"] else None

    assert eventually(view)["items"][0]["refundedQuantity"] == 0

    path, params = f"/v1/orders/{internal_id}/refund", {"tenant": "fape"}
    over = {"products": [{"sku": sku, "quantity": 1}], "action": "REFUND", "value": float(paid + Decimal("0.01"))}
    assert_problem(call(thor, "POST", path, key, params=params, headers=fresh_key(), json=over), 422, "value")
    assert_problem(
        call(thor, "POST", path, key, params=params, headers=fresh_key(), json={**over, "action": "OTHER_PRODUCT"}),
        422,
        "value",
    )
    partial = call(
        thor, "POST", path, key, params=params, headers=fresh_key(), json={**over, "value": float(paid - 1000)}
    )
    assert partial.status_code == 201, partial.text
    assert present(view())["items"][0]["refundedQuantity"] == 1
    assert_problem(
        call(thor, "POST", path, key, params=params, headers=fresh_key(), json={**over, "value": 1000.01}), 422, "value"
    )
    rest = call(thor, "POST", path, key, params=params, headers=fresh_key(), json={**over, "value": 1000})
    assert rest.status_code == 201, rest.text
    assert Decimal(rest.json()["order"]["refundedTotal"]) == paid
    assert rest.json()["order"]["refundedQuantities"] == {sku: 1}
