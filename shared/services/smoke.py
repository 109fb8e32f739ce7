"""The smoke test's synthetic event (`make smoke`, localdev/smoke.py): the deployed write path.

The smoke sends the documented marketplace event `onStatisticsUpdated` (one Thor records and marks
`ignored`, never acting on it) whose payload carries `thorSmoke` (a run id). It then reads it back
through `GET /v1/smoke/events/{eventId}` until it is `ignored` (recorded, queued, processed), and
removes it with `DELETE` on the same route. Only such an event can be read or removed there: any other
event id answers 404, so the route shows nothing of a real event and can delete none. Nothing is sent
to the marketplace, the OMS or ZORT; the hour's counters keep the run as one accepted, ignored event.
"""

from __future__ import annotations

from shared.domain.events import EventKind, InboundEvent
from shared.ports import EventLogPort

SMOKE_EVENT = "onStatisticsUpdated"
SMOKE_MARKER = "thorSmoke"


def is_synthetic(event: InboundEvent) -> bool:
    body = event.body
    if event.kind is not EventKind.MARKETPLACE_IGNORED or not isinstance(body, dict):
        return False
    payload = body.get("payload")
    return body.get("event") == SMOKE_EVENT and isinstance(payload, dict) and bool(payload.get(SMOKE_MARKER))


def synthetic_event(events: EventLogPort, tenant: str, event_id: str) -> InboundEvent | None:
    """The smoke event `event_id`, or None when there is none (or it is not a smoke event)."""
    event = events.get(tenant, event_id)
    return event if event is not None and is_synthetic(event) else None


def remove(events: EventLogPort, event: InboundEvent) -> bool:
    """Removes a finished smoke event; False (left alone) while it is not finished."""
    if not is_synthetic(event) or not event.status.finished:
        return False
    events.delete(event.tenant, event.event_id)
    return True
