"""Accepting an inbound event: record it under its idempotency key, queue it, then acknowledge.

Recording comes before the acknowledgement, so nothing acknowledged is ever lost; the same key
for a repeated delivery makes it a duplicate with no second effect. A new event costs two storage
requests: the insert and the enqueue (docs/benchmark.md, "ack p99").

A duplicate is answered 200 only when its event is known to be queued, or after it queued it again
(issue 17): an event is recorded *not in anyone's hand* (`dueBy` already past) and only a worker's
claim, retry or wait puts it in hand (due by then). So a first delivery whose instance died, stalled
or lost storage between the insert and the enqueue leaves an event that its next duplicate queues.
A duplicate of a received event is queued again whenever nobody has it in hand
(`InboundEvent.overdue`): not yet taken by a worker (maybe still fresh in the queue: a second
message is harmless, the event's claim makes the work one worker's and a message that finds it
completed does nothing), or waiting past its due time. One a worker holds or that waits for its
retry is not queued again (one read), nor one that reaches the instance that queued it within the
grace (`_Queued`: known queued without a storage request). A duplicate of a final event costs one
read and no queue write. Why no "queued" mark after the enqueue and not enqueue-then-insert: docs/reliability.md,
"A duplicate queues what nobody has in hand".

The whole request (insert, enqueue) runs under the request's one storage bound: nothing gets a
bound of its own, so a 503 comes within the 4 s docs/api.md states.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.domain.events import QUEUE_GRACE, EventKind, EventStatus, InboundEvent, Message
from shared.domain.ids import event_id as make_event_id
from shared.observability import log_context
from shared.ports import EventLogPort, EventQueuePort

log = logging.getLogger("thor.intake")


class _Queued:
    """The events this instance queued in the last `QUEUE_GRACE` (at most `LIMIT`, the newest kept):
    known to be queued without a storage request, so a duplicate that reaches the same instance
    before a worker took the event up does not queue it again (a duplicate storm costs one read per
    copy, as with a "queued" mark, without the mark's write on every new webhook)."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def add(self, tenant: str, event_id: str, at: datetime) -> None:
        with self._lock:
            self._at[(tenant, event_id)] = at
            self._at.move_to_end((tenant, event_id))
            while len(self._at) > self.LIMIT:
                self._at.popitem(last=False)

    def fresh(self, tenant: str, event_id: str, now: datetime, within: timedelta = QUEUE_GRACE) -> bool:
        with self._lock:
            at = self._at.get((tenant, event_id))
        return at is not None and now - at < within


# One memory per queue (an instance has one; each test's fake queue its own).
_queued: weakref.WeakKeyDictionary[EventQueuePort, _Queued] = weakref.WeakKeyDictionary()
_queued_lock = threading.Lock()


def _memory(queue: EventQueuePort) -> _Queued:
    """The memory kept for `queue`; a fresh one (remembering nothing) for a queue object that cannot
    be referenced weakly (a test's stand-in): a duplicate then queues the event, as without it."""
    with _queued_lock:
        try:
            memory = _queued.get(queue)
            if memory is None:
                memory = _queued[queue] = _Queued()
        except TypeError:
            memory = _Queued()
        return memory


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
        queued = _memory(queue)
        if events.add(event):
            queue.send(tenant, event.event_id)  # a failure raises (503): the sender's retry queues it
            queued.add(tenant, event.event_id, event.received_at)
            log.info("accepted %s event %s", kind.value, event.event_id, extra={"outcome": "accepted"})
            return Acceptance("accepted", event.event_id, internal_order_id)
        existing = events.get(tenant, event.event_id)
        now = clock()
        requeue = _needs_queueing(existing, refresh_completed, now)
        if requeue and existing is not None and _untouched(existing) and queued.fresh(tenant, event.event_id, now):
            requeue = False  # this instance queued it moments ago, and no worker has touched it since
        if requeue:
            queue.send(tenant, event.event_id)
            queued.add(tenant, event.event_id, now)
        log.info(
            "duplicate %s event %s%s",
            kind.value,
            event.event_id,
            " (queued again)" if requeue else "",
            extra={"outcome": "duplicate"},
        )
        return Acceptance("duplicate", event.event_id, internal_order_id)


def _untouched(event: InboundEvent) -> bool:
    """Received and never taken up by a worker (no claim, no attempt, no wait): as its insert left it."""
    return event.status is EventStatus.RECEIVED and event.claimed_by is None and not event.attempts and not event.reason


def _needs_queueing(existing: InboundEvent | None, refresh_completed: bool, now: datetime) -> bool:
    if existing is None:
        return True
    if existing.status is EventStatus.COMPLETED:
        return refresh_completed
    if existing.status is EventStatus.IGNORED:
        return False  # final: an ignored event is never processed again by a delivery
    if existing.status.pending:  # received, or waiting for its retry: queued again unless in a worker's hand
        return existing.overdue(now)
    return True  # failed, blocked, unmatched: as before, the delivery tries again
