"""Accepting an inbound event: record it under its idempotency key, queue it, then acknowledge.

Recording comes before the acknowledgement, so nothing acknowledged is ever lost; the same key
for a repeated delivery makes it a duplicate with no second effect. An event is recorded *not known
to be queued* (`dueBy` already past) and marked queued (due within the grace) only once its enqueue
succeeded, with a write conditional on the ETag of the insert (a worker that already claimed it is
left alone). So a first delivery whose instance died, stalled or lost storage between the insert and
the enqueue leaves an event that its next duplicate queues: a duplicate is answered 200 only when
its event is known to be queued, or is queued again by it. A duplicate of a received event is queued
again only when nobody has it in hand (`InboundEvent.overdue`): never known queued, or waiting past
its due time; one still fresh in the queue, waiting for its retry or being processed is not queued
again, so a storm of duplicates costs one read each and no work.

The whole request (insert, enqueue, mark) runs under the request's one storage bound: nothing gets
a bound of its own, so a 503 comes within the 4 s docs/api.md states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.domain.events import EventKind, EventStatus, InboundEvent, Message
from shared.domain.ids import event_id as make_event_id
from shared.observability import log_context
from shared.ports import EventLogPort, EventQueuePort, StorageUnavailable

log = logging.getLogger("thor.intake")


@dataclass(frozen=True)
class Acceptance:
    status: str  # "accepted" | "duplicate"
    event_id: str
    internal_order_id: str | None = None

    def as_body(self) -> dict[str, str]:
        body = {"status": self.status, "eventId": self.event_id}
        if self.internal_order_id:
            body["internalOrderId"] = self.internal_order_id
        return body


def accept_event(
    events: EventLogPort,
    queue: EventQueuePort,
    *,
    tenant: str,
    message: Message,
    body: object = None,
    internal_order_id: str | None = None,
    refresh_completed: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Acceptance:
    """Records and queues `message` as an event of its kind, under the id its identity gives.

    `body` is what is recorded: by default the message as its model dumps it (the fields it was given,
    JSON); a webhook passes the body as received (with its payload validated), so the log keeps what
    the sender said. `refresh_completed` queues a completed duplicate again: for hints whose
    processing reads the current state (onProductUpdated repeats with the same body)."""
    return record_event(
        events,
        queue,
        tenant=tenant,
        kind=message.kind,
        identity=message.identity(),
        body=message.model_dump(mode="json", exclude_unset=True) if body is None else body,
        internal_order_id=internal_order_id,
        refresh_completed=refresh_completed,
        clock=clock,
    )


def record_event(
    events: EventLogPort,
    queue: EventQueuePort,
    *,
    tenant: str,
    kind: EventKind,
    identity: object,
    body: object,
    internal_order_id: str | None = None,
    refresh_completed: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Acceptance:
    """Records and queues an event of `kind` under the id `identity` gives (accept_event, from a
    message, is what flows use; tests record raw events with this)."""
    event = InboundEvent(
        tenant=tenant,
        event_id=make_event_id(kind.value, tenant, identity),
        kind=kind,
        body=body,
        received_at=clock(),
        internal_order_id=internal_order_id,
    )
    with log_context(tenant=tenant, event_id=event.event_id, correlation_id=event.event_id, order_id=internal_order_id):
        if events.add(event):
            _queue_new(events, queue, event)
            log.info("accepted %s event %s", kind.value, event.event_id, extra={"outcome": "accepted"})
            return Acceptance("accepted", event.event_id, internal_order_id)
        existing = events.get(tenant, event.event_id)
        requeue = _needs_queueing(existing, refresh_completed, clock())
        if requeue:
            queue.send(tenant, event.event_id)
            if existing is not None and existing.status.pending:
                _mark_queued(events, existing)
        log.info(
            "duplicate %s event %s%s",
            kind.value,
            event.event_id,
            " (queued again)" if requeue else "",
            extra={"outcome": "duplicate"},
        )
        return Acceptance("duplicate", event.event_id, internal_order_id)


def _queue_new(events: EventLogPort, queue: EventQueuePort, event: InboundEvent) -> None:
    """Queues a new event, then marks it queued. A failed enqueue raises (503) and writes nothing
    more: the event was recorded not known to be queued, so the sender's retry (a duplicate) queues it."""
    queue.send(event.tenant, event.event_id)
    _mark_queued(events, event)


def _mark_queued(events: EventLogPort, event: InboundEvent) -> None:
    """Best effort: if storage fails here, the event stays not known to be queued, and a duplicate
    queues it once more (a second message, harmless: the event's claim makes it one worker's)."""
    try:
        events.mark_queued(event)
    except StorageUnavailable as error:
        log.warning("could not mark event %s queued: %s", event.event_id, error)


def _needs_queueing(existing: InboundEvent | None, refresh_completed: bool, now: datetime) -> bool:
    if existing is None:
        return True
    if existing.status is EventStatus.COMPLETED:
        return refresh_completed
    if existing.status is EventStatus.IGNORED:
        return False  # final: an ignored event is never processed again by a delivery
    if existing.status.pending:  # received, or waiting for its retry
        return existing.overdue(now)
    return True  # failed, blocked, unmatched: as before, the delivery tries again
