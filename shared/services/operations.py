"""What a person operating Thor does, as flows the ops command line (`python -m ops`) calls: find the
events that need a person, replay events, re-sync an order now, reconcile now, check ZORT's webhook
registration. The command line only parses arguments and prints; the work is here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.checkpoints import Summary
from shared.domain.events import PENDING, EventStatus, InboundEvent
from shared.models.internal_events import OrderRef, ReconcileOrderEvent, StockResyncEvent
from shared.ports import EventLogPort, JsonObject, ServiceContext, StorageUnavailable, ZortPort
from shared.roles import HasCheckpoints, IntakePorts, ReplayPorts, StockFlushPorts, StockStatePorts
from shared.services.intake import Acceptance, accept_event
from shared.services.processing import process_event, replay
from shared.services.stock_sync import (
    FlushReport,
    StockSyncState,
    flush_all,
    flush_tenant,
    set_paused,
    stock_sync_state,
)
from shared.tenants import TENANTS

NEEDING_A_PERSON = (EventStatus.FAILED, EventStatus.BLOCKED, EventStatus.UNMATCHED)
STUCK_AFTER = timedelta(minutes=15)  # a `received` event older than this is listed by default: it may be stuck
RESYNC_ATTEMPTS = 3


@dataclass(frozen=True)
class EventQuery:
    """Which events: a tenant (or all), statuses (empty: any), received in [since, until), at most `limit`."""

    tenant: str | None = None
    statuses: tuple[EventStatus, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 1000


def _listed(
    events: EventLogPort, query: EventQuery, statuses: Iterable[EventStatus], until: datetime | None
) -> list[InboundEvent]:
    return events.list(tenant=query.tenant, statuses=statuses, since=query.since, until=until, limit=query.limit)


def _oldest_first(events: list[InboundEvent], limit: int) -> list[InboundEvent]:
    return sorted(events, key=lambda e: (e.received_at, e.tenant, e.event_id))[:limit]


def list_events(events: EventLogPort, query: EventQuery) -> list[InboundEvent]:
    """The events the query names, oldest first."""
    return _oldest_first(_listed(events, query, query.statuses, query.until), query.limit)


def events_needing_a_person(
    events: EventLogPort, query: EventQuery, now: datetime, stuck_after: timedelta = STUCK_AFTER
) -> list[InboundEvent]:
    """Failed, blocked and unmatched events, and those received over `stuck_after` ago and still
    pending, received or retry-scheduled (a crash or a lost queue message leaves them so), oldest first. `query.statuses` is ignored."""
    found = _listed(events, query, NEEDING_A_PERSON, query.until)
    stuck_before = now - stuck_after
    until = min(query.until, stuck_before) if query.until else stuck_before
    if not query.since or query.since < until:
        found += _listed(events, query, sorted(PENDING), until)
    return _oldest_first(found, query.limit)


# --- replay -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replayed:
    """One event replayed (or, in a dry run, to be): as it was before, and why it could not be."""

    event: InboundEvent
    error: str | None = None


def replay_one(context: ReplayPorts, tenant: str, event_id: str, dry_run: bool = False) -> InboundEvent | None:
    """Replays one event; returns it as it was before (None when there is no such event)."""
    event = context.events.get(tenant, event_id)
    if event is not None and not dry_run:
        replay(context, event.tenant, event.event_id)
    return event


def replay_many(context: ReplayPorts, query: EventQuery, dry_run: bool = False) -> Iterator[Replayed]:
    """Replays the events the query names (by default the caller asks for failed ones), oldest first;
    one that cannot be replayed is reported and does not stop the others."""
    for event in list_events(context.events, query):
        if dry_run:
            yield Replayed(event)
            continue
        try:
            replay(context, event.tenant, event.event_id)
            yield Replayed(event)
        except (LookupError, StorageUnavailable) as error:
            yield Replayed(event, str(error))


# --- re-sync one order ----------------------------------------------------------------------------


def record_resync(
    context: IntakePorts,
    tenant: str,
    marketplace_order_id: str,
    internal_order_id: str,
    now: datetime,
    reason: str = "resync (ops command line)",
) -> Acceptance:
    """Records (and queues) a `reconcile-order` event for the order: processed like onOrderCreated."""
    return accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=ReconcileOrderEvent(
            payload=OrderRef(OrderId=marketplace_order_id), reason=reason, seen=["resync", now.isoformat()]
        ),
        internal_order_id=internal_order_id,
    )


def process_now(
    context: ServiceContext,
    tenant: str,
    event_id: str,
    attempts: int = RESYNC_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[EventStatus | None, str]:
    """Processes a recorded event here and now; returns its status and its outcome (or failure reason).
    A failure is tried again a few times: a queue processor may be handling the same event meanwhile."""
    status: EventStatus | None = None
    for attempt in range(attempts):
        status = process_event(context, tenant, event_id, context.settings.retry_delays)
        if status not in PENDING:
            break
        sleep(0.5 * (attempt + 1))
    event = context.events.get(tenant, event_id)
    detail = (event.outcome if status is EventStatus.COMPLETED else event.reason) if event else ""
    return status, detail or ""


# --- reconciliation ---------------------------------------------------------------------------------


def reconcile_now(
    context: ServiceContext, tenant: str | None = None, process: bool = False
) -> tuple[list[Summary], int]:
    """Reconciles one tenant (or all) now and, with `process`, processes the repair events here;
    returns each tenant's summary and how many tenants or repairs failed."""
    from shared.services.reconciliation import reconcile_all, reconcile_tenant

    results = [reconcile_tenant(context, tenant)] if tenant else reconcile_all(context)
    failures = 0
    for result in results:
        if process:
            for event_id in result.get("event_ids", []):
                status = process_event(context, result["tenant"], event_id, context.settings.retry_delays)
                result.setdefault("processed", {})[event_id] = status.value if status else None
                failures += status is not EventStatus.COMPLETED
        failures += "error" in result
    return results, failures


def reconciliation_runs(context: HasCheckpoints, tenant: str | None = None) -> list[Summary]:
    """Each tenant's checkpoint and last run (or the one tenant's)."""
    from shared.services.reconciliation import last_runs

    return [run for run in last_runs(context) if not tenant or run["tenant"] == tenant]


# --- ZORT's webhook registration -----------------------------------------------------------------


def register_zort_webhooks(
    zort: ZortPort, key1: str, urls: Mapping[str, str], tenant: str, key2: str | None = None, key3: str | None = None
) -> JsonObject:
    """Registers Thor's webhook URLs in the tenant's ZORT store with Thor's key1; key2 and key3 stay what
    they are unless given (when blank: `thor` and the tenant). Returns ZORT's answer."""
    current = zort.get_webhook()
    key2 = key2 or str(current.get("key2") or "").strip() or "thor"
    key3 = key3 or str(current.get("key3") or "").strip() or tenant
    return zort.update_webhook(key1, key2, key3, dict(urls))


@dataclass(frozen=True)
class WebhookCheck:
    key1_set: bool
    key1_matches: bool  # the registered key1 is Thor's ZORT_KEY1
    urls: list[tuple[str, str, str, str | None]]  # field, event, registered URL, "ok"/"MISSING"/"DIFFERS" or None

    @property
    def wrong_urls(self) -> int:
        return sum(state not in (None, "ok") for *_, state in self.urls)

    @property
    def differences(self) -> int:
        return (not self.key1_matches) + self.wrong_urls


def check_zort_webhooks(
    registered: Mapping[str, object],
    thor_key1: str,
    fields: Mapping[str, str],
    expected: Mapping[str, str] | None = None,
) -> WebhookCheck:
    """Compares what ZORT has registered with Thor's key1 and, when given, the URLs it should call."""
    key1 = str(registered.get("key1") or "")
    urls: list[tuple[str, str, str, str | None]] = []
    for name, method in fields.items():
        url = str(registered.get(name) or "")
        state = None
        if expected is not None:
            state = "ok" if url == expected[name] else ("MISSING" if not url else "DIFFERS")
        urls.append((name, method, url, state))
    return WebhookCheck(bool(key1), key1 == thor_key1, urls)


# --- stock sync ---------------------------------------------------------------------------------------


def stock_overview(context: StockStatePorts, tenant: str | None = None) -> list[StockSyncState]:
    """Each tenant's stock sync state (`stock_sync.StockSyncState`), or the one tenant's."""
    return stock_sync_state(context, [tenant] if tenant else TENANTS)


def stock_flush_now(context: StockFlushPorts, tenant: str | None = None) -> list[FlushReport]:
    """Flushes one tenant (or every tenant with stock sync on) now, skipping the back-offs."""
    return [flush_tenant(context, tenant, force=True)] if tenant else flush_all(context, force=True)


def record_stock_resync(context: IntakePorts, tenant: str, requested_by: str, now: datetime) -> Acceptance:
    """Records (and queues) a `stock-resync` event: every SKU the tenant's marketplace listed is marked
    dirty when it is applied (blocked while the tenant's stock sync is off)."""
    return accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=StockResyncEvent(reason="full stock resync", requestedBy=requested_by, tenant=tenant, requested_at=now),
    )


def stock_kill_switch(context: StockStatePorts, tenant: str, on: bool, reason: str = "") -> None:
    """Turns the tenant's stock writes off (on=True) or back on, without a redeploy."""
    set_paused(context, tenant, on, reason)
