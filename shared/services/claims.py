"""One worker at a time: processing claims on events and on orders.

An event is claimed on its own event-log entry (`EventLogPort.claim`) by the queue message that
carries it; an order is claimed in the claim store by that same owner, before any external call
that concerns it, and held until its changes have reached the OMS. The owner is the queue message's
id, so a redelivery of a message whose worker crashed takes its own claim back at once, while a
duplicate message (another id) waits. A claim nobody releases expires after `CLAIM_SECONDS` (no
longer than the time a message stays invisible while its function runs), and the work is resumed.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta

from shared.ports import ServiceContext, StorageUnavailable

log = logging.getLogger("thor.claims")

CLAIM_SECONDS = 300  # the runner's lease and the host's functionTimeout are 5 minutes
ORDER_WAIT_SECONDS = 3.0  # how long a worker waits for an order another worker holds, before re-queueing

_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar("claim_owner", default=None)
_held: contextvars.ContextVar[frozenset[tuple[str, str]]] = contextvars.ContextVar("claims_held", default=frozenset())


class ClaimBusy(Exception):
    """Another worker holds the claim: try again in `retry_in` seconds."""

    def __init__(self, what: str, retry_in: int):
        super().__init__(f"{what} is being processed by another worker")
        self.retry_in = retry_in


def new_owner() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def acting_as(owner: str) -> Iterator[str]:
    """Claims taken inside belong to `owner` (the queue message being processed)."""
    token = _owner.set(owner)
    try:
        yield owner
    finally:
        _owner.reset(token)


def order_claim_name(internal_order_id: str) -> str:
    return f"order:{internal_order_id}"


@contextlib.contextmanager
def order_claim(
    context: ServiceContext, tenant: str, internal_order_id: str | None, wait: float = ORDER_WAIT_SECONDS
) -> Iterator[None]:
    """Holds the order's claim inside (re-entrant); ClaimBusy when another worker keeps it past `wait`."""
    name = order_claim_name(internal_order_id) if internal_order_id else None
    if name is None or (tenant, name) in _held.get():
        yield
        return
    owner = _owner.get() or new_owner()
    deadline = context.clock() + timedelta(seconds=wait)
    while (etag := context.claims.take(tenant, name, owner, CLAIM_SECONDS)) is None:
        if context.clock() >= deadline:
            raise ClaimBusy(f"order {internal_order_id}", retry_in=random.randint(1, 3))
        context.sleep(random.uniform(0.05, 0.2))
    token = _held.set(_held.get() | {(tenant, name)})
    try:
        yield
    finally:
        _held.reset(token)
        try:
            context.claims.release(tenant, name, etag)
        except StorageUnavailable as error:  # it expires by itself
            log.warning("could not release the claim on order %s: %s", internal_order_id, error)
