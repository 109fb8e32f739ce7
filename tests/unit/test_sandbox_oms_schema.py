"""The OMS sandbox's order schema (localdev/sandboxes/oms.py, built from seeds/002): these test the
sandbox, not Thor. They keep it a fair judge of Thor's bodies: it names the bad field, demands nothing
the reference does not, and refuses what the reference does not allow."""

from __future__ import annotations

import json

import pytest

from localdev.sandboxes.oms import InvalidInput, validate_order
from shared.adapters.oms.mapping import order_to_oms
from tests.unit.test_oms_mapping import item, make_order


def test_schema_names_the_bad_field() -> None:
    body = order_to_oms(make_order(item("1")), "faco")
    body["orderLines"][0]["productRef"] = 42
    with pytest.raises(InvalidInput) as caught:
        validate_order(json.dumps(body))
    assert caught.value.field == "orderLines.0.productRef"


def test_schema_demands_no_line_field_the_reference_does_not() -> None:
    body = order_to_oms(make_order(item("1")), "faco")
    for name in ("entryRef", "productRef", "quantity"):
        del body["orderLines"][0][name]
    validate_order(json.dumps(body))


def test_schema_refuses_unknown_names_and_decimal_cents() -> None:
    body = order_to_oms(make_order(item("1")), "faco")
    with pytest.raises(InvalidInput) as caught:
        validate_order(json.dumps({**body, "shippingCostIncTaxInCent": 1}))
    assert caught.value.field == "shippingCostIncTaxInCent"
    with pytest.raises(InvalidInput) as caught:
        validate_order(json.dumps({**body, "totalAmountInCent": 12.5}))
    assert caught.value.field == "totalAmountInCent"
    with pytest.raises(InvalidInput) as caught:
        validate_order(json.dumps({**body, "orderStatus": "DONE"}))
    assert caught.value.field == "orderStatus"
