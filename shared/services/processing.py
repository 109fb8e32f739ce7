"""Applying a recorded event to Thor's state, idempotently, with retries and a dead letter.

The queue message carries only (tenant, event id); the event log holds the event and its state.
Each handler reads the current state (the webhook is a hint), applies it forward-only, and is
safe to run again: a redelivered message, a crash between steps or a replay has no second effect.

Failures are retried with growing delays (a new message with a visibility delay); after the
last attempt the event is marked failed with its reason and stays replayable. A tenant not
configured for a system it needs leaves the event blocked, replayable once configured.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from shared.domain.errors import NotConfigured
from shared.domain.events import EventStatus, InboundEvent
from shared.observability import log_context
from shared.settings import DEFAULT_RETRY_DELAYS

log = logging.getLogger("thor.processing")


@dataclass
class Outcome:
    status: EventStatus
    detail: str
    internal_order_id: str | None = None


Handler = Callable[[object, InboundEvent], Outcome]


def handlers() -> dict[str, Handler]:
    from shared.services import marketplace_flows, zort_flows
    return {
        "order-created": marketplace_flows.handle_order_created,
        "items-status": marketplace_flows.handle_items_status,
        "products": marketplace_flows.handle_products,
        "refund": marketplace_flows.handle_refund,
        "reconcile-order": marketplace_flows.handle_order_created,
        "zort": zort_flows.handle_zort,
    }


def process_event(context, tenant: str, event_id: str, retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS) -> EventStatus | None:
    """Processes one queued event; returns its new status (None when there is nothing to do)."""
    with log_context(tenant=tenant, event_id=event_id, correlation_id=event_id):
        return _process(context, tenant, event_id, retry_delays)


def _process(context, tenant: str, event_id: str, retry_delays: tuple[int, ...]) -> EventStatus | None:
    event = context.events.get(tenant, event_id)
    if event is None:
        log.warning("queued event %s/%s is not in the event log", tenant, event_id)
        return None
    if event.status is EventStatus.COMPLETED:
        return EventStatus.COMPLETED
    handler = handlers().get(event.kind)
    attempts = event.attempts + 1
    try:
        if handler is None:
            raise LookupError(f"no handler for events of kind {event.kind!r}")
        outcome = handler(context, event)
    except NotConfigured as blocked:
        context.events.set_status(event, EventStatus.BLOCKED, reason=str(blocked), attempts=attempts)
        log.info("event %s/%s blocked: %s", tenant, event_id, blocked)
        return EventStatus.BLOCKED
    except Exception as error:  # noqa: BLE001 - any failure is retried, then kept with its reason
        reason = f"{type(error).__name__}: {error}"
        if attempts > len(retry_delays) or not _worth_retrying(error):
            context.events.set_status(event, EventStatus.FAILED, reason=reason, attempts=attempts)
            log.error("event %s/%s failed after %d attempts: %s", tenant, event_id, attempts, reason)
            return EventStatus.FAILED
        context.events.set_status(event, EventStatus.RECEIVED, reason=reason, attempts=attempts)
        context.queue.send(tenant, event_id, delay=retry_delays[attempts - 1])
        log.warning("event %s/%s attempt %d failed, retrying in %ss: %s", tenant, event_id, attempts,
                    retry_delays[attempts - 1], reason)
        return EventStatus.RECEIVED
    context.events.set_status(event, outcome.status, outcome=outcome.detail, attempts=attempts,
                              internal_order_id=outcome.internal_order_id)
    log.info("event %s/%s %s: %s", tenant, event_id, outcome.status.value, outcome.detail,
             extra={"order_id": outcome.internal_order_id, "outcome": outcome.status.value})
    return outcome.status


def _worth_retrying(error: Exception) -> bool:
    """Whether another attempt may succeed. A connector's error says so itself (a wrong signature or
    token will not fix itself: replay once the settings are fixed); a bug in handling an event's data
    (TypeError, KeyError, …) fails at once instead of five times over hours."""
    if getattr(error, "code", None) == "NOT_FOUND":
        return True  # the marketplace may list an order a little after announcing it
    retryable = getattr(error, "retryable", None)
    if isinstance(retryable, bool):
        return retryable
    return not isinstance(error, (TypeError, AttributeError, KeyError, LookupError, ValueError))


def replay(context, tenant: str, event_id: str) -> InboundEvent:
    """Puts a failed, blocked or unmatched event back on the queue with fresh attempts."""
    event = context.events.get(tenant, event_id)
    if event is None:
        raise LookupError(f"no event {tenant}/{event_id}")
    context.events.set_status(event, EventStatus.RECEIVED, reason="replayed", attempts=0)
    context.queue.send(tenant, event_id)
    return event
