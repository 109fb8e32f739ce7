"""ZORT names a Thor order in another spelling of its marketplace id: it still matches (issue 9, part 3)."""

from __future__ import annotations

from localdev.sandboxes.zort import SEED_EXAMPLES
from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus
from shared.services.processing import process_event
from tests.checks import present
from tests.integration.test_zort_flows import create_order, record


def test_zort_reference_with_leading_zeros_matches_the_order(context: Context) -> None:
    order = create_order(context, "facl", 6670001)
    payload = dict(SEED_EXAMPLES["UPDATEORDERPAYMENT"], reference="facl-06670001", number="SO-6670001")
    event_id = record(
        context, "facl", "UPDATEORDERPAYMENT", payload, {"id": "88", "number": "SO-6670001", "paymentstatus": "Paid"}
    )
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    assert present(context.orders.get("facl", order.internal_order_id))[0].payment_status == "Paid"


def test_zort_number_naming_the_marketplace_id_with_leading_zeros_matches(context: Context) -> None:
    order = create_order(context, "facl", 6670002)
    tracking = [{"trackingno": "TH-6670002", "trackingurl": "", "shippingdate": None}]
    event_id = record(context, "facl", "UPDATEORDERTRACKING", tracking, {"id": "89", "number": "006670002"})
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("facl", order.internal_order_id))
    assert {present(item.tracking).number for item in order.items} == {"TH-6670002"}


def test_an_order_created_with_a_padded_id_is_kept_under_the_canonical_id(context: Context) -> None:
    order = create_order(context, "facl", 6670003)
    assert order.internal_order_id == "facl-6670003" and order.marketplace_order_id == "6670003"
    from shared.services.intake import record_event

    event_id = record_event(
        context.events,
        context.queue,
        tenant="facl",
        kind=EventKind.ORDER_CREATED,
        identity="legacy-06670004",
        body={"event": "onOrderCreated", "payload": {"OrderId": "06670004"}},
    ).event_id
    assert process_event(context, "facl", event_id) is EventStatus.COMPLETED
    assert context.orders.get("facl", "facl-6670004") and context.orders.get("facl", "facl-06670004") is None
