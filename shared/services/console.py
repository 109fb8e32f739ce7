"""What the operations console shows and does (functions/console.py renders it).

Every page's storage work is bounded by the page, not by the tenant's size (10,000 orders):
- overview of all tenants: one activity query per tenant (9), each one page (≤ 672 rows);
- a tenant's overview: 1 activity query, + 4 where stock sync is on (the tenant's stock state, one
  page of its dirty SKUs, counted up to DIRTY_COUNTED, one page of its refused SKUs, its open feeds);
- a tenant's at risk: 4 queries of at most `limit` rows each (orders not in the OMS, orders awaiting
  shipment near their promised time, failed/blocked/unmatched events, pending events received
  before the stuck limit), each one page normally (orders: at most 2, shared/adapters/order_repo.py);
- an order's journey: 1 order read + 1 query of the order's events;
- an event: 1 read.
Counts per hour come from the activity counts the processor keeps (shared.domain.activity), never
from scanning events. The actions reuse the ops CLI's services (shared/services/operations.py) and
note on the order's timeline who did what (source `console`: not on the webtracking timeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.activity import HourlyCounts, hour_start
from shared.domain.at_risk import Risk, RiskRules, event_risk, order_risks
from shared.domain.events import PENDING, EventStatus, InboundEvent
from shared.domain.order import Order
from shared.domain.times import in_local_time, rfc3339, tenant_zone
from shared.ports import ServiceContext
from shared.services.operations import NEEDING_A_PERSON, EventQuery, Replayed, record_resync, replay_many, replay_one
from shared.services.order_changes import change_order
from shared.services.status_view import order_status_view
from shared.services.stock_sync import stock_sync_state
from shared.tenants import TENANT_NAMES, TENANTS

DAYS = 7
ROWS = 50  # rows per at-risk section
REPLAY_AT_MOST = 100  # events one "replay the tenant's failed events" replays
TEXT_AT_MOST = 300  # characters of an event's reason or outcome shown
DIRTY_COUNTED = 1000  # dirty SKUs a tenant page counts: one page of the query, whatever the backlog


# --- overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockSyncView:
    configured: bool
    summary: str
    details: tuple[tuple[str, str], ...] = ()


def stock_sync_view(context: ServiceContext, tenant: str) -> StockSyncView:
    """The tenant's stock sync (shared/services/stock_sync.py) as the overview shows it: on or off,
    the kill switch, dirty and in-flight SKUs, the last flush and the SKUs the marketplace refused."""
    if not context.stock_settings(tenant).enabled:  # no storage read for a tenant without stock sync
        return StockSyncView(False, f"off (MARKETPLACE_STOCK_SYNC_{tenant.upper()} is not true)")
    state = stock_sync_state(context, [tenant], dirty_limit=DIRTY_COUNTED)[0]
    counted = "" if state.dirty + state.in_flight < DIRTY_COUNTED else f" (counted up to {DIRTY_COUNTED:,})"
    summary = f"paused: {state.paused_reason or 'kill switch on'}" if state.paused else "on"
    last = "never"
    if state.last_flush_at:
        last = f"{rfc3339(state.last_flush_at)}: {state.last_result or ''} {state.last_detail or ''}".strip()
    details = [
        ("warehouse / buffer", f"{state.warehouse} / {state.buffer} units held back"),
        ("dirty SKUs", f"{state.dirty}{counted}"),
        ("in flight", f"{state.in_flight}{counted}"),
        ("in feed (awaiting the marketplace)", f"{state.in_feed}{counted}"),
        ("last flush", last[:TEXT_AT_MOST]),
    ]
    for feed in state.open_feeds[:10]:
        flag = "OVERDUE " if feed.overdue else ""
        details.append(
            (
                f"open feed {feed.feed_id}",
                f"{flag}{feed.age_minutes:g} min old, {feed.status}, {feed.skus} SKU(s), "
                f"{feed.polls} poll(s) {feed.detail}".strip()[:TEXT_AT_MOST],
            )
        )
    if state.wait_until:
        details.append(("no write before", rfc3339(state.wait_until)))
    for failure in state.failures[:10]:
        details.append((f"refused: {failure.sku}", f"{failure.result} {failure.reason}"[:TEXT_AT_MOST]))
    return StockSyncView(True, summary, tuple(details))


@dataclass(frozen=True)
class PriceSyncView:
    """The tenant's price sync (shared/services/price_sync.py) as its page shows it."""

    summary: str
    details: tuple[tuple[str, str], ...] = ()
    held: tuple[tuple[str, str, str, str], ...] = ()
    """SKU, ZORT's price, the price held, why: each with a confirmation action."""


def price_sync_view(context: ServiceContext, tenant: str) -> PriceSyncView:
    """On or off, the kill switch, marked / in flight / in feed / held / refused SKUs (counted up to
    `DIRTY_COUNTED`), the last flush and feed, held SKUs (to confirm) and refused ones with the reason."""
    from shared.services.price_sync import price_sync_state

    settings = context.price_settings(tenant)
    if not settings.enabled:  # no storage read for a tenant without price sync
        return PriceSyncView(f"off (MARKETPLACE_PRICE_SYNC_{tenant.upper()} is not true)")
    state = price_sync_state(context, [tenant], limit=DIRTY_COUNTED)[0]
    summary = f"paused: {state.paused_reason or 'kill switch on'}" if state.paused else "on"
    last = "never"
    if state.last_flush_at:
        last = f"{rfc3339(state.last_flush_at)}: {state.last_result or ''} {state.last_detail or ''}".strip()
    counts = state.counts
    details = [
        ("currency / markup / adjustment", f"{state.currency} / {state.markup_percent}% / {state.adjustment}"),
        ("guard", f"a change over {state.guard_percent}% at once, or to zero, waits for a person"),
        (
            "marked / in flight / in feed",
            f"{counts.get('marked', 0)} / {counts.get('in-flight', 0)} / {counts.get('in-feed', 0)}",
        ),
        ("held / refused", f"{counts.get('held', 0)} / {counts.get('refused', 0)}"),
        ("last flush", last[:TEXT_AT_MOST]),
        (
            "last feed",
            f"{state.last_feed_id or '-'} {rfc3339(state.last_feed_at) if state.last_feed_at else ''}".strip(),
        ),
    ]
    held = []
    for row in state.attention[:20]:
        if row.state == "held":
            held.append((row.sku, row.zort_price, row.held_price, row.reason[:TEXT_AT_MOST]))
        else:
            details.append((f"refused: {row.sku}", f"{row.sent} {row.reason}"[:TEXT_AT_MOST]))
    return PriceSyncView(summary, tuple(details), tuple(held))


def confirm_price_action(context: ServiceContext, tenant: str, sku: str, user: str) -> str:
    """A person confirms a held price (noted on the SKU's price history with who); the price confirmed."""
    from shared.services.price_sync import confirm_price

    return confirm_price(context, tenant, sku, user).approved_price


@dataclass
class TenantOverview:
    tenant: str
    name: str
    zone: str
    now: datetime
    today_since: datetime
    """The tenant's local midnight today, in UTC."""
    counts: HourlyCounts
    stock: StockSyncView | None = None
    prices: PriceSyncView | None = None

    def today(self, counter: str) -> int:
        return self.counts.total(counter, self.today_since)

    def week(self, counter: str) -> int:
        return self.counts.total(counter)


def local_midnight(now: datetime, tenant: str) -> datetime:
    """The start of the tenant's local day containing `now`, in UTC (whole-hour offsets: an hour)."""
    local = in_local_time(now, tenant_zone(tenant))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return hour_start(midnight.replace(tzinfo=tenant_zone(tenant)))


def tenant_overview(context: ServiceContext, tenant: str, with_stock: bool = True) -> TenantOverview:
    """Today (the tenant's local day) and the last 7 local days, per hour: one query."""
    now = context.clock()
    today = local_midnight(now, tenant)
    since = today - timedelta(days=DAYS - 1)
    until = hour_start(now) + timedelta(hours=1)
    counts = HourlyCounts(since, until, context.activity.hours(tenant, since, until))
    stock = stock_sync_view(context, tenant) if with_stock else None
    prices = price_sync_view(context, tenant) if with_stock else None
    return TenantOverview(tenant, TENANT_NAMES[tenant], tenant_zone(tenant).key, now, today, counts, stock, prices)


def overview(context: ServiceContext) -> list[TenantOverview]:
    return [tenant_overview(context, tenant, with_stock=False) for tenant in TENANTS]


# --- at risk ----------------------------------------------------------------------------------


@dataclass
class AtRisk:
    tenant: str
    now: datetime
    rules: RiskRules
    orders: list[Risk] = field(default_factory=list)
    events: list[Risk] = field(default_factory=list)
    limit: int = ROWS
    full: list[str] = field(default_factory=list)
    """Sections that reached `limit` rows: there may be more."""


def at_risk(context: ServiceContext, tenant: str, rules: RiskRules = RiskRules(), limit: int = ROWS) -> AtRisk:
    now = context.clock()
    found = AtRisk(tenant, now, rules, limit=limit)
    late = context.orders.not_in_oms(tenant, now - rules.not_in_oms_after, limit)
    shipping = context.orders.awaiting_shipment(tenant, now + rules.ship_warning, limit)
    seen: set[tuple[str, str | None]] = set()
    for order in [*late, *shipping]:
        for risk in order_risks(order, now, rules):
            if (risk.kind.value, risk.internal_order_id) not in seen:
                seen.add((risk.kind.value, risk.internal_order_id))
                found.orders.append(risk)
    stuck_before = now - rules.stuck_after
    needing = context.events.list(tenant=tenant, statuses=NEEDING_A_PERSON, limit=limit)
    pending = context.events.list(tenant=tenant, statuses=sorted(PENDING), until=stuck_before, limit=limit)
    for event in [*needing, *pending]:
        flagged = event_risk(event, now, rules)
        if flagged:
            found.events.append(flagged)
    found.orders.sort(key=lambda r: r.since)
    found.events.sort(key=lambda r: r.since)
    sizes = {
        "orders not in the OMS": len(late),
        "orders awaiting shipment": len(shipping),
        "failed, blocked or unmatched events": len(needing),
        "pending events": len(pending),
    }
    found.full = [name for name, size in sizes.items() if size >= limit]
    return found


# --- an order's journey -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventSummary:
    """An event as the console shows it: never its body (a ZORT body can hold a customer's data)."""

    tenant: str
    event_id: str
    kind: str
    status: str
    attempts: int
    received_at: datetime
    updated_at: datetime | None
    outcome: str
    reason: str
    internal_order_id: str | None


def summarize(event: InboundEvent) -> EventSummary:
    return EventSummary(
        event.tenant,
        event.event_id,
        event.kind.value,
        event.status.value,
        event.attempts,
        event.received_at,
        event.updated_at,
        (event.outcome or "")[:TEXT_AT_MOST],
        (event.reason or "")[:TEXT_AT_MOST],
        event.internal_order_id,
    )


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str
    detail: str
    source: str
    event: EventSummary | None


@dataclass
class Journey:
    view: dict[str, Any]
    """The order as the status endpoint shows it (shared.services.status_view): no personal data."""
    steps: list[Step]
    other_events: list[EventSummary]
    """The order's events behind no step (failed, blocked, still pending, or with nothing to change)."""
    oms_synced: bool


def order_journey(context: ServiceContext, tenant: str, internal_order_id: str) -> Journey | None:
    found = context.orders.get(tenant, internal_order_id)
    if not found:
        return None
    order = found[0]
    order_events = context.events.for_order(tenant, internal_order_id)
    events = {e.event_id: summarize(e) for e in order_events}
    steps = [
        Step(entry.at, entry.what, entry.detail, entry.source, events.get(entry.event_id or ""))
        for entry in order.timeline
    ]
    behind = {entry.event_id for entry in order.timeline}
    others = [summary for event_id, summary in events.items() if event_id not in behind]
    return Journey(order_status_view(order), steps, others, order.oms_synced)


def event_summary(context: ServiceContext, tenant: str, event_id: str) -> EventSummary | None:
    event = context.events.get(tenant, event_id)
    return summarize(event) if event else None


# --- actions ----------------------------------------------------------------------------------


def note_action(context: ServiceContext, tenant: str, internal_order_id: str | None, what: str, detail: str) -> None:
    """Puts an operator's action on the order's timeline (nothing when there is no such order)."""
    if not internal_order_id or context.orders.get(tenant, internal_order_id) is None:
        return

    def note(order: Order) -> None:
        order.note(what, detail, source="console")

    change_order(context.orders, tenant, internal_order_id, note, sleep=context.sleep)


def replay_event_action(context: ServiceContext, tenant: str, event_id: str, user: str) -> EventSummary:
    """Replays one event (LookupError when there is none) and notes it on its order's timeline."""
    event = replay_one(context, tenant, event_id)
    if event is None:
        raise LookupError(f"no event {tenant}/{event_id}")
    note_action(
        context,
        tenant,
        event.internal_order_id,
        "replayed",
        f"{event.kind.value} event {event_id} ({event.status.value}) replayed by {user}",
    )
    return summarize(event)


def replay_failed_action(context: ServiceContext, tenant: str, user: str) -> list[Replayed]:
    """Replays the tenant's failed events (at most REPLAY_AT_MOST, oldest first), each noted on its order."""
    query = EventQuery(tenant=tenant, statuses=(EventStatus.FAILED,), limit=REPLAY_AT_MOST)
    done = list(replay_many(context, query))
    for replayed in done:
        if replayed.error is None:
            note_action(
                context,
                tenant,
                replayed.event.internal_order_id,
                "replayed",
                f"{replayed.event.kind.value} event {replayed.event.event_id} (failed) replayed by {user}"
                " with the tenant's failed events",
            )
    return done


def resync_order_action(context: ServiceContext, tenant: str, internal_order_id: str, user: str) -> str:
    """Records and queues a re-sync of the order (read from the marketplace, sent to the OMS); returns
    its event id. LookupError when there is no such order."""
    found = context.orders.get(tenant, internal_order_id)
    if not found:
        raise LookupError(f"no order {tenant}/{internal_order_id}")
    order = found[0]
    acceptance = record_resync(
        context,
        tenant,
        order.marketplace_order_id,
        internal_order_id,
        context.clock(),
        reason=f"resync (console, by {user})",
    )
    note_action(context, tenant, internal_order_id, "re-sync asked", f"by {user} (event {acceptance.event_id})")
    return acceptance.event_id
