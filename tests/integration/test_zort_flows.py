"""ZORT events applied to Thor's orders and products, against Azurite and the sandboxes: the thin paths
where storage or the wire matter (an order matched by number and synced to the OMS sandbox, ids beyond
32 bits in Table Storage, the marketplace calls of ready-to-ship). The flows' rules are tested on
fakes in tests/unit/test_zort_flows.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from localdev.sandboxes.zort import SEED_EXAMPLES
from localdev.stack import Stack
from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus
from shared.domain.order import Order
from shared.services.intake import record_event
from shared.services.processing import process_event
from tests.checks import present

ORDER_ID = 6660000


def record(context: Context, tenant: str, method: str, payload: object, query: dict[str, str] | None = None) -> str:
    body = {"method": method, "query": query or {}, "payload": payload}
    return record_event(
        context.events, context.queue, tenant=tenant, kind=EventKind.ZORT, identity=body, body=body
    ).event_id


def create_order(context: Context, tenant: str, order_id: int) -> Order:
    event_id = record_event(
        context.events,
        context.queue,
        tenant=tenant,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
    ).event_id
    assert process_event(context, tenant, event_id) is EventStatus.COMPLETED
    return present(context.orders.get(tenant, f"{tenant}-{order_id}"))[0]


def test_update_order_matched_by_marketplace_order_number_sets_payment_status_and_tracking(
    context: Context, stack: Stack
) -> None:
    order = create_order(context, "facl", ORDER_ID + 1)
    payload: dict[str, Any] = copy.deepcopy(SEED_EXAMPLES["UPDATEORDER"])
    payload.update(
        reference=None,
        number=order.order_number,
        paymentstatus="Partial Payment",
        status="Waiting",
        trackingno="ZT-1",
        shippingchannel="Blue Express",
    )
    event_id = record(context, "facl", "UPDATEORDER", payload)
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("facl", order.internal_order_id))
    assert order.payment_status == "Partial Payment" and order.zort_status == "Waiting"
    assert {present(item.tracking).number for item in order.items} == {"ZT-1"}
    assert {"payment", "order status", "tracking"} <= {entry.what for entry in order.timeline}
    oms = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    synced = [o["order"] for o in oms if o["order"]["orderRef"] == order.internal_order_id][0]
    assert synced["paymentStatus"] == "PARTIALLY_PAID"


def test_zort_ids_beyond_32_bits_are_kept(context: Context) -> None:
    payload = dict(SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"], id=5_500_000_123, sku="BIG-ID")
    assert (
        process_event(context, "socl", record(context, "socl", "UPDATEPRODUCTQUANTITY", payload))
        is EventStatus.COMPLETED
    )
    assert present(context.products.get("socl", "BIG-ID")).zort_id == 5_500_000_123


def marketplace_status_calls(stack: Stack) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = requests.get(stack.servers["marketplace"].url + "/_sandbox/requests", timeout=5).json()
    actions = ("SetStatusToPackedByMarketplace", "SetStatusToReadyToShip")
    return [r for r in seen if r["query"].get("Action") in actions]


def send_tracking(context: Context, tenant: str, order: Order, number: str) -> Order:
    tracking = [{"trackingno": number, "trackingurl": "", "shippingdate": None}]
    event_id = record(context, tenant, "UPDATEORDERTRACKING", tracking, {"id": "77", "number": order.internal_order_id})
    assert process_event(context, tenant, event_id) is EventStatus.COMPLETED
    return present(context.orders.get(tenant, order.internal_order_id))[0]


def _sent(call: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in call["query"].items()
        if k not in ("Action", "Format", "Timestamp", "UserID", "Version", "Signature")
    }


def test_tracking_with_ready_to_ship_on_sets_ready_to_ship_with_the_package_id_from_get_order_items(
    context: Context, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current documentation: the PackageId from GetOrderItems, then SetStatusToReadyToShip with
    OrderItemIds and PackageId (v500); no deprecated SetStatusToPackedByMarketplace."""
    from shared.bootstrap import get_context, reset_context

    monkeypatch.setenv("MARKETPLACE_READY_TO_SHIP_FACL", "true")
    reset_context()
    context = get_context()
    order = create_order(context, "facl", ORDER_ID + 20)  # 6660020 % 3 == 0 → one item
    order = send_tracking(context, "facl", order, "ZT-RTS-1")
    calls = marketplace_status_calls(stack)
    assert [c["query"]["Action"] for c in calls] == ["SetStatusToReadyToShip"]
    assert all(c["method"] == "POST" for c in calls)
    item_ids = "[" + ",".join(item.item_id for item in order.items) + "]"
    assert _sent(calls[0]) == {"OrderItemIds": item_ids, "PackageId": f"MPDS-{200_000_000 + ORDER_ID + 20}-0001"}
    assert {item.status for item in order.items} == {"ready_to_ship"}
    assert {present(item.tracking).number for item in order.items} == {"ZT-RTS-1"}  # ZORT's number stays Thor's


def test_items_without_a_package_id_are_packed_the_deprecated_way_first(
    context: Context, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.bootstrap import get_context, reset_context

    monkeypatch.setenv("MARKETPLACE_READY_TO_SHIP_FACL", "true")
    reset_context()
    context = get_context()
    order_id = ORDER_ID + 23  # 6660023 % 3 == 2 → three items
    url = stack.servers["marketplace"].url
    requests.post(f"{url}/_sandbox/orders/unpackaged", json={"order_ids": [order_id]}, timeout=5).raise_for_status()
    order = create_order(context, "facl", order_id)
    order = send_tracking(context, "facl", order, "ZT-RTS-2")
    calls = marketplace_status_calls(stack)
    assert [c["query"]["Action"] for c in calls] == ["SetStatusToPackedByMarketplace", "SetStatusToReadyToShip"]
    packed, ready = (_sent(c) for c in calls)
    item_ids = "[" + ",".join(item.item_id for item in order.items) + "]"
    assert packed == {"OrderItemIds": item_ids, "DeliveryType": "dropship"}
    assert set(ready) == {"OrderItemIds", "PackageId"} and ready["PackageId"].startswith("MPDS-")
    assert {item.status for item in order.items} == {"ready_to_ship"}
