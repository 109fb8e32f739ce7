"""ZORT events applied to Thor's orders and products, against Azurite and the sandboxes."""

from __future__ import annotations

import copy

import requests

from localdev.sandboxes.zort import SEED_EXAMPLES
from shared.domain.events import EventKind, EventStatus
from shared.services.intake import accept_event
from shared.services.processing import process_event

ORDER_ID = 6660000


def record(context, tenant, method, payload, query=None):
    body = {"method": method, "query": query or {}, "payload": payload}
    return accept_event(
        context.events, context.queue, tenant=tenant, kind=EventKind.ZORT, identity=body, body=body
    ).event_id


def create_order(context, tenant, order_id):
    event_id = accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
    ).event_id
    assert process_event(context, tenant, event_id) is EventStatus.COMPLETED
    return context.orders.get(tenant, f"{tenant}-{order_id}")[0]


def test_update_order_matched_by_marketplace_order_number_sets_payment_status_and_tracking(context, stack):
    order = create_order(context, "facl", ORDER_ID + 1)
    payload = copy.deepcopy(SEED_EXAMPLES["UPDATEORDER"])
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
    order, _ = context.orders.get("facl", order.internal_order_id)
    assert order.payment_status == "Partial Payment" and order.zort_status == "Waiting"
    assert {item.tracking.number for item in order.items} == {"ZT-1"}
    assert {"payment", "order status", "tracking"} <= {entry.what for entry in order.timeline}
    oms = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    synced = [o["order"] for o in oms if o["order"]["orderRef"] == order.internal_order_id][0]
    assert synced["paymentStatus"] == "PARTIALLY_PAID"


def test_payment_event_takes_the_status_from_the_query_and_matches_by_reference(context):
    order = create_order(context, "facl", ORDER_ID + 2)
    payload = dict(SEED_EXAMPLES["UPDATEORDERPAYMENT"], reference=order.internal_order_id, number="SO-77")
    event_id = record(
        context,
        "facl",
        "UPDATEORDERPAYMENT",
        payload,
        {"id": "77", "number": "SO-77", "paymentstatus": "Excess Payment"},
    )
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    assert context.orders.get("facl", order.internal_order_id)[0].payment_status == "Excess Payment"


def test_unmatched_order_event_is_kept_and_listed(context):
    event_id = record(context, "facl", "UPDATEORDER", SEED_EXAMPLES["UPDATEORDER"])
    assert process_event(context, "facl", event_id) is EventStatus.UNMATCHED
    listed = context.events.list(tenant="facl", statuses=[EventStatus.UNMATCHED, EventStatus.FAILED])
    assert event_id in {event.event_id for event in listed}
    assert "SO-0001" in context.events.get("facl", event_id).outcome


def test_stock_and_product_events_update_the_product(context):
    record_and_run = lambda method, payload: process_event(context, "socl", record(context, "socl", method, payload))
    assert record_and_run("ADDPRODUCT", SEED_EXAMPLES["ADDPRODUCT"]) is EventStatus.COMPLETED
    assert record_and_run("UPDATEPRODUCTQUANTITY", SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"]) is EventStatus.COMPLETED
    product = context.products.get("socl", "P0001")
    assert product.name == "Product1" and str(product.zort_stock) == "20.00"
    assert str(product.zort_available_stock) == "10.00" and product.zort_id == 1234
    assert record_and_run("DELETEPRODUCT", SEED_EXAMPLES["DELETEPRODUCT"]) is EventStatus.COMPLETED
    assert context.products.get("socl", "P0001").zort_deleted is True


def test_events_that_do_not_concern_thor_complete_with_a_note(context):
    event_id = record(context, "socl", "ADDTRANSFER", SEED_EXAMPLES["ADDTRANSFER"])
    assert process_event(context, "socl", event_id) is EventStatus.COMPLETED
    assert "nothing for Thor" in context.events.get("socl", event_id).outcome


def test_zort_ids_beyond_32_bits_are_kept(context):
    payload = dict(SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"], id=5_500_000_123, sku="BIG-ID")
    assert (
        process_event(context, "socl", record(context, "socl", "UPDATEPRODUCTQUANTITY", payload))
        is EventStatus.COMPLETED
    )
    assert context.products.get("socl", "BIG-ID").zort_id == 5_500_000_123


def test_numeric_and_unknown_codes_never_fail_the_event_and_stay_on_the_timeline(context, stack):
    """ZORT documents numeric codes for its API (payment 0-4, order status 0-7: developers.zortout.com,
    api-reference/order, GetOrders); public receivers saw them in webhooks too ("1", "5")."""
    order = create_order(context, "facl", ORDER_ID + 9)
    payload = dict(SEED_EXAMPLES["UPDATEORDER"], reference=order.internal_order_id, paymentstatus="1", status="5")
    assert process_event(context, "facl", record(context, "facl", "UPDATEORDER", payload)) is EventStatus.COMPLETED
    order, _ = context.orders.get("facl", order.internal_order_id)
    assert (order.payment_status, order.zort_status) == ("Paid", "Packed")
    texts = [entry.detail for entry in order.timeline]
    assert "Paid (ZORT sent '1')" in texts and "ZORT: Packed (ZORT sent '5')" in texts

    unknown = dict(payload, paymentstatus="9", status="42")
    event_id = record(context, "facl", "UPDATEORDERPAYMENT", unknown, {"paymentstatus": "9"})
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    order, _ = context.orders.get("facl", order.internal_order_id)
    assert (order.payment_status, order.zort_status) == ("9", "42")
    assert any(entry.detail.startswith("9 (not a payment status ZORT documents") for entry in order.timeline)
    oms = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    synced = [o["order"] for o in oms if o["order"]["orderRef"] == order.internal_order_id][0]
    assert synced["paymentStatus"] == "OTHER"


def marketplace_status_calls(stack) -> list[dict]:
    seen = requests.get(stack.servers["marketplace"].url + "/_sandbox/requests", timeout=5).json()
    actions = ("SetStatusToPackedByMarketplace", "SetStatusToReadyToShip")
    return [r for r in seen if r["query"].get("Action") in actions]


def send_tracking(context, tenant, order, number):
    tracking = [{"trackingno": number, "trackingurl": "", "shippingdate": None}]
    event_id = record(context, tenant, "UPDATEORDERTRACKING", tracking, {"id": "77", "number": order.internal_order_id})
    assert process_event(context, tenant, event_id) is EventStatus.COMPLETED
    return context.orders.get(tenant, order.internal_order_id)[0]


def test_tracking_with_ready_to_ship_on_packs_then_sets_ready_to_ship_with_the_package(context, stack, monkeypatch):
    """Before: one SetStatusToReadyToShip with ShippingProvider + TrackingNumber and no PackageId, which
    the marketplace refuses (E091); now the documented pack → ready-to-ship pair."""
    from shared.bootstrap import get_context, reset_context

    monkeypatch.setenv("MARKETPLACE_READY_TO_SHIP_FACL", "true")
    reset_context()
    context = get_context()
    order = create_order(context, "facl", ORDER_ID + 20)  # 6660020 % 3 == 0 → one item
    order = send_tracking(context, "facl", order, "ZT-RTS-1")
    calls = marketplace_status_calls(stack)
    assert [c["query"]["Action"] for c in calls] == ["SetStatusToPackedByMarketplace", "SetStatusToReadyToShip"]
    assert all(c["method"] == "POST" for c in calls)
    packed, ready = (
        {
            k: v
            for k, v in c["query"].items()
            if k not in ("Action", "Format", "Timestamp", "UserID", "Version", "Signature")
        }
        for c in calls
    )
    item_ids = "[" + ",".join(item.item_id for item in order.items) + "]"
    assert packed == {"OrderItemIds": item_ids, "DeliveryType": "dropship"}
    assert set(ready) == {"OrderItemIds", "DeliveryType", "PackageId"} and ready["PackageId"].startswith("MPDS-")
    assert {item.status for item in order.items} == {"ready_to_ship"}
    assert {item.tracking.number for item in order.items} == {"ZT-RTS-1"}  # ZORT's number stays Thor's


def test_tracking_with_ready_to_ship_off_leaves_the_marketplace_alone(context, stack):
    order = create_order(context, "facl", ORDER_ID + 21)
    order = send_tracking(context, "facl", order, "ZT-RTS-2")
    assert marketplace_status_calls(stack) == []
    assert {item.status for item in order.items} == {"pending"}
