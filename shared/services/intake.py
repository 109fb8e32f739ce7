"""Accepting an inbound event: record it under its idempotency key, queue it, then acknowledge.

Recording comes before the acknowledgement, so nothing acknowledged is ever lost; the same key
for a repeated delivery makes it a duplicate with no second effect. A duplicate of an event that
is not completed is queued again, so an event whose first enqueue failed still gets processed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.domain.events import EventStatus, InboundEvent
from shared.domain.ids import event_id as make_event_id
from shared.observability import log_context
from shared.ports import EventLogPort, EventQueuePort

log = logging.getLogger("thor.intake")


@dataclass(frozen=True)
class Acceptance:
    status: str  # "accepted" | "duplicate"
    event_id: str
    internal_order_id: str | None = None

    def as_body(self) -> dict:
        body = {"status": self.status, "eventId": self.event_id}
        if self.internal_order_id:
            body["internalOrderId"] = self.internal_order_id
        return body


def accept_event(events: EventLogPort, queue: EventQueuePort, *, tenant: str, kind: str, identity,
                 body, internal_order_id: str | None = None, refresh_completed: bool = False) -> Acceptance:
    """Records and queues an event. `refresh_completed` queues a completed duplicate again: for
    hints whose processing reads the current state (onProductUpdated repeats with the same body)."""
    event = InboundEvent(tenant=tenant, event_id=make_event_id(kind, tenant, identity), kind=kind, body=body,
                         received_at=datetime.now(timezone.utc), internal_order_id=internal_order_id)
    with log_context(tenant=tenant, event_id=event.event_id, correlation_id=event.event_id,
                     order_id=internal_order_id):
        if events.add(event):
            queue.send(tenant, event.event_id)
            log.info("accepted %s event %s", kind, event.event_id, extra={"outcome": "accepted"})
            return Acceptance("accepted", event.event_id, internal_order_id)
        existing = events.get(tenant, event.event_id)
        requeue = existing is None or existing.status is not EventStatus.COMPLETED or refresh_completed
        if requeue:
            queue.send(tenant, event.event_id)
        log.info("duplicate %s event %s%s", kind, event.event_id, " (queued again)" if requeue else "",
                 extra={"outcome": "duplicate"})
        return Acceptance("duplicate", event.event_id, internal_order_id)
