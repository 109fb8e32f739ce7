"""An inbound event: one webhook as Thor recorded it, its kind, where its processing stands, and
the outcome of applying it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    # Schemas are built on first use, not at import: a cold start pays only for what it uses.
    model_config = ConfigDict(defer_build=True)


class EventKind(str, Enum):
    """What an event is; the value is the one stored in the event log and hashed into event ids."""

    ORDER_CREATED = "order-created"  # the marketplace's onOrderCreated
    ITEMS_STATUS = "items-status"  # the marketplace's onOrderItemsStatusChanged
    PRODUCTS = "products"  # the marketplace's onProductCreated / onProductUpdated / onProductQcStatusChanged
    MARKETPLACE_IGNORED = "marketplace-ignored"  # a documented marketplace event Thor does not act on
    ZORT = "zort"  # any ZORT webhook call
    REFUND = "refund"  # a refund or exchange asked for by customer service
    RECONCILE_ORDER = "reconcile-order"  # an order found behind the marketplace (reconciliation, resync)
    STOCK_RESYNC = "stock-resync"  # every SKU a tenant sells to be sent again (ops `stock --resync`)
    TAX_DOCUMENT = "tax-document"  # a tax document to upload to the marketplace (SetInvoicePDF; issue 19)
    MARKETPLACE_CANCEL = "marketplace-cancel"  # items to cancel in the marketplace after a ZORT void (issue 19)
    SELLER_DELIVERY = "seller-delivery"  # a seller-delivered order's shipping state for the marketplace (issue 19)
    FEED_COMPLETED = "feed-completed"  # the marketplace's onFeedCompleted: settle the feed (FeedStatus)

    def __str__(self) -> str:  # printed and logged as stored
        return self.value


class Message(BaseModel):
    """A message Thor records as an event: it says its kind (`kind`, stored and hashed into the event
    id) and what makes two deliveries the same event (`identity()`, hashed into the id with the kind
    and the tenant). Every webhook model and every internal event derives from it, so intake
    (`shared.services.intake.accept_event`) takes the message itself and processing finds the model
    of a stored kind through `kind` (the handlers are a plain `{Model: handler}` map)."""

    kind: ClassVar[EventKind]

    def identity(self) -> object:
        """What two deliveries of the same event share (JSON-serialisable); a redelivery hashes the same."""
        raise NotImplementedError(f"{type(self).__name__} does not say its identity")


class EventStatus(str, Enum):
    RECEIVED = "received"  # recorded and queued, not yet applied
    RETRY_SCHEDULED = "retry-scheduled"  # an attempt failed; the next one is queued (reason kept)
    COMPLETED = "completed"  # applied (or nothing for Thor to do)
    FAILED = "failed"  # retries exhausted: kept with its reason, replayable
    BLOCKED = "blocked"  # tenant not configured for a system it needs: replay once configured
    UNMATCHED = "unmatched"  # a ZORT event Thor could not match to one of its orders: kept, listed
    IGNORED = "ignored"  # a documented event Thor does not act on: kept with its name, final, never retried

    @property
    def finished(self) -> bool:
        """Done with: applied, or ignored (a documented event Thor does not act on)."""
        return self in (EventStatus.COMPLETED, EventStatus.IGNORED)

    @property
    def pending(self) -> bool:
        """Queued and waiting to be applied: first time, or again after a failed attempt."""
        return self in PENDING


# Statuses of events still on their way (events stored before RETRY_SCHEDULED existed are
# `received` with a reason and attempts: they are pending too).
PENDING = frozenset({EventStatus.RECEIVED, EventStatus.RETRY_SCHEDULED})


@dataclass
class Outcome:
    """What applying an event did: its new status, a line saying what happened, the order concerned."""

    status: EventStatus
    detail: str
    internal_order_id: str | None = None


# A queued event not picked up within this is overdue: a duplicate delivery queues it again.
QUEUE_GRACE = timedelta(seconds=60)
# A request's storage work (a webhook's recording and enqueue) ends within this, or it answers 503.
STORAGE_BOUND = timedelta(seconds=4)


HISTORY_KEPT = 10  # attempts (and replays) an event keeps, newest last


class Attempt(_Model):
    """One attempt at applying an event (or a replay of it), as the console shows it."""

    at: datetime
    outcome: str
    """The status the attempt left the event in (`retry-scheduled`, `failed`, …), or `replayed`."""
    system: str | None = None
    """The system called when it failed: `marketplace`, `oms`, `zort`; None for Thor's own errors."""
    operation: str | None = None
    http_status: int | None = None
    code: str | None = None
    error: str | None = None
    next_retry_at: datetime | None = None
    by: str | None = None
    """Who replayed it (a replay entry)."""


def with_attempt(history: list[Attempt], attempt: Attempt) -> list[Attempt]:
    """The history with `attempt` added, the oldest dropped beyond HISTORY_KEPT."""
    return [*history, attempt][-HISTORY_KEPT:]


class InboundEvent(_Model):
    tenant: str
    event_id: str
    kind: EventKind
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
    history: list[Attempt] = []
    """Its last HISTORY_KEPT attempts and replays, oldest first (events stored before: empty)."""
    fence: int | None = Field(default=None, exclude=True)
    """The fencing token of the claim this worker took on it (None: not claimed by this worker);
    `set_status` with one is refused (ClaimLost) once another worker took the event over."""
    etag: str | None = Field(default=None, exclude=True)
    """The stored entity's ETag as last read or written (not part of the event)."""

    def overdue(self, now: datetime) -> bool:
        """A pending event that nobody has in hand any more (its message may be lost)."""
        return self.status.pending and (self.due_by is None or self.due_by <= now)
