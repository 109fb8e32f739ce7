"""Thor's `Order` as the OMS Order API body (``POST``/``PUT /api/v1/orders``). Pure: no HTTP.

Field names follow the OMS reference (seeds/002): where a name looks odd it is still the
reference's, e.g. ``shippingCostIncTaxCent`` (not ``…IncTaxInCent``), the snake_case
``created_at``, and ``shipmentLines[].quantityShipped``, which the reference types as a *string*.

Money goes out twice, as the reference wants: a decimal (``totalAmount``) and integer cents
(``totalAmountInCent``). Amounts are computed in `Decimal` and rounded half-up to cents once, at
the end, so ``234.125`` becomes ``234.13`` and ``23413``; the decimal is then written as a JSON
number (a float whose shortest text is exactly the two-decimal value).

Marketplace prices are VAT-inclusive, so the ``…IncTax`` twins carry the same amounts and
``taxIncluded`` is true; ``…ExTax`` is not sent because Thor does not know the tax split.

Statuses: the OMS has four status fields; each is derived from Thor's overall item status
(`Order.status`) through the tables below, whose choices are explained where they are made.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from shared.domain.order import Customer, Order, OrderItem
from shared.domain.statuses import RANK, overall_status
from shared.domain.times import rfc3339

CHANNEL = "OTHER"
CENT = Decimal("0.01")
ZERO = Decimal("0")

# --- status tables ----------------------------------------------------------------------------
# Keys are Thor's item statuses plus the overall "partially_shipped" (see statuses.overall_status).

ORDER_STATUS: dict[str, str] = {
    "pending": "AWAITING_SHIPMENT",  # the marketplace has taken payment: the seller must ship
    "ready_to_ship": "AWAITING_PICKUP",  # packed, waiting for the carrier
    "partially_shipped": "PARTIALLY_SHIPPED",
    "shipped": "SHIPPED",
    "failed_delivery": "IN_PROGRESS",  # the carrier retries or brings it back: not finished
    "delivered": "COMPLETE",
    "return_shipped_by_customer": "IN_PROGRESS",  # no "return requested" value in the OMS enum
    "return_waiting_for_approval": "IN_PROGRESS",
    "return_rejected": "COMPLETE",  # the customer keeps the goods
    "returned": "RETURNED",
    "canceled": "CANCELLED",
}
ORDER_STATUS_UNKNOWN = "OTHER"

DELIVERY_STATUS: dict[str, str | None] = {
    "pending": "IN_PROCESS",
    "ready_to_ship": "READY_TO_SHIP",
    "partially_shipped": "PARTIALLY_SHIPPED",
    "shipped": "SHIPPED",
    "failed_delivery": "SHIPPED",  # left the warehouse, not delivered
    "delivered": "DELIVERED",
    "return_shipped_by_customer": "DELIVERED",
    "return_waiting_for_approval": "DELIVERED",
    "return_rejected": "DELIVERED",
    "returned": "DELIVERED",
    "canceled": None,  # no value fits (never shipped): the field is left out
}

SHIPPING_STATE: dict[str, str | None] = {
    "pending": "CREATED",
    "ready_to_ship": "READY_FOR_SHIPPING",
    "partially_shipped": "SHIPPED",  # shipping has begun; deliveryStatus says "partially"
    "shipped": "SHIPPED",
    "failed_delivery": "OTHER",
    "delivered": "DELIVERED",
    "return_shipped_by_customer": "DELIVERED",
    "return_waiting_for_approval": "DELIVERED",
    "return_rejected": "DELIVERED",
    "returned": "DELIVERED",
    "canceled": "OTHER",  # the enum's catch-all: nothing will ship
}
SHIPPING_STATE_UNKNOWN = "OTHER"

# Payment statuses as Thor receives them (Zort), compared case- and separator-insensitively.
PAYMENT_STATUS: dict[str, str] = {
    "pending": "NOT_PAID",
    "paid": "PAID",
    "voided": "VOIDED",
    "partial payment": "PARTIALLY_PAID",
    "excess payment": "PAID",  # paid in full (and more): nothing is owed
}
# No payment status yet: marketplace orders reach the seller only once the marketplace has
# collected the payment, so "paid" is the truthful default. A status Thor does not know → OTHER.
PAYMENT_STATUS_MISSING = "PAID"
PAYMENT_STATUS_UNKNOWN = "OTHER"

# Tenant ids end with the country: faco → CO, somx → MX.
COUNTRY_CODES = {"ar": "AR", "co": "CO", "cl": "CL", "pe": "PE", "mx": "MX"}
COUNTRY_CURRENCIES = {"AR": "ARS", "CO": "COP", "CL": "CLP", "PE": "PEN", "MX": "MXN"}

SHIPPED_OR_LATER = frozenset(s for s, rank in RANK.items() if rank >= RANK["shipped"] and s != "canceled")


# --- money ------------------------------------------------------------------------------------


def money(amount: Decimal | int | str) -> Decimal:
    """``amount`` rounded half-up to cents."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def cents(amount: Decimal | int | str) -> int:
    """``amount`` in integer cents, rounded half-up: ``Decimal("234.125")`` → ``23413``."""
    return int((Decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _amount(name: str, amount: Decimal, cents_name: str | None = None) -> dict[str, Any]:
    """``{name: 234.13, name + "InCent": 23413}`` (the cents key can be overridden)."""
    return {name: float(money(amount)), cents_name or f"{name}InCent": cents(amount)}


def split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``total`` (in cents) shared out in proportion to ``weights``; the shares add up exactly.

    Every share but the last is rounded down and the last takes the remainder, so no share is
    ever pushed below its exact proportion. Zero weights everywhere share equally.
    """
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [Decimal(1)] * len(weights)
    whole, weight_sum = money(total), sum(weights)
    shares = [(whole * w / weight_sum).quantize(CENT, rounding=ROUND_DOWN) for w in weights[:-1]]
    return shares + [whole - sum(shares, ZERO)]


# --- small helpers ----------------------------------------------------------------------------

iso = rfc3339  # UTC, milliseconds and ``Z``, as in the reference: ``2022-06-27T14:39:07.843Z``


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Without the keys whose value is ``None``: an unknown value is left out, not sent as null."""
    return {key: value for key, value in data.items() if value is not None}


def _text(*values: Any, sep: str = " ") -> str | None:
    parts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    return sep.join(parts) or None


def country_code(*tenants: str | None) -> str | None:
    """The ISO country of the first tenant id whose last two letters name one (``faco`` → ``CO``)."""
    for tenant in tenants:
        code = COUNTRY_CODES.get((tenant or "")[-2:].lower())
        if code:
            return code
    return None


# --- statuses ---------------------------------------------------------------------------------


def _active(order: Order) -> list[OrderItem]:
    return [item for item in order.items if item.status != "canceled"]


def order_status(order: Order) -> str:
    """OMS ``orderStatus``; some-but-not-all active items returned → ``PARTIALLY_RETURNED``."""
    active = _active(order)
    returned = [item for item in active if item.status == "returned"]
    if returned and len(returned) < len(active):
        return "PARTIALLY_RETURNED"
    return ORDER_STATUS.get(order.status, ORDER_STATUS_UNKNOWN)


def delivery_status(order: Order) -> str | None:
    return DELIVERY_STATUS.get(order.status)


def shipping_state(status: str) -> str | None:
    """OMS ``shippingState`` (also used as ``shipmentStatus``) for a Thor overall status."""
    return SHIPPING_STATE.get(status, SHIPPING_STATE_UNKNOWN)


def _normalise(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


def payment_status(order: Order) -> str:
    """Refunds win: all paid money back → ``REFUNDED``, some → ``PARTIALLY_REFUNDED``."""
    refunded, paid = order.refunded_total(), order.paid_total()
    if refunded > 0:
        return "REFUNDED" if paid > 0 and refunded >= paid else "PARTIALLY_REFUNDED"
    if not order.payment_status or not order.payment_status.strip():
        # Cash on delivery: the customer pays the carrier, so nothing is paid yet (issue 16).
        return "NOT_PAID" if order.cash_on_delivery else PAYMENT_STATUS_MISSING
    return PAYMENT_STATUS.get(_normalise(order.payment_status), PAYMENT_STATUS_UNKNOWN)


# --- addresses --------------------------------------------------------------------------------


def address_to_oms(raw: dict[str, Any] | None, customer: Customer, code: str | None) -> dict[str, Any] | None:
    """A marketplace AddressBilling/AddressShipping (PascalCase keys) as an OMS address.

    ``address2`` joins Address2…Address5 (the marketplace spreads district and references over
    them); ``province`` is the Region, else the Ward; the name falls back to the customer's.
    """
    if not raw:
        return None
    return _compact(
        {
            "name": _text(raw.get("FirstName"), raw.get("LastName")) or _text(customer.first_name, customer.last_name),
            "address1": _text(raw.get("Address1")),
            "address2": _text(*(raw.get(f"Address{n}") for n in range(2, 6)), sep=", "),
            "city": _text(raw.get("City")),
            "province": _text(raw.get("Region")) or _text(raw.get("Ward")),
            "postcode": _text(raw.get("PostCode")),
            "country": _text(raw.get("Country")),
            "countryCode": code,
            "phone": _text(raw.get("Phone")) or _text(raw.get("Phone2")),
        }
    )


# --- refunds per line -------------------------------------------------------------------------


def _sku_refunds(order: Order) -> tuple[dict[str, Decimal], dict[str, int]]:
    """Money and units refunded per SKU: each REFUND is shared over its products by paid value."""
    unit_price = {item.sku: item.paid_price for item in reversed(order.items)}
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    units: dict[str, int] = defaultdict(int)
    for refund in order.refunds:
        if refund.action != "REFUND" or not refund.products:
            continue
        weights = [unit_price.get(line.sku, ZERO) * line.quantity for line in refund.products]
        for line, share in zip(refund.products, split(refund.value, weights), strict=True):
            amounts[line.sku] += share
            units[line.sku] += line.quantity
    return amounts, units


def line_refunds(order: Order) -> dict[str, Decimal]:
    """Refunded money per item id. A SKU's refunded units go to its returned/canceled items first
    (the marketplace has one item per unit sold), and its money follows those units."""
    amounts, units = _sku_refunds(order)
    result: dict[str, Decimal] = {}
    for sku, amount in amounts.items():
        items = sorted((i for i in order.items if i.sku == sku), key=lambda i: i.status not in ("returned", "canceled"))
        taken, left = [], units[sku]
        for item in items:
            take = min(item.quantity, left)
            taken.append(take)
            left -= take
        if not any(taken) and items:
            taken[0] = 1
        for item, share in zip(items, split(amount, [Decimal(t) for t in taken]), strict=True):
            if share:
                result[item.item_id] = result.get(item.item_id, ZERO) + share
    return result


# --- lines and shipments ----------------------------------------------------------------------


def _shipped_quantity(item: OrderItem) -> int:
    return item.quantity if item.status in SHIPPED_OR_LATER else 0


def _returned_quantity(item: OrderItem) -> int:
    return item.quantity if item.status == "returned" else 0


def changed_at(item: OrderItem, order: Order) -> datetime:
    """When the item reached its status. Items stored before every item had one (those first seen
    already canceled, returned or delivered) fall back on the order's last change: every OMS time
    field is set, however Thor first learned of the state."""
    return item.status_changed_at or order.updated_at


def order_line(item: OrderItem, refund: Decimal, order: Order) -> dict[str, Any]:
    """One ``orderLines`` entry: basePrice is the unit list price, totalAmount what was paid."""
    paid = item.paid_price * item.quantity
    return _compact(
        {
            "entryRef": item.item_id,
            "productRef": item.sku,
            "quantity": item.quantity,
            "shippedQuantity": _shipped_quantity(item),
            "returnedQuantity": _returned_quantity(item),
            **_amount("basePrice", item.unit_price),
            **_amount("basePriceIncTax", item.unit_price),
            **_amount("totalAmountBeforeDiscount", item.unit_price * item.quantity),
            **_amount("totalAmount", paid),
            **_amount("totalAmountIncTax", paid),
            **_amount("refundAmount", refund),
            "cancelledAt": iso(changed_at(item, order)) if item.status == "canceled" else None,
            "returnedAt": iso(changed_at(item, order)) if item.status == "returned" else None,
        }
    )


def shipments(order: Order) -> list[dict[str, Any]]:
    """One shipment per tracking number among the active items, in order of first appearance."""
    groups: dict[str, list[OrderItem]] = {}
    for item in _active(order):
        if item.tracking and item.tracking.number:
            groups.setdefault(item.tracking.number, []).append(item)
    return [_shipment(number, items, order) for number, items in groups.items()]


def _shipment(number: str, items: list[OrderItem], order: Order) -> dict[str, Any]:
    status = overall_status([item.status for item in items])
    delivered = status == "delivered"
    trackings = [item.tracking for item in items if item.tracking]  # each item's: grouped by its number
    return _compact(
        {
            "shipmentRef": number,
            "trackingNumber": number,
            "shipmentProvider": next((t.carrier for t in trackings if t.carrier), None),
            "trackingUrl": next((t.url for t in trackings if t.url), None),
            "shipmentStatus": shipping_state(status),
            "shippedDate": iso(min((t.shipped_at for t in trackings if t.shipped_at), default=None)),
            "deliveryDate": iso(_latest(changed_at(i, order) for i in items)) if delivered else None,
            # The reference types quantityShipped as a string.
            "shipmentLines": [{"entryRef": i.item_id, "quantityShipped": str(_shipped_quantity(i))} for i in items],
        }
    )


# --- the order --------------------------------------------------------------------------------


def _money_fields(order: Order) -> dict[str, Any]:
    total = order.paid_total()
    listed = sum((item.unit_price * item.quantity for item in order.items), ZERO)
    before_discount = listed + order.shipping_amount if listed else total
    return {
        "taxIncluded": True,
        **_amount("totalAmount", total),
        **_amount("totalAmountIncTax", total),
        **_amount("totalAmountBeforeDiscount", before_discount),
        # From the rounded amounts, so that before − discounts = total holds in cents too.
        **_amount("totalDiscounts", max(money(before_discount) - money(total), ZERO)),
        **_amount("shippingCost", order.shipping_amount),
        **_amount("shippingCostIncTax", order.shipping_amount, cents_name="shippingCostIncTaxCent"),
        **_amount("refundedAmount", order.refunded_total()),
    }


def _counters(order: Order) -> dict[str, int]:
    return {
        "totalItems": sum(item.quantity for item in order.items),
        "itemsShipped": sum(_shipped_quantity(item) for item in order.items),
        "itemsCancelled": sum(item.quantity for item in order.items if item.status == "canceled"),
        "itemsReturned": sum(_returned_quantity(item) for item in order.items),
    }


def _flags(order: Order) -> dict[str, Any]:
    """``cancelled``: every item canceled; ``returned``: every active item returned."""
    active = _active(order)
    cancelled = bool(order.items) and not active
    returned = bool(active) and all(item.status == "returned" for item in active)
    return {
        "cancelled": cancelled,
        "cancelledAt": iso(_latest(changed_at(i, order) for i in order.items)) if cancelled else None,
        "returned": returned,
        "returnedAt": iso(_latest(changed_at(i, order) for i in active)) if returned else None,
    }


def order_to_oms(order: Order, oms_tenant: str) -> dict[str, Any]:
    """The ``POST /api/v1/orders`` body for ``order``.

    ``oms_tenant`` (the X-TWC-Tenant value) is only a fallback for the country code when the
    Thor tenant id does not end with a known country.
    """
    code = country_code(order.tenant, oms_tenant)
    refunds = line_refunds(order)
    body = _compact(
        {
            "orderRef": order.internal_order_id,
            "channel": CHANNEL,
            "currencyCode": order.currency or COUNTRY_CURRENCIES.get(code or ""),
            "customerRef": order.marketplace_order_id or order.order_number,
            "email": order.customer.email,
            "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at),  # which version of Thor's order this is: later sends are never older
            "billingAddress": address_to_oms(order.customer.billing_address, order.customer, code),
            "shippingAddress": address_to_oms(order.customer.shipping_address, order.customer, code),
            "orderStatus": order_status(order),
            "paymentStatus": payment_status(order),
            # seeds/002 gives both an enum and never null: a value Thor lacks is left out (_compact).
            "deliveryStatus": delivery_status(order),
            "shippingState": shipping_state(order.status),
            **_flags(order),
            **_counters(order),
            **_money_fields(order),
            "orderLines": [order_line(item, refunds.get(item.item_id, ZERO), order) for item in order.items],
            "shipments": shipments(order),
        }
    )
    return body


def order_update_to_oms(order: Order, oms_tenant: str) -> dict[str, Any]:
    """The ``PUT /api/v1/orders`` body: the reference gives PUT exactly the POST schema and finds
    the order by ``id`` or ``orderRef`` in the body, so this is the full body keyed by orderRef
    (Thor always holds the whole order, which keeps every update idempotent)."""
    return order_to_oms(order, oms_tenant)


__all__ = [
    "DELIVERY_STATUS",
    "ORDER_STATUS",
    "PAYMENT_STATUS",
    "SHIPPING_STATE",
    "address_to_oms",
    "cents",
    "country_code",
    "iso",
    "line_refunds",
    "money",
    "order_to_oms",
    "order_update_to_oms",
    "payment_status",
    "split",
]
