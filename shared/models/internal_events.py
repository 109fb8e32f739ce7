"""Bodies of the events Thor records itself (not webhooks): a refund to send to the OMS, an order to
bring up to date with the marketplace (reconciliation, the ops `resync`), a tenant's stock to send again."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.models.webhooks import MarketplaceId


class RefundEvent(BaseModel):
    """A refund recorded on an order: the OMS is sent the order (with its refunds) again."""

    model_config = ConfigDict(extra="allow")
    internalOrderId: str
    refundId: str


class OrderRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    OrderId: MarketplaceId


class StockResyncEvent(BaseModel):
    """A full stock resync of the event's tenant: every SKU its marketplace listed is marked dirty."""

    model_config = ConfigDict(extra="allow")
    reason: str
    requestedBy: str


class ReconcileOrderEvent(BaseModel):
    """An order behind the marketplace: applied like onOrderCreated (`payload.OrderId`)."""

    model_config = ConfigDict(extra="allow")
    payload: OrderRef
    reason: str | None = None
    marketplaceUpdatedAt: str | None = None
