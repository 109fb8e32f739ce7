"""Stock sync from ZORT to the marketplace (rules in shared.domain.stock).

- `mark_changed`: the processor, applying a ZORT event that changes stock, marks its SKUs dirty for
  each tenant that sells them: the tenants with stock sync on that share the webhook's ZORT store
  (`stock_tenants`) and whose marketplace listed the SKU (`Product.marketplace_listed`, kept from
  the marketplace's product webhooks, `handle_products`). One batch write per tenant and 100 SKUs.
- `flush_tenant` (the timer, `python -m ops stock --flush`): the feed-sync engine's flush
  (shared.services.feed_sync: kill switch, claim, every open feed asked about and settled, the tenant's
  state), stock being its `STOCK` kind. Stock's own part (`_write`) takes the tenant's due dirty
  SKUs (at most 2,000; not those in an open feed), records them as in flight, reads their available
  stock from ZORT, holds back the buffer, and writes them to the marketplace in at most 4 UpdateStock
  calls of 500. Each call answers a feed: it is recorded (ThorFeeds) and its SKUs are *in feed* until
  it reports; a SKU is clean only when its feed finished without an error for it. A 429 (or any
  retryable failure) stops the flush: the SKUs not written stay dirty, and after a 429 no write is
  made before Retry-After (else 2 minutes). A SKU the marketplace refuses (in its feed, or the whole
  call), or ZORT does not know, keeps its reason and is retried with back-off.
- `handle_stock_resync` (the `stock-resync` event, recorded by `python -m ops stock --resync`): marks
  every SKU the tenant's marketplace listed dirty.
- `stock_sync_state`: each tenant's dirty count, last flush, failures (ops, the console).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.domain.errors import ExternalSystemError, NotConfigured
from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.stock import (
    MAX_SKUS_PER_WRITE,
    SkuOutcome,
    SkuResult,
    StockRecord,
    StockState,
    StockSyncSettings,
    batches,
    pick_for_flush,
    quantity_to_send,
    summarise,
    throttle_until,
)
from shared.models.internal_events import StockResyncEvent
from shared.ports import MarketplacePort
from shared.roles import StockFlushPorts, StockMarkPorts, StockResyncPorts, StockStatePorts
from shared.services import feed_sync
from shared.services import feeds as feed_tracker
from shared.services.feed_sync import FlushReport as FlushReport
from shared.tenants import TENANTS
from shared.zort import webhooks as zort

FLUSH_CLAIM = "stock-flush"
# The methods whose events may change some SKUs' available stock, and which (the method table's
# `stock` column): the product's own SKU, or the lines of a document that moves or reserves stock.
PRODUCT_STOCK_EVENTS = frozenset(m.name for m in zort.METHODS.values() if m.stock is zort.StockEffect.PRODUCT)
DOCUMENT_STOCK_EVENTS = frozenset(m.name for m in zort.METHODS.values() if m.stock is zort.StockEffect.LINES)


# --- marking ------------------------------------------------------------------------------------


def skus_changed_by(method: str | None, payload: Any) -> list[str]:
    """The SKUs whose stock a ZORT event may have changed: the product's, or a document's lines'."""
    if method in PRODUCT_STOCK_EVENTS:
        return [payload.sku]
    if method in DOCUMENT_STOCK_EVENTS:
        lines = getattr(payload, "list", None) or []
        return list(dict.fromkeys(line.sku for line in lines if getattr(line, "sku", None)))
    return []


def mark_changed(context: StockMarkPorts, tenant: str, skus: Sequence[str]) -> str:
    """Marks the SKUs dirty for every tenant that sells them; says where (empty when nowhere)."""
    if not skus:
        return ""
    now = context.clock()
    marked: list[str] = []
    for target in context.stock_tenants(tenant):
        sold = [sku for sku in dict.fromkeys(skus) if _listed(context, target, sku)]
        if sold:
            context.stock.mark_dirty(target, sold, now)
            marked.append(f"{target} ({len(sold)})")
    return f"stock to sync in {', '.join(marked)}" if marked else ""


def _listed(context: StockMarkPorts, tenant: str, sku: str) -> bool:
    product = context.products.get(tenant, sku)
    return bool(product and product.marketplace_listed)


def mark_from_zort_call(context: StockMarkPorts, tenant: str, call: zort.ZortCall) -> str:
    method = call.method
    if not call.applicable or (method not in PRODUCT_STOCK_EVENTS and method not in DOCUMENT_STOCK_EVENTS):
        return ""
    if not context.stock_tenants(tenant):
        return ""
    return mark_changed(context, tenant, skus_changed_by(method, call.event()))


def handle_stock_resync(context: StockResyncPorts, event: InboundEvent, resync: StockResyncEvent) -> Outcome:
    """A `stock-resync` event: every SKU the tenant's marketplace listed is marked dirty. A tenant
    with stock sync off is blocked (replayable once it is turned on), as other unconfigured work is."""
    if not context.stock_settings(event.tenant).enabled:
        raise NotConfigured("stock sync", event.tenant, [f"MARKETPLACE_STOCK_SYNC_{event.tenant.upper()}=true"])
    marked = resync_tenant(context, event.tenant)
    return Outcome(
        EventStatus.COMPLETED,
        f"{marked} SKU(s) marked for the next flush ({resync.reason}; asked by {resync.requestedBy})",
    )


def resync_tenant(context: StockMarkPorts, tenant: str) -> int:
    """Marks every SKU the tenant's marketplace listed dirty (the next flush sends them all); returns how many."""
    skus = context.products.listed_skus(tenant)
    if skus:
        context.stock.mark_dirty(tenant, skus, context.clock())
    return len(skus)


# --- flushing -----------------------------------------------------------------------------------


def _enabled(context: StockFlushPorts, tenant: str) -> bool:
    return context.stock_settings(tenant).enabled


def flush_all(context: StockFlushPorts, force: bool = False) -> list[FlushReport]:
    """Flushes every tenant with stock sync on; one tenant's failure does not stop the others."""
    return [flush_tenant(context, tenant, force=force) for tenant in TENANTS if _enabled(context, tenant)]


def flush_tenant(context: StockFlushPorts, tenant: str, *, force: bool = False) -> FlushReport:
    """One flush of the tenant (the engine's, shared.services.feed_sync; stock's part is `_write`).
    `force` (ops) skips the back-offs."""
    return feed_sync.flush(context, STOCK, tenant, force=force)


def _write_stock(context: StockFlushPorts, tenant: str, marketplace: MarketplacePort, force: bool) -> FlushReport:
    return _write(context, tenant, context.stock_settings(tenant), context.clock(), force, marketplace)


def _write(
    context: StockFlushPorts,
    tenant: str,
    settings: StockSyncSettings,
    now: datetime,
    force: bool,
    marketplace: MarketplacePort,
) -> FlushReport:
    zort_api = context.zort(tenant)  # NotConfigured: the flush is blocked, the SKUs wait
    records = pick_for_flush(context.stock.dirty(tenant), context.clock(), force=force, claimed=True)
    if not records:
        return FlushReport(tenant, "nothing to send")
    records = context.stock.take(records, now)  # durable before anything is sent
    try:
        available = zort_api.available_stock([r.sku for r in records])
    except ExternalSystemError as error:
        deferred = [SkuOutcome(r, SkuResult.DEFERRED, now, reason=f"reading ZORT failed: {error}") for r in records]
        context.stock.record(deferred)
        return FlushReport(tenant, "failed", f"reading stock from ZORT failed: {error}", summarise(deferred))
    outcomes: list[SkuOutcome] = []
    to_send: list[tuple[StockRecord, Decimal, int]] = []
    for record in records:
        units = available.get(record.sku)
        if units is None:
            outcomes.append(SkuOutcome(record, SkuResult.NOT_IN_ZORT, now, reason="ZORT does not return this SKU"))
        else:
            to_send.append((record, units, quantity_to_send(units, settings.buffer)))
    writes, stopped, wait_until, feeds = 0, "", None, []
    for batch in batches(to_send, MAX_SKUS_PER_WRITE):
        if stopped:
            outcomes += [SkuOutcome(r, SkuResult.DEFERRED, now, q, a, stopped) for r, a, q in batch]
            continue
        writes += 1
        rows = [(r.sku, q) for r, _, q in batch]
        try:
            feed_id = marketplace.update_stock(rows, settings.warehouse)
        except ExternalSystemError as error:
            if error.retryable:
                stopped = f"marketplace: {error}"
                if error.status == 429 or error.code == "E429":
                    wait_until = throttle_until(now, error.retry_after)
                outcomes += [SkuOutcome(r, SkuResult.DEFERRED, now, q, a, stopped) for r, a, q in batch]
            else:  # the whole call refused: each SKU keeps the reason and is retried with back-off
                whole = f"{error.code}: {error.message}"
                outcomes += [SkuOutcome(r, SkuResult.REFUSED, now, q, a, whole) for r, a, q in batch]
            continue
        feed_tracker.record_stock_feed(context, tenant, feed_id, rows)  # before its SKUs name it
        # the last failure's reason stays visible while the SKU is sent again
        sent = [
            SkuOutcome(r, SkuResult.SENT, now, q, a, r.reason if r.failures else None, feed_id) for r, a, q in batch
        ]
        context.stock.record(sent)  # at once: a crash in a later batch leaves these in their feed
        outcomes += sent
        feeds.append(feed_id)
    context.stock.record([o for o in outcomes if o.result is not SkuResult.SENT])
    counts = summarise(outcomes)
    detail = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    if wait_until is not None:
        return FlushReport(tenant, "throttled", f"{detail}; {stopped}", counts, feeds, wait_until, writes=writes)
    if stopped:
        return FlushReport(tenant, "failed", f"{detail}; {stopped}", counts, feeds, writes=writes)
    result = "sent" if counts.get(SkuResult.SENT.value, 0) == len(outcomes) else "partial"
    return FlushReport(tenant, result, detail, counts, feeds, writes=writes)


STOCK = feed_sync.SyncKind(
    name="stock",
    claim=FLUSH_CLAIM,
    setting="MARKETPLACE_STOCK_SYNC_{T}",
    enabled=_enabled,
    store=lambda context: context.stock,
    write=_write_stock,
)


# --- the kill switch and what ops and the console show ---------------------------------------------


def set_paused(context: StockStatePorts, tenant: str, paused: bool, reason: str = "") -> None:
    """The tenant's kill switch (stored, no redeploy): on, flushes write nothing; SKUs keep being marked."""
    feed_sync.set_paused(context.stock, context.clock(), tenant, paused, reason)


@dataclass(frozen=True)
class SkuFailure:
    sku: str
    result: str
    reason: str
    failures: int
    next_attempt_at: datetime | None
    sent_quantity: int | None


@dataclass(frozen=True)
class OpenFeed:
    """A feed not reported yet, as ops and the console show it."""

    feed_id: str
    action: str
    skus: int
    created_at: datetime
    age_minutes: float
    status: str
    overdue: bool
    polls: int
    last_polled_at: datetime | None
    detail: str


@dataclass(frozen=True)
class StockSyncState:
    """One tenant's stock sync, as ops and the console show it."""

    tenant: str
    enabled: bool
    buffer: int
    warehouse: str
    paused: bool
    paused_reason: str | None
    dirty: int
    in_flight: int
    in_feed: int
    last_flush_at: datetime | None
    last_result: str | None
    last_detail: str | None
    last_counts: dict[str, int]
    wait_until: datetime | None
    failures: tuple[SkuFailure, ...]
    open_feeds: tuple[OpenFeed, ...] = ()


def stock_sync_state(
    context: StockStatePorts, tenants: Iterable[str] = TENANTS, dirty_limit: int = 10_000
) -> list[StockSyncState]:
    """Per tenant: on or off, kill switch, dirty, in-flight and in-feed SKUs (at most `dirty_limit`
    counted), last flush and its result, failing SKUs (refused ones with the marketplace's message),
    open feeds with their age (overdue ones flagged)."""
    now = context.clock()
    states = []
    for tenant in tenants:
        settings = context.stock_settings(tenant)
        state = context.stock.tenant_state(tenant)
        dirty = context.stock.dirty(tenant, limit=dirty_limit)
        warehouse = f"{settings.warehouse.kind}={settings.warehouse.id}" if settings.warehouse else "main"
        failing = tuple(
            SkuFailure(
                r.sku,
                r.result.value if r.result else "",
                r.reason or "",
                r.failures,
                r.next_attempt_at,
                r.sent_quantity,
            )
            for r in context.stock.failures(tenant)
        )
        states.append(
            StockSyncState(
                tenant=tenant,
                enabled=settings.enabled,
                buffer=settings.buffer,
                warehouse=warehouse,
                paused=state.paused,
                paused_reason=state.paused_reason,
                dirty=sum(r.state(now) is StockState.DIRTY for r in dirty),
                in_flight=sum(r.state(now) is StockState.IN_FLIGHT for r in dirty),
                in_feed=sum(r.state(now) is StockState.IN_FEED for r in dirty),
                last_flush_at=state.last_flush_at,
                last_result=state.last_result,
                last_detail=state.last_detail,
                last_counts=dict(state.last_counts),
                wait_until=state.wait_until,
                failures=failing,
                open_feeds=tuple(
                    OpenFeed(
                        f.feed_id,
                        f.action,
                        len(f.items),
                        f.created_at,
                        round(f.age(now).total_seconds() / 60, 1),
                        f.status,
                        f.overdue(now),
                        f.polls,
                        f.last_polled_at,
                        f.detail,
                    )
                    for f in context.feeds.open_feeds(tenant)
                ),
            )
        )
    return states
