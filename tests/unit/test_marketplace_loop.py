"""Closing the order loop (issue 19) on fakes: tax documents, cancellations after a ZORT void,
seller-delivered statuses, the returns desk; each flow off by default."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from shared.domain.at_risk import RiskKind, RiskRules, order_risks
from shared.domain.errors import Conflict, RuleBroken
from shared.domain.events import EventKind, EventStatus
from shared.domain.marketplace_loop import RETURN_WINDOW, seller_delivers
from shared.services.marketplace_loop import DocumentAnswer, request_document
from shared.settings import LoopSettings, load_settings
from shared.tenants import TENANTS
from tests.checks import present
from tests.fakes import FakeContext, fake_context, marketplace_item
from tests.unit.test_event_pipeline import Flaky, record, settle

ORDER = "3020001"
PDF = b"%PDF-1.4\n" + b"x" * 1000 + b"\n%%EOF"


def with_loop(context: FakeContext, tenant: str, **flows: Any) -> None:
    """Switches flows on for `tenant` (the settings are frozen: replaced)."""
    tenants = dict(context.settings.tenants)
    marketplace = present(tenants[tenant].marketplace)
    loop = dataclasses.replace(marketplace.loop, **flows)
    tenants[tenant] = dataclasses.replace(tenants[tenant], marketplace=dataclasses.replace(marketplace, loop=loop))
    context.settings = dataclasses.replace(context.settings, tenants=tenants)


def with_order(context: FakeContext, tenant: str, *statuses: str, shipping_type: str = "Dropshipping") -> str:
    items = [
        marketplace_item(f"{ORDER}{n}", order_id=ORDER, sku=f"SKU-{n}", status=status).model_copy(
            update={"shipping_type": shipping_type}
        )
        for n, status in enumerate(statuses)
    ]
    context.marketplace(tenant).add_order(ORDER, *items)
    event_id = record(
        context,
        EventKind.ORDER_CREATED,
        {"event": "onOrderCreated", "payload": {"OrderId": ORDER}},
        identity=ORDER,
        tenant=tenant,
        internal_order_id=f"{tenant}-{ORDER}",
    )
    assert settle(context, event_id, tenant) is EventStatus.COMPLETED
    return f"{tenant}-{ORDER}"


def send_document(context: FakeContext, tenant: str, order_id: str, **overrides: Any) -> DocumentAnswer:
    fields: dict[str, Any] = dict(
        document_type="FACTURA",
        number="F-1001",
        document_date=date(2026, 12, 4),
        item_ids=[f"{ORDER}0"],
        pdf=PDF,
        body_hash="h1",
        idempotency_key="inv-1",
    )
    fields.update(overrides)
    return request_document(context, tenant, order_id, **fields)


# --- off by default -----------------------------------------------------------------------------


def test_every_flow_is_off_by_default_for_every_tenant() -> None:
    env = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "MARKETPLACE_BASE_URL": "http://m",
        "OMS_BASE_URL": "http://o",
    }
    for tenant in TENANTS:
        env |= {f"MARKETPLACE_{k}_{tenant.upper()}": "x" for k in ("USER_ID", "API_KEY", "SELLER_ID")}
    settings = load_settings(env)
    for tenant in TENANTS:
        assert settings.loop(tenant) == LoopSettings()
        loop = settings.loop(tenant)
        assert not (loop.documents or loop.cancellations or loop.returns_desk) and loop.seller_delivery == "off"


def test_with_every_flow_off_a_document_is_refused_a_void_and_a_delivery_send_nothing() -> None:
    context = fake_context("facl")
    order_id = with_order(context, "facl", "ready_to_ship", "pending")
    with pytest.raises(RuleBroken, match="documents-off") as refused:
        send_document(context, "facl", order_id)
    assert refused.value.field == "tenant" and "MARKETPLACE_DOCUMENTS_FACL" in refused.value.detail
    for status in ("2", "6", "1"):  # Voided, Shipping, Success
        body = {"method": "UPDATEORDER", "query": {}, "payload": zort_order(order_id, status)}
        assert settle(context, record(context, EventKind.ZORT, body, tenant="facl"), "facl") is EventStatus.COMPLETED
    names = {name for name, _ in context.marketplace("facl").calls}
    assert not names & {"set_invoice_pdf", "set_status_to_canceled", "set_seller_delivery_status"}
    assert not [
        e
        for e in context.events.list(tenant="facl")
        if e.kind is not EventKind.ORDER_CREATED and e.kind is not EventKind.ZORT
    ]


# --- tax documents --------------------------------------------------------------------------------


def test_a_document_refused_for_its_type_names_the_rule_and_is_never_stored_nor_sent() -> None:
    context = fake_context("faco")
    with_loop(context, "faco", documents=True)
    order_id = with_order(context, "faco", "ready_to_ship")
    with pytest.raises(RuleBroken, match="rule type-not-allowed-in-country") as refused:
        send_document(context, "faco", order_id, document_type="BOLETA")
    assert refused.value.field == "type" and "CO" in refused.value.detail
    assert context.document_store.puts == 0 and context.idempotency.get("faco", "inv-1") is None
    assert "set_invoice_pdf" not in [name for name, _ in context.marketplace("faco").calls]
    order, _ = present(context.orders.get("faco", order_id))
    assert order.documents == []


@pytest.mark.parametrize(
    ("tenant", "statuses", "overrides", "rule"),
    [
        ("facl", ("pending",), {}, "items-not-ready-to-ship"),
        ("facl", ("ready_to_ship",), {"pdf": b"not a pdf"}, "not-a-pdf"),
        ("faar", ("ready_to_ship",), {}, "country-not-documented"),
        ("somx", ("ready_to_ship",), {}, "country-not-documented"),
    ],
)
def test_documents_the_marketplace_would_refuse_are_refused_naming_the_rule(
    tenant: str, statuses: tuple[str], overrides: dict[str, Any], rule: str
) -> None:
    context = fake_context(tenant)
    with_loop(context, tenant, documents=True)
    order_id = with_order(context, tenant, *statuses)
    with pytest.raises(RuleBroken, match=f"rule {rule}"):
        send_document(context, tenant, order_id, **overrides)
    assert context.document_store.puts == 0


def test_where_the_marketplace_invoices_for_the_seller_documents_are_refused() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", documents=True, invoiced_by_marketplace=True)
    order_id = with_order(context, "facl", "ready_to_ship")
    with pytest.raises(RuleBroken, match="rule invoiced-by-marketplace"):
        send_document(context, "facl", order_id)


def test_a_document_is_recorded_its_pdf_kept_once_then_uploaded_and_shown_on_the_order() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", documents=True)
    order_id = with_order(context, "facl", "ready_to_ship", "pending")
    answer = send_document(context, "facl", order_id)
    assert answer.status == 202 and answer.body["status"] == "recorded"
    assert context.document_store.puts == 1 and list(context.document_store.blobs.values()) == [PDF]
    order, _ = present(context.orders.get("facl", order_id))
    assert "%PDF" not in order.model_dump_json()  # the order keeps the blob's name, never the PDF
    assert settle(context, answer.body["eventId"], "facl") is EventStatus.COMPLETED
    marketplace = context.marketplace("facl")
    assert marketplace.invoices == [{"items": [f"{ORDER}0"], "number": "F-1001", "type": "FACTURA", "size": len(PDF)}]
    assert ("set_invoice_pdf", ([f"{ORDER}0"], "F-1001", "FACTURA", "FACL")) in marketplace.calls
    order, _ = present(context.orders.get("facl", order_id))
    assert order.documents[0].status == "uploaded"
    assert [e.what for e in order.timeline if "tax document" in e.what] == ["tax document", "tax document uploaded"]
    again = send_document(context, "facl", order_id)  # the same key and body: the same answer, nothing new
    assert again.body == answer.body and context.document_store.puts == 1


def test_a_document_retried_after_a_marketplace_5xx_is_uploaded_once() -> None:
    context = fake_context("fape")
    with_loop(context, "fape", documents=True)
    order_id = with_order(context, "fape", "shipped")
    answer = send_document(context, "fape", order_id, document_type="BOLETA")
    context.marketplace("fape").fail_next(Flaky("HTTP 503 from SetInvoicePDF"), times=2)
    assert settle(context, answer.body["eventId"], "fape") is EventStatus.COMPLETED
    event = context.events.get("fape", answer.body["eventId"])
    assert present(event).attempts == 3
    assert len(context.marketplace("fape").invoices) == 1
    assert settle(context, answer.body["eventId"], "fape") is EventStatus.COMPLETED  # a replay: not sent again
    assert [name for name, _ in context.marketplace("fape").calls].count("set_invoice_pdf") == 3


def test_the_same_idempotency_key_with_another_body_is_refused() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", documents=True)
    order_id = with_order(context, "facl", "ready_to_ship")
    send_document(context, "facl", order_id)
    with pytest.raises(RuleBroken, match="different body"):
        send_document(context, "facl", order_id, body_hash="h2")


def test_a_shipped_order_without_a_document_is_at_risk_after_the_tenants_hours() -> None:
    context = fake_context("facl")
    order_id = with_order(context, "facl", "ready_to_ship")
    order, _ = present(context.orders.get("facl", order_id))
    order.items[0].status = "shipped"
    order.items[0].status_changed_at = context.clock()
    rules = RiskRules(document_due=timedelta(hours=24))
    assert not [
        r
        for r in order_risks(order, context.clock() + timedelta(hours=23), rules)
        if r.kind is RiskKind.DOCUMENT_MISSING
    ]
    late = [
        r
        for r in order_risks(order, context.clock() + timedelta(hours=24), rules)
        if r.kind is RiskKind.DOCUMENT_MISSING
    ]
    assert late and "no tax document" in late[0].why
    assert not [
        r for r in order_risks(order, context.clock() + timedelta(hours=30)) if r.kind is RiskKind.DOCUMENT_MISSING
    ]


# --- cancellations ---------------------------------------------------------------------------------


def zort_order(order_id: str, status: str) -> dict[str, Any]:
    return {"id": 77, "number": "SO-77", "reference": order_id, "status": status, "list": []}


def test_a_zort_void_cancels_pending_items_and_leaves_shipped_ones() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", cancellations=True)
    order_id = with_order(context, "facl", "pending", "pending", "shipped")
    body = {"method": "UPDATEORDER", "query": {}, "payload": zort_order(order_id, "Voided")}
    assert settle(context, record(context, EventKind.ZORT, body, tenant="facl"), "facl") is EventStatus.COMPLETED
    cancel = [e for e in context.events.list(tenant="facl") if e.kind is EventKind.MARKETPLACE_CANCEL]
    assert len(cancel) == 1 and settle(context, cancel[0].event_id, "facl") is EventStatus.COMPLETED
    marketplace = context.marketplace("facl")
    canceled = [argument for name, argument in marketplace.calls if name == "set_status_to_canceled"]
    assert canceled == [(f"{ORDER}0", "Out of stock"), (f"{ORDER}1", "Out of stock")]
    assert [i.status for i in marketplace.items[ORDER]] == ["canceled", "canceled", "shipped"]
    order, _ = present(context.orders.get("facl", order_id))
    assert order.marketplace_cancellations == {f"{ORDER}0": "Out of stock", f"{ORDER}1": "Out of stock"}
    from shared.domain.at_risk import seller_canceled

    assert seller_canceled(order)  # counted against the seller's 3%: ZORT voided it
    notes = [e.detail for e in order.timeline if e.what in ("canceled in marketplace", "not canceled")]
    assert len(notes) == 3 and f"{ORDER}2 (shipped)" in notes[-1]
    assert settle(context, cancel[0].event_id, "facl") is EventStatus.COMPLETED  # a replay cancels nothing twice
    assert len([n for n, _ in marketplace.calls if n == "set_status_to_canceled"]) == 2


def test_a_cancellation_reason_the_marketplace_does_not_list_blocks_the_event_naming_the_setting() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", cancellations=True, cancel_reason="Because")
    order_id = with_order(context, "facl", "pending")
    body = {"method": "UPDATEORDER", "query": {}, "payload": zort_order(order_id, "2")}
    settle(context, record(context, EventKind.ZORT, body, tenant="facl"), "facl")
    cancel = next(e for e in context.events.list(tenant="facl") if e.kind is EventKind.MARKETPLACE_CANCEL)
    assert settle(context, cancel.event_id, "facl") is EventStatus.BLOCKED
    assert "MARKETPLACE_CANCEL_REASON_FACL" in present(present(context.events.get("facl", cancel.event_id)).reason)


# --- seller-delivered statuses ---------------------------------------------------------------------


def test_the_shipping_type_says_who_delivers() -> None:
    assert seller_delivers("Own Delivery", "shipping-type")
    assert not seller_delivers("Dropshipping", "shipping-type")
    assert seller_delivers("Dropshipping", "all-dropshipping")
    assert not seller_delivers("Fulfillment", "all-dropshipping")
    assert not seller_delivers("Own Delivery", "off")


def zort_status(context: FakeContext, order_id: str, status: str) -> None:
    body = {"method": "UPDATEORDER", "query": {}, "payload": zort_order(order_id, status)}
    assert settle(context, record(context, EventKind.ZORT, body, tenant="facl"), "facl") is EventStatus.COMPLETED
    for event in context.events.list(tenant="facl"):
        if event.kind is EventKind.SELLER_DELIVERY and event.status.pending:
            assert settle(context, event.event_id, "facl") is EventStatus.COMPLETED


def test_a_seller_delivered_order_reaches_delivered_in_the_marketplace_forward_only() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", seller_delivery="shipping-type")
    order_id = with_order(context, "facl", "ready_to_ship", shipping_type="Own Delivery")
    zort_status(context, order_id, "Shipping")
    zort_status(context, order_id, "Success")
    zort_status(context, order_id, "Shipping")  # late: never undoes delivered
    marketplace = context.marketplace("facl")
    sent = [argument[0] for name, argument in marketplace.calls if name == "set_seller_delivery_status"]
    assert sent == ["SetStatusToShipped", "SetStatusToDelivered"]
    assert marketplace.items[ORDER][0].status == "delivered"
    order, _ = present(context.orders.get("facl", order_id))
    assert order.items[0].status == "delivered"


def test_a_marketplace_delivered_order_is_never_touched() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", seller_delivery="shipping-type")
    order_id = with_order(context, "facl", "ready_to_ship")  # Dropshipping: the marketplace's carrier
    for status in ("Shipping", "Success", "Failed Shipment"):
        zort_status(context, order_id, status)
    assert "set_seller_delivery_status" not in [name for name, _ in context.marketplace("facl").calls]
    assert not [e for e in context.events.list(tenant="facl") if e.kind is EventKind.SELLER_DELIVERY]


# --- returns desk ------------------------------------------------------------------------------------


def test_a_return_waiting_for_approval_has_its_deadline_and_is_at_risk_from_48_hours() -> None:
    from shared.domain.times import rfc3339
    from shared.services.status_view import order_status_view

    context = fake_context("facl")
    order_id = with_order(context, "facl", "delivered")
    order, _ = present(context.orders.get("facl", order_id))
    order.items[0].status = "return_waiting_for_approval"
    order.items[0].status_changed_at = context.clock()
    rules = RiskRules(returns_desk=True)
    soon = context.clock() + timedelta(hours=47)
    assert not [r for r in order_risks(order, soon, rules) if r.kind is RiskKind.RETURN_DEADLINE]
    risk = [r for r in order_risks(order, soon + timedelta(hours=1), rules) if r.kind is RiskKind.RETURN_DEADLINE]
    assert risk and "America/Santiago" in risk[0].why
    body = order_status_view(order, returns_desk=True)
    (desk,) = body["returns"]
    assert desk["itemId"] == f"{ORDER}0"
    assert rfc3339(desk["deadline"]) == rfc3339(context.clock() + RETURN_WINDOW)
    assert desk["deadlineLocal"] == "2024-06-04 08:00 America/Santiago (UTC-04:00)"  # the tenant's zone, winter


def test_the_console_lists_undocumented_shipped_orders_and_returns_near_their_deadline_only_when_on() -> None:
    from shared.services.console import at_risk

    context = fake_context("facl")
    order_id = with_order(context, "facl", "shipped", "return_waiting_for_approval")
    order, etag = present(context.orders.get("facl", order_id))
    for item in order.items:
        item.status_changed_at = context.clock()
    context.orders.save(order, etag)
    assert {r.kind for r in at_risk(context, "facl").orders}.isdisjoint(
        {RiskKind.DOCUMENT_MISSING, RiskKind.RETURN_DEADLINE}
    )
    with_loop(context, "facl", documents=True, document_due_hours=6, returns_desk=True)
    context.clock.advance(49 * 3600)
    kinds = {r.kind for r in at_risk(context, "facl").orders if r.internal_order_id == order_id}
    assert kinds >= {RiskKind.DOCUMENT_MISSING, RiskKind.RETURN_DEADLINE}


def test_a_key_left_in_flight_by_a_503_is_taken_over_after_a_while_and_records_the_document_once() -> None:
    context = fake_context("facl")
    with_loop(context, "facl", documents=True)
    order_id = with_order(context, "facl", "ready_to_ship")
    # what a 503 leaves when its clean-up could not reach storage either: the key in flight
    context.idempotency.add(
        "facl", "inv-1", {"bodyHash": "h1", "status": None, "startedAt": context.clock().isoformat()}
    )
    with pytest.raises(Conflict):
        send_document(context, "facl", order_id)
    context.clock.advance(11)
    answer = send_document(context, "facl", order_id)
    assert answer.status == 202 and len(present(context.orders.get("facl", order_id))[0].documents) == 1
    assert send_document(context, "facl", order_id).body == answer.body


def test_the_alert_timer_opens_one_incident_per_tenant_for_undocumented_orders_and_returns_near_their_deadline() -> (
    None
):
    from shared.domain.alerts import Message
    from shared.services.alerts import run_alerts
    from tests.fakes import FakeAlerts

    context, alerts = fake_context("facl"), FakeAlerts()
    order_id = with_order(context, "facl", "shipped", "return_waiting_for_approval")
    found = context.orders.get("facl", order_id)
    assert found is not None
    order, etag = found
    for item in order.items:
        item.status_changed_at = context.clock()
    order.oms_synced = True
    context.orders.save(order, etag)
    context.clock.advance(49 * 3600)
    run_alerts(context, alerts)
    opened = {(n.rule, n.kind) for n in alerts.channel.notices if n.tenant == "facl"}
    assert not opened & {
        (RiskKind.DOCUMENT_MISSING, Message.OPENED),
        (RiskKind.RETURN_DEADLINE, Message.OPENED),
    }  # both flows off: neither rule runs

    with_loop(context, "facl", documents=True, document_due_hours=6, returns_desk=True)
    run_alerts(context, alerts)
    run_alerts(context, alerts)  # a second run sends nothing new: one incident per tenant and rule
    notices = [n for n in alerts.channel.notices if n.rule in (RiskKind.DOCUMENT_MISSING, RiskKind.RETURN_DEADLINE)]
    assert sorted((n.rule.value, n.kind.value) for n in notices) == [
        ("document-missing", "opened"),
        ("return-deadline", "opened"),
    ]
    by_rule = {n.rule: n for n in notices}
    assert by_rule[RiskKind.DOCUMENT_MISSING].sample == (order_id,)
    assert "no tax document" in by_rule[RiskKind.DOCUMENT_MISSING].why
    assert "accepted by itself at" in by_rule[RiskKind.RETURN_DEADLINE].why
    assert "Seller Center" in by_rule[RiskKind.RETURN_DEADLINE].what_to_do


def test_an_order_the_oms_canceled_is_canceled_in_the_marketplace_once_and_only_with_the_flow_on() -> None:
    from shared.domain.at_risk import seller_canceled
    from shared.ports import JsonObject
    from shared.services.marketplace_loop import check_oms_cancellations

    context = fake_context("facl")
    order_id = with_order(context, "facl", "pending", "shipped")
    oms = context.oms("facl")
    asked: list[str] = []

    def find_order(order_ref: str) -> JsonObject | None:  # the OMS's answer once a person canceled it there
        asked.append(order_ref)
        return {
            "orderRef": order_ref,
            "orderStatus": "CANCELLED",
            "cancelled": True,
            "cancelledAt": "2026-12-05T10:00Z",
        }

    oms.find_order = find_order  # type: ignore[method-assign]
    assert check_oms_cancellations(context, "facl") == [] and asked == []  # the flow is off: the OMS is not read

    with_loop(context, "facl", cancellations=True)
    (said,) = check_oms_cancellations(context, "facl")
    assert said.startswith(f"{order_id}: marketplace cancellation accepted") and asked == [order_id]
    again = check_oms_cancellations(context, "facl")  # read again at the next run: the same cancellation
    assert len(again) == 1 and "duplicate" in again[0]
    cancel = [e for e in context.events.list(tenant="facl") if e.kind is EventKind.MARKETPLACE_CANCEL]
    assert len(cancel) == 1 and settle(context, cancel[0].event_id, "facl") is EventStatus.COMPLETED
    marketplace = context.marketplace("facl")
    assert [i.status for i in marketplace.items[ORDER]] == ["canceled", "shipped"]  # the shipped item is left
    found = context.orders.get("facl", order_id)
    assert found is not None
    order = found[0]
    assert seller_canceled(order)  # the OMS is the seller's side
    assert any(e.what == "item status" and e.source == "oms" for e in order.timeline)
    asked.clear()
    assert check_oms_cancellations(context, "facl") == [] and asked == []  # nothing pending any more: not read
