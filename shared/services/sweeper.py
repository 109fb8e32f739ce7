"""Nothing accepted is ever lost: events left pending (`received` or `retry-scheduled`: their queue message went to the poison
queue after a storage outage, or an enqueue failed after the 200) are queued again.

An event is stale when it has not changed for longer than its own retry delay plus a margin, so
events waiting for a scheduled retry are left alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from shared.domain.events import PENDING
from shared.roles import RecordingPorts

log = logging.getLogger("thor.sweeper")
MARGIN = timedelta(minutes=10)


def requeue_stale(context: RecordingPorts, now: datetime | None = None, margin: timedelta = MARGIN) -> list[str]:
    """Queues again every stale pending event; returns their ids (tenant/event id)."""
    now = now or context.clock()
    delays = context.settings.retry_delays
    requeued = []
    for event in context.events.list(statuses=sorted(PENDING)):
        waited = delays[event.attempts - 1] if 0 < event.attempts <= len(delays) else 0
        last_change = event.updated_at or event.received_at
        if now - last_change > timedelta(seconds=waited) + margin:
            context.queue.send(event.tenant, event.event_id)
            requeued.append(f"{event.tenant}/{event.event_id}")
    if requeued:
        log.warning("queued %d stale event(s) again: %s", len(requeued), ", ".join(requeued[:20]))
    return requeued
