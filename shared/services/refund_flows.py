"""Refund events (recorded by shared.services.refunds): send the order, with its refunds, to the OMS."""

from __future__ import annotations

from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.models.internal_events import RefundEvent
from shared.roles import OmsSyncPorts
from shared.services.order_sync import sync_to_oms


def handle_refund(context: OmsSyncPorts, event: InboundEvent, refund: RefundEvent) -> Outcome:
    tenant, internal_id = event.tenant, refund.internalOrderId
    found = context.orders.get(tenant, internal_id)
    if found is None:
        return Outcome(EventStatus.COMPLETED, "order no longer exists", internal_id)
    oms = sync_to_oms(context, found[0], event.event_id)
    return Outcome(EventStatus.COMPLETED, f"refund {refund.refundId}: {oms}", internal_id)
