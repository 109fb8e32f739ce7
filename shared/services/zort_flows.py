"""ZORT events: apply what concerns Thor (tracking, order status, payment, stock, products).

A ZORT order is matched to a Thor order by the payload's `reference`, then its `number` (or the
query's `number` for UPDATEORDERTRACKING / UPDATEORDERPAYMENT), each compared with Thor's internal
order id, the marketplace order id and the marketplace order number (as spelled, then with the
marketplace id in its canonical spelling: `faco-03272813` finds `faco-3272813`). Events that name an order
Thor does not know are kept as `unmatched`, listed and replayable, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timezone

from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.ids import reference_spellings
from shared.domain.order import Order, Tracking
from shared.domain.product import Product
from shared.ports import ServiceContext
from shared.services.order_changes import change_order
from shared.services.order_sync import checked_rows, refresh_order, sync_to_oms
from shared.services.price_sync import mark_from_zort_call as mark_prices_from_zort_call
from shared.services.stock_sync import mark_from_zort_call
from shared.zort import webhooks as zort

log = logging.getLogger("thor.zort_flows")

ORDER_EVENTS = {"ADDORDER", "UPDATEORDER", "UPDATEORDERPAYMENT"}
RETURN_EVENTS = {"ADDRETURNORDER", "UPDATERETURNORDER", "UPDATERETURNORDERPAYMENT"}
PRODUCT_EVENTS = {"ADDPRODUCT", "UPDATEPRODUCT", "UPDATEPRODUCTQUANTITY", "DELETEPRODUCT"}


def _as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=timezone.utc)


def _match(context: ServiceContext, tenant: str, candidates: list[str | None]) -> tuple[Order, str] | None:
    """The first order a candidate names, as spelled or in its canonical spelling (`03272813`)."""
    for candidate in candidates:
        for spelling in reference_spellings(tenant, candidate):
            found = context.orders.find_by_reference(tenant, spelling)
            if found:
                return found
    return None


def handle_zort(context: ServiceContext, event: InboundEvent, call: zort.ZortCall) -> Outcome:
    method = call.method
    if not call.applicable:  # recorded as sent (a call without method, v4's contact events…)
        return Outcome(
            EventStatus.COMPLETED, f"{method or 'a call without method'}: recorded as sent; nothing for Thor to apply"
        )
    query = call.typed_query()
    payload = call.event()  # the method's model (zort.EVENT_MODELS): each isinstance below holds for its methods
    stock = mark_from_zort_call(context, event.tenant, call)  # before applying: a failure below retries both
    price = mark_prices_from_zort_call(context, event.tenant, call)
    outcome = _apply(context, event, method, payload, query)
    for marked in (stock, price):
        if marked:
            outcome = Outcome(outcome.status, f"{outcome.detail}; {marked}", outcome.internal_order_id)
    return outcome


def _apply(
    context: ServiceContext, event: InboundEvent, method: str | None, payload: object, query: zort.ZortQuery
) -> Outcome:
    if method in PRODUCT_EVENTS and isinstance(payload, zort.ProductRef):
        return _apply_product(context, event.tenant, method, payload)
    if method in ORDER_EVENTS and isinstance(payload, zort.Order):
        return _apply_order(context, event, method, payload, query)
    if method == "UPDATEORDERTRACKING" and isinstance(payload, zort.OrderTrackingList):
        return _apply_tracking(context, event, payload, query)
    if method == "DELETEORDER" and isinstance(payload, zort.OrderRef):
        return _note_on_order(
            context, event, method, [payload.number, str(payload.id)], "deleted in ZORT", f"ZORT order {payload.number}"
        )
    if method in RETURN_EVENTS and isinstance(payload, zort.ReturnOrder):
        return _note_on_order(
            context,
            event,
            method,
            [payload.reference],
            "return in ZORT",
            f"{payload.number} ({payload.status or 'no status'})",
        )
    return Outcome(EventStatus.COMPLETED, f"{method}: recorded; nothing for Thor to apply")


def _apply_product(context: ServiceContext, tenant: str, method: str, payload: zort.ProductRef) -> Outcome:
    product = Product(tenant=tenant, sku=payload.sku, zort_id=payload.id, source="zort")
    if method == "UPDATEPRODUCTQUANTITY" and isinstance(payload, zort.ProductQuantity):
        product.zort_stock, product.zort_available_stock = payload.stock, payload.availablestock
    elif method == "DELETEPRODUCT":
        product.zort_deleted = True
    elif isinstance(payload, zort.Product):  # ADDPRODUCT, UPDATEPRODUCT
        product.name, product.zort_deleted = payload.name, False
    context.products.merge(product)
    return Outcome(EventStatus.COMPLETED, f"product {payload.sku} updated from ZORT ({method})")


def _unmatched(method: str, candidates: Sequence[str | None]) -> Outcome:
    named = ", ".join(str(c) for c in candidates if c) or "nothing"
    return Outcome(EventStatus.UNMATCHED, f"{method}: no Thor order matches {named}")


def _apply_order(
    context: ServiceContext, event: InboundEvent, method: str, payload: zort.Order, query: zort.ZortQuery
) -> Outcome:
    candidates = [payload.reference, payload.number, query.number]
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(method, candidates)
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

    order, _ = change_order(context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep)
    return _synced(context, order, event, f"{method} applied")


def _apply_tracking(
    context: ServiceContext, event: InboundEvent, payload: zort.OrderTrackingList, query: zort.ZortQuery
) -> Outcome:
    candidates = [query.number, str(query.id) if query.id else None]
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched("UPDATEORDERTRACKING", candidates)
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

    order, _ = change_order(context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep)
    detail = f"tracking {tracking.number}"
    if context.ready_to_ship(event.tenant):
        detail += "; " + _ready_to_ship(context, order, tracking, event)
    return _synced(context, order, event, detail)


def _ready_to_ship(context: ServiceContext, order: Order, tracking: Tracking, event: InboundEvent) -> str:
    """Sets the pending items ready to ship the way the marketplace documents it now: each item's
    PackageId from GetOrderItems, then SetStatusToReadyToShip per package (``OrderItemIds``,
    ``PackageId``). Only items GetOrderItems lists without a PackageId are packed first with
    SetStatusToPackedByMarketplace ("Deprecated Endpoint. Still operational", v600), and that is
    logged. ZORT's tracking number stays Thor's: the marketplace assigns the carrier and tracking."""
    marketplace = context.marketplace(order.tenant)
    ours = {item.item_id for item in order.items if item.status == "pending"}
    rows = checked_rows(order.marketplace_order_id, marketplace.get_order_items(order.marketplace_order_id))
    pending = [row for row in rows if row.order_item_id in ours and row.status == "pending"]
    if not pending:
        return "no pending items to mark ready to ship"
    by_package: dict[str, list[str]] = {}
    for row in pending:
        if row.package_id:
            by_package.setdefault(row.package_id, []).append(row.order_item_id)
    unpackaged = [row.order_item_id for row in pending if not row.package_id]
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
    context: ServiceContext, event: InboundEvent, method: str, candidates: list[str | None], what: str, detail: str
) -> Outcome:
    found = _match(context, event.tenant, candidates)
    if found is None:
        return _unmatched(method, candidates)

    def apply(order: Order) -> None:
        if not any(entry.event_id == event.event_id for entry in order.timeline):
            order.note(what, detail, event.event_id, "zort")

    order, _ = change_order(context.orders, event.tenant, found[0].internal_order_id, apply, sleep=context.sleep)
    return Outcome(EventStatus.COMPLETED, f"{what}: {detail}", order.internal_order_id)


def _synced(context: ServiceContext, order: Order, event: InboundEvent, detail: str) -> Outcome:
    detail += "; " + sync_to_oms(context, order, event.event_id)
    return Outcome(EventStatus.COMPLETED, detail, order.internal_order_id)
