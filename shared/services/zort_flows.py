"""ZORT events: apply what concerns Thor (tracking, order status, payment, stock, products).

A ZORT order is matched to a Thor order by the payload's `reference`, then its `number` (or the
query's `number` for UPDATEORDERTRACKING / UPDATEORDERPAYMENT), each compared with Thor's internal
order id, the marketplace order id and the marketplace order number (as spelled, then with the
marketplace id in its canonical spelling: `faco-03272813` finds `faco-3272813`). An event that names an
order Thor does not know (yet: its creation may be waiting on a claim or a retry) is looked at again
with growing delays (30 s, doubling with its age, at most 10 min) for `THOR_ZORT_MATCH_WINDOW`
seconds after it was received (default 30 min), then kept as `unmatched`, listed and replayable,
never dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timezone
from typing import Any

from shared.domain.errors import NoMatchYet
from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.ids import reference_spellings
from shared.domain.order import Order, Tracking
from shared.domain.product import Product
from shared.roles import HasOrders, HasProducts, ZortFlowsPorts
from shared.services import marketplace_loop
from shared.services.claims import ensure_holding, order_claim
from shared.services.order_changes import change_order
from shared.services.order_sync import refresh_order, sync_to_oms
from shared.services.price_sync import mark_from_zort_call as mark_prices_from_zort_call
from shared.services.stock_sync import mark_from_zort_call
from shared.zort import webhooks as zort

log = logging.getLogger("thor.zort_flows")

ZortHandler = Callable[[ZortFlowsPorts, InboundEvent, str, Any, zort.ZortQuery], Outcome]
"""Applies one ZORT method's event: (context, event, method, payload typed by the method's model, query)."""


def _as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=timezone.utc)


def _match(context: HasOrders, tenant: str, candidates: list[str | None]) -> tuple[Order, str] | None:
    """The first order a candidate names, as spelled or in its canonical spelling (`03272813`)."""
    for candidate in candidates:
        for spelling in reference_spellings(tenant, candidate):
            found = context.orders.find_by_reference(tenant, spelling)
            if found:
                return found
    return None


def handle_zort(context: ZortFlowsPorts, event: InboundEvent, call: zort.ZortCall) -> Outcome:
    method = call.method
    if not call.applicable:  # recorded as sent (a call without method, v4's contact events…)
        return Outcome(
            EventStatus.COMPLETED, f"{method or 'a call without method'}: recorded as sent; nothing for Thor to apply"
        )
    query = call.typed_query()
    payload = call.event()  # the method's model (zort.METHODS), the one its handler takes
    stock = mark_from_zort_call(context, event.tenant, call)  # before applying: a failure below retries both
    price = mark_prices_from_zort_call(context, event.tenant, call)
    outcome = _apply(context, event, method, payload, query)
    for marked in (stock, price):
        if marked:
            outcome = Outcome(outcome.status, f"{outcome.detail}; {marked}", outcome.internal_order_id)
    return outcome


def _apply(
    context: ZortFlowsPorts, event: InboundEvent, method: str, payload: object, query: zort.ZortQuery
) -> Outcome:
    return HANDLERS[method](context, event, method, payload, query)


def _nothing_to_apply(
    context: object, event: InboundEvent, method: str, payload: object, query: zort.ZortQuery
) -> Outcome:
    return Outcome(EventStatus.COMPLETED, f"{method}: recorded; nothing for Thor to apply")


def _apply_order_deleted(
    context: ZortFlowsPorts, event: InboundEvent, method: str, payload: zort.OrderRef, query: zort.ZortQuery
) -> Outcome:
    return _note_on_order(
        context, event, method, [payload.number, str(payload.id)], "deleted in ZORT", f"ZORT order {payload.number}"
    )


def _link_return(
    context: ZortFlowsPorts, event: InboundEvent, method: str, payload: zort.ReturnOrder, query: zort.ZortQuery
) -> Outcome:
    """A return order in ZORT, linked to the order it returns: matched by its `reference` (as ZORT's
    example shows, the returned order's number, or whatever id the seller typed), then `referenceid`
    (ZORT's id of the returned order, which Thor keeps as the order's `zort_order_id`). Its number and
    status are kept on the order (`zort_returns`), each change on the timeline."""
    candidates = [payload.reference, str(payload.referenceid) if payload.referenceid is not None else None]
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(context, event, method, candidates)
    status = " ".join((payload.status or "no status").split())

    def apply(order: Order) -> None:
        if order.zort_returns.get(payload.number) != status:
            order.zort_returns[payload.number] = status
            order.note("return in ZORT", f"{payload.number} ({status})", event.event_id, "zort")

    order, _ = change_order(
        context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep, known=found
    )
    return Outcome(
        EventStatus.COMPLETED, f"return in ZORT: {payload.number} ({status}) linked", order.internal_order_id
    )


def _apply_product(
    context: HasProducts, event: InboundEvent, method: str, payload: zort.ProductRef, query: zort.ZortQuery
) -> Outcome:
    product = Product(tenant=event.tenant, sku=payload.sku, zort_id=payload.id, source="zort")
    if method == "UPDATEPRODUCTQUANTITY" and isinstance(payload, zort.ProductQuantity):
        product.zort_stock, product.zort_available_stock = payload.stock, payload.availablestock
    elif method == "DELETEPRODUCT":
        product.zort_deleted = True
    elif isinstance(payload, zort.Product):  # ADDPRODUCT, UPDATEPRODUCT
        product.name, product.zort_deleted = payload.name, False
    context.products.merge(product)
    return Outcome(EventStatus.COMPLETED, f"product {payload.sku} updated from ZORT ({method})")


def _unmatched(context: ZortFlowsPorts, event: InboundEvent, method: str, candidates: Sequence[str | None]) -> Outcome:
    """`unmatched` once the event's match window has passed; before, NoMatchYet (looked at again)."""
    named = ", ".join(str(c) for c in candidates if c) or "nothing"
    detail = f"{method}: no Thor order matches {named}"
    window = context.settings.zort_match_window
    age = (context.clock() - event.received_at).total_seconds()
    if age < window:
        raise NoMatchYet(detail, retry_in=max(1, math.ceil(min(max(age, 30.0), 600.0, window - age))))
    return Outcome(EventStatus.UNMATCHED, detail)


def _apply_order(
    context: ZortFlowsPorts, event: InboundEvent, method: str, payload: zort.Order, query: zort.ZortQuery
) -> Outcome:
    candidates = [payload.reference, payload.number, query.number]
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(context, event, method, candidates)
    payment = query.paymentstatus if method == "UPDATEORDERPAYMENT" and query.paymentstatus else payload.paymentstatus

    def apply(order: Order) -> None:
        order.zort_order_id = order.zort_order_id or str(payload.id)
        if payload.status and payload.status.strip():  # numeric or unknown codes never fail the event
            status, said = zort.describe_order_status(payload.status)
            if status != order.zort_status:
                order.zort_status = status
                order.note("order status", f"ZORT: {said}", event.event_id, "zort")
        if payment and payment.strip():
            status, said = zort.describe_payment_status(payment)
            order.set_payment_status(status, event.event_id, detail=said)
        if payload.trackingno and payload.trackingno.strip():
            order.set_tracking(
                Tracking(
                    number=payload.trackingno.strip(),
                    carrier=payload.shippingchannel,
                    shipped_at=_as_datetime(payload.shippingdate),
                ),
                event.event_id,
            )

    with order_claim(context, event.tenant, found[0].internal_order_id):  # the OMS call's, taken before the write
        order, _ = change_order(
            context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep, known=found
        )
        detail = f"{method} applied"
        # What ZORT says now, changed or not: a retry after a crash between the order's save and the
        # recording below records it then (each recording is idempotent: its identity).
        status = payload.status
        said_status = zort.describe_order_status(status)[0] if status and status.strip() else None
        for loop_detail in _order_loop(context, order, event, method, [said_status] if said_status else []):
            detail += f"; {loop_detail}"
        return _synced(context, order, event, detail)


def _order_loop(
    context: ZortFlowsPorts, order: Order, event: InboundEvent, method: str, statuses: list[str]
) -> list[str]:
    """What ZORT's order status asks of the marketplace (issue 19), each recorded as its own event:
    a void cancels the still-cancellable items; shipping / delivered / failed shipment of an order
    the seller delivers becomes its marketplace status. The same status sent again changes nothing
    (the recorded events' identities, and their handlers send only what moves an item forward)."""
    said: list[str] = []
    for status in statuses:
        if status == "Voided":
            said.append(marketplace_loop.record_cancellation(context, order, event, f"{method} {status}"))
        else:
            recorded = marketplace_loop.record_delivery_status(context, order, status)
            if recorded:
                said.append(recorded)
    return said


def _apply_tracking(
    context: ZortFlowsPorts, event: InboundEvent, method: str, payload: zort.OrderTrackingList, query: zort.ZortQuery
) -> Outcome:
    candidates = [query.number, str(query.id) if query.id else None]
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(context, event, "UPDATEORDERTRACKING", candidates)
    latest = payload.latest()
    if latest is None:
        return Outcome(EventStatus.COMPLETED, "no tracking number in the event", found[0].internal_order_id)
    tracking = Tracking(
        number=(latest.trackingno or "").strip(),
        url=latest.trackingurl or None,
        shipped_at=_as_datetime(latest.shippingdate),
    )

    def apply(order: Order) -> None:
        order.zort_order_id = order.zort_order_id or (str(query.id) if query.id else None)
        order.set_tracking(tracking, event.event_id)

    with order_claim(context, event.tenant, found[0].internal_order_id):  # the OMS call's, taken before the write
        order, _ = change_order(
            context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep, known=found
        )
        detail = f"tracking {tracking.number}"
        if context.ready_to_ship(event.tenant):
            detail += "; " + _ready_to_ship(context, order, tracking, event)
        return _synced(context, order, event, detail)


def _ready_to_ship(context: ZortFlowsPorts, order: Order, tracking: Tracking, event: InboundEvent) -> str:
    """Sets the pending items ready to ship the way the marketplace documents it now: each item's
    PackageId from GetOrderItems, then SetStatusToReadyToShip per package (``OrderItemIds``,
    ``PackageId``). Only items GetOrderItems lists without a PackageId are packed first with
    SetStatusToPackedByMarketplace ("Deprecated Endpoint. Still operational", v600), and that is
    logged. ZORT's tracking number stays Thor's: the marketplace assigns the carrier and tracking."""
    marketplace = context.marketplace(order.tenant)
    ours = {item.item_id for item in order.items if item.status == "pending"}
    rows = marketplace.get_order_items(order.marketplace_order_id)
    pending = [row for row in rows if row.item_id in ours and row.status == "pending"]
    if not pending:
        return "no pending items to mark ready to ship"
    ensure_holding(context)  # a worker whose claim was taken over writes nothing to the marketplace
    by_package: dict[str, list[str]] = {}
    for row in pending:
        if row.package_id:
            by_package.setdefault(row.package_id, []).append(row.item_id)
    unpackaged = [row.item_id for row in pending if not row.package_id]
    if unpackaged:
        log.warning(
            "order %s: item(s) %s have no PackageId in GetOrderItems: packing them with the deprecated "
            "SetStatusToPackedByMarketplace",
            order.internal_order_id,
            ", ".join(unpackaged),
        )
        for item_id, package_id in marketplace.set_status_to_packed_by_marketplace(unpackaged).items():
            by_package.setdefault(package_id, []).append(item_id)
    for package_id, item_ids in by_package.items():
        marketplace.set_status_to_ready_to_ship(item_ids, package_id)
    refresh_order(context, order.tenant, order.marketplace_order_id, event)
    packed = f"; {len(unpackaged)} packed first (deprecated call: no PackageId)" if unpackaged else ""
    return f"{len(pending)} item(s) set ready to ship (package {', '.join(by_package)}){packed}"


def _note_on_order(
    context: ZortFlowsPorts, event: InboundEvent, method: str, candidates: list[str | None], what: str, detail: str
) -> Outcome:
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(context, event, method, candidates)

    def apply(order: Order) -> None:
        if not any(entry.event_id == event.event_id for entry in order.timeline):
            order.note(what, detail, event.event_id, "zort")

    order, _ = change_order(
        context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep, known=found
    )
    return Outcome(EventStatus.COMPLETED, f"{what}: {detail}", order.internal_order_id)


def _synced(context: ZortFlowsPorts, order: Order, event: InboundEvent, detail: str) -> Outcome:
    detail += "; " + sync_to_oms(context, order, event.event_id)
    return Outcome(EventStatus.COMPLETED, detail, order.internal_order_id)


# The handler of each method of ZORT's method table (shared.zort.methods.METHODS), keyed by its name:
# the vocabulary lives in shared.zort, its handlers here (tests/unit/test_zort_methods.py checks
# every method has one).
HANDLERS: dict[str, ZortHandler] = {
    "ADDPRODUCT": _apply_product,
    "UPDATEPRODUCT": _apply_product,
    "UPDATEPRODUCTQUANTITY": _apply_product,
    "DELETEPRODUCT": _apply_product,
    "ADDORDER": _apply_order,
    "UPDATEORDER": _apply_order,
    "UPDATEORDERPAYMENT": _apply_order,
    "UPDATEORDERTRACKING": _apply_tracking,
    "DELETEORDER": _apply_order_deleted,
    "ADDPURCHASEORDER": _nothing_to_apply,
    "UPDATEPURCHASEORDER": _nothing_to_apply,
    "UPDATEPURCHASEORDERPAYMENT": _nothing_to_apply,
    "DELETEPURCHASEORDER": _nothing_to_apply,
    "ADDRETURNORDER": _link_return,
    "UPDATERETURNORDER": _link_return,
    "UPDATERETURNORDERPAYMENT": _link_return,
    "DELETERETURNORDER": _nothing_to_apply,
    "ADDRETURNPURCHASEORDER": _nothing_to_apply,
    "UPDATERETURNPURCHASEORDER": _nothing_to_apply,
    "UPDATERETURNPURCHASEORDERPAYMENT": _nothing_to_apply,
    "DELETERETURNPURCHASEORDER": _nothing_to_apply,
    "ADDTRANSFER": _nothing_to_apply,
    "UPDATETRANSFER": _nothing_to_apply,
}
