"""Closing the order loop with the marketplace (issue 19): tax documents, cancellations after a ZORT
void, seller-delivered statuses. Each is a flow of its own: recorded as an event before it is
acknowledged (`tax-document`, `marketplace-cancel`, `seller-delivery`), applied from the queue
(idempotent, retried, replayable), noted on the order's timeline, and off per tenant unless its
setting is on (`shared.settings.LoopSettings`; a flow switched off later leaves its events `blocked`,
naming the setting). The rules are in `shared.domain.marketplace_loop`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from shared.domain.errors import Conflict, ExternalSystemError, NotConfigured, NotFound, RuleBroken
from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.ids import internal_order_id as make_internal_order_id
from shared.domain.ids import parse_internal_order_id
from shared.domain.marketplace_loop import (
    DocumentRefused,
    cancellable,
    check_document_type,
    check_pdf,
    delivery_target,
    item_documentable,
    moves_forward,
    oms_cancellation,
    operator_code,
    seller_delivers,
)
from shared.domain.order import Order, TaxDocument
from shared.domain.times import rfc3339
from shared.models.internal_events import MarketplaceCancelEvent, SellerDeliveryEvent, TaxDocumentEvent
from shared.ports import IdempotencyRecord, JsonObject
from shared.roles import MarketplaceLoopPorts, OmsCancellationPorts, RecordingPorts
from shared.services.claims import ensure_holding
from shared.services.intake import accept_event
from shared.services.order_changes import change_order
from shared.services.order_sync import refresh_order
from shared.settings import tenant_setting_name
from shared.tenants import TENANTS

log = logging.getLogger("thor.marketplace_loop")


def _setting(key: str, tenant: str) -> str:
    return tenant_setting_name("MARKETPLACE", key, tenant)


def _refused(error: DocumentRefused) -> RuleBroken:
    return RuleBroken(error.field, f"rule {error.rule}: {error.detail}")


# --- tax documents ------------------------------------------------------------------------------


@dataclass
class DocumentAnswer:
    status: int
    body: JsonObject


def document_id_for(tenant: str, idempotency_key: str) -> str:
    return "doc-" + hashlib.sha256(f"{tenant}\n{idempotency_key}".encode()).hexdigest()[:24]


def _document_body(order: Order, document: TaxDocument, event_id: str | None = None) -> JsonObject:
    body: JsonObject = {
        "documentId": document.document_id,
        "internalOrderId": order.internal_order_id,
        "type": document.type,
        "number": document.number,
        "date": document.date,
        "itemIds": document.item_ids,
        "size": document.size,
        "status": document.status,
        "recordedAt": rfc3339(document.recorded_at),
    }
    if event_id:
        body["eventId"] = event_id
    return body


ABANDONED_AFTER = timedelta(seconds=10)
"""A request in flight this long (over twice the storage bound of a request) has been abandoned."""


def _abandoned(started_at: object, now: datetime) -> bool:
    if not isinstance(started_at, str):
        return True  # recorded before requests said when they began
    try:
        return now - datetime.fromisoformat(started_at) >= ABANDONED_AFTER
    except ValueError:
        return True


def request_document(
    context: MarketplaceLoopPorts,
    tenant: str,
    internal_order_id: str,
    *,
    document_type: str,
    number: str,
    document_date: date,
    item_ids: list[str],
    pdf: bytes,
    body_hash: str,
    idempotency_key: str,
) -> DocumentAnswer:
    """Checks a tax document against what the marketplace takes, keeps its PDF once (document store),
    records it on the order and queues its upload: 202. A refused document is a RuleBroken naming its
    rule and is never stored nor sent."""
    parsed = parse_internal_order_id(internal_order_id)
    if parsed is None:
        raise NotFound("id", f"no order {internal_order_id!r}")
    internal_order_id = make_internal_order_id(*parsed)
    if parsed[0] != tenant:
        raise RuleBroken("tenant", f"order {internal_order_id!r} does not belong to tenant {tenant!r}")
    found = context.orders.get(tenant, internal_order_id)
    if found is None:
        raise NotFound("id", f"no order {internal_order_id!r}")
    loop = context.settings.loop(tenant)
    if not loop.documents:
        raise RuleBroken(
            "tenant", f"rule documents-off: tax documents are off for {tenant} ({_setting('DOCUMENTS', tenant)})"
        )
    if loop.invoiced_by_marketplace:
        raise RuleBroken(
            "tenant",
            f"rule invoiced-by-marketplace: the marketplace issues {tenant}'s invoices on the seller's behalf "
            f"({_setting('INVOICED_BY_MARKETPLACE', tenant)}); SetInvoicePDF does not take them",
        )
    try:
        check_document_type(tenant, document_type)
        check_pdf(pdf)
    except DocumentRefused as error:
        raise _refused(error) from None

    now = context.clock()
    started: IdempotencyRecord = {"bodyHash": body_hash, "status": None, "startedAt": now.isoformat()}
    if not context.idempotency.add(tenant, idempotency_key, started):
        remembered = context.idempotency.get(tenant, idempotency_key) or {}
        if remembered.get("bodyHash") != body_hash:
            raise RuleBroken("Idempotency-Key", "this key was already used with a different body")
        status = remembered.get("status")
        if status is not None:
            return DocumentAnswer(status, remembered["body"])
        if not _abandoned(remembered.get("startedAt"), now):
            raise Conflict("Idempotency-Key", "a request with this key is still being processed")
        # A 503 whose clean-up could not reach storage either: taken over (the document id is the key's,
        # so running it again records and queues the same document once).
        context.idempotency.replace(tenant, idempotency_key, started)
    try:
        answer = _record_document(
            context, found[0], document_type, number, document_date, item_ids, pdf, idempotency_key
        )
    except BaseException:
        context.idempotency.delete(tenant, idempotency_key)  # the caller's retry runs again
        raise
    context.idempotency.replace(
        tenant, idempotency_key, {"bodyHash": body_hash, "status": answer.status, "body": answer.body}
    )
    return answer


def _record_document(
    context: MarketplaceLoopPorts,
    order: Order,
    document_type: str,
    number: str,
    document_date: date,
    item_ids: list[str],
    pdf: bytes,
    idempotency_key: str,
) -> DocumentAnswer:
    tenant, internal_order_id = order.tenant, order.internal_order_id
    items = order.items_by_id()
    unknown = [i for i in item_ids if i not in items]
    if unknown:
        raise RuleBroken("itemIds", f"item(s) {', '.join(unknown)} are not items of order {internal_order_id}")
    not_ready = [i for i in item_ids if not item_documentable(items[i].status)]
    if not_ready:
        states = ", ".join(f"{i} ({items[i].status})" for i in not_ready)
        raise RuleBroken(
            "itemIds",
            f"rule items-not-ready-to-ship: SetInvoicePDF takes items that went through ready to ship or "
            f"shipment confirmed; not {states}",
        )
    document_id = document_id_for(tenant, idempotency_key)
    blob = f"{tenant}/{internal_order_id}/{document_id}.pdf"
    context.document_store.put(blob, pdf)  # before the document is acknowledged; overwriting is harmless
    document = TaxDocument(
        document_id=document_id,
        type=document_type,
        number=number,
        date=document_date.isoformat(),
        item_ids=item_ids,
        blob=blob,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        recorded_at=context.clock(),
    )

    def add(order: Order) -> TaxDocument:
        existing = order.document(document_id)
        if existing:
            return existing
        order.documents.append(document)
        order.note(
            "tax document",
            f"{document.type} {document.number} recorded for item(s) {', '.join(item_ids)} ({document_id})",
            source="invoicing",
        )
        return document

    order, recorded = change_order(context.orders, tenant, internal_order_id, add, sleep=context.sleep)
    acceptance = accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=TaxDocumentEvent(internalOrderId=internal_order_id, documentId=document_id),
        internal_order_id=internal_order_id,
        clock=context.clock,
    )
    return DocumentAnswer(202, _document_body(order, recorded, acceptance.event_id))


def handle_tax_document(context: MarketplaceLoopPorts, event: InboundEvent, message: TaxDocumentEvent) -> Outcome:
    """Uploads a recorded tax document (SetInvoicePDF) once: an uploaded document is not sent again,
    and a retry after a marketplace 5xx sends the same document (same items, number and PDF), which
    the marketplace takes as the same document (unconfirmed; the sandbox answers a repeat as a success)."""
    tenant, order_id = event.tenant, message.internalOrderId
    if not context.settings.loop(tenant).documents:
        raise NotConfigured("marketplace documents", tenant, [_setting("DOCUMENTS", tenant)])
    found = context.orders.get(tenant, order_id)
    document = found[0].document(message.documentId) if found else None
    if found is None or document is None:
        return Outcome(EventStatus.FAILED, f"no document {message.documentId} on order {order_id}", order_id)
    if document.status == "uploaded":
        return Outcome(EventStatus.COMPLETED, f"document {document.document_id} already uploaded", order_id)
    code = operator_code(tenant)
    if code is None:  # refused at intake; kept here for a replay after a change of rules
        return Outcome(EventStatus.FAILED, f"no operatorCode for {tenant}", order_id)
    pdf = context.document_store.get(document.blob)
    marketplace = context.marketplace(tenant)
    ensure_holding(context)  # a worker whose claim was taken over writes nothing to the marketplace
    answer = marketplace.set_invoice_pdf(document.item_ids, document.number, document.date, document.type, code, pdf)
    del pdf

    def uploaded(order: Order) -> None:
        stored = order.document(document.document_id)
        if stored is None or stored.status == "uploaded":
            return
        stored.status = "uploaded"
        stored.uploaded_at = context.clock()
        stored.outcome = "accepted by the marketplace"
        order.note(
            "tax document uploaded",
            f"{stored.type} {stored.number} for item(s) {', '.join(stored.item_ids)} (SetInvoicePDF)",
            event.event_id,
            "marketplace",
        )

    change_order(context.orders, tenant, order_id, uploaded, sleep=context.sleep)
    said = ", ".join(f"{k}={v}" for k, v in sorted(answer.items()) if isinstance(v, (str, int)))[:200]
    return Outcome(
        EventStatus.COMPLETED, f"document {document.document_id} uploaded{'; ' + said if said else ''}", order_id
    )


def document_failed(context: MarketplaceLoopPorts, event: InboundEvent, reason: str) -> None:
    """Notes a document whose upload failed for good on its order (the status endpoint shows it)."""
    body = event.body if isinstance(event.body, dict) else {}
    order_id, document_id = body.get("internalOrderId"), body.get("documentId")
    if not order_id or not document_id:
        return

    def failed(order: Order) -> None:
        stored = order.document(str(document_id))
        if stored is None or stored.status != "recorded":
            return
        stored.status, stored.outcome = "failed", reason[:300]
        order.note("tax document failed", f"{stored.type} {stored.number}: {reason[:200]}", event.event_id, "thor")

    change_order(context.orders, event.tenant, str(order_id), failed, sleep=context.sleep)


# --- cancellations ---------------------------------------------------------------------------


def record_cancellation(context: RecordingPorts, order: Order, event: InboundEvent, source: str) -> str:
    """After ZORT voided `order`: records the marketplace cancellation (its own event), when the tenant
    has the flow on. Returns what was done, for the ZORT event's outcome."""
    return _record_cancel(context, order, event.event_id, source)


def _record_cancel(context: RecordingPorts, order: Order, seen: str, source: str) -> str:
    if not context.settings.loop(order.tenant).cancellations:
        return f"marketplace cancellation off ({_setting('CANCELLATIONS', order.tenant)})"
    acceptance = accept_event(
        context.events,
        context.queue,
        tenant=order.tenant,
        message=MarketplaceCancelEvent(internalOrderId=order.internal_order_id, source=source, seen=seen),
        internal_order_id=order.internal_order_id,
        clock=context.clock,
    )
    return f"marketplace cancellation {acceptance.status} ({acceptance.event_id})"


OMS_SOURCE = "OMS"
OMS_CHECK_LIMIT = 200
"""Orders still pending in the marketplace whose OMS state one run reads, per tenant (one GET each)."""
ANY_TIME = datetime(9999, 12, 31, tzinfo=timezone.utc)
"""Every pending order, whenever created (the query takes a bound)."""


def check_oms_cancellations(context: OmsCancellationPorts, tenant: str, limit: int = OMS_CHECK_LIMIT) -> list[str]:
    """The OMS sends no webhook, but its order shows a cancellation (``cancelled``, ``orderStatus``
    CANCELLED): for a tenant with marketplace cancellations on and the OMS configured, reads the OMS
    order of each order Thor sent there that still has items pending in the marketplace (at most
    `limit`, one GET each) and records the marketplace cancellation of those the OMS canceled (one per
    OMS cancellation: the event's identity is the order and its ``cancelledAt``). Returns what it recorded."""
    if not context.settings.loop(tenant).cancellations:
        return []
    try:
        oms = context.oms(tenant)
    except NotConfigured:
        return []
    recorded = []
    for order in context.orders.pending_before(tenant, ANY_TIME, limit):
        if not order.oms_synced:
            continue
        seen = oms_cancellation(oms.find_order(order.internal_order_id))
        if seen is None:
            continue
        said = _record_cancel(context, order, f"oms:{seen}", f"{OMS_SOURCE} order CANCELLED")
        log.info("%s: canceled in the OMS (%s): %s", order.internal_order_id, seen, said)
        recorded.append(f"{order.internal_order_id}: {said}")
    return recorded


def check_oms_cancellations_all(context: OmsCancellationPorts) -> dict[str, list[str]]:
    """check_oms_cancellations for every tenant (the reconciliation timer); a tenant whose OMS fails is
    logged and left for the next run."""
    found: dict[str, list[str]] = {}
    for tenant in TENANTS:
        try:
            recorded = check_oms_cancellations(context, tenant)
        except ExternalSystemError as error:
            log.warning("OMS cancellations of %s not read: %s", tenant, error)
            continue
        if recorded:
            found[tenant] = recorded
    return found


def _reason(context: MarketplaceLoopPorts, tenant: str, wanted: str) -> str:
    """The tenant's reason name as GetFailureReasons spells it (a `canceled` reason), else a RuleBroken."""
    reasons = context.marketplace(tenant).get_failure_reasons()
    names = [name for kind, name in reasons if kind.lower() in ("canceled", "cancelled", "cancel")] or [
        name for _, name in reasons
    ]
    match = next((name for name in names if name.strip().lower() == wanted.strip().lower()), None)
    if match is None:
        raise NotConfigured(
            f"a cancellation reason GetFailureReasons lists (one of: {', '.join(names) or 'none'})",
            tenant,
            [_setting("CANCEL_REASON", tenant)],
        )
    return match


def handle_cancel(context: MarketplaceLoopPorts, event: InboundEvent, message: MarketplaceCancelEvent) -> Outcome:
    """Cancels in the marketplace the order's items that are still pending there (SetStatusToCanceled
    takes only pending items, never Fulfillment ones); an item already ready to ship, shipped or further
    is left as it is and said so. Idempotent: items canceled already are not sent again."""
    tenant, order_id = event.tenant, message.internalOrderId
    loop = context.settings.loop(tenant)
    if not loop.cancellations:
        raise NotConfigured("marketplace cancellations", tenant, [_setting("CANCELLATIONS", tenant)])
    found = context.orders.get(tenant, order_id)
    if found is None:
        return Outcome(EventStatus.FAILED, f"no order {order_id}", order_id)
    order = found[0]
    marketplace = context.marketplace(tenant)
    rows = marketplace.get_order_items(order.marketplace_order_id)
    to_cancel = [
        row.item_id
        for row in rows
        if cancellable(row.status) and (row.shipping_type or "").strip().lower() != "fulfillment"
    ]
    kept = [f"{row.item_id} ({row.status})" for row in rows if row.item_id not in to_cancel]
    reason = _reason(context, tenant, loop.cancel_reason) if to_cancel else loop.cancel_reason
    if to_cancel:
        ensure_holding(context)
    by_oms = message.source.startswith(OMS_SOURCE)
    detail = f"canceled in the OMS ({message.source})" if by_oms else f"voided in ZORT ({message.source})"
    for item_id in to_cancel:
        marketplace.set_status_to_canceled(item_id, reason, detail)

    def note(order: Order) -> None:
        # ZORT voided it (or the OMS canceled it): the items move to canceled on the seller's side (source
        # `zort` / `oms`), which the console's seller-caused cancellation rate counts
        # (shared.domain.at_risk.seller_canceled).
        side = "oms" if by_oms else "zort"
        order.apply_item_status([i for i in to_cancel if i in order.items_by_id()], "canceled", event.event_id, side)
        for item_id in to_cancel:
            if item_id not in order.marketplace_cancellations:
                order.marketplace_cancellations[item_id] = reason
                order.note("canceled in marketplace", f"{item_id}: {reason} (SetStatusToCanceled)", event.event_id)
        if kept and not any(e.event_id == event.event_id and e.what == "not canceled" for e in order.timeline):
            order.note("not canceled", f"{', '.join(kept)}: no longer cancellable in the marketplace", event.event_id)

    change_order(context.orders, tenant, order_id, note, sleep=context.sleep)
    if to_cancel:
        refresh_order(context, tenant, order.marketplace_order_id, event)
    detail = f"{len(to_cancel)} item(s) canceled in the marketplace ({reason})"
    if kept:
        detail += f"; left: {', '.join(kept)}"
    return Outcome(EventStatus.COMPLETED, detail, order_id)


# --- seller-delivered statuses -------------------------------------------------------------------


def record_delivery_status(context: RecordingPorts, order: Order, zort_status: str | None) -> str | None:
    """After ZORT's order status changed: records the seller-delivered status for the marketplace (its
    own event), when the tenant has the flow on and ZORT's status is one the marketplace hears of."""
    target = delivery_target(zort_status)
    mode = context.settings.loop(order.tenant).seller_delivery
    if target is None or mode == "off":
        return None
    known = [item.shipping_type for item in order.items if item.shipping_type]
    if known and not any(seller_delivers(shipping_type, mode) for shipping_type in known):
        return "marketplace delivers this order: its status is not sent"  # (no ShippingType kept: re-read)
    acceptance = accept_event(
        context.events,
        context.queue,
        tenant=order.tenant,
        message=SellerDeliveryEvent(
            internalOrderId=order.internal_order_id, status=target[0], zortStatus=zort_status or ""
        ),
        internal_order_id=order.internal_order_id,
        clock=context.clock,
    )
    return f"seller-delivered status {target[0]} {acceptance.status} ({acceptance.event_id})"


def handle_delivery_status(context: MarketplaceLoopPorts, event: InboundEvent, message: SellerDeliveryEvent) -> Outcome:
    """Sends a seller-delivered order's state (SetStatusToShipped / ToDelivered / ToFailedDelivery, the
    last with the tenant's reason from GetFailureReasons) for the items the seller delivers, forward only,
    as the marketplace has them now (re-read first); never for items the marketplace delivers."""
    tenant, order_id = event.tenant, message.internalOrderId
    mode = context.settings.loop(tenant).seller_delivery
    if mode == "off":
        raise NotConfigured("marketplace seller delivery", tenant, [_setting("SELLER_DELIVERY", tenant)])
    target = next((t for t in _targets() if t[0] == message.status), None)
    found = context.orders.get(tenant, order_id)
    if found is None or target is None:
        return Outcome(EventStatus.FAILED, f"no order {order_id} or unknown status {message.status}", order_id)
    order = found[0]
    marketplace = context.marketplace(tenant)
    rows = marketplace.get_order_items(order.marketplace_order_id)
    send = [
        row.item_id for row in rows if seller_delivers(row.shipping_type, mode) and moves_forward(row.status, target[0])
    ]
    if not send:
        return Outcome(
            EventStatus.COMPLETED, f"{target[1]}: no item to move (marketplace-delivered or not forward)", order_id
        )
    reason = None
    if target[0] == "failed_delivery":
        reason = _reason(context, tenant, context.settings.loop(tenant).cancel_reason)
    ensure_holding(context)
    marketplace.set_seller_delivery_status(target[1], send, reason)
    refresh_order(context, tenant, order.marketplace_order_id, event)

    def note(order: Order) -> None:
        if not any(e.event_id == event.event_id and e.what == "marketplace status" for e in order.timeline):
            order.note("marketplace status", f"{target[1]} for {', '.join(send)}", event.event_id, "marketplace")

    change_order(context.orders, tenant, order_id, note, sleep=context.sleep)
    return Outcome(EventStatus.COMPLETED, f"{target[1]} for {len(send)} item(s)", order_id)


def _targets() -> list[tuple[str, str]]:
    from shared.domain.marketplace_loop import SELLER_DELIVERY_ACTIONS

    return list(SELLER_DELIVERY_ACTIONS.values())
