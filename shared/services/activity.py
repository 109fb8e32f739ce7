"""Counting what the processor does, per tenant per hour (shared.domain.activity), for the console.

Processing one event opens a tally (`counting`); the flows say what happened (`tally("orders_created")`)
and the outcome is added; when the event's processing ends, the tally is added to the tenant's hour in
one addition (a read and a write). Outside a tally (tests, the ops CLI's own calls) `tally` does
nothing. A failed addition is logged and dropped: it never fails or delays the event itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections import Counter
from collections.abc import Iterator

from shared.domain.activity import shard_of
from shared.roles import ActivityPorts

log = logging.getLogger("thor.activity")

_tally: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("activity_tally", default=None)


def tally(counter: str, amount: int = 1) -> None:
    """Counts `counter` for the event being processed (nothing outside one)."""
    current = _tally.get()
    if current is not None:
        current[counter] += amount


@contextlib.contextmanager
def counting(context: ActivityPorts, tenant: str, event_id: str) -> Iterator[Counter[str]]:
    """Collects the counts of one event's processing and adds them once it ends."""
    counts: Counter[str] = Counter()
    token = _tally.set(counts)
    try:
        yield counts
    finally:
        _tally.reset(token)
        if counts:
            try:
                context.activity.add(tenant, context.clock(), counts, shard_of(event_id))
            except Exception as error:  # a dashboard count: never the event's failure
                log.warning("activity counts of %s not added (%s): %s", tenant, dict(counts), error)
