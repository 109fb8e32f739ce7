"""Bodies of the events Thor records itself (not webhooks): a refund to send to the OMS, an order to
bring up to date with the marketplace (reconciliation, the ops `resync`), a tenant's stock to send again."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.events import EventKind, Message
from shared.models.webhooks import MarketplaceId


class RefundEvent(Message):
    """A refund recorded on an order: the OMS is sent the order (with its refunds) again."""

    kind: ClassVar[EventKind] = EventKind.REFUND
    model_config = ConfigDict(extra="allow")
    internalOrderId: str
    refundId: str

    def identity(self) -> object:
        return self.refundId


class OrderRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    OrderId: MarketplaceId


class StockResyncEvent(Message):
    """A full stock resync of the event's tenant: every SKU its marketplace listed is marked dirty.

    `tenant` and `requested_at` make each request its own event; they are not recorded (excluded
    from the body, which stays `{reason, requestedBy}`)."""

    kind: ClassVar[EventKind] = EventKind.STOCK_RESYNC
    model_config = ConfigDict(extra="allow")
    reason: str
    requestedBy: str
    tenant: str = Field(default="", exclude=True)
    requested_at: datetime | None = Field(default=None, exclude=True)

    def identity(self) -> object:
        return [self.tenant, "stock-resync", self.requested_at.isoformat() if self.requested_at else None]


class ReconcileOrderEvent(Message):
    """An order behind the marketplace: applied like onOrderCreated (`payload.OrderId`).

    `seen` says which state of the order this repairs (the ops resync: `["resync", when]`;
    reconciliation: the marketplace's update time, its statuses and Thor's version), so one state is
    repaired once and a new one again; it is not recorded (excluded from the body)."""

    kind: ClassVar[EventKind] = EventKind.RECONCILE_ORDER
    model_config = ConfigDict(extra="allow")
    payload: OrderRef
    reason: str | None = None
    marketplaceUpdatedAt: str | None = None
    seen: list[Any] = Field(default_factory=list, exclude=True)

    def identity(self) -> object:
        return [self.payload.OrderId, *self.seen]


class TaxDocumentEvent(Message):
    """A tax document recorded on an order (its PDF in the document store): upload it (SetInvoicePDF)."""

    kind: ClassVar[EventKind] = EventKind.TAX_DOCUMENT
    model_config = ConfigDict(extra="allow")
    internalOrderId: str
    documentId: str

    def identity(self) -> object:
        return [self.internalOrderId, self.documentId]


class MarketplaceCancelEvent(Message):
    """ZORT voided an order: cancel its still-cancellable items in the marketplace (SetStatusToCanceled).
    `seen` names the ZORT event that voided it (one void, one cancellation); not recorded."""

    kind: ClassVar[EventKind] = EventKind.MARKETPLACE_CANCEL
    model_config = ConfigDict(extra="allow")
    internalOrderId: str
    source: str
    seen: str = Field(default="", exclude=True)

    def identity(self) -> object:
        return [self.internalOrderId, self.seen]


class SellerDeliveryEvent(Message):
    """A seller-delivered order's state from ZORT to send to the marketplace (shipped, delivered or
    failed_delivery), forward only."""

    kind: ClassVar[EventKind] = EventKind.SELLER_DELIVERY
    model_config = ConfigDict(extra="allow")
    internalOrderId: str
    status: str
    zortStatus: str

    def identity(self) -> object:
        return [self.internalOrderId, self.status]
