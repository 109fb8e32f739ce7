"""An inbound event: one webhook as Thor recorded it, and where its processing stands."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    # Schemas are built on first use, not at import: a cold start pays only for what it uses.
    model_config = ConfigDict(defer_build=True)


class EventStatus(str, Enum):
    RECEIVED = "received"      # recorded and queued, not yet applied
    COMPLETED = "completed"    # applied (or nothing for Thor to do)
    FAILED = "failed"          # retries exhausted: kept with its reason, replayable
    BLOCKED = "blocked"        # tenant not configured for a system it needs: replay once configured
    UNMATCHED = "unmatched"    # a ZORT event Thor could not match to one of its orders: kept, listed

    @property
    def finished(self) -> bool:
        return self is EventStatus.COMPLETED


# A queued event not picked up within this is overdue: a duplicate delivery queues it again.
QUEUE_GRACE = timedelta(seconds=60)
# A request's storage work (a webhook's recording and enqueue) ends within this, or it answers 503.
STORAGE_BOUND = timedelta(seconds=4)


class InboundEvent(_Model):
    tenant: str
    event_id: str
    kind: str
    body: Any
    received_at: datetime
    status: EventStatus = EventStatus.RECEIVED
    attempts: int = 0
    reason: str | None = None
    outcome: str | None = None
    internal_order_id: str | None = None
    updated_at: datetime | None = None
    claimed_by: str | None = None
    """The worker (queue message) processing it now, until `due_by`."""
    due_by: datetime | None = None
    """When the event should have been taken up by a worker or finished by its claimant: until
    then a received event is in hand (queued, waiting for its retry, or being processed)."""

    def overdue(self, now: datetime) -> bool:
        """A received event that nobody has in hand any more (its message may be lost)."""
        return self.status is EventStatus.RECEIVED and (self.due_by is None or self.due_by <= now)
