"""Marketplace ids have one canonical spelling: one marketplace order is one Thor order."""

import hashlib

import pytest
from pydantic import ValidationError

from shared.domain.ids import (
    canonical_marketplace_id,
    event_id,
    internal_order_id,
    parse_internal_order_id,
    reference_spellings,
)
from shared.models.webhooks import ItemsStatusChangedWebhook, OrderCreatedWebhook


@pytest.mark.parametrize(
    "value,canonical",
    [
        (8860001, "8860001"),
        ("8860001", "8860001"),
        ("08860001", "8860001"),
        ("008860001", "8860001"),
        (1, "1"),
        ("0001", "1"),
        ("9" * 20, "9" * 20),
        (10**20 - 1, "9" * 20),
        ("0" * 20 + "9" * 20, "9" * 20),
    ],
)
def test_spellings_of_one_id_are_one_id(value: str | int, canonical: str) -> None:
    assert canonical_marketplace_id(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        0,
        "0",
        "000",
        -1,
        "-1",
        "+1",
        179.0,
        179.5,
        "179.0",
        "12a",
        "",
        " 1",
        "1 ",
        "1e3",
        "١٢",
        True,
        False,
        None,
        [1],
        {"1": 1},
        "1" * 21,
        10**20,
        "0" * 21 + "9" * 20,
    ],
)
def test_everything_else_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        canonical_marketplace_id(value)


def test_zero_is_refused_as_zero() -> None:
    with pytest.raises(ValueError, match="not 0"):
        canonical_marketplace_id("00")


def test_internal_ids_are_canonical_and_parse_back() -> None:
    assert internal_order_id("faco", "03272813") == internal_order_id("faco", 3272813) == "faco-3272813"
    assert parse_internal_order_id("faco-03272813") == ("faco", "3272813")
    for bad in ("faco-0", "faco-abc", "faco-", "faco-1.0", "xxxx-1", "FACO-1", "faco-" + "9" * 80, "faco--1"):
        assert parse_internal_order_id(bad) is None, bad


def test_reference_spellings_try_the_text_first_then_the_canonical_id() -> None:
    assert reference_spellings("faco", "faco-03272813") == ["faco-03272813", "faco-3272813"]
    assert reference_spellings("faco", " 0042 ") == ["0042", "42"]
    assert reference_spellings("faco", "3272813") == ["3272813"]
    assert reference_spellings("faco", "SO-0001") == ["SO-0001"]
    assert reference_spellings("faco", "facl-0042") == ["facl-0042"]  # another tenant's order is not ours
    assert reference_spellings("faco", None) == reference_spellings("faco", " ") == []


def test_webhook_models_canonicalise_and_name_the_field() -> None:
    spellings = [8860001, "08860001", "008860001"]
    hooks = [
        OrderCreatedWebhook.model_validate({"event": "onOrderCreated", "payload": {"OrderId": s}}) for s in spellings
    ]
    assert {h.payload.OrderId for h in hooks} == {"8860001"}
    status = ItemsStatusChangedWebhook.model_validate(
        {
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": "01", "OrderItemIds": ["010", 11], "NewStatus": "shipped"},
        }
    )
    assert (status.payload.OrderId, status.payload.OrderItemIds) == ("1", ["10", "11"])
    for bad in (0, -1, 179.0, "12a", True):
        with pytest.raises(ValidationError) as error:
            OrderCreatedWebhook.model_validate({"event": "onOrderCreated", "payload": {"OrderId": bad}})
        assert error.value.errors()[0]["loc"] == ("payload", "OrderId")
    with pytest.raises(ValidationError) as error:
        ItemsStatusChangedWebhook.model_validate(
            {
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": "1", "OrderItemIds": ["2", "0"], "NewStatus": "shipped"},
            }
        )
    assert error.value.errors()[0]["loc"] == ("payload", "OrderItemIds", 1)


def test_event_ids_of_canonical_input_did_not_change() -> None:
    """The idempotency key hashes the canonical id; canonical input keeps the key it had before."""
    assert (
        event_id("order-created", "faco", "8860001")
        == "order-created-" + hashlib.sha256(b'["order-created","faco","8860001"]').hexdigest()[:32]
    )
