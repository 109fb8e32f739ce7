"""Thor's order: items whose statuses only move forward, tracking, payment, refunds, a timeline.

Pure domain code: no storage, no HTTP. Services load an `Order`, call its methods, and save it
back under the ETag they read (optimistic concurrency).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.errors import RuleBroken
from shared.domain.refunds import Refund, RefundLine, checked_refund, refunded_units  # noqa: F401 (part of the order)
from shared.domain.statuses import ITEM_STATUSES, can_move, overall_status


class _Model(BaseModel):
    # Schemas are built on first use, not at import: a cold start pays only for what it uses.
    model_config = ConfigDict(defer_build=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TimelineEntry(_Model):
    at: datetime
    what: str
    detail: str = ""
    event_id: str | None = None
    source: str = "thor"


class Tracking(_Model):
    number: str
    carrier: str | None = None
    url: str | None = None
    shipped_at: datetime | None = None


class OrderItem(_Model):
    item_id: str
    sku: str
    name: str = ""
    quantity: int = 1
    status: str = "pending"
    unit_price: Decimal = Decimal("0")
    paid_price: Decimal = Decimal("0")
    tracking: Tracking | None = None
    status_changed_at: datetime | None = None
    """When the item reached its status: the time Thor learned of each move; for an item first seen
    already in it, the marketplace's UpdatedAt of the item (when it has one, never later than when
    Thor learned it), else the time Thor learned it (`Order.merge_items`)."""
    shipping_type: str | None = None
    """The marketplace's ShippingType (`Dropshipping`, `Fulfillment`, …) as GetOrderItems sent it."""


class TaxDocument(_Model):
    """A tax document given to Thor for the marketplace (SetInvoicePDF); its PDF is kept once, in
    Blob Storage (`blob`), never on the order."""

    document_id: str
    type: str
    number: str
    date: str
    item_ids: list[str]
    blob: str
    size: int
    sha256: str
    status: str = "recorded"  # recorded (queued) -> uploaded | failed
    recorded_at: datetime
    uploaded_at: datetime | None = None
    outcome: str | None = None


class Customer(_Model):
    """Personal data, kept only because the OMS needs it. Never shown by the status endpoint."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    billing_address: dict[str, Any] | None = None  # as the marketplace sent it
    shipping_address: dict[str, Any] | None = None


def is_cash_on_delivery(payment_method: str | None) -> bool:
    """The marketplace's PaymentMethod for cash on delivery, whatever its spelling
    (``CashOnDelivery_Payment`` in LinioIT/seller-center-sdk ``gsc-master``
    ``tests/_schemas/Order/OrderResponse.xml``; ``COD``, ``cash_on_delivery``, ``ContraEntrega``)."""
    letters = re.sub(r"[^a-z]", "", (payment_method or "").lower())
    return letters.startswith(("cashondelivery", "contraentrega")) or letters in {"cod", "codpayment"}


class Order(_Model):
    tenant: str
    marketplace_order_id: str
    internal_order_id: str
    order_number: str | None = None
    currency: str | None = None
    created_at: datetime | None = None
    promised_shipping_time: datetime | None = None
    grand_total: Decimal = Decimal("0")
    shipping_amount: Decimal = Decimal("0")
    items: list[OrderItem] = Field(default_factory=list)
    customer: Customer = Field(default_factory=Customer)
    payment_status: str | None = None
    payment_method: str | None = None  # as the marketplace names it (`CashOnDelivery_Payment`)
    zort_order_id: str | None = None
    zort_status: str | None = None
    zort_returns: dict[str, str] = Field(default_factory=dict)
    """ZORT's return orders of this order: number → status (ADDRETURNORDER links them)."""
    refunds: list[Refund] = Field(default_factory=list)
    documents: list[TaxDocument] = Field(default_factory=list)
    """Tax documents for the marketplace (issue 19), without their PDFs."""
    marketplace_cancellations: dict[str, str] = Field(default_factory=dict)
    """Items Thor canceled in the marketplace: item id -> the reason sent."""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    fetched: bool = False
    oms_synced: bool = False
    oms_synced_version: int = 0
    version: int = 0
    fence: int = 0
    """The highest fencing token of the order's claim that wrote it (shared.services.claims)."""
    updated_at: datetime = Field(default_factory=utcnow)

    # --- reading -----------------------------------------------------------------------
    @property
    def status(self) -> str:
        return overall_status([item.status for item in self.items])

    def items_by_id(self) -> dict[str, OrderItem]:
        return {item.item_id: item for item in self.items}

    def paid_total(self) -> Decimal:
        items_total = sum((item.paid_price * item.quantity for item in self.items), Decimal("0"))
        return items_total + self.shipping_amount if items_total else self.grand_total

    @property
    def cash_on_delivery(self) -> bool:
        """Paid to the carrier on delivery: not paid when the order is placed."""
        return is_cash_on_delivery(self.payment_method)

    def refunded_total(self) -> Decimal:
        return sum((refund.value for refund in self.refunds if refund.action == "REFUND"), Decimal("0"))

    def refunded_quantity(self, sku: str) -> int:
        """Units of `sku` money was given back for (REFUND), at most the units bought."""
        return refunded_units(self.items, self.refunds, sku)

    def refunded_quantities_by_item(self) -> dict[str, int]:
        """A SKU's refunded units, spread over its items: returned or canceled items first."""
        result: dict[str, int] = {}
        for sku in dict.fromkeys(item.sku for item in self.items):
            left = self.refunded_quantity(sku)
            for item in sorted(
                (i for i in self.items if i.sku == sku), key=lambda i: i.status not in ("returned", "canceled")
            ):
                result[item.item_id] = min(item.quantity, left)
                left -= result[item.item_id]
        return result

    def document(self, document_id: str) -> TaxDocument | None:
        return next((d for d in self.documents if d.document_id == document_id), None)

    def shipped_at(self) -> datetime | None:
        """When the first item reached shipped (or further), as far as Thor saw it."""
        moments = [
            item.status_changed_at or self.created_at or self.updated_at
            for item in self.items
            if item.status not in ("pending", "ready_to_ship", "canceled")
        ]
        return min(moments) if moments else None

    def quantity_of(self, sku: str) -> int:
        return sum(item.quantity for item in self.items if item.sku == sku)

    # --- changing ----------------------------------------------------------------------
    def note(self, what: str, detail: str = "", event_id: str | None = None, source: str = "thor") -> None:
        self.timeline.append(TimelineEntry(at=utcnow(), what=what, detail=detail, event_id=event_id, source=source))
        self.touch()

    def touch(self) -> None:
        self.version += 1
        self.updated_at = utcnow()

    def merge_items(
        self, items: list[OrderItem], event_id: str | None = None, source: str = "marketplace"
    ) -> list[str]:
        """Adds unknown items and moves known ones forward; returns the ids whose status changed."""
        known = self.items_by_id()
        changed: list[str] = []
        added = 0
        for incoming in items:
            current = known.get(incoming.item_id)
            if current is None:
                now = utcnow()
                if incoming.status_changed_at is None or incoming.status_changed_at > now:
                    incoming.status_changed_at = now  # however Thor first learns of the status
                self.items.append(incoming)
                known[incoming.item_id] = incoming
                added += 1
                continue
            if incoming.tracking and not current.tracking:
                current.tracking = incoming.tracking
            if incoming.shipping_type and incoming.shipping_type != current.shipping_type:
                current.shipping_type = incoming.shipping_type
            if self._move(current, incoming.status, event_id, source):
                changed.append(current.item_id)
        if added:
            self.note("items", f"{added} item(s) from the {source}", event_id, source)
        return changed

    def apply_item_status(
        self, item_ids: list[str], new_status: str, event_id: str | None = None, source: str = "marketplace"
    ) -> tuple[list[str], list[str]]:
        """Moves the given items to `new_status` where that is forward. Returns (changed, ignored)."""
        if new_status not in ITEM_STATUSES:
            raise RuleBroken("NewStatus", f"unknown item status {new_status!r}")
        known = self.items_by_id()
        changed, ignored = [], []
        for item_id in item_ids:
            item = known.get(item_id)
            if item is not None and self._move(item, new_status, event_id, source):
                changed.append(item_id)
            else:
                ignored.append(item_id)
        if ignored:
            self.note(
                "status ignored",
                f"{new_status} for {', '.join(ignored)} (unknown item or not forward)",
                event_id,
                source,
            )
        return changed, ignored

    def _move(self, item: OrderItem, new_status: str, event_id: str | None, source: str) -> bool:
        if not can_move(item.status, new_status):
            return False
        old = item.status
        item.status = new_status
        item.status_changed_at = utcnow()
        self.note("item status", f"{item.item_id}: {old} -> {new_status}", event_id, source)
        return True

    def set_tracking(self, tracking: Tracking, event_id: str | None = None, source: str = "zort") -> bool:
        """Gives every active item without this tracking number the tracking; returns whether anything changed."""
        changed = False
        for item in self.items:
            if item.status == "canceled":
                continue
            if item.tracking is None or item.tracking.number != tracking.number:
                item.tracking = tracking
                changed = True
        if changed:
            self.note("tracking", f"{tracking.carrier or ''} {tracking.number}".strip(), event_id, source)
        return changed

    def set_payment_status(
        self, status: str, event_id: str | None = None, source: str = "zort", detail: str | None = None
    ) -> bool:
        """``detail`` is the timeline's text when it should say more than ``status`` (the raw value sent)."""
        if self.payment_status == status:
            return False
        self.payment_status = status
        self.note("payment", detail or status, event_id, source)
        return True

    def add_refund(self, refund: Refund) -> Refund:
        """Checks the refund against what was paid for its units (see `shared.domain.refunds`), then
        records it; returns it as recorded (lines merged per SKU, a REFUND's money on its lines)."""
        refund = checked_refund(self.items, self.refunds, refund)
        self.refunds.append(refund)
        self.note("refund", f"{refund.action} {refund.value} ({refund.refund_id})", source="customer-service")
        return refund

    def mark_oms_synced(self, event_id: str | None = None) -> None:
        self.oms_synced = True
        self.note("oms synced", f"version {self.version}", event_id, "oms")
        self.oms_synced_version = self.version
