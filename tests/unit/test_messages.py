"""Every message says its kind and identity; intake records it under the same id and body as before
messages carried them (the ids below were computed by the previous code, from hand-built identities)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.bootstrap import build_handlers
from shared.domain.events import EventKind, Message
from shared.models.internal_events import OrderRef, ReconcileOrderEvent, RefundEvent, StockResyncEvent
from shared.models.webhooks import ItemsStatusChangedWebhook, OrderCreatedWebhook, ProductsWebhook
from shared.ports import model_for
from shared.services.intake import accept_event
from shared.zort.calls import ZortCall
from tests.fakes import fake_context

NOW = datetime(2026, 12, 4, 21, 30, tzinfo=timezone.utc)

# (message, the event id the previous code gave it for tenant faco)
KNOWN: list[tuple[Message, str]] = [
    (
        OrderCreatedWebhook.model_validate({"event": "onOrderCreated", "payload": {"OrderId": "08860001"}}),
        "order-created-38ff80c1f3194b82c8a3fb9865a31a60",
    ),
    (
        ItemsStatusChangedWebhook.model_validate(
            {
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": 8860001, "OrderItemIds": [3, "2", 3], "NewStatus": "shipped"},
            }
        ),
        "items-status-95dccd7b4d159dcac2d7462805a31480",
    ),
    (
        ProductsWebhook.model_validate({"event": "onProductUpdated", "payload": {"SellerSkus": ["B", " A", "B"]}}),
        "products-eff4b401b495a75dae5deec56a7393d5",
    ),
    (
        ZortCall(
            method="UPDATEORDERTRACKING",
            query={"number": "SO-1", "id": "55"},
            payload=[{"trackingno": "TR1", "trackingurl": None}],
        ),
        "zort-a2fd8503f42fc18ed9f6ee04e4b6c614",
    ),
    (ZortCall(method="", query={}, payload={"a": 1}), "zort-2e6298de4cb782ab4c0f889972ee167c"),
    (RefundEvent(internalOrderId="faco-8860001", refundId="faco-ref-abc"), "refund-5164c2afd166d1a9141228f384e50782"),
    (
        ReconcileOrderEvent(payload=OrderRef(OrderId="8860001"), reason="r", seen=["resync", NOW.isoformat()]),
        "reconcile-order-7912b863aa08cc5a56f62fca7c7d39f7",
    ),
    (
        ReconcileOrderEvent(
            payload=OrderRef(OrderId="8860001"),
            reason="r",
            marketplaceUpdatedAt=None,
            seen=["2026-12-04T21:30:00Z", ["pending", "shipped"], 3],
        ),
        "reconcile-order-3080b95735eae8d6464627e013bd2871",
    ),
    (
        StockResyncEvent(reason="full stock resync", requestedBy="ops", tenant="faco", requested_at=NOW),
        "stock-resync-15257d7278050b8c5476beefa415371b",
    ),
]


@pytest.mark.parametrize(("message", "expected"), KNOWN, ids=[e for _, e in KNOWN])
def test_a_known_message_keeps_its_event_id(message: Message, expected: str) -> None:
    context = fake_context()
    acceptance = accept_event(context.events, context.queue, tenant="faco", message=message, clock=context.clock)
    assert acceptance.event_id == expected
    stored = context.events.get("faco", expected)
    assert stored is not None and stored.kind is type(message).kind


def test_internal_events_are_recorded_with_the_bodies_they_had() -> None:
    """The bodies the services built by hand before, field for field (identity-only fields excluded)."""
    context = fake_context()
    bodies = {
        "refund": {"internalOrderId": "faco-8860001", "refundId": "faco-ref-abc"},
        "resync": {"payload": {"OrderId": "8860001"}, "reason": "resync (ops command line)"},
        "reconcile": {"payload": {"OrderId": "8860001"}, "reason": "r", "marketplaceUpdatedAt": None},
        "stock": {"reason": "full stock resync", "requestedBy": "ops"},
    }
    messages = {
        "refund": RefundEvent(internalOrderId="faco-8860001", refundId="faco-ref-abc"),
        "resync": ReconcileOrderEvent(
            payload=OrderRef(OrderId="8860001"), reason="resync (ops command line)", seen=["resync", "t"]
        ),
        "reconcile": ReconcileOrderEvent(
            payload=OrderRef(OrderId="8860001"), reason="r", marketplaceUpdatedAt=None, seen=["", [], None]
        ),
        "stock": StockResyncEvent(reason="full stock resync", requestedBy="ops", tenant="faco", requested_at=NOW),
    }
    for name, message in messages.items():
        acceptance = accept_event(context.events, context.queue, tenant="faco", message=message)
        stored = context.events.get("faco", acceptance.event_id)
        assert stored is not None and stored.body == bodies[name], name


def test_a_webhook_is_recorded_with_the_body_it_came_with() -> None:
    context = fake_context()
    hook = OrderCreatedWebhook.model_validate({"event": "onOrderCreated", "payload": {"OrderId": "1"}})
    body = {"event": "onOrderCreated", "payload": {"OrderId": "1"}, "extra": "kept"}
    acceptance = accept_event(context.events, context.queue, tenant="faco", message=hook, body=body)
    stored = context.events.get("faco", acceptance.event_id)
    assert stored is not None and stored.body == body


def test_each_kind_has_one_model_and_handler() -> None:
    handlers = build_handlers()
    kinds = [model.kind for model in handlers]
    assert len(kinds) == len(set(kinds)), "two models of one kind: processing could not tell them apart"
    assert set(kinds) == set(EventKind)
    for model in handlers:
        assert model_for(handlers, model.kind) is model


def test_a_marketplace_webhook_without_a_narrower_identity_is_identified_by_its_name_and_payload() -> None:
    from shared.models.webhooks import MarketplaceWebhook

    hook = MarketplaceWebhook.model_validate({"event": "onSomething", "payload": {"b": 2, "a": [1]}})
    assert hook.identity() == ["onSomething", {"b": 2, "a": [1]}]
