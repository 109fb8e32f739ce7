"""In-memory fakes of every port in shared/ports.py, and `fake_context(...)` to build a
`ServiceContext` from them: service and flow logic tested in milliseconds, without Azurite or the
sandboxes (those stay for the adapters and end to end).

Each fake keeps what the real one keeps and refuses what it refuses (the event log's claims and due
times, the order repository's ETag conflicts, the product repository's batches of 100 per tenant);
the external systems record every call and can be told to fail (`fail_next`).
"""

from __future__ import annotations

import builtins
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

from shared.bootstrap import build_handlers
from shared.domain.activity import hour_start
from shared.domain.at_risk import EventBrief, OrderBrief, items_not_ready, order_created_at
from shared.domain.checkpoints import Checkpoint, Summary
from shared.domain.errors import NotConfigured
from shared.domain.events import QUEUE_GRACE, Attempt, EventStatus, InboundEvent, Message
from shared.domain.feeds import Feed, FeedIssue, FeedReport, FeedState
from shared.domain.fencing import later_attempt, may_take
from shared.domain.marketplace import MarketplaceItem, MarketplaceOrder, MarketplaceProduct
from shared.domain.order import Order
from shared.domain.price_settings import PriceSyncSettings
from shared.domain.prices import FeedBudget, PriceRecord, PriceTenantState, PriceToSend
from shared.domain.product import Product
from shared.domain.stock import (
    SkuOutcome,
    SkuResult,
    StockRecord,
    StockSyncSettings,
    StockTenantState,
    StockWarehouse,
)
from shared.ports import (
    ActivityCountsPort,
    CheckpointPort,
    Claim,
    ClaimLost,
    ClaimStorePort,
    ConcurrentUpdate,
    EventLogPort,
    EventQueuePort,
    FeedRepositoryPort,
    Handler,
    IdempotencyPort,
    IdempotencyRecord,
    JsonObject,
    OrderRepositoryPort,
    ProductRepositoryPort,
    StockRepositoryPort,
)
from shared.settings import (
    MarketplaceTenantSettings,
    OmsTenantSettings,
    Settings,
    StorageSettings,
    TenantSettings,
    ZortTenantSettings,
)
from shared.tenants import TENANT_TIMEZONES

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)
_etags = (f'W/"{n}"' for n in itertools.count(1))
S = TypeVar("S")


class FakeClock:
    """Time that moves only when slept through (or `advance`d): `sleeps` lists every sleep."""

    def __init__(self, now: datetime = T0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- storage ----------------------------------------------------------------------------------


class FakeEventLog:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.events: dict[tuple[str, str], InboundEvent] = {}
        self.fences: dict[tuple[str, str], int] = {}

    def _copy(self, event: InboundEvent) -> InboundEvent:
        return event.model_copy(deep=True)

    def add(self, event: InboundEvent) -> bool:
        key = (event.tenant, event.event_id)
        if key in self.events:
            return False
        stored = self._copy(event)
        stored.updated_at = stored.updated_at or stored.received_at
        stored.due_by = stored.due_by or NEVER  # in nobody's hand until a worker claims it
        self.events[key] = stored
        return True

    def get(self, tenant: str, event_id: str) -> InboundEvent | None:
        found = self.events.get((tenant, event_id))
        return self._copy(found) if found else None

    def delete(self, tenant: str, event_id: str) -> None:
        self.events.pop((tenant, event_id), None)

    def claim(self, tenant: str, event_id: str, owner: str, seconds: float) -> tuple[InboundEvent | None, bool]:
        stored = self.events.get((tenant, event_id))
        if stored is None:
            return None, False
        now = self.clock()
        if stored.status.finished:
            return self._copy(stored), False
        if not may_take(stored.claimed_by, stored.due_by, owner, now):
            return self._copy(stored), False
        self.fences[(tenant, event_id)] = self.fences.get((tenant, event_id), 0) + 1
        stored.claimed_by, stored.due_by = owner, now + timedelta(seconds=seconds)
        claimed = self._copy(stored)
        claimed.fence = self.fences[(tenant, event_id)]
        return claimed, True

    def holds(self, event: InboundEvent) -> bool:
        return self.fences.get((event.tenant, event.event_id), 0) == event.fence

    def set_status(
        self,
        event: InboundEvent,
        status: EventStatus,
        *,
        reason: str | None = None,
        outcome: str | None = None,
        attempts: int | None = None,
        internal_order_id: str | None = None,
        due_in: float = 0,
        history: list[Attempt] | None = None,
    ) -> None:
        now = self.clock()
        if event.fence is not None and not self.holds(event):
            raise ClaimLost(f"event {event.tenant}/{event.event_id} was taken over by another worker")
        for target in (self.events[(event.tenant, event.event_id)], event):
            if history is not None:
                target.history = list(history)
            target.status, target.reason, target.updated_at = status, reason or None, now
            target.claimed_by, target.due_by = None, now + timedelta(seconds=due_in) + QUEUE_GRACE
            if outcome is not None:
                target.outcome = outcome
            if attempts is not None:
                target.attempts = attempts
            if internal_order_id:
                target.internal_order_id = internal_order_id

    def briefs(
        self, tenant: str, statuses: Iterable[EventStatus], until: datetime | None, limit: int
    ) -> list[EventBrief]:
        return [
            EventBrief(e.event_id, e.status, e.received_at)
            for e in self.list(tenant=tenant, statuses=statuses, until=until, limit=limit)
        ]

    def list(
        self,
        *,
        tenant: str | None = None,
        statuses: Iterable[EventStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[InboundEvent]:
        wanted = set(statuses)
        found = [
            self._copy(e)
            for e in self.events.values()
            if (not tenant or e.tenant == tenant)
            and (not wanted or e.status in wanted)
            and (not since or e.received_at >= since)
            and (not until or e.received_at < until)
        ]
        return found[:limit]

    def for_order(self, tenant: str, internal_order_id: str) -> builtins.list[InboundEvent]:
        return sorted(
            (
                self._copy(e)
                for e in self.events.values()
                if e.tenant == tenant and e.internal_order_id == internal_order_id
            ),
            key=lambda e: e.received_at,
        )

    def count_by_status(self, tenant: str | None = None, since: datetime | None = None) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for event in self.list(tenant=tenant, since=since, limit=10**9):
            per_tenant = counts.setdefault(event.tenant, {})
            per_tenant[event.status.value] = per_tenant.get(event.status.value, 0) + 1
        return counts

    def status_of(self, tenant: str, event_id: str) -> EventStatus:
        return self.events[(tenant, event_id)].status


@dataclass
class Sent:
    tenant: str
    event_id: str
    delay: int = 0
    missing: int = 0


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None:
        self.sent.append(Sent(tenant, event_id, delay, missing))

    def take_all(self) -> list[Sent]:
        """The messages sent so far, forgetting them (the next `take_all` lists only newer ones)."""
        sent, self.sent = self.sent, []
        return sent


class FakeOrderRepository:
    """Orders stored as JSON under an ETag; `conflicts` makes the next writes fail as if someone else wrote."""

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], tuple[str, str]] = {}
        self.conflicts = 0
        self.writes = 0

    def get(self, tenant: str, internal_order_id: str) -> tuple[Order, str] | None:
        found = self.orders.get((tenant, internal_order_id))
        return (Order.model_validate_json(found[0]), found[1]) if found else None

    def _conflict(self, order: Order) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise ConcurrentUpdate(order.internal_order_id)

    def add(self, order: Order) -> str:
        self._conflict(order)
        key = (order.tenant, order.internal_order_id)
        if key in self.orders:
            raise ConcurrentUpdate(order.internal_order_id)
        return self._store(order)

    def save(self, order: Order, etag: str) -> str:
        self._conflict(order)
        found = self.orders.get((order.tenant, order.internal_order_id))
        if found is None or found[1] != etag:
            raise ConcurrentUpdate(order.internal_order_id)
        return self._store(order)

    def _store(self, order: Order) -> str:
        etag = next(_etags)
        self.orders[(order.tenant, order.internal_order_id)] = (order.model_dump_json(), etag)
        self.writes += 1
        return etag

    def find_by_reference(self, tenant: str, reference: str) -> tuple[Order, str] | None:
        reference = (reference or "").strip()
        if not reference:
            return None
        for (owner, _), (doc, etag) in self.orders.items():
            order = Order.model_validate_json(doc)
            if owner == tenant and reference in (
                order.internal_order_id,
                order.order_number,
                order.marketplace_order_id,
                order.zort_order_id,
            ):
                return order, etag
        return None

    def _of(self, tenant: str) -> list[Order]:
        return [Order.model_validate_json(doc) for (owner, _), (doc, _etag) in self.orders.items() if owner == tenant]

    def not_in_oms(self, tenant: str, created_before: datetime, limit: int) -> list[Order]:
        return [o for o in self._of(tenant) if not o.oms_synced and order_created_at(o) <= created_before][:limit]

    def awaiting_document(self, tenant: str, shipped_before: datetime, limit: int) -> list[Order]:
        from shared.domain.at_risk import document_pending_since

        return [o for o in self._of(tenant) if (s := document_pending_since(o)) and s <= shipped_before][:limit]

    def returns_waiting(self, tenant: str, waiting_before: datetime, limit: int) -> list[Order]:
        from shared.domain.at_risk import return_waiting_since

        return [o for o in self._of(tenant) if (s := return_waiting_since(o)) and s <= waiting_before][:limit]

    def briefs(self, tenant: str, which: str, before: datetime, limit: int) -> list[OrderBrief]:
        found = (
            self.not_in_oms(tenant, before, limit)
            if which == "not_in_oms"
            else self.awaiting_shipment(tenant, before, limit)
        )
        return [OrderBrief(o.internal_order_id, order_created_at(o), o.promised_shipping_time) for o in found]

    def awaiting_shipment(self, tenant: str, promised_before: datetime, limit: int) -> list[Order]:
        return [
            o
            for o in self._of(tenant)
            if items_not_ready(o) and o.promised_shipping_time and o.promised_shipping_time <= promised_before
        ][:limit]

    def created_between(self, tenant: str, since: datetime, until: datetime, limit: int) -> list[Order]:
        return [o for o in self._of(tenant) if since <= order_created_at(o) < until][:limit]

    def pending_before(self, tenant: str, created_before: datetime, limit: int) -> list[Order]:
        return [o for o in self._of(tenant) if items_not_ready(o) and order_created_at(o) < created_before][:limit]


class FakeDocumentStore:
    """Blob Storage in memory: name -> bytes; `puts` counts writes."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.puts = 0

    def put(self, name: str, data: bytes) -> None:
        self.puts += 1
        self.blobs[name] = bytes(data)

    def get(self, name: str) -> bytes:
        return self.blobs[name]


class FakeActivity:
    """Activity counts per (tenant, hour), shards summed."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], dict[str, int]] = {}

    def add(self, tenant: str, hour: datetime, counts: Mapping[str, int], shard: int = 0) -> None:
        row = self.counts.setdefault((tenant, hour_start(hour)), {})
        for name, value in counts.items():
            row[name] = row.get(name, 0) + value

    def hours(self, tenant: str, since: datetime, until: datetime) -> dict[datetime, dict[str, int]]:
        return {
            hour: dict(row)
            for (owner, hour), row in self.counts.items()
            if owner == tenant and hour_start(since) <= hour < hour_start(until)
        }


class FakeProductRepository:
    BATCH_SIZE = 100

    def __init__(self) -> None:
        self.products: dict[tuple[str, str], Product] = {}

    def upsert_many(self, products: list[Product]) -> int:
        by_tenant: dict[str, dict[str, Product]] = {}
        for product in products:
            by_tenant.setdefault(product.tenant, {})[product.sku] = product
        batches = 0
        for rows in by_tenant.values():
            for product in rows.values():
                self.merge(product)
            batches += -(-len(rows) // self.BATCH_SIZE)
        return batches

    def merge(self, product: Product) -> None:
        key = (product.tenant, product.sku)
        known = self.products.get(key)
        changes = product.model_dump(exclude_none=True)
        self.products[key] = known.model_copy(update=changes) if known else product.model_copy()

    def get(self, tenant: str, sku: str) -> Product | None:
        return self.products.get((tenant, sku))

    def listed_skus(self, tenant: str) -> list[str]:
        return [sku for (owner, sku), p in self.products.items() if owner == tenant and p.marketplace_listed]


class FakeStockRepository:
    """Stock sync state as the Table adapter keeps it: marks are new tokens, a taken SKU gets a new
    version, and an accepted one becomes clean only if its version is still the one it was taken at
    (what the adapter's ETag-conditional write does). `writes` counts batches and single writes."""

    BATCH_SIZE = 100

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], StockRecord] = {}
        self.states: dict[str, StockTenantState] = {}
        self.batches = 0
        self._versions = itertools.count(1)

    def _stored(self, tenant: str, sku: str) -> StockRecord:
        return self.records.setdefault((tenant, sku), StockRecord(tenant, sku, etag=str(next(self._versions))))

    def mark_dirty(self, tenant: str, skus: Sequence[str], now: datetime) -> int:
        unique = list(dict.fromkeys(skus))
        for sku in unique:
            record = self._stored(tenant, sku)
            record.dirty, record.mark, record.marked_at = True, f"m{next(self._versions)}", now
            record.etag = str(next(self._versions))
        batches = -(-len(unique) // self.BATCH_SIZE)
        self.batches += batches
        return batches

    def dirty(self, tenant: str, limit: int = 10_000) -> list[StockRecord]:
        found = [replace(r) for (t, _), r in self.records.items() if t == tenant and r.dirty]
        return found[:limit]

    def failures(self, tenant: str, limit: int = 100) -> list[StockRecord]:
        return [r for r in self.dirty(tenant) if r.failures > 0][:limit]

    def take(self, records: Sequence[StockRecord], now: datetime) -> list[StockRecord]:
        taken = []
        for record in records:
            stored = self._stored(record.tenant, record.sku)
            stored.sending_mark, stored.sending_at = record.mark, now
            stored.etag = str(next(self._versions))
            taken.append(replace(stored, mark=record.mark))
        self.batches += -(-len(records) // self.BATCH_SIZE)
        return taken

    def record(self, outcomes: Sequence[SkuOutcome]) -> None:
        for outcome in outcomes:
            stored = self._stored(outcome.record.tenant, outcome.record.sku)
            unchanged = stored.etag == outcome.record.etag
            stored.result, stored.reason, stored.attempted_at = outcome.result, outcome.reason, outcome.at
            stored.failures, stored.next_attempt_at = outcome.failures, outcome.next_attempt_at
            if outcome.available is not None:
                stored.zort_available = outcome.available
            stored.feed_id = outcome.feed_id if outcome.result is SkuResult.SENT else ""
            if outcome.result is SkuResult.SENT:
                stored.sent_quantity, stored.sent_at = outcome.quantity, outcome.at
            if outcome.clears and unchanged:
                stored.dirty, stored.synced_mark = False, outcome.record.sending_mark
            stored.etag = str(next(self._versions))
        self.batches += -(-len(outcomes) // self.BATCH_SIZE)

    def get(self, tenant: str, sku: str) -> StockRecord | None:
        found = self.records.get((tenant, sku))
        return replace(found) if found else None

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[StockRecord]:
        return [replace(r) for (t, _), r in self.records.items() if t == tenant and r.feed_id == feed_id][:limit]

    def tenant_state(self, tenant: str) -> StockTenantState:
        return replace(self.states.get(tenant) or StockTenantState(tenant))

    def save_tenant_state(self, state: StockTenantState) -> None:
        self.states[state.tenant] = replace(state)


class FakePriceRepository:
    """Price sync state in memory, as the Table adapter keeps it: a save that clears a mark is conditional
    on the version the SKU was taken at; `writes` counts the Table requests the adapter would make."""

    BATCH_SIZE = 100
    MARK_FIELDS = ("dirty", "mark", "marked_at", "zort_said", "zort_said_at")
    TAKE_FIELDS = ("sending_mark", "sending_at")

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], PriceRecord] = {}
        self.states: dict[str, PriceTenantState] = {}
        self.budgets: dict[str, FeedBudget] = {}
        self._versions = itertools.count(1)
        self.writes = 0

    def _stored(self, tenant: str, sku: str) -> PriceRecord:
        return self.records.setdefault((tenant, sku), PriceRecord(tenant, sku))

    def _copy(self, record: PriceRecord) -> PriceRecord:
        return replace(record, history=list(record.history))

    def mark(self, tenant: str, skus: Sequence[str], now: datetime, said: Mapping[str, str] | None = None) -> int:
        unique = list(dict.fromkeys(skus))
        for sku in unique:
            record = self._stored(tenant, sku)
            record.dirty, record.mark, record.marked_at = True, f"m{next(self._versions)}", now
            if said and sku in said:
                record.zort_said, record.zort_said_at = said[sku], now
            record.etag = str(next(self._versions))
        batches = -(-len(unique) // self.BATCH_SIZE)
        self.writes += batches
        return batches

    def dirty(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return [self._copy(r) for (t, _), r in self.records.items() if t == tenant and r.dirty][:limit]

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[PriceRecord]:
        return [self._copy(r) for (t, _), r in self.records.items() if t == tenant and r.feed_id == feed_id][:limit]

    def listed(self, tenant: str, limit: int = 100) -> list[PriceRecord]:
        return [self._copy(r) for (t, _), r in self.records.items() if t == tenant][:limit]

    def with_sales(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return [self._copy(r) for (t, _), r in self.records.items() if t == tenant and r.sale][:limit]

    def get(self, tenant: str, sku: str) -> PriceRecord | None:
        found = self.records.get((tenant, sku))
        return self._copy(found) if found else None

    def take(self, records: Sequence[PriceRecord], now: datetime) -> list[PriceRecord]:
        taken = []
        for record in records:
            stored = self._stored(record.tenant, record.sku)
            stored.sending_mark, stored.sending_at = record.mark, now
            stored.etag = str(next(self._versions))
            record.sending_mark, record.sending_at, record.etag = record.mark, now, stored.etag
            taken.append(record)
        self.writes += -(-len(records) // self.BATCH_SIZE)
        return taken

    def save(self, records: Sequence[PriceRecord], clean: frozenset[str] = frozenset()) -> None:
        for record in records:
            stored = self._stored(record.tenant, record.sku)
            unchanged = stored.etag == record.etag
            kept = {name: getattr(stored, name) for name in (*self.MARK_FIELDS, *self.TAKE_FIELDS)}
            updated = replace(record, history=list(record.history), **kept)
            if record.sku in clean and unchanged:
                updated.dirty = False
            updated.etag = str(next(self._versions))
            record.etag = updated.etag
            self.records[(record.tenant, record.sku)] = updated
        self.writes += -(-len(records) // self.BATCH_SIZE)

    def tenant_state(self, tenant: str) -> PriceTenantState:
        return replace(self.states.get(tenant) or PriceTenantState(tenant))

    def save_tenant_state(self, state: PriceTenantState) -> None:
        self.states[state.tenant] = replace(state)

    def budget(self, seller: str) -> FeedBudget:
        found = self.budgets.get(seller)
        return replace(found, calls=list(found.calls)) if found else FeedBudget(seller)

    def save_budget(self, budget: FeedBudget) -> bool:
        stored = self.budgets.get(budget.seller)
        if (stored.etag if stored else None) != budget.etag:
            return False
        budget.etag = str(next(self._versions))
        self.budgets[budget.seller] = replace(budget, calls=list(budget.calls))
        return True


class FakeFeedRepository:
    """The feeds Thor created, as the Table adapter keeps them: a save is conditional on the version read."""

    def __init__(self) -> None:
        self.feeds: dict[tuple[str, str], Feed] = {}
        self._versions = itertools.count(1)

    def add(self, feed: Feed) -> None:
        if (feed.tenant, feed.feed_id) not in self.feeds:
            feed.etag = str(next(self._versions))
            self.feeds[(feed.tenant, feed.feed_id)] = replace(feed, items=dict(feed.items))

    def get(self, tenant: str, feed_id: str) -> Feed | None:
        found = self.feeds.get((tenant, feed_id))
        return replace(found, items=dict(found.items), refused=dict(found.refused)) if found else None

    def open_feeds(self, tenant: str, limit: int = 100) -> list[Feed]:
        found = [self.get(t, f) for (t, f), feed in self.feeds.items() if t == tenant and feed.open]
        return sorted((f for f in found if f), key=lambda f: f.created_at)[:limit]

    def refused_recently(self, tenant: str, limit: int = 20) -> list[Feed]:
        found = [
            self.get(t, f) for (t, f), feed in self.feeds.items() if t == tenant and not feed.open and feed.refused
        ]
        return sorted((f for f in found if f), key=lambda f: f.created_at, reverse=True)[:limit]

    def save(self, feed: Feed) -> bool:
        stored = self.feeds.get((feed.tenant, feed.feed_id))
        if stored is None or stored.etag != feed.etag:
            return False
        feed.etag = str(next(self._versions))
        self.feeds[(feed.tenant, feed.feed_id)] = replace(feed, items=dict(feed.items), refused=dict(feed.refused))
        return True


class FakeIdempotency:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], IdempotencyRecord] = {}

    def get(self, tenant: str, key: str) -> IdempotencyRecord | None:
        return self.records.get((tenant, key))

    def add(self, tenant: str, key: str, record: IdempotencyRecord) -> bool:
        if (tenant, key) in self.records:
            return False
        self.records[(tenant, key)] = IdempotencyRecord(**record)
        return True

    def replace(self, tenant: str, key: str, record: IdempotencyRecord) -> None:
        self.records[(tenant, key)] = IdempotencyRecord(**record)

    def delete(self, tenant: str, key: str) -> None:
        self.records.pop((tenant, key), None)


class FakeCheckpoints:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], Checkpoint] = {}

    def get(self, name: str, key: str) -> Checkpoint | None:
        return self.saved.get((name, key))

    def list(self, name: str) -> builtins.list[Checkpoint]:
        return [c for (n, _), c in self.saved.items() if n == name]

    def save(self, name: str, key: str, position: datetime | None, summary: Summary, now: datetime) -> Checkpoint:
        previous = self.saved.get((name, key))
        if previous and previous.position and (position is None or previous.position > position):
            position = previous.position  # never backwards
        self.saved[(name, key)] = Checkpoint(name, key, position, dict(summary), now)
        return self.saved[(name, key)]


class FakeClaims:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.held: dict[tuple[str, str], tuple[str, datetime, Claim]] = {}
        self.fences: dict[tuple[str, str], int] = {}
        self.taken: list[tuple[str, str, str]] = []
        self.attempts: dict[tuple[str, str], str | None] = {}  # the event attempt each claim was taken for
        self.answers_lost: list[Exception] = []

    def lose_next_answer(self, error: Exception) -> None:
        """The next take is written, and then raises `error` (storage took it in; its answer was lost)."""
        self.answers_lost.append(error)

    def take(self, tenant: str, name: str, owner: str, seconds: float, *, for_event: str | None = None) -> Claim | None:
        now = self.clock()
        held = self.held.get((tenant, name))
        if (
            held
            and not may_take(held[0], held[1], owner, now)
            and not later_attempt(self.attempts.get((tenant, name)), for_event)
        ):
            return None
        self.fences[(tenant, name)] = self.fences.get((tenant, name), 0) + 1
        claim = Claim(next(_etags), self.fences[(tenant, name)])
        self.held[(tenant, name)] = (owner, now + timedelta(seconds=seconds), claim)
        self.attempts[(tenant, name)] = for_event
        self.taken.append((tenant, name, owner))
        if self.answers_lost:
            raise self.answers_lost.pop(0)
        return claim

    def holds(self, tenant: str, name: str, claim: Claim) -> bool:
        held = self.held.get((tenant, name))
        return held is not None and held[2] == claim and held[1] > self.clock()

    def release(self, tenant: str, name: str, claim: Claim) -> str | None:
        held = self.held.get((tenant, name))
        if held and held[2] == claim:
            del self.held[(tenant, name)]
            return None
        return f"taken over since (owner {held[0]})" if held else "already free"


# --- external systems ---------------------------------------------------------------------------


class _Failing:
    """`fail_next(error, times)`: the next `times` calls raise `error`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._failures: list[Exception] = []

    def fail_next(self, error: Exception, times: int = 1) -> None:
        self._failures.extend([error] * times)

    def _call(self, name: str, argument: Any = None) -> None:
        self.calls.append((name, argument))
        if self._failures:
            raise self._failures.pop(0)


ZONE = ZoneInfo("America/Santiago")  # local times are read in a storefront's zone, as the adapter does


def marketplace_order(
    order_id: str, *, number: str | None = None, updated_at: datetime | None = None, statuses: Sequence[str] = ()
) -> MarketplaceOrder:
    return MarketplaceOrder(
        order_id=order_id,
        order_number=number or f"N{order_id}",
        updated_at=updated_at,
        statuses=list(statuses),
        grand_total=Decimal("100.00"),
    )


def marketplace_item(
    item_id: str, *, order_id: str = "0", sku: str = "SKU-1", status: str = "pending", price: str = "100.00"
) -> MarketplaceItem:
    return MarketplaceItem(
        item_id=item_id,
        order_id=order_id,
        sku=sku,
        name=f"item {sku}",
        status=status,
        unit_price=Decimal(price),
        paid_price=Decimal(price),
        currency="CLP",
    )


class FakeMarketplace(_Failing):
    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, MarketplaceOrder] = {}
        self.items: dict[str, list[MarketplaceItem]] = {}
        self.products: dict[str, MarketplaceProduct] = {}
        self.packages = itertools.count(1)
        self.invoices: list[dict[str, Any]] = []  # SetInvoicePDF calls taken
        self.reasons: list[tuple[str, str]] = [("canceled", "Out of stock"), ("canceled", "Wrong address")]
        self.stock: dict[str, int] = {}  # what the marketplace holds per SKU (as its finished feeds set it)
        self.refuse: dict[str, str] = {}  # SKU -> the reason a feed refuses it (a FeedErrors entry)
        self.feeds: dict[str, tuple[list[tuple[str, int]], str]] = {}  # feed id -> (rows, status)
        self.feed_numbers = itertools.count(1)
        self.finish_on_ask = True  # FeedStatus finishes a feed when asked; False: it stays Processing
        self.prices: dict[str, PriceToSend] = {}  # what the marketplace holds per SKU (its finished feeds)
        self.price_feeds: dict[str, tuple[list[PriceToSend], str]] = {}

    def add_order(self, order_id: str, *items: MarketplaceItem, **header: Any) -> MarketplaceOrder:
        order = marketplace_order(order_id, statuses=[i.status for i in items], **header)
        self.orders[order_id], self.items[order_id] = order, list(items)
        return order

    def set_item_status(self, order_id: str, item_ids: Iterable[str], status: str) -> None:
        """The marketplace's models are frozen: the order's rows and header are replaced."""
        named = {str(i) for i in item_ids}
        self.items[order_id] = [
            i.model_copy(update={"status": status}) if i.item_id in named else i for i in self.items[order_id]
        ]
        self.orders[order_id] = self.orders[order_id].model_copy(
            update={"statuses": [i.status for i in self.items[order_id]]}
        )

    def _order_of(self, item_id: str) -> str:
        return next(o for o, items in self.items.items() if any(i.item_id == item_id for i in items))

    def _find(self, order_id: str | int) -> str:
        key = str(order_id).lstrip("0")
        if key not in self.orders:
            from shared.domain.errors import NotFound

            raise NotFound("OrderId", f"no order {order_id}")
        return key

    def get_order(self, order_id: str | int) -> MarketplaceOrder:
        self._call("get_order", order_id)
        return self.orders[self._find(order_id)]

    def get_order_items(self, order_id: str | int) -> list[MarketplaceItem]:
        self._call("get_order_items", order_id)
        return list(self.items[self._find(order_id)])

    def get_products(self, skus: Sequence[str]) -> list[MarketplaceProduct]:
        self._call("get_products", list(skus))
        return [self.products[s] for s in skus if s in self.products]

    def get_orders(self, updated_after: datetime, limit: int = 100, offset: int = 0) -> list[MarketplaceOrder]:
        self._call("get_orders", updated_after)
        found = sorted(
            (o for o in self.orders.values() if o.updated_at and o.updated_at >= updated_after),
            key=lambda o: o.updated_at or updated_after,
        )
        return found[offset : offset + limit]

    def set_status_to_packed_by_marketplace(
        self, order_item_ids: Sequence[str | int], delivery_type: str = "dropship"
    ) -> dict[str, str]:
        self._call("set_status_to_packed_by_marketplace", list(order_item_ids))
        package = f"PKG{next(self.packages)}"
        for item_id in order_item_ids:
            self.set_item_status(self._order_of(str(item_id)), [str(item_id)], "packed")
        return {str(i): package for i in order_item_ids}

    def set_status_to_ready_to_ship(self, order_item_ids: Sequence[str | int], package_id: str) -> None:
        self._call("set_status_to_ready_to_ship", (list(order_item_ids), package_id))
        for item_id in order_item_ids:
            self.set_item_status(self._order_of(str(item_id)), [str(item_id)], "ready_to_ship")

    def update_stock(self, rows: Sequence[tuple[str, int]], warehouse: StockWarehouse | None = None) -> str:
        self._call("update_stock", (list(rows), warehouse))
        if not rows or len(rows) > 500 or any(q < 0 for _, q in rows):
            raise ValueError("UpdateStock takes 1 to 500 rows of quantities 0 or more")
        feed_id = f"feed-{next(self.feed_numbers):04d}"
        self.feeds[feed_id] = (list(rows), FeedState.QUEUED.value)
        return feed_id

    def update_prices(self, rows: Sequence[PriceToSend]) -> str:
        self._call("update_prices", list(rows))
        if not rows or len(rows) > 1000:
            raise ValueError("ProductUpdate takes 1 to 1,000 products")
        feed_id = f"feed-{next(self.feed_numbers):04d}"
        self.price_feeds[feed_id] = (list(rows), FeedState.QUEUED.value)
        return feed_id

    def _finish_prices(self, feed_id: str, status: str) -> FeedReport:
        rows, current = self.price_feeds[feed_id]
        if current == FeedState.QUEUED.value:
            self.price_feeds[feed_id] = (rows, status)
            if status == FeedState.FINISHED.value:
                self.prices.update({r.sku: r for r in rows if r.sku not in self.refuse})
        rows, status = self.price_feeds[feed_id]
        return self._feed_report(feed_id, status, "ProductUpdate", [r.sku for r in rows])

    def finish(self, feed_id: str, status: str = FeedState.FINISHED.value) -> FeedReport:
        """The feed closes (Finished by default): the stock it carried is kept, but for refused SKUs."""
        if feed_id in self.price_feeds:
            return self._finish_prices(feed_id, status)
        rows, current = self.feeds[feed_id]
        if current == FeedState.QUEUED.value:
            self.feeds[feed_id] = (rows, status)
            if status == FeedState.FINISHED.value:
                self.stock.update({sku: q for sku, q in rows if sku not in self.refuse})
        return self._report(feed_id)

    def _report(self, feed_id: str) -> FeedReport:
        rows, status = self.feeds[feed_id]
        return self._feed_report(feed_id, status, "UpdateStock", [sku for sku, _ in rows])

    def _feed_report(self, feed_id: str, status: str, action: str, skus: list[str]) -> FeedReport:
        """FeedStatus of a feed carrying `skus`: the refused ones as its errors once it closed."""
        errors = tuple(FeedIssue(sku, self.refuse[sku], "1") for sku in skus if sku in self.refuse)
        closed = status != FeedState.QUEUED.value
        return FeedReport(
            feed_id,
            status,
            action,
            total=len(skus),
            processed=len(skus) if closed else 0,
            failed=len(errors) if closed else 0,
            errors=errors if closed else (),
        )

    def feed_status(self, feed_id: str) -> FeedReport:
        self._call("feed_status", feed_id)
        if feed_id in self.price_feeds:
            return (
                self._finish_prices(feed_id, FeedState.FINISHED.value)
                if self.finish_on_ask
                else (self._finish_prices(feed_id, FeedState.QUEUED.value))
            )
        if feed_id not in self.feeds:
            from shared.adapters.seller_center.client import SellerCenterError

            raise SellerCenterError("E012", "E012: Invalid Feed ID", status=400)
        if self.finish_on_ask:
            return self.finish(feed_id)
        return self._report(feed_id)

    def set_invoice_pdf(
        self, order_item_ids: Sequence[str], number: str, date: str, document_type: str, operator_code: str, pdf: bytes
    ) -> dict[str, Any]:
        self._call("set_invoice_pdf", (list(order_item_ids), number, document_type, operator_code))
        document = {"items": list(order_item_ids), "number": number, "type": document_type, "size": len(pdf)}
        if document not in self.invoices:
            self.invoices.append(document)
        return {}

    def get_failure_reasons(self) -> list[tuple[str, str]]:
        self._call("get_failure_reasons")
        return list(self.reasons)

    def set_status_to_canceled(self, order_item_id: str, reason: str, reason_detail: str | None = None) -> None:
        self._call("set_status_to_canceled", (order_item_id, reason))
        order_id = self._order_of(str(order_item_id))
        row = next(i for i in self.items[order_id] if i.item_id == str(order_item_id))
        if row.status != "pending":
            raise ValueError(f"E028: It is not possible to set the order to the status canceled ({row.status})")
        self.set_item_status(order_id, [str(order_item_id)], "canceled")

    def set_seller_delivery_status(self, action: str, order_item_ids: Sequence[str], reason: str | None = None) -> None:
        self._call("set_seller_delivery_status", (action, list(order_item_ids), reason))
        status = {"SetStatusToShipped": "shipped", "SetStatusToDelivered": "delivered"}.get(action, "failed_delivery")
        for item_id in order_item_ids:
            self.set_item_status(self._order_of(str(item_id)), [str(item_id)], status)


class FakeOms(_Failing):
    """Records every upsert (a copy of the order sent); answers "created" the first time, then "updated"."""

    def __init__(self) -> None:
        super().__init__()
        self.upserts: list[Order] = []
        self.known: set[str] = set()

    def upsert_order(self, order: Order) -> tuple[str, JsonObject]:
        self._call("upsert_order", order.internal_order_id)
        self.upserts.append(order.model_copy(deep=True))
        action = "updated" if order.internal_order_id in self.known else "created"
        self.known.add(order.internal_order_id)
        return action, {"orderRef": order.internal_order_id}

    def find_order(self, order_ref: str) -> JsonObject | None:
        self._call("find_order", order_ref)
        return {"orderRef": order_ref} if order_ref in self.known else None


class FakeZort(_Failing):
    def __init__(self) -> None:
        super().__init__()
        self.webhook: JsonObject = {}
        self.stock: dict[str, Decimal] = {}  # available stock per SKU, as GetProducts answers it
        self.sellprice: dict[str, Decimal] = {}  # sellprice per SKU, as GetProducts answers it

    def get_webhook(self) -> JsonObject:
        self._call("get_webhook")
        return dict(self.webhook)

    def update_webhook(self, key1: str, key2: str, key3: str, urls: Mapping[str, str]) -> JsonObject:
        self._call("update_webhook", dict(urls))
        self.webhook = {"key1": key1, "key2": key2, "key3": key3, **urls}
        return {"res": "200"}

    def available_stock(self, skus: Sequence[str]) -> dict[str, Decimal]:
        self._call("available_stock", list(skus))
        return {sku: self.stock[sku] for sku in skus if sku in self.stock}

    def sell_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        self._call("sell_prices", list(skus))
        return {sku: self.sellprice[sku] for sku in skus if sku in self.sellprice}


# --- the context ----------------------------------------------------------------------------------


def configured_tenant(tenant: str) -> TenantSettings:
    """A tenant's settings for all three systems, typed as `shared.settings` parses them."""
    return TenantSettings(
        marketplace=MarketplaceTenantSettings(
            "u", "k", "s", tenant.upper(), ready_to_ship=False, time_zone=TENANT_TIMEZONES[tenant]
        ),
        oms=OmsTenantSettings("t", tenant),
        zort=ZortTenantSettings("k"),
    )


def fake_settings(
    retry_delays: tuple[int, ...] = (10, 60, 300, 1800, 7200),
    tenants: Mapping[str, TenantSettings] | None = None,
) -> Settings:
    return Settings(
        storage=StorageSettings(None, None, None, None, None),
        marketplace_base_url="http://marketplace",
        oms_base_url="http://oms",
        zort_api_base_url="http://zort",
        tenants=tenants or {},
        retry_delays=retry_delays,
    )


@dataclass
class FakeContext:
    """A `shared.ports.ServiceContext` of fakes. `configured` lists (system, tenant) pairs a tenant
    has settings for; any other asks NotConfigured, as the real composition root does."""

    settings: Settings
    clock: FakeClock
    events: FakeEventLog
    queue: FakeQueue = field(default_factory=FakeQueue)
    orders: FakeOrderRepository = field(default_factory=FakeOrderRepository)
    products: FakeProductRepository = field(default_factory=FakeProductRepository)
    idempotency: FakeIdempotency = field(default_factory=FakeIdempotency)
    checkpoints: FakeCheckpoints = field(default_factory=FakeCheckpoints)
    claims: FakeClaims = cast(FakeClaims, None)  # made in __post_init__, on the context's clock
    activity: FakeActivity = field(default_factory=FakeActivity)
    document_store: FakeDocumentStore = field(default_factory=FakeDocumentStore)
    handlers: Mapping[type[Message], Handler] = field(default_factory=build_handlers)
    marketplaces: dict[str, FakeMarketplace] = field(default_factory=dict)
    omses: dict[str, FakeOms] = field(default_factory=dict)
    zorts: dict[str, FakeZort] = field(default_factory=dict)
    ready_to_ship_tenants: set[str] = field(default_factory=set)
    stock: FakeStockRepository = field(default_factory=FakeStockRepository)
    feeds: FakeFeedRepository = field(default_factory=FakeFeedRepository)
    stock_sync: dict[str, StockSyncSettings] = field(default_factory=dict)  # tenants with stock sync on
    zort_stores: dict[str, str] = field(default_factory=dict)  # tenant -> ZORT store name (shared stores)
    prices: FakePriceRepository = field(default_factory=FakePriceRepository)
    price_sync: dict[str, PriceSyncSettings] = field(default_factory=dict)  # tenants with price sync on

    def __post_init__(self) -> None:
        if self.claims is None:
            self.claims = FakeClaims(self.clock)

    def _system(self, systems: Mapping[str, S], name: str, tenant: str) -> S:
        if tenant not in systems:
            raise NotConfigured(name, tenant, [f"{name.upper()}_{tenant.upper()}_*"])
        return systems[tenant]

    def marketplace(self, tenant: str) -> FakeMarketplace:
        return self._system(self.marketplaces, "marketplace", tenant)

    def oms(self, tenant: str) -> FakeOms:
        return self._system(self.omses, "oms", tenant)

    def zort(self, tenant: str) -> FakeZort:
        return self._system(self.zorts, "zort", tenant)

    def ready_to_ship(self, tenant: str) -> bool:
        return tenant in self.ready_to_ship_tenants

    def stock_settings(self, tenant: str) -> StockSyncSettings:
        return self.stock_sync.get(tenant, StockSyncSettings())

    def stock_tenants(self, tenant: str) -> list[str]:
        return [t for t in self._same_zort_store(tenant, self.stock_sync) if self.stock_sync[t].enabled]

    def price_settings(self, tenant: str) -> PriceSyncSettings:
        return self.price_sync.get(tenant, PriceSyncSettings())

    def price_tenants(self, tenant: str) -> list[str]:
        return [t for t in self._same_zort_store(tenant, self.price_sync) if self.price_sync[t].enabled]

    def _same_zort_store(self, tenant: str, among: Mapping[str, object]) -> list[str]:
        """The tenants of `among` that are `tenant` or share its ZORT store (as Settings.same_zort_store)."""
        store = self.zort_stores.get(tenant)
        return [t for t in among if t == tenant or (store and self.zort_stores.get(t) == store)]

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)


# Storage ports of the context and the Protocol each implements: what `count_storage` counts.
STORAGE_PORTS: dict[str, type] = {
    "events": EventLogPort,
    "queue": EventQueuePort,
    "orders": OrderRepositoryPort,
    "products": ProductRepositoryPort,
    "idempotency": IdempotencyPort,
    "checkpoints": CheckpointPort,
    "stock": StockRepositoryPort,
    "feeds": FeedRepositoryPort,
    "claims": ClaimStorePort,
    "activity": ActivityCountsPort,
}


class _Counted:
    """A storage fake whose port methods count each call (`"orders.get"`) in a shared Counter;
    anything else (a test's own helpers, attributes) passes through uncounted."""

    def __init__(self, inner: object, name: str, methods: frozenset[str], calls: Counter[str]) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_counted", (name, methods, calls))

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        name, methods, calls = self._counted
        if attr not in methods:
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[f"{name}.{attr}"] += 1
            return value(*args, **kwargs)

        return counted

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._inner, attr, value)


def count_storage(context: FakeContext) -> Counter[str]:
    """Counts every storage port call made on `context` from now on (`port.method` -> calls): the
    storage calls per event that tests/unit/test_storage_calls.py pins. Clear it to start again."""
    calls: Counter[str] = Counter()
    for name, port in STORAGE_PORTS.items():
        methods = frozenset(m for m in vars(port) if not m.startswith("_"))
        setattr(context, name, _Counted(getattr(context, name), name, methods, calls))
    return calls


def fake_context(
    *tenants: str,
    retry_delays: tuple[int, ...] = (10, 60, 300, 1800, 7200),
    now: datetime = T0,
    ready_to_ship: Iterable[str] = (),
) -> FakeContext:
    """A context whose `tenants` (default: sope) have a marketplace, an OMS and ZORT; others have none."""
    tenants = tenants or ("sope",)
    clock = FakeClock(now)
    configured = {t: configured_tenant(t) for t in tenants}
    return FakeContext(
        settings=fake_settings(retry_delays, configured),
        clock=clock,
        events=FakeEventLog(clock),
        marketplaces={t: FakeMarketplace() for t in tenants},
        omses={t: FakeOms() for t in tenants},
        zorts={t: FakeZort() for t in tenants},
        ready_to_ship_tenants=set(ready_to_ship),
    )


# --- alerts and reports (shared.ports.AlertPorts) -------------------------------------------------


class FakeAlertChannel(_Failing):
    """A channel that keeps every notice it was given; `fail_next` makes it refuse."""

    def __init__(self, name: str = "fake") -> None:
        super().__init__()
        self.name = name
        self.notices: list[Any] = []

    def send(self, notice: Any) -> None:
        self._call("send", notice)
        self.notices.append(notice)


class FakeIncidentRepository:
    """Incidents by (tenant, rule); counts the queries and writes as the Table adapter would make them."""

    def __init__(self) -> None:
        self.incidents: dict[tuple[str, str], Any] = {}
        self.queries = 0
        self.writes = 0

    def active(self) -> list[Any]:
        self.queries += 1
        return [i for i in self.incidents.values() if i.open or i.held is not None]

    def save(self, incident: Any) -> None:
        self.writes += 1
        self.incidents[(incident.tenant, incident.rule.value)] = incident


class FakeReportStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, tenant: str, day: str, kind: str, text: str) -> str:
        name = f"{tenant}/{day}/{kind}.csv"
        self.blobs[name] = text.encode()
        return name

    def get(self, tenant: str, day: str, kind: str) -> bytes | None:
        return self.blobs.get(f"{tenant}/{day}/{kind}.csv")

    def link(self, name: str, now: datetime, hours: int) -> str:
        return f"https://reports.example/{name}?se={(now + timedelta(hours=hours)).isoformat()}"


@dataclass
class FakeAlerts:
    """`shared.ports.AlertPorts` in memory: every tenant's messages go to `channel` (or `channels`)."""

    incidents: FakeIncidentRepository = field(default_factory=FakeIncidentRepository)
    reports: FakeReportStore = field(default_factory=FakeReportStore)
    channel: FakeAlertChannel = field(default_factory=FakeAlertChannel)
    per_tenant: dict[str, list[FakeAlertChannel]] = field(default_factory=dict)

    def channels(self, tenant: str) -> list[Any]:
        return self.per_tenant.get(tenant, [self.channel])


if TYPE_CHECKING:  # mypy (pyproject: tests/fakes.py is in its files) checks each fake against its port
    from shared.ports import (
        AlertChannelPort,
        AlertPorts,
        IncidentRepositoryPort,
        MarketplacePort,
        OmsPort,
        ReportStorePort,
        ServiceContext,
        ZortPort,
    )

    _clock = FakeClock()
    _events: EventLogPort = FakeEventLog(_clock)
    _queue: EventQueuePort = FakeQueue()
    _orders: OrderRepositoryPort = FakeOrderRepository()
    _products: ProductRepositoryPort = FakeProductRepository()
    _stock: StockRepositoryPort = FakeStockRepository()
    _feeds: FeedRepositoryPort = FakeFeedRepository()
    _idempotency: IdempotencyPort = FakeIdempotency()
    _checkpoints: CheckpointPort = FakeCheckpoints()
    _claims: ClaimStorePort = FakeClaims(_clock)
    _activity: ActivityCountsPort = FakeActivity()
    _marketplace: MarketplacePort = FakeMarketplace()
    _oms: OmsPort = FakeOms()
    _zort: ZortPort = FakeZort()
    _context: ServiceContext = fake_context()
    _incidents: IncidentRepositoryPort = FakeIncidentRepository()
    _channel: AlertChannelPort = FakeAlertChannel()
    _reports: ReportStorePort = FakeReportStore()
    _alerts: AlertPorts = FakeAlerts()
