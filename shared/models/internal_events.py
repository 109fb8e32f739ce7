"""Bodies of the events Thor records itself (not webhooks): a refund to send to the OMS, an order to
bring up to date with the marketplace (reconciliation, the ops `resync`)."""

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


class ReconcileOrderEvent(BaseModel):
    """An order behind the marketplace: applied like onOrderCreated (`payload.OrderId`)."""

    model_config = ConfigDict(extra="allow")
    payload: OrderRef
    reason: str | None = None
    marketplaceUpdatedAt: str | None = None
