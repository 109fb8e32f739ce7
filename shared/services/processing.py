"""Applying a recorded event to Thor's state, idempotently, with retries and a dead letter.

The queue message carries only (tenant, event id); the event log holds the event and its state.
Each handler reads the current state (the webhook is a hint), applies it forward-only, and is
safe to run again: a redelivered message, a crash between steps or a replay has no second effect.

Each message model (shared.domain.events.Message) has its handler, registered by the composition
root (shared/bootstrap.py, a `{Model: handler}` map) and given here through the context: a stored
event's kind finds its model (`Model.kind`), the body is validated again with it and the handler
receives it.

Failures are retried with growing delays (a new message with a visibility delay; the event is
`retry-scheduled` meanwhile, with its reason); after the last attempt the event is marked failed
with its reason and stays replayable. A tenant not
configured for a system it needs leaves the event blocked, replayable once configured.

One worker at a time (see shared.services.claims): the event is claimed on its log entry before
anything else, and its order before any external call; a message whose event or order another
worker holds is queued again with a delay and does no work. A message whose event is not in the log
(yet, or any more: a log restored late) is kept, queued again with growing delays (`MISSING_DELAYS`),
and only then dropped with an error in the log.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from shared.domain.activity import shard_of
from shared.domain.errors import ExternalSystemError, NoMatchYet, NotConfigured
from shared.domain.events import Attempt, EventKind, EventStatus, InboundEvent, Outcome, with_attempt
from shared.domain.retries import RETRY_POLICY, worth_retrying
from shared.observability import log_context
from shared.ports import ClaimLost, ServiceContext, model_for
from shared.roles import ReplayPorts
from shared.services.activity import counting, tally
from shared.services.claims import CLAIM_SECONDS, ClaimBusy, acting_as, holding_event, new_owner, order_claim
from shared.settings import DEFAULT_RETRY_DELAYS

log = logging.getLogger("thor.processing")

# Seconds before each new look for an event missing from the log; then its message is dropped.
MISSING_DELAYS = RETRY_POLICY.event.missing_delays


def process_event(
    context: ServiceContext,
    tenant: str,
    event_id: str,
    retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS,
    *,
    owner: str | None = None,
    missing: int = 0,
    missing_delays: tuple[int, ...] = MISSING_DELAYS,
) -> EventStatus | None:
    """Processes one queued event; returns its new status (None when there is nothing to do).

    `owner` is this delivery of the queue message (`{id}#{dequeue count}`: a later delivery of it
    takes its claims over, fencing this one out); `missing` how many times this message already
    found no such event."""
    with log_context(tenant=tenant, event_id=event_id, correlation_id=event_id), acting_as(owner or new_owner()) as me:
        event, claimed = context.events.claim(tenant, event_id, me, CLAIM_SECONDS)
        if event is None:
            _missing(context, tenant, event_id, missing, missing_delays)
            return None
        if event.status in (EventStatus.COMPLETED, EventStatus.IGNORED):
            return event.status
        if not claimed:
            delay = _seconds_until(event.due_by, context.clock())
            context.queue.send(tenant, event_id, delay=delay)
            log.info("event %s/%s is being processed by another worker: looking again in %ss", tenant, event_id, delay)
            return None
        try:
            with holding_event(event):
                return _process(context, event, retry_delays)
        except ClaimLost as lost:  # its final status refused: the worker that took it over writes it
            log.warning("event %s/%s: stopping without effects: %s", tenant, event_id, lost)
            return None


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    left = (moment - now).total_seconds() if moment else 0
    return int(min(max(left + 1, 1), CLAIM_SECONDS + 1))


def _missing(context: ServiceContext, tenant: str, event_id: str, missing: int, delays: tuple[int, ...]) -> None:
    """Keeps the message of an event the log does not have (yet), looking again later, within a bound."""
    if missing < len(delays):
        context.queue.send(tenant, event_id, delay=delays[missing], missing=missing + 1)
        log.warning(
            "queued event %s/%s is not in the event log: looking again in %ss (%d of %d)",
            tenant,
            event_id,
            delays[missing],
            missing + 1,
            len(delays),
        )
    else:
        log.error(
            "queued event %s/%s is still not in the event log after %d looks over %ss: dropping its message",
            tenant,
            event_id,
            missing + 1,
            sum(delays),
        )
    return None


# Outcomes counted per hour for the console (shared.domain.activity); a retry is not one.
COUNTED_OUTCOMES = frozenset(
    {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.BLOCKED, EventStatus.UNMATCHED, EventStatus.IGNORED}
)


def _process(context: ServiceContext, event: InboundEvent, retry_delays: tuple[int, ...]) -> EventStatus | None:
    """One attempt, counted: an event's first attempt is `accepted`, its outcome by its status, once:
    an attempt that leaves the event in the status it already had (blocked again) is not counted
    again, and a replay takes its old outcome back (`replay`), so each event is counted once, in its
    current outcome."""
    first = event.attempts == 0 and event.reason != "replayed"
    before = event.status
    with counting(context, event.tenant, event.event_id):
        status = _attempt(context, event, retry_delays)
        if status is not EventStatus.RECEIVED:  # RECEIVED: the order's claim was busy, not an attempt
            if first:
                tally("accepted")
            if status in COUNTED_OUTCOMES and status is not before:
                tally(status.value)
    return status


def _attempt_of(
    context: ServiceContext, status: EventStatus, error: Exception | None = None, retry_in: float | None = None
) -> Attempt:
    """What the console shows of one attempt: when, the outcome, the system called and its answer."""
    now = context.clock()
    attempt = Attempt(at=now, outcome=status.value)
    if isinstance(error, ExternalSystemError):
        attempt.system, attempt.operation = error.system, error.operation
        attempt.http_status, attempt.code = error.status, error.code
    elif isinstance(error, NotConfigured):
        attempt.system, attempt.code = error.system.lower(), "NOT_CONFIGURED"
    if error is not None:
        attempt.error = f"{type(error).__name__}: {error}"[:500]
    if retry_in is not None:
        attempt.next_retry_at = now + timedelta(seconds=retry_in)
    return attempt


def _attempt(context: ServiceContext, event: InboundEvent, retry_delays: tuple[int, ...]) -> EventStatus | None:
    tenant, event_id = event.tenant, event.event_id
    model = model_for(context.handlers, event.kind)
    attempts = event.attempts + 1
    try:
        if model is None:
            raise LookupError(f"no handler for events of kind {event.kind.value!r}")
        body = model.model_validate(event.body)  # as intake validated it
        with order_claim(context, tenant, event.internal_order_id):
            outcome: Outcome = context.handlers[model](context, event, body)
    except ClaimLost as lost:  # a later delivery took the work over: no write, no send, no retry
        log.warning("event %s/%s: stopping without effects: %s", tenant, event_id, lost)
        return None
    except NoMatchYet as waiting:  # not an attempt: the order it names may still be on its way
        context.events.set_status(event, EventStatus.RECEIVED, reason=str(waiting), due_in=waiting.retry_in)
        context.queue.send(tenant, event_id, delay=waiting.retry_in)
        log.info("event %s/%s: %s", tenant, event_id, waiting)
        return EventStatus.RECEIVED
    except ClaimBusy as busy:  # not an attempt: the work waits for the worker holding the order
        context.events.set_status(event, EventStatus.RECEIVED, reason=str(busy), due_in=busy.retry_in)
        context.queue.send(tenant, event_id, delay=busy.retry_in)
        log.info("event %s/%s waits %ss: %s", tenant, event_id, busy.retry_in, busy)
        return EventStatus.RECEIVED
    except NotConfigured as blocked:
        context.events.set_status(
            event,
            EventStatus.BLOCKED,
            reason=str(blocked),
            attempts=attempts,
            history=with_attempt(event.history, _attempt_of(context, EventStatus.BLOCKED, blocked)),
        )
        log.info("event %s/%s blocked: %s", tenant, event_id, blocked)
        return EventStatus.BLOCKED
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        if attempts > len(retry_delays) or not _worth_retrying(error):
            context.events.set_status(
                event,
                EventStatus.FAILED,
                reason=reason,
                attempts=attempts,
                history=with_attempt(event.history, _attempt_of(context, EventStatus.FAILED, error)),
            )
            log.error("event %s/%s failed after %d attempts: %s", tenant, event_id, attempts, reason)
            _note_failure(context, event, reason)
            return EventStatus.FAILED
        retry_in = retry_delays[attempts - 1]
        context.events.set_status(
            event,
            EventStatus.RETRY_SCHEDULED,
            reason=reason,
            attempts=attempts,
            due_in=retry_in,
            history=with_attempt(event.history, _attempt_of(context, EventStatus.RETRY_SCHEDULED, error, retry_in)),
        )
        context.queue.send(tenant, event_id, delay=retry_delays[attempts - 1])
        log.warning(
            "event %s/%s attempt %d failed, retrying in %ss: %s",
            tenant,
            event_id,
            attempts,
            retry_delays[attempts - 1],
            reason,
        )
        return EventStatus.RETRY_SCHEDULED
    context.events.set_status(
        event,
        outcome.status,
        outcome=outcome.detail,
        attempts=attempts,
        internal_order_id=outcome.internal_order_id,
        history=with_attempt(event.history, _attempt_of(context, outcome.status)),
    )
    log.info(
        "event %s/%s %s: %s",
        tenant,
        event_id,
        outcome.status.value,
        outcome.detail,
        extra={"order_id": outcome.internal_order_id, "outcome": outcome.status.value},
    )
    return outcome.status


_worth_retrying = worth_retrying  # what is worth another attempt: the retry policy's (shared.domain.retries)


def replay(context: ReplayPorts, tenant: str, event_id: str, by: str | None = None) -> InboundEvent:
    """Puts a failed, blocked or unmatched event back on the queue with fresh attempts (noted in its
    history, with who asked). Its old outcome is taken out of the activity counts: the event is
    counted again by what the replay leads to."""
    event = context.events.get(tenant, event_id)
    if event is None:
        raise LookupError(f"no event {tenant}/{event_id}")
    before = event.model_copy(deep=True)
    replayed = Attempt(at=context.clock(), outcome="replayed", by=by)
    context.events.set_status(
        event, EventStatus.RECEIVED, reason="replayed", attempts=0, history=with_attempt(event.history, replayed)
    )
    context.queue.send(tenant, event_id)
    if before.status in COUNTED_OUTCOMES - {EventStatus.COMPLETED}:
        try:
            context.activity.add(tenant, context.clock(), {before.status.value: -1}, shard_of(event_id))
        except Exception as error:  # a dashboard count: never the replay's failure
            log.warning("activity count of %s not taken back on replay: %s", event_id, error)
    return event


def _note_failure(context: ServiceContext, event: InboundEvent, reason: str) -> None:
    """A flow whose failure shows on its order beyond the event (a tax document: `failed`)."""
    if event.kind is not EventKind.TAX_DOCUMENT:
        return
    from shared.services.marketplace_loop import document_failed

    try:
        document_failed(context, event, reason)
    except Exception:  # the event is failed and listed whatever happens here
        log.exception("event %s/%s: could not note the failure on its order", event.tenant, event.event_id)
