"""What the operations console shows and does (functions/console.py renders it).

Every page's storage work is bounded by the page, not by the tenant's size (10,000 orders):
- overview of all tenants, what is open now beside the day's flow: per tenant its at-risk queries
  (4, at most OPEN_COUNTED rows each, reading key columns only: orders not in the OMS, orders awaiting
  shipment near their promised time, failed/blocked/unmatched events, pending events received before
  the stuck limit; the order queries at most 2 pages each), one activity query for today, and where
  stock sync is on one page of its refused SKUs and of its open feeds (2): 45 requests for nine tenants
  (at most 63), + 2 per tenant with stock sync; the tenants are read side by side (threads);
- a tenant's overview: 1 activity query, + 4 where stock sync is on (the tenant's stock state, one
  page of its dirty SKUs, counted up to DIRTY_COUNTED, one page of its refused SKUs, its open feeds);
- a tenant's at risk: its 4 at-risk queries of at most `limit` rows;
- the SLA radar: per tenant one query of the orders awaiting shipment promised within RADAR_HOURS
  (at most RADAR_ROWS) and one activity query of CANCEL_DAYS days (≤ 2,880 rows, 3 pages): 18 queries;
- search: point reads only (order, event, product, stock SKU per tenant: at most 37);
- an order's journey: 1 order read + 1 query of the order's events; an event: 1 read.
Counts per hour come from the activity counts the processor keeps (shared.domain.activity), never
from scanning events; what is open now comes from the current state, each event counted once. The
actions reuse the ops CLI's services (shared/services/operations.py) and note on the order's timeline
who did what (source `console`: not on the webtracking timeline).
"""

from __future__ import annotations

import contextvars
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.activity import HourlyCounts, hour_start
from shared.domain.at_risk import (
    Risk,
    RiskRules,
    event_risk,
    fix_hint,
    items_not_ready,
    local_time,
    order_risks,
)
from shared.domain.events import PENDING, Attempt, EventStatus, InboundEvent
from shared.domain.ids import canonical_marketplace_id, internal_order_id
from shared.domain.marketplace_loop import RETURN_AT_RISK_AFTER
from shared.domain.order import Order
from shared.domain.times import as_utc, in_local_time, rfc3339, tenant_zone
from shared.ports import StorageUnavailable
from shared.roles import AtRiskPorts, ConsolePorts, HasEvents, PriceStatePorts, StockStatePorts
from shared.services.alerts import loop_rules
from shared.services.operations import NEEDING_A_PERSON, Replayed, record_resync
from shared.services.order_changes import change_order
from shared.services.processing import replay
from shared.services.status_view import order_status_view
from shared.services.stock_sync import stock_sync_state
from shared.tenants import TENANT_NAMES, TENANTS

DAYS = 7
ROWS = 50  # rows per at-risk section
REPLAY_AT_MOST = 100  # events one "replay the tenant's failed events" replays
TEXT_AT_MOST = 300  # characters of an event's reason or outcome shown
DIRTY_COUNTED = 1000  # dirty SKUs a tenant page counts: one page of the query, whatever the backlog
OPEN_COUNTED = 100  # rows per open-now query on the overview: beyond it the count reads "100+"
RADAR_HOURS = 72  # the SLA radar lists orders promised to ship within this (and every late one)
RADAR_ROWS = 200  # orders per tenant on the radar
CANCEL_DAYS = 30  # the cancellation rate's window
CANCEL_THRESHOLD = 0.03  # the marketplace's: above 3% of orders, seller-caused cancellations cost the rating


# --- overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockSyncView:
    configured: bool
    summary: str
    details: tuple[tuple[str, str], ...] = ()


def stock_sync_view(context: StockStatePorts, tenant: str) -> StockSyncView:
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


def price_sync_view(context: PriceStatePorts, tenant: str) -> PriceSyncView:
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


def confirm_price_action(context: PriceStatePorts, tenant: str, sku: str, user: str) -> str:
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


def tenant_overview(context: ConsolePorts, tenant: str, with_stock: bool = True) -> TenantOverview:
    """Today (the tenant's local day) and the last 7 local days, per hour: one query."""
    now = context.clock()
    today = local_midnight(now, tenant)
    since = today - timedelta(days=DAYS - 1)
    until = hour_start(now) + timedelta(hours=1)
    counts = HourlyCounts(since, until, context.activity.hours(tenant, since, until))
    stock = stock_sync_view(context, tenant) if with_stock else None
    prices = price_sync_view(context, tenant) if with_stock else None
    return TenantOverview(tenant, TENANT_NAMES[tenant], tenant_zone(tenant).key, now, today, counts, stock, prices)


# What is open now, per tenant, and how bad each is: `bad` needs someone now, `warn` soon.
OPEN_COUNTERS: dict[str, tuple[str, str]] = {
    "failed": ("failed", "bad"),
    "not_in_oms": ("not in the OMS", "bad"),
    "ship_late": ("shipping late", "bad"),
    "blocked": ("blocked", "warn"),
    "unmatched": ("unmatched", "warn"),
    "stuck": ("stuck", "warn"),
    "ship_soon": ("shipping soon", "warn"),
    "refused_skus": ("refused SKUs", "warn"),
    "open_feeds": ("open feeds", "info"),
}
FLOW_COUNTERS = ("accepted", "completed", "ignored", "failed", "blocked", "unmatched", "orders_created", "oms_synced")


@dataclass
class TenantNow:
    """A tenant on the overview: what is open now (current state, each item once) beside today's flow."""

    tenant: str
    name: str
    zone: str
    open: dict[str, int]
    at_least: set[str]
    """Counters whose query reached OPEN_COUNTED rows: there may be more ("100+")."""
    flow: TenantOverview
    stock_on: bool = False

    @property
    def severity(self) -> str:
        levels = {OPEN_COUNTERS[name][1] for name, count in self.open.items() if count}
        return "bad" if "bad" in levels else "warn" if "warn" in levels else "ok"

    def shown(self, counter: str) -> str:
        count = self.open.get(counter, 0)
        return f"{count}+" if counter in self.at_least else str(count)

    @property
    def still_pending(self) -> int:
        """Accepted today and not yet at an outcome (today's flow; an event counted once, as it is now)."""
        done = sum(self.flow.today(name) for name in ("completed", "ignored", "failed", "blocked", "unmatched"))
        return max(self.flow.today("accepted") - done, 0)


def open_now(
    context: ConsolePorts, tenant: str, limit: int = OPEN_COUNTED, rules: RiskRules = RiskRules()
) -> TenantNow:
    """The tenant's open items from its current state, by the at-risk rules, each query capped at
    `limit` and reading key columns only (no order document, no event body); today's flow from its
    activity counts; where stock sync is on, its refused SKUs."""
    now = context.clock()
    counts = dict.fromkeys(OPEN_COUNTERS, 0)
    at_least: set[str] = set()
    late = context.orders.briefs(tenant, "not_in_oms", now - rules.not_in_oms_after, limit)
    counts["not_in_oms"] = len(late)
    shipping = context.orders.briefs(tenant, "awaiting_shipment", now + rules.ship_warning, limit)
    for order in shipping:
        if order.promised_shipping_time is not None:
            counts["ship_late" if as_utc(order.promised_shipping_time) <= now else "ship_soon"] += 1
    needing = context.events.briefs(tenant, NEEDING_A_PERSON, None, limit)
    for event in needing:
        counts[event.status.value] += 1
    stuck = context.events.briefs(tenant, sorted(PENDING), now - rules.stuck_after, limit)
    counts["stuck"] = len(stuck)
    for rows, names in (
        (late, {"not_in_oms"}),
        (shipping, {"ship_late", "ship_soon"}),
        (needing, {"failed", "blocked", "unmatched"}),
        (stuck, {"stuck"}),
    ):
        if len(rows) >= limit:
            at_least |= {name for name in names if counts[name]}
    stock_on = context.stock_settings(tenant).enabled
    if stock_on:  # two queries: one page of its refused SKUs (not its dirty backlog) and of its open feeds
        counts["refused_skus"] = len(context.stock.failures(tenant, limit=limit))
        if counts["refused_skus"] >= limit:
            at_least.add("refused_skus")
        counts["open_feeds"] = len(context.feeds.open_feeds(tenant, limit=limit))
        if counts["open_feeds"] >= limit:
            at_least.add("open_feeds")
    flow = tenant_overview(context, tenant, with_stock=False)
    return TenantNow(tenant, TENANT_NAMES[tenant], flow.zone, counts, at_least, flow, stock_on)


def overview(context: ConsolePorts) -> list[TenantNow]:
    """Every tenant's open items and flow, the tenants read side by side (their queries are independent:
    the page waits for the slowest tenant, not for the sum)."""
    # Each tenant runs in a copy of this request's context: its storage deadline and log fields go along.
    runs = [(contextvars.copy_context(), tenant) for tenant in TENANTS]
    with ThreadPoolExecutor(max_workers=len(TENANTS), thread_name_prefix="console-overview") as pool:
        return list(pool.map(lambda run: run[0].run(open_now, context, run[1]), runs))


def overview_totals(tenants: list[TenantNow]) -> dict[str, int]:
    return {name: sum(t.open.get(name, 0) for t in tenants) for name in OPEN_COUNTERS}


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


def tenant_rules(context: AtRiskPorts, tenant: str, rules: RiskRules = RiskRules()) -> RiskRules:
    """`rules` with the tenant's order-loop rules (issue 19): documents due after its hours, the returns
    desk's 48 h; each only while its flow is on (no extra query otherwise)."""
    return loop_rules(context, tenant, rules)  # the alert timer reads the same rules


def at_risk(context: AtRiskPorts, tenant: str, rules: RiskRules | None = None, limit: int = ROWS) -> AtRisk:
    now = context.clock()
    rules = rules or tenant_rules(context, tenant)
    found = AtRisk(tenant, now, rules, limit=limit)
    late = context.orders.not_in_oms(tenant, now - rules.not_in_oms_after, limit)
    shipping = context.orders.awaiting_shipment(tenant, now + rules.ship_warning, limit)
    undocumented = (
        context.orders.awaiting_document(tenant, now - rules.document_due, limit) if rules.document_due else []
    )
    returns = context.orders.returns_waiting(tenant, now - RETURN_AT_RISK_AFTER, limit) if rules.returns_desk else []
    seen: set[tuple[str, str | None]] = set()
    for order in [*late, *shipping, *undocumented, *returns]:
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
        "shipped orders without a tax document": len(undocumented),
        "returns waiting for approval": len(returns),
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
    history: tuple[Attempt, ...] = ()
    hint: str = ""

    @property
    def text(self) -> str:
        """The outcome or the reason, once (a stored reason may already start with the status)."""
        said = readable(self.outcome or self.reason)
        prefix = f"{self.status}: "
        return said[len(prefix) :] if said.startswith(prefix) else said

    @property
    def replayable(self) -> bool:
        return self.status != EventStatus.COMPLETED.value


_DICT = re.compile(r"\{('[^']*': '[^']*'(?:, '[^']*': '[^']*')*)?\}")


def readable(text: str) -> str:
    """A stored line without developer output: `{'32728130': 'shipped'}` (outcomes kept before
    they were sentences) reads `32728130 shipped`."""

    def pairs(found: re.Match[str]) -> str:
        inner = found.group(1) or ""
        return ", ".join(f"{k} {v}" for k, v in re.findall(r"'([^']*)': '([^']*)'", inner)) or "nothing"

    return _DICT.sub(pairs, text or "")


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
        tuple(event.history),
        fix_hint(event),
    )


_SOURCES = {
    "marketplace": "the marketplace",
    "zort": "ZORT",
    "oms": "the OMS",
    "console": "the console",
    "customer-service": "customer service",
    "thor": "Thor",
}
_ARROW = re.compile(r"^(?P<item>[^:]+): (?P<old>[\w-]+) -> (?P<new>[\w-]+)$")


def sentence(what: str, detail: str, source: str) -> str:
    """A timeline entry as a sentence an operator reads (`item 32728130 went from pending to shipped`)."""
    by = _SOURCES.get(source, source)
    detail = readable(detail)
    if what == "order created":
        return f"The order was created in {by} ({detail})."
    if what == "items":
        return f"Items arrived from {by}: {detail}."
    if what == "item status":
        moved = _ARROW.match(detail)
        if moved:
            return f"Item {moved['item']} went from {moved['old']} to {moved['new']} ({by})."
    if what == "oms synced":
        return f"The OMS received the order ({detail})."
    if what == "tracking":
        return f"{by[:1].upper()}{by[1:]} sent tracking number {detail}."
    if what == "payment":
        return f"Payment: {detail} ({by})."
    if what == "refund":
        return f"Customer service asked for a refund or exchange: {detail}."
    if what == "status ignored":
        return f"A status change was not applied: {detail} ({by})."
    if source == "console":
        return f"{what[:1].upper()}{what[1:]}: {detail}."
    return f"{what[:1].upper()}{what[1:]}: {detail} ({by})." if detail else f"{what[:1].upper()}{what[1:]} ({by})."


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str
    detail: str
    source: str
    event: EventSummary | None

    @property
    def sentence(self) -> str:
        return sentence(self.what, self.detail, self.source)


@dataclass
class Journey:
    view: dict[str, Any]
    """The order as the status endpoint shows it (shared.services.status_view): no personal data."""
    steps: list[Step]
    other_events: list[EventSummary]
    """The order's events behind no step (failed, blocked, still pending, or with nothing to change)."""
    oms_synced: bool


def order_journey(context: AtRiskPorts, tenant: str, internal_order_id: str) -> Journey | None:
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
    view = order_status_view(order, returns_desk=context.settings.loop(tenant).returns_desk)
    return Journey(view, steps, others, order.oms_synced)


def event_summary(context: HasEvents, tenant: str, event_id: str) -> EventSummary | None:
    event = context.events.get(tenant, event_id)
    return summarize(event) if event else None


# --- search -------------------------------------------------------------------------------------

_INTERNAL = re.compile(r"^([a-z]{4})-0*([1-9][0-9]{0,19})$")
_EVENT_ID = re.compile(r"^[a-z][a-z-]*-[0-9a-f]{32}$")
QUERY_AT_MOST = 100


@dataclass(frozen=True)
class Hit:
    kind: str  # order, event, product, stock
    tenant: str
    title: str
    detail: str
    link: str
    event: EventSummary | None = None


def search(context: ConsolePorts, query: str) -> list[Hit]:
    """Orders by Thor's order id (also the OMS's `orderRef`), the marketplace's order id, an event id,
    or a SKU (the tenant's product and its stock state), across every tenant. Point reads only: at
    most one order, one event, one product and one stock SKU per tenant (no scan, whatever the size)."""
    text = (query or "").strip()[:QUERY_AT_MOST]
    hits: list[Hit] = []
    if not text:
        return hits
    lowered = text.lower()
    internal = _INTERNAL.match(lowered)
    tenants = [internal.group(1)] if internal and internal.group(1) in TENANTS else list(TENANTS)
    for tenant in tenants:
        order_id = None
        if internal and internal.group(1) == tenant:
            order_id = f"{tenant}-{internal.group(2)}"
        elif text.isdigit():
            try:
                order_id = internal_order_id(tenant, canonical_marketplace_id(text))
            except ValueError:
                order_id = None
        if order_id:
            found = context.orders.get(tenant, order_id)
            if found:
                order = found[0]
                detail = f"{order.status}; {len(order.items)} item(s); {'in the OMS' if order.oms_synced else 'not in the OMS'}"
                hits.append(Hit("order", tenant, order.internal_order_id, detail, _order_link(tenant, order_id)))
        if _EVENT_ID.match(lowered):
            event = context.events.get(tenant, lowered)
            if event:
                summary = summarize(event)
                hits.append(
                    Hit(
                        "event",
                        tenant,
                        event.event_id,
                        f"{event.kind.value}, {event.status.value}",
                        _event_link(tenant, event.event_id),
                        summary,
                    )
                )
        if internal or _EVENT_ID.match(lowered):
            continue
        product = context.products.get(tenant, text)
        if product:
            detail = f"{product.name or 'no name'}; listed: {'yes' if product.marketplace_listed else 'no'}"
            if product.zort_available_stock is not None:
                detail += f"; ZORT available {product.zort_available_stock}"
            hits.append(Hit("product", tenant, product.sku, detail, f"/console/tenants/{tenant}"))
        if context.stock_settings(tenant).enabled:
            record = context.stock.get(tenant, text)
            if record:
                state = record.state(context.clock()).value
                said = f"; {record.reason}" if record.reason else ""
                sent = f"; last sent {record.sent_quantity}" if record.sent_quantity is not None else ""
                hits.append(
                    Hit(
                        "stock",
                        tenant,
                        record.sku,
                        f"stock sync {state}{sent}{said}"[:TEXT_AT_MOST],
                        f"/console/tenants/{tenant}",
                    )
                )
    return hits


def _order_link(tenant: str, order_id: str) -> str:
    return f"/console/tenants/{tenant}/orders/{order_id}"


def _event_link(tenant: str, event_id: str) -> str:
    return f"/console/tenants/{tenant}/events/{event_id}"


# --- SLA radar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RadarRow:
    tenant: str
    internal_order_id: str
    promised: datetime
    promised_local: str
    left: timedelta
    """Time left to the promised shipping time (negative: late by that much)."""
    items: int
    in_oms: bool

    @property
    def severity(self) -> str:
        return "bad" if self.left <= timedelta(0) else "warn" if self.left <= timedelta(hours=4) else "ok"


@dataclass(frozen=True)
class CancelRate:
    tenant: str
    canceled: int
    orders: int
    since: datetime

    @property
    def rate(self) -> float | None:
        return self.canceled / self.orders if self.orders else None

    @property
    def severity(self) -> str:
        rate = self.rate
        if rate is None:
            return "ok"
        return "bad" if rate > CANCEL_THRESHOLD else "warn" if rate > CANCEL_THRESHOLD * 2 / 3 else "ok"


@dataclass
class Radar:
    now: datetime
    rows: list[RadarRow]
    rates: list[CancelRate]
    full: list[str]
    """Tenants whose query reached RADAR_ROWS: there may be more."""
    hours: int = RADAR_HOURS
    threshold: float = CANCEL_THRESHOLD
    days: int = CANCEL_DAYS


def _radar_tenant(
    context: ConsolePorts, tenant: str, now: datetime, hours: int, limit: int
) -> tuple[list[RadarRow], CancelRate, bool]:
    rows: list[RadarRow] = []
    orders = context.orders.awaiting_shipment(tenant, now + timedelta(hours=hours), limit)
    for order in orders:
        pending = items_not_ready(order)
        if not pending or not order.promised_shipping_time:
            continue
        promised = as_utc(order.promised_shipping_time)
        rows.append(
            RadarRow(
                tenant,
                order.internal_order_id,
                promised,
                local_time(promised, tenant),
                promised - now,
                len(pending),
                order.oms_synced,
            )
        )
    since = hour_start(now) - timedelta(days=CANCEL_DAYS)
    until = hour_start(now) + timedelta(hours=1)
    counts = HourlyCounts(since, until, context.activity.hours(tenant, since, until))
    rate = CancelRate(tenant, counts.total("seller_canceled"), counts.total("orders_created"), since)
    return rows, rate, len(orders) >= limit


def sla_radar(context: ConsolePorts, hours: int = RADAR_HOURS, limit: int = RADAR_ROWS) -> Radar:
    """Every open order (items not ready to ship) promised within `hours` or already late, across the
    tenants, most urgent first, with the time left in words and the promised time in the tenant's
    zone; and each tenant's seller-caused cancellation rate over the last CANCEL_DAYS days: orders
    that became canceled by the seller's side (shared.domain.at_risk.seller_canceled) / orders created,
    both counted per hour by the processor (shared.domain.activity). Tenants are read side by side."""
    now = context.clock()
    runs = [(contextvars.copy_context(), tenant) for tenant in TENANTS]
    with ThreadPoolExecutor(max_workers=len(TENANTS), thread_name_prefix="console-radar") as pool:
        found = list(pool.map(lambda run: run[0].run(_radar_tenant, context, run[1], now, hours, limit), runs))
    rows = sorted((row for tenant_rows, _, _ in found for row in tenant_rows), key=lambda row: row.left)
    full = [tenant for tenant, (_, _, is_full) in zip(TENANTS, found, strict=True) if is_full]
    return Radar(now, rows, [rate for _, rate, _ in found], full)


# --- actions ----------------------------------------------------------------------------------


def note_action(context: ConsolePorts, tenant: str, internal_order_id: str | None, what: str, detail: str) -> None:
    """Puts an operator's action on the order's timeline (nothing when there is no such order)."""
    if not internal_order_id or context.orders.get(tenant, internal_order_id) is None:
        return

    def note(order: Order) -> None:
        order.note(what, detail, source="console")

    change_order(context.orders, tenant, internal_order_id, note, sleep=context.sleep)


def replay_event_action(context: ConsolePorts, tenant: str, event_id: str, user: str) -> EventSummary:
    """Replays one event (LookupError when there is none) and notes it on its order's timeline."""
    before = context.events.get(tenant, event_id)
    if before is None:
        raise LookupError(f"no event {tenant}/{event_id}")
    replay(context, tenant, event_id, by=user)
    note_action(
        context,
        tenant,
        before.internal_order_id,
        "replayed",
        f"{before.kind.value} event {event_id} ({before.status.value}) replayed by {user}",
    )
    return summarize(before)


REPLAYABLE = {"failed": (EventStatus.FAILED,), "blocked": (EventStatus.BLOCKED,), "unmatched": (EventStatus.UNMATCHED,)}


def to_replay(context: HasEvents, tenants: list[str], status: str = "failed") -> list[InboundEvent]:
    """The events a bulk replay would take: of each tenant at most REPLAY_AT_MOST, oldest first
    (one query per tenant). The confirmation page shows their count; the replay takes the same list."""
    statuses = REPLAYABLE[status]
    found: list[InboundEvent] = []
    for tenant in tenants:
        events = context.events.list(tenant=tenant, statuses=statuses, limit=REPLAY_AT_MOST)
        found += sorted(events, key=lambda e: e.received_at)
    return found


def replay_many_action(context: ConsolePorts, tenants: list[str], user: str, status: str = "failed") -> list[Replayed]:
    """Replays the tenants' events in `status` (failed by default; at most REPLAY_AT_MOST per tenant,
    oldest first), each noted on its order's timeline with who asked; one that cannot be replayed is
    reported and does not stop the others."""
    done: list[Replayed] = []
    scope = "the tenant's" if len(tenants) == 1 else "every tenant's"
    for event in to_replay(context, tenants, status):
        try:
            replay(context, event.tenant, event.event_id, by=user)
        except (LookupError, StorageUnavailable) as error:
            done.append(Replayed(event, str(error)))
            continue
        done.append(Replayed(event))
        note_action(
            context,
            event.tenant,
            event.internal_order_id,
            "replayed",
            f"{event.kind.value} event {event.event_id} ({status}) replayed by {user} with {scope} {status} events",
        )
    return done


def replay_failed_action(context: ConsolePorts, tenant: str, user: str) -> list[Replayed]:
    """Replays the tenant's failed events (at most REPLAY_AT_MOST, oldest first), each noted on its order."""
    return replay_many_action(context, [tenant], user)


def resync_order_action(context: ConsolePorts, tenant: str, internal_order_id: str, user: str) -> str:
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
