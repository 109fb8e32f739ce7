"""Thor's one retry policy: what is retried, how often, after what delays, and the budget per event.

Retries happen at three levels, nested; each reads its numbers from `RETRY_POLICY`:

1. **A storage request** (Table or queue, `shared.adapters.storage`): the Azure SDK tries it
   `storage.retries` more times, waits growing from `storage.backoff`; within a webhook the whole
   storage work is also cut at `STORAGE_BOUND` (a 503 with Retry-After, the sender retries).
2. **An external call** (Seller Center, OMS, ZORT, `shared.adapters.http.HttpCaller`): up to
   `call.attempts` tries of a retryable failure (timeout, connection, 408/429/5xx, a garbled 2xx),
   after exponential back-off with jitter from `call.backoff_base`, or the server's Retry-After,
   each wait capped at `call.max_backoff`. Then the error is raised, still marked retryable.
3. **An event** (`shared.services.processing`): an attempt whose failure is worth retrying
   (`worth_retrying`) is tried again after `event.delays[n]` (a new queue message with that
   visibility delay), `len(event.delays) + 1` attempts in all; then the event is `failed`, kept with
   its reason, and replayable. One attempt is bounded by `event.attempt_seconds` (the host's
   `functionTimeout`, host.json, and the claim, `shared.services.claims.CLAIM_SECONDS`).

Not attempts, and so outside the budget: a claim busy elsewhere (the work waits 1–3 s for its
holder, whose claim lapses after `event.attempt_seconds`); an ETag conflict on an order
(`order_write_conflicts` re-reads in one attempt, milliseconds apart); a queued message whose event
is not in the log yet (`event.missing_delays`, then dropped with an error); a worker crash (the host
redelivers the message up to `event.crash_deliveries` times, host.json `maxDequeueCount`, then the
sweeper queues the pending event again: crashes are not counted, see docs/architecture.md).

The layers multiply: in the worst case one external call is sent `call.attempts` × event attempts
times for one event. `RetryPolicy.budget()` computes the worst case; docs/architecture.md
("Retries") shows it and tests/unit/test_retry_policy.py checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import ExternalSystemError


@dataclass(frozen=True)
class StorageRetries:
    retries: int = 2
    """Tries after the first, per storage request."""
    backoff: float = 0.2
    """Seconds before the first retry (the SDK's backoff factor; doubled for the next)."""
    connect_timeout: float = 3.0
    read_timeout: float = 4.0

    def worst_seconds(self) -> float:
        """One storage request's worst time: every try times out, with every wait."""
        waits = sum(self.backoff * 2.0**n for n in range(self.retries))
        return (self.retries + 1) * (self.connect_timeout + self.read_timeout) + waits


@dataclass(frozen=True)
class CallRetries:
    attempts: int = 4
    """Tries per external call, the first included."""
    backoff_base: float = 0.5
    """Seconds before the second try (with jitter), doubled for each next one."""
    max_backoff: float = 30.0
    """Cap on one wait, the server's Retry-After included."""
    timeout: tuple[float, float] = (3.05, 15.0)
    """(connect, read) seconds per try."""

    def worst_seconds(self) -> float:
        """One call's worst time: every try times out, every wait is the cap."""
        return self.attempts * sum(self.timeout) + (self.attempts - 1) * self.max_backoff


@dataclass(frozen=True)
class EventRetries:
    delays: tuple[int, ...] = (10, 60, 300, 1800, 7200)
    """Seconds before each retry of a failed attempt (THOR_RETRY_DELAYS overrides them per deployment)."""
    attempt_seconds: int = 300
    """One attempt's bound: the host's functionTimeout and an unreleased claim's life."""
    missing_delays: tuple[int, ...] = (5, 30, 120, 600, 1800)
    """Seconds before each new look for a queued event missing from the log; then its message is dropped."""
    crash_deliveries: int = 5
    """Deliveries of one queue message whose worker dies before recording anything (host.json maxDequeueCount)."""

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1


@dataclass(frozen=True)
class RetryBudget:
    """The worst case for one event, as the policy allows it."""

    event_attempts: int
    """Attempts of one event before it is failed."""
    sends_per_call: int
    """Times one external call of the event may be sent: tries per call × event attempts."""
    call_seconds: float
    """One external call's worst time (every try timing out, every wait capped)."""
    storage_request_seconds: float
    """One storage request's worst time."""
    event_seconds: int
    """From the first attempt to `failed`: every retry delay plus every attempt at its bound."""


@dataclass(frozen=True)
class RetryPolicy:
    storage: StorageRetries = StorageRetries()
    call: CallRetries = CallRetries()
    event: EventRetries = EventRetries()
    order_write_conflicts: int = 20
    """Re-reads of an order whose ETag changed under a write, within one attempt."""

    def budget(self) -> RetryBudget:
        return RetryBudget(
            event_attempts=self.event.attempts,
            sends_per_call=self.call.attempts * self.event.attempts,
            call_seconds=self.call.worst_seconds(),
            storage_request_seconds=self.storage.worst_seconds(),
            event_seconds=sum(self.event.delays) + self.event.attempts * self.event.attempt_seconds,
        )


RETRY_POLICY = RetryPolicy()
"""The policy Thor runs with: the one place its retry numbers are written."""


def worth_retrying(error: Exception) -> bool:
    """Whether another attempt of an event may succeed. A connector's error says so itself (a wrong
    signature or token will not fix itself: replay once the settings are fixed); a bug in handling
    an event's data (TypeError, KeyError, …) fails at once instead of five times over hours."""
    if isinstance(error, ExternalSystemError):
        if error.system == "marketplace" and error.code == "NOT_FOUND":
            return True  # the marketplace may list an order a little after announcing it
        return error.retryable
    return not isinstance(error, (TypeError, AttributeError, KeyError, LookupError, ValueError))
