"""One worker at a time: processing claims on events and on orders.

An event is claimed on its own event-log entry (`EventLogPort.claim`) by the queue message that
carries it; an order is claimed in the claim store by that same owner, before any external call
that concerns it, and held until its changes have reached the OMS. The owner is one delivery of the
queue message (`{message id}#{dequeue count}`, shared.domain.fencing), so a redelivery of a message
whose worker crashed or stalled takes its claims over at once, while a duplicate message (another
id) waits. A claim nobody releases expires after `CLAIM_SECONDS` (no longer than the time a message
stays invisible while its function runs), and the work is resumed.

Fencing: every take moves the claim's token one up, and the worker keeps the token it got. The
event's final status is written only while the event's token is still the worker's
(`EventLogPort.set_status`); an order write under the order's claim is refused when the stored order
was written under a newer token (`fenced`, used by `change_order`), and records the worker's token
on the order; before any external write (OMS, marketplace) the worker checks that every claim it
holds is still current (`ensure_holding`). A worker whose claim was taken over gets ClaimLost there
and stops without effects (see docs/reliability.md).

A failed attempt never holds its order past its event: the order's claim names the event attempt it
was taken for, and the event's next attempt (a new queue message, so a new owner) takes it over at
once (`shared.domain.fencing.later_attempt`). That covers the claim its worker cannot release: a take
whose write landed while its answer was lost (storage slow or frozen: StorageUnavailable from the
take, so the worker never knew it held it), and a release that failed. A release that finds the
claim changed says why in the log.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta

from shared.domain.events import InboundEvent
from shared.domain.fencing import attempt_of, holder
from shared.domain.order import Order
from shared.ports import Claim, ClaimLost, StorageUnavailable
from shared.roles import ClaimsPorts

log = logging.getLogger("thor.claims")

CLAIM_SECONDS = 300  # the runner's lease and the host's functionTimeout are 5 minutes
ORDER_WAIT_SECONDS = 3.0  # how long a worker waits for an order another worker holds, before re-queueing

_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar("claim_owner", default=None)
_held: contextvars.ContextVar[tuple[tuple[tuple[str, str], Claim], ...]] = contextvars.ContextVar(
    "claims_held", default=()
)


def _claims_held() -> dict[tuple[str, str], Claim]:
    return dict(_held.get())


# The order as this worker last read or wrote it (its JSON and ETag), kept only while it holds the
# order's claim: the next read-modify-write starts from it instead of reading again (issue 18, item 6).
_known: contextvars.ContextVar[dict[tuple[str, str], tuple[str, str]] | None] = contextvars.ContextVar(
    "orders_known", default=None
)

_event: contextvars.ContextVar[InboundEvent | None] = contextvars.ContextVar("event_claimed", default=None)


class ClaimBusy(Exception):
    """Another worker holds the claim: try again in `retry_in` seconds."""

    def __init__(self, what: str, retry_in: int):
        super().__init__(f"{what} is being processed by another worker")
        self.retry_in = retry_in


def new_owner() -> str:
    return holder(uuid.uuid4().hex, 1)


@contextlib.contextmanager
def acting_as(owner: str) -> Iterator[str]:
    """Claims taken inside belong to `owner` (the delivery of the queue message being processed)."""
    token = _owner.set(owner)
    try:
        yield owner
    finally:
        _owner.reset(token)


@contextlib.contextmanager
def holding_event(event: InboundEvent) -> Iterator[None]:
    """Inside, `ensure_holding` checks the event's claim too (`event.fence`, taken by this worker)."""
    token = _event.set(event)
    try:
        yield
    finally:
        _event.reset(token)


def ensure_holding(context: ClaimsPorts) -> None:
    """Before an external write: ClaimLost unless every claim this worker holds (its event's and its
    orders') is still the current one. One read per claim held."""
    event = _event.get()
    if event is not None and event.fence is not None and not context.events.holds(event):
        raise ClaimLost(f"event {event.tenant}/{event.event_id} was taken over by another worker")
    for (tenant, name), claim in _held.get():
        if not context.claims.holds(tenant, name, claim):
            raise ClaimLost(f"{name} ({tenant}) was taken over by another worker")


def fenced(tenant: str, internal_order_id: str, stored_fence: int) -> int | None:
    """The token an order write must record when this worker holds the order's claim (None when it
    does not); ClaimLost when the stored order was written under a newer token than ours."""
    claim = _claims_held().get((tenant, order_claim_name(internal_order_id)))
    if claim is None:
        return None
    if stored_fence > claim.fence:
        raise ClaimLost(f"order {internal_order_id} was written by a worker that took its claim over")
    return claim.fence


def remember_order(order: Order, etag: str) -> None:
    """Keeps a copy of `order` as stored under `etag`, if this worker holds the order's claim."""
    known = _known.get()
    if known is not None and (order.tenant, order_claim_name(order.internal_order_id)) in _claims_held():
        known[(order.tenant, order.internal_order_id)] = (order.model_dump_json(), etag)  # as stored


def forget_order(tenant: str, internal_order_id: str) -> None:
    """Drops the copy kept of the order (a conditional write on its ETag was refused: read it again)."""
    known = _known.get()
    if known is not None:
        known.pop((tenant, internal_order_id), None)


def known_order(tenant: str, internal_order_id: str) -> tuple[Order, str] | None:
    """The order as this worker last read or wrote it under its claim (a copy, with its ETag), or None:
    while the claim is held nobody else writes the order through Thor's processing; a write that finds
    otherwise is refused by its ETag and reads the order again (shared.services.order_changes)."""
    known = _known.get()
    found = known.get((tenant, internal_order_id)) if known is not None else None
    if found is None or (tenant, order_claim_name(internal_order_id)) not in _claims_held():
        return None
    return Order.model_validate_json(found[0]), found[1]  # as a read would give it


def order_claim_name(internal_order_id: str) -> str:
    return f"order:{internal_order_id}"


@contextlib.contextmanager
def order_claim(
    context: ClaimsPorts, tenant: str, internal_order_id: str | None, wait: float = ORDER_WAIT_SECONDS
) -> Iterator[None]:
    """Holds the order's claim inside (re-entrant); ClaimBusy when another worker keeps it past `wait`."""
    name = order_claim_name(internal_order_id) if internal_order_id else None
    if name is None or (tenant, name) in _claims_held():
        yield
        return
    owner = _owner.get() or new_owner()
    event = _event.get()
    for_event = attempt_of(event.event_id, event.fence) if event is not None and event.fence is not None else None
    deadline = context.clock() + timedelta(seconds=wait)
    while (claim := context.claims.take(tenant, name, owner, CLAIM_SECONDS, for_event=for_event)) is None:
        if context.clock() >= deadline:
            raise ClaimBusy(f"order {internal_order_id}", retry_in=random.randint(1, 3))
        context.sleep(random.uniform(0.05, 0.2))
    token = _held.set((*_held.get(), ((tenant, name), claim)))
    known = _known.set(_known.get() if _known.get() is not None else {})
    try:
        yield
    finally:
        forget_order(tenant, internal_order_id or "")
        _known.reset(known)
        _held.reset(token)
        try:
            why = context.claims.release(tenant, name, claim)
        except StorageUnavailable as error:  # it expires, or the event's next attempt takes it over
            log.warning("could not release the claim on order %s: %s", internal_order_id, error)
        else:
            if why is not None:
                log.warning("did not release the claim on order %s (token %s): %s", internal_order_id, claim.fence, why)
