"""Price sync from ZORT to the marketplace (rules in shared.domain.prices; the feeds in
shared.services.feeds).

- `mark_from_zort_call`: the processor, applying ADDPRODUCT / UPDATEPRODUCT, marks the product's SKU for
  each tenant that sells it (the tenants with price sync on that share the webhook's ZORT store and
  whose marketplace listed the SKU, as stock sync does), keeping the webhook's `sellprice` as a hint.
- `flush_tenant` (the `price_flush` timer, `python -m ops prices --flush`): polls the tenant's open feeds
  (their settlement confirms prices), marks SKUs whose sale has ended, takes the due marked SKUs
  (durable before anything is sent), reads their current `sellprice` from ZORT, applies the tenant's
  markup / adjustment / rounding, holds changes the guard stops, skips those the marketplace already
  confirmed, and sends the rest in ProductUpdate feeds of at most 1,000 SKUs. Each feed is a slot of the
  seller's feed budget, reserved (a conditional write) before the call: the free feeds first, then one
  every 2 minutes (+5 s); a flush waits up to `SLOT_WAIT` for the next slot rather than leaving it to the
  next tick. A 429 stops the flush: nothing is sent before its Retry-After (else 2 minutes), the SKUs
  stay marked. A SKU is synced only when its feed finished without an error for it and nothing marked
  it since it was taken (else it is sent again: the latest price wins); a refused SKU keeps the
  marketplace's message and is retried with back-off.
- A ProductUpdate feed's settlement is `shared.services.price_settlement` (the feed tracker calls it).
- `confirm_price`: a person confirms a held price (`python -m ops prices --confirm`); noted on the
  SKU's history with who did it. `set_sale` / `end_sale`: a sale for a list of SKUs (ops).
- `resync_tenant`, `set_paused` (the kill switch), `price_sync_state`, `price_journey`: ops and console.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.domain.errors import ExternalSystemError
from shared.domain.feeds import Feed, FeedAction
from shared.domain.price_settings import PriceSyncSettings, storefront_currency
from shared.domain.prices import (
    FEEDS_PER_FLUSH,
    MAX_SKUS_PER_FEED,
    PriceRecord,
    PriceResult,
    PriceToSend,
    Sale,
    backoff_after,
    format_price,
    guard_reason,
    local_text,
    pick_due,
    price_to_send,
    round_price,
)
from shared.domain.stock import batches
from shared.domain.times import zone
from shared.ports import MarketplacePort
from shared.roles import PriceFlushPorts, PriceMarkPorts, PriceStatePorts
from shared.services import feed_sync
from shared.services.feed_sync import FlushReport
from shared.tenants import TENANTS
from shared.zort import webhooks as zort
from shared.zort.methods import PRICE_METHODS

FLUSH_CLAIM = "price-flush"
PRICE_EVENTS = PRICE_METHODS  # ZORT's method table says which methods move a price (moves_price)
RESYNC_HINT = "(resync)"
SLOT_WAIT = timedelta(seconds=35)
"""A flush waits for the budget's next slot when it is this close (the timer runs every 30 s)."""


# --- marking ------------------------------------------------------------------------------------


def mark_from_zort_call(context: PriceMarkPorts, tenant: str, call: zort.ZortCall) -> str:
    if not call.applicable or call.method not in PRICE_EVENTS or not context.price_tenants(tenant):
        return ""
    payload = call.event()
    sku = str(getattr(payload, "sku", "") or "")
    said = getattr(payload, "sellprice", None)
    return mark_changed(context, tenant, [sku] if sku else [], {sku: str(said)} if said is not None else None)


def mark_changed(context: PriceMarkPorts, tenant: str, skus: Sequence[str], said: dict[str, str] | None = None) -> str:
    """Marks the SKUs for every tenant with price sync on that sells them; says where."""
    marked = []
    for target in context.price_tenants(tenant):
        sold = [sku for sku in dict.fromkeys(skus) if _listed(context, target, sku)]
        if sold:
            context.prices.mark(target, sold, context.clock(), said)
            marked.append(f"{target} ({len(sold)})")
    return f"price to sync in {', '.join(marked)}" if marked else ""


def _listed(context: PriceMarkPorts, tenant: str, sku: str) -> bool:
    product = context.products.get(tenant, sku)
    return bool(product and product.marketplace_listed)


def resync_tenant(context: PriceMarkPorts, tenant: str) -> int:
    """Marks every SKU the tenant's marketplace listed; the next flushes send each price again, even one
    the marketplace already confirmed (a full resync)."""
    skus = context.products.listed_skus(tenant)
    if skus:
        context.prices.mark(tenant, skus, context.clock(), {sku: RESYNC_HINT for sku in skus})
    return len(skus)


# --- flushing -----------------------------------------------------------------------------------


PriceFlushReport = FlushReport
"""A price flush's report: the engine's (shared.services.feed_sync)."""


def _enabled(context: PriceFlushPorts, tenant: str) -> bool:
    return context.price_settings(tenant).enabled


def flush_all(context: PriceFlushPorts, force: bool = False) -> list[FlushReport]:
    return [flush_tenant(context, t, force=force) for t in TENANTS if _enabled(context, t)]


def flush_tenant(context: PriceFlushPorts, tenant: str, *, force: bool = False) -> FlushReport:
    """One flush of the tenant (the engine's, shared.services.feed_sync; price's part is `_write`).
    `force` (ops) skips the refusal back-offs, never the feed budget."""
    return feed_sync.flush(context, PRICE, tenant, force=force)


def _write(context: PriceFlushPorts, tenant: str, marketplace: MarketplacePort, force: bool) -> FlushReport:
    settings = context.price_settings(tenant)
    zort_api = context.zort(tenant)  # NotConfigured: the flush is blocked, the SKUs wait
    seller = context.settings.marketplace(tenant).seller_id
    started = context.clock()
    budget = context.prices.budget(seller)
    slot = budget.next_slot(started)
    if slot - started > SLOT_WAIT:  # no feed may be made this flush: the marked set is not even read
        why = f"the feed budget allows the next ProductUpdate at {slot.isoformat()}"
        return FlushReport(tenant, "waiting", why, wait_until=slot)
    marked = context.prices.dirty(tenant)
    _mark_ended_sales(context, tenant, marked, started)
    # a SKU its feed refused just now goes at the next flush at the earliest (not in a new feed at once)
    marked = [r for r in marked if not (r.result is PriceResult.REFUSED and (r.attempted_at or started) >= started)]
    due = pick_due(marked, started, FEEDS_PER_FLUSH * MAX_SKUS_PER_FEED, force, claimed=True)
    if not due:
        return FlushReport(tenant, "nothing to send")
    now = context.clock()
    if slot > now:
        context.sleep((slot - now).total_seconds())
        now = context.clock()
    allowed = max(1, min(FEEDS_PER_FLUSH, budget.free_left(now)))
    records = context.prices.take(due[: allowed * MAX_SKUS_PER_FEED], now)  # durable before anything is sent
    return _send(context, tenant, settings, seller, records, marketplace, zort_api.sell_prices)


def _mark_ended_sales(context: PriceFlushPorts, tenant: str, marked: list[PriceRecord], now: datetime) -> None:
    """A sale over whose SKU is not marked yet: marked, so the flush sends the normal price."""
    skus = {r.sku for r in marked}
    ended = [r for r in context.prices.with_sales(tenant) if r.sale and r.sale.over(now) and r.sku not in skus]
    if ended:
        context.prices.mark(tenant, [r.sku for r in ended], now)
        marked += [r for r in context.prices.dirty(tenant) if r.sku in {e.sku for e in ended}]


def _row(record: PriceRecord, price: Decimal, tenant: str, now: datetime, written_in: str) -> PriceToSend:
    """The SKU's BusinessUnit: the price, and a sale not over yet with its dates as the marketplace's
    zone-less wall-clock time in `written_in` (the zone the marketplace writes its times in,
    MARKETPLACE_TIMEZONE_<T>)."""
    currency = storefront_currency(tenant)
    row = PriceToSend(record.sku, format_price(price, currency))
    sale = record.sale
    if sale is not None and not sale.over(now):
        local = zone(written_in)
        return PriceToSend(
            record.sku,
            row.price,
            format_price(sale.price, currency),
            local_text(sale.start, local),
            local_text(sale.end, local),
        )
    return row


def _send(
    context: PriceFlushPorts,
    tenant: str,
    settings: PriceSyncSettings,
    seller: str,
    records: list[PriceRecord],
    marketplace: MarketplacePort,
    read_prices: Any,
) -> FlushReport:
    now = context.clock()
    written_in = context.settings.marketplace(tenant).time_zone
    counts: dict[str, int] = {}
    done: list[PriceRecord] = []
    clean: set[str] = set()

    def outcome(record: PriceRecord, result: PriceResult, reason: str = "") -> None:
        record.result, record.reason, record.attempted_at = result, reason, now
        if result in (PriceResult.REFUSED, PriceResult.NOT_IN_ZORT):
            record.failures += 1
            record.next_attempt_at = now + backoff_after(record.failures)
        elif result is not PriceResult.DEFERRED:
            record.next_attempt_at = None
        counts[result.value] = counts.get(result.value, 0) + 1
        done.append(record)

    try:
        zort_prices: dict[str, Decimal] = read_prices([r.sku for r in records])
    except ExternalSystemError as error:
        for record in records:
            outcome(record, PriceResult.DEFERRED, f"reading ZORT failed: {error}")
        context.prices.save(done)
        return FlushReport(tenant, "failed", f"reading prices from ZORT failed: {error}", counts)

    to_send: list[tuple[PriceRecord, PriceToSend]] = []
    for record in records:
        zort_price = zort_prices.get(record.sku)
        if zort_price is None:
            outcome(record, PriceResult.NOT_IN_ZORT, "ZORT does not return this SKU (or gives it no sellprice)")
            continue
        resync = record.zort_said == RESYNC_HINT
        record.zort_price = str(zort_price)
        if record.sale and record.sale.over(now):
            record.note(now, "sale ended", price=str(record.sale.price), to=record.sale.end.isoformat())
            record.sale = None
        target = price_to_send(zort_price, settings, tenant)
        row = _row(record, target, tenant, now, written_in)
        reference = record.confirmed_price or record.sent_price
        approved = bool(record.approved_price) and record.approved_price == row.price
        held = (
            None
            if approved
            else guard_reason(Decimal(reference) if reference else None, target, settings.guard_percent)
        )
        if held:
            record.held_price, record.held_mark = row.price, record.mark
            if record.result is not PriceResult.HELD or record.held_price != row.price:
                record.note(now, "held", zort=str(zort_price), price=row.price, reason=held)
            outcome(record, PriceResult.HELD, f"held for confirmation: {held}")
            continue
        if row.text == record.confirmed and not resync:
            record.note(now, "unchanged", zort=str(zort_price), price=row.price)
            outcome(record, PriceResult.UNCHANGED)
            if record.mark == record.sending_mark:
                clean.add(record.sku)
            continue
        to_send.append((record, row))

    feeds: list[str] = []
    stopped, wait_until, writes = "", None, 0
    for batch in batches(to_send, MAX_SKUS_PER_FEED):
        if not stopped and not _reserve(context, seller):
            stopped = "the feed budget allows no more ProductUpdate now (next flush)"
        if stopped:
            for record, _ in batch:
                outcome(record, PriceResult.DEFERRED, stopped)
            continue
        writes += 1
        try:
            feed_id = marketplace.update_prices([row for _, row in batch])
        except ExternalSystemError as error:
            if error.retryable:
                stopped = f"marketplace: {error}"
                if error.status == 429 or error.code == "E429":
                    wait_until = _throttled(context, seller, error.retry_after)
                    stopped += f"; nothing sent before {wait_until.isoformat()}"
                for record, _ in batch:
                    outcome(record, PriceResult.DEFERRED, stopped)
            else:
                whole = f"{error.code}: {error.message}"
                for record, row in batch:
                    record.note(now, "refused", price=row.price, reason=whole)
                    outcome(record, PriceResult.REFUSED, whole)
            continue
        items = {record.sku: row.text for record, row in batch}
        context.feeds.add(Feed(tenant, feed_id, FeedAction.PRODUCT_UPDATE.value, items, now))  # before the SKUs name it
        sent = []
        for record, row in batch:
            record.feed_id, record.sent, record.sent_price, record.sent_at = feed_id, row.text, row.price, now
            record.note(now, "sent", zort=record.zort_price, price=row.text, feed=feed_id)
            outcome(record, PriceResult.SENT, record.reason if record.result is PriceResult.REFUSED else "")
            sent.append(record)
        context.prices.save(sent)  # at once: a crash in a later batch leaves these in their feed
        feeds.append(feed_id)
    sent_skus = {record.sku for record, _ in to_send if record.feed_id}
    context.prices.save([r for r in done if r.sku not in sent_skus], frozenset(clean))
    detail = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    detail += f"; {len(feeds)} feed(s)" if feeds else ""
    if wait_until is not None:
        return FlushReport(tenant, "throttled", f"{detail}; {stopped}", counts, feeds, wait_until, writes=writes)
    if stopped and not feeds:
        result = "failed" if "marketplace" in stopped else "waiting"
        return FlushReport(tenant, result, f"{detail}; {stopped}", counts, writes=writes)
    result = "sent" if counts.get(PriceResult.SENT.value, 0) == len(done) and done else "partial"
    return FlushReport(tenant, result, detail, counts, feeds, writes=writes)


def _reserve(context: PriceFlushPorts, seller: str) -> bool:
    """Takes one slot of the seller's feed budget if it has one now (a write conditional on the version
    read: two tenants of one seller never take the same slot)."""
    for _ in range(5):
        budget = context.prices.budget(seller)
        now = context.clock()
        if budget.next_slot(now) > now:
            return False
        budget.spend(now)
        if context.prices.save_budget(budget):
            return True
    return False


def _throttled(context: PriceFlushPorts, seller: str, retry_after: float | None) -> datetime:
    for _ in range(5):
        budget = context.prices.budget(seller)
        budget.throttled(context.clock(), retry_after)
        if context.prices.save_budget(budget):
            break
    return budget.wait_until or context.clock()


PRICE = feed_sync.SyncKind(
    name="price",
    claim=FLUSH_CLAIM,
    setting="MARKETPLACE_PRICE_SYNC_{T}",
    enabled=_enabled,
    store=lambda context: context.prices,
    write=_write,
)


# --- a person's actions ------------------------------------------------------------------------------


class PriceActionError(ValueError):
    """An ops / console price action that can't be done (said why)."""


def confirm_price(context: PriceStatePorts, tenant: str, sku: str, by: str) -> PriceRecord:
    """A person confirms the price the guard held: it goes in the next flush (if ZORT still says it)."""
    record = context.prices.get(tenant, sku)
    if record is None or not record.held:
        raise PriceActionError(f"{sku} has no price waiting for confirmation in {tenant}")
    now = context.clock()
    record.approved_price, record.approved_by = record.held_price, by
    record.result, record.reason = PriceResult.DEFERRED, f"confirmed by {by}"
    record.note(now, "confirmed by a person", price=record.held_price, by=by)
    context.prices.save([record])
    context.prices.mark(tenant, [sku], now)
    return record


def set_sale(
    context: PriceStatePorts,
    tenant: str,
    skus: Sequence[str],
    price: Decimal,
    start: datetime,
    end: datetime,
    by: str,
) -> int:
    """A sale price from `start` to `end` (aware times) for the SKUs; sent by the next flush."""
    if price <= 0:
        raise PriceActionError("a sale price must be more than 0")
    if end <= start:
        raise PriceActionError("a sale must end after it starts")
    now = context.clock()
    if end <= now:
        raise PriceActionError("this sale would already be over")
    amount = round_price(price, storefront_currency(tenant))
    records = []
    for sku in dict.fromkeys(skus):
        record = context.prices.get(tenant, sku) or PriceRecord(tenant, sku)
        record.sale = Sale(amount, start, end, by)
        record.note(now, "sale set", price=str(amount), start=start.isoformat(), to=end.isoformat(), by=by)
        records.append(record)
    context.prices.save(records)
    context.prices.mark(tenant, [r.sku for r in records], now)
    return len(records)


def end_sale(context: PriceStatePorts, tenant: str, skus: Sequence[str], by: str) -> int:
    now = context.clock()
    records = []
    for sku in skus:
        record = context.prices.get(tenant, sku)
        if record and record.sale:
            record.sale = Sale(record.sale.price, record.sale.start, now, by)  # over now: the flush restores the price
            record.note(now, "sale ended by a person", by=by)
            records.append(record)
    context.prices.save(records)
    if records:
        context.prices.mark(tenant, [r.sku for r in records], now)
    return len(records)


def set_paused(context: PriceStatePorts, tenant: str, paused: bool, reason: str = "") -> None:
    """The tenant's kill switch (stored, no redeploy): on, flushes send nothing; SKUs keep being marked."""
    feed_sync.set_paused(context.prices, context.clock(), tenant, paused, reason)


# --- what ops and the console show ---------------------------------------------------------------------


@dataclass(frozen=True)
class PriceSkuRow:
    sku: str
    state: str
    zort_price: str
    sent: str
    confirmed: str
    reason: str
    failures: int
    next_attempt_at: datetime | None
    held_price: str


@dataclass(frozen=True)
class PriceSyncState:
    tenant: str
    enabled: bool
    currency: str
    markup_percent: str
    adjustment: str
    guard_percent: str
    paused: bool
    paused_reason: str | None
    counts: dict[str, int]
    last_flush_at: datetime | None
    last_result: str | None
    last_detail: str | None
    last_feed_id: str | None
    last_feed_at: datetime | None
    attention: tuple[PriceSkuRow, ...]  # held and refused SKUs


def _row_of(record: PriceRecord, now: datetime) -> PriceSkuRow:
    return PriceSkuRow(
        record.sku,
        record.state(now),
        record.zort_price,
        record.sent,
        record.confirmed,
        record.reason,
        record.failures,
        record.next_attempt_at,
        record.held_price if record.held else "",
    )


def price_sync_state(
    context: PriceStatePorts, tenants: Iterable[str] = TENANTS, limit: int = 25_000
) -> list[PriceSyncState]:
    now = context.clock()
    states = []
    for tenant in tenants:
        settings = context.price_settings(tenant)
        state = context.prices.tenant_state(tenant)
        counts = {"marked": 0, "in-flight": 0, "in-feed": 0, "held": 0, "refused": 0}
        attention: list[PriceSkuRow] = []
        for record in context.prices.dirty(tenant, limit=limit):
            kind = record.state(now)
            counts[kind] = counts.get(kind, 0) + 1
            if kind in ("held", "refused") and len(attention) < 100:
                attention.append(_row_of(record, now))
        states.append(
            PriceSyncState(
                tenant,
                settings.enabled,
                settings.currency or storefront_currency(tenant),
                str(settings.markup_percent),
                str(settings.adjustment),
                str(settings.guard_percent),
                state.paused,
                state.paused_reason,
                counts,
                state.last_flush_at,
                state.last_result,
                state.last_detail,
                state.last_feed_id,
                state.last_feed_at,
                tuple(attention),
            )
        )
    return states


def price_journey(context: PriceStatePorts, tenant: str, sku: str) -> dict[str, Any] | None:
    """A SKU's price: what ZORT said (its webhooks and its API), what was sent, what the marketplace
    confirmed, and each step with who or which feed."""
    record = context.prices.get(tenant, sku)
    if record is None:
        return None
    now = context.clock()
    return {
        "tenant": tenant,
        "sku": sku,
        "state": record.state(now),
        "zortSaid": record.zort_said,
        "zortSaidAt": record.zort_said_at,
        "zortPrice": record.zort_price,
        "sent": record.sent,
        "sentAt": record.sent_at,
        "feed": record.feed_id,
        "confirmed": record.confirmed,
        "confirmedAt": record.confirmed_at,
        "held": record.held_price if record.held else "",
        "reason": record.reason,
        "sale": (
            {"price": str(record.sale.price), "start": record.sale.start, "end": record.sale.end, "by": record.sale.by}
            if record.sale
            else None
        ),
        "history": list(record.history),
    }
