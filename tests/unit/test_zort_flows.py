"""ZORT events applied to Thor's orders and products, on in-memory fakes (tests/fakes.py). Moved from
tests/integration/test_zort_flows.py, which keeps a thin path through Azurite and the sandboxes
(matching by order number with the OMS sync, ids beyond 32 bits in Table Storage, the marketplace's
wire calls of ready-to-ship)."""

from __future__ import annotations

from localdev.sandboxes.zort import SEED_EXAMPLES
from shared.domain.events import PENDING, EventKind, EventStatus
from shared.domain.order import Order
from shared.services.processing import process_event
from tests.checks import present
from tests.fakes import FakeContext, fake_context
from tests.unit.test_event_pipeline import ORDER, order_created, record, settle, with_order

INTERNAL = f"sope-{ORDER}"


def zort(context: FakeContext, method: str, payload: object, query: dict[str, str] | None = None) -> EventStatus | None:
    """Records the ZORT call and processes it; returns the event's status."""
    event_id = record(context, EventKind.ZORT, {"method": method, "query": query or {}, "payload": payload})
    return settle(context, event_id)


def zort_event_id(context: FakeContext, method: str, payload: object, query: dict[str, str] | None = None) -> str:
    return record(context, EventKind.ZORT, {"method": method, "query": query or {}, "payload": payload})


def created_order(context: FakeContext) -> Order:
    with_order(context)
    assert settle(context, order_created(context)) is EventStatus.COMPLETED
    return present(context.orders.get("sope", INTERNAL))[0]


def test_payment_event_takes_the_status_from_the_query_and_matches_by_reference() -> None:
    context = fake_context()
    order = created_order(context)
    payload = dict(SEED_EXAMPLES["UPDATEORDERPAYMENT"], reference=order.internal_order_id, number="SO-77")
    query = {"id": "77", "number": "SO-77", "paymentstatus": "Excess Payment"}
    assert zort(context, "UPDATEORDERPAYMENT", payload, query) is EventStatus.COMPLETED
    assert present(context.orders.get("sope", INTERNAL))[0].payment_status == "Excess Payment"
    assert context.oms("sope").upserts[-1].payment_status == "Excess Payment"


def settle_in_time(context: FakeContext, event_id: str, limit: int = 50) -> tuple[EventStatus | None, list[int]]:
    """Processes the event as the queue would, time moving by each delay it was queued again with;
    returns its last status and the delays."""
    delays: list[int] = []
    status = None
    for _ in range(limit):
        status = process_event(context, "sope", event_id, context.settings.retry_delays)
        if status not in PENDING:
            break
        sent = [m for m in context.queue.take_all() if m.event_id == event_id]
        delays.append(sent[-1].delay)
        context.clock.advance(sent[-1].delay)
    return status, delays


def test_unmatched_order_event_is_looked_at_again_for_its_window_then_kept_and_listed() -> None:
    """Issue 17 item 3: unmatched used to be final at once, so tracking arriving while its order's
    creation waited on a claim never reached the OMS."""
    context = fake_context()
    event_id = zort_event_id(context, "UPDATEORDER", SEED_EXAMPLES["UPDATEORDER"])
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.RECEIVED
    assert "looking again in 30s" in (present(context.events.get("sope", event_id)).reason or "")
    status, delays = settle_in_time(context, event_id)
    assert status is EventStatus.UNMATCHED
    assert delays[:5] == [30, 30, 60, 120, 240] and max(delays) <= 600 and sum(delays) == 1800
    listed = context.events.list(tenant="sope", statuses=[EventStatus.UNMATCHED, EventStatus.FAILED])
    assert [event.event_id for event in listed] == [event_id]
    assert "SO-0001" in present(present(context.events.get("sope", event_id)).outcome)


def test_tracking_that_arrives_before_its_order_reaches_the_oms_once_the_order_is_created() -> None:
    context = fake_context()
    with_order(context)
    tracking = [{"trackingno": "TR-EARLY", "trackingurl": "https://t/early"}]
    event_id = zort_event_id(context, "UPDATEORDERTRACKING", tracking, {"number": INTERNAL, "id": "5"})
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.RECEIVED
    context.clock.advance(30)
    assert settle(context, order_created(context)) is EventStatus.COMPLETED  # its order, at last
    status, _ = settle_in_time(context, event_id)
    assert status is EventStatus.COMPLETED
    assert {present(item.tracking).number for item in context.oms("sope").upserts[-1].items} == {"TR-EARLY"}


def test_with_a_window_of_0_an_event_matching_no_order_is_unmatched_at_once() -> None:
    from dataclasses import replace

    context = fake_context()
    context.settings = replace(context.settings, zort_match_window=0)
    event_id = zort_event_id(context, "UPDATEORDER", SEED_EXAMPLES["UPDATEORDER"])
    assert settle(context, event_id) is EventStatus.UNMATCHED


def test_stock_and_product_events_update_the_product() -> None:
    context = fake_context()
    assert zort(context, "ADDPRODUCT", SEED_EXAMPLES["ADDPRODUCT"]) is EventStatus.COMPLETED
    assert zort(context, "UPDATEPRODUCTQUANTITY", SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"]) is EventStatus.COMPLETED
    product = context.products.get("sope", "P0001")
    assert present(product).name == "Product1" and str(present(product).zort_stock) == "20.00"
    assert str(present(product).zort_available_stock) == "10.00" and present(product).zort_id == 1234
    assert zort(context, "DELETEPRODUCT", SEED_EXAMPLES["DELETEPRODUCT"]) is EventStatus.COMPLETED
    assert present(context.products.get("sope", "P0001")).zort_deleted is True


def test_events_that_do_not_concern_thor_complete_with_a_note() -> None:
    context = fake_context()
    event_id = zort_event_id(context, "ADDTRANSFER", SEED_EXAMPLES["ADDTRANSFER"])
    assert settle(context, event_id) is EventStatus.COMPLETED
    assert "nothing for Thor" in present(present(context.events.get("sope", event_id)).outcome)


def test_numeric_and_unknown_codes_never_fail_the_event_and_stay_on_the_timeline() -> None:
    """ZORT documents numeric codes for its API (payment 0-4, order status 0-7: developers.zortout.com,
    api-reference/order, GetOrders); public receivers saw them in webhooks too ("1", "5")."""
    context = fake_context()
    order = created_order(context)
    payload = dict(SEED_EXAMPLES["UPDATEORDER"], reference=order.internal_order_id, paymentstatus="1", status="5")
    assert zort(context, "UPDATEORDER", payload) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("sope", INTERNAL))
    assert (order.payment_status, order.zort_status) == ("Paid", "Packed")
    texts = [entry.detail for entry in order.timeline]
    assert "Paid (ZORT sent '1')" in texts and "ZORT: Packed (ZORT sent '5')" in texts

    unknown = dict(payload, paymentstatus="9", status="42")
    assert zort(context, "UPDATEORDERPAYMENT", unknown, {"paymentstatus": "9"}) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("sope", INTERNAL))
    assert (order.payment_status, order.zort_status) == ("9", "42")
    assert any(entry.detail.startswith("9 (not a payment status ZORT documents") for entry in order.timeline)
    assert context.oms("sope").upserts[-1].payment_status == "9"  # the OMS body maps it to OTHER (test_oms_mapping)


def test_tracking_with_ready_to_ship_off_leaves_the_marketplace_alone() -> None:
    context = fake_context()  # ready to ship is off unless a tenant asks for it
    order = created_order(context)
    context.marketplace("sope").calls.clear()
    tracking = [{"trackingno": "ZT-RTS-2", "trackingurl": "", "shippingdate": None}]
    query = {"id": "77", "number": order.internal_order_id}
    assert zort(context, "UPDATEORDERTRACKING", tracking, query) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("sope", INTERNAL))
    assert context.marketplace("sope").calls == []
    assert {item.status for item in order.items} == {"pending"}
    assert {present(item.tracking).number for item in order.items} == {"ZT-RTS-2"}


def test_a_return_order_is_linked_to_the_order_it_returns_by_zorts_order_id() -> None:
    """ADDRETURNORDER as documented names the returned order by ZORT's number ("SO-0001") and id
    (`referenceid`): the id Thor keeps from the order's own ZORT events links it."""
    context = fake_context()
    order = created_order(context)
    order_event = dict(SEED_EXAMPLES["UPDATEORDER"], reference=order.internal_order_id, id=2345)
    assert zort(context, "UPDATEORDER", order_event) is EventStatus.COMPLETED
    assert zort(context, "ADDRETURNORDER", SEED_EXAMPLES["ADDRETURNORDER"]) is EventStatus.COMPLETED
    linked = present(context.orders.get("sope", INTERNAL))[0]
    assert linked.zort_returns == {"CN-0001": "Success"}
    assert [e.detail for e in linked.timeline if e.what == "return in ZORT"] == ["CN-0001 (Success)"]

    voided = dict(SEED_EXAMPLES["UPDATERETURNORDER"], status="Voided")
    assert zort(context, "UPDATERETURNORDER", voided) is EventStatus.COMPLETED
    assert zort(context, "UPDATERETURNORDERPAYMENT", voided) is EventStatus.COMPLETED  # same state: no new note
    linked = present(context.orders.get("sope", INTERNAL))[0]
    assert linked.zort_returns == {"CN-0001": "Voided"}
    assert len([e for e in linked.timeline if e.what == "return in ZORT"]) == 2


def test_a_return_order_naming_no_known_order_is_unmatched() -> None:
    context = fake_context()
    created_order(context)  # its ZORT id is not known yet
    event_id = zort_event_id(context, "ADDRETURNORDER", SEED_EXAMPLES["ADDRETURNORDER"])
    assert settle_in_time(context, event_id)[0] is EventStatus.UNMATCHED  # after its match window
