"""What the services need from the outside, stated without any SDK: storage repositories, the three
external systems, a clock. Adapters implement these (shared/adapters), so do the in-memory fakes of the
unit tests (tests/fakes.py); the composition root (shared/bootstrap.py) wires the adapters in.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypedDict

from shared.domain.at_risk import EventBrief, OrderBrief
from shared.domain.events import Attempt, EventKind, EventStatus, InboundEvent, Message, Outcome

if TYPE_CHECKING:  # named in signatures only: a webhook's cold start does not load them
    from shared.domain.alerts import Incident, Notice
    from shared.domain.checkpoints import Checkpoint, Summary
    from shared.domain.feeds import Feed, FeedReport
    from shared.domain.marketplace import MarketplaceItem, MarketplaceOrder, MarketplaceProduct
    from shared.domain.order import Order
    from shared.domain.price_settings import PriceSyncSettings
    from shared.domain.prices import FeedBudget, PriceRecord, PriceTenantState, PriceToSend
    from shared.domain.product import Product
    from shared.domain.stock import SkuOutcome, StockRecord, StockSyncSettings, StockTenantState, StockWarehouse
    from shared.settings import Settings


JsonObject = dict[str, Any]
"""A JSON object as an external system answered it (read with `.get`, each value checked where used)."""


class StorageUnavailable(Exception):
    """Table or queue storage could not be reached or answered with a server error."""


class ConcurrentUpdate(Exception):
    """Someone else changed (or created) the record since it was read."""


class ClaimLost(Exception):
    """The worker's claim was taken over (its fencing token is no longer the current one): the
    worker stops at once, without writing or sending anything more."""


class Claim(NamedTuple):
    """A claim as taken: the ETag its row was written with, and its fencing token."""

    etag: str
    fence: int


# --- storage ----------------------------------------------------------------------------------


class EventLogPort(Protocol):
    def add(self, event: InboundEvent) -> bool: ...
    def get(self, tenant: str, event_id: str) -> InboundEvent | None: ...
    def delete(self, tenant: str, event_id: str) -> None:
        """Removes the event (the smoke test's synthetic event only: `shared.services.smoke`)."""
        ...

    def claim(self, tenant: str, event_id: str, owner: str, seconds: float) -> tuple[InboundEvent | None, bool]:
        """Takes the event's claim; the event returned carries its fencing token (`fence`)."""
        ...

    def holds(self, event: InboundEvent) -> bool:
        """Whether the claim `event.fence` names is still the event's current one (one read)."""
        ...

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
        history: builtins.list[Attempt] | None = None,
    ) -> None: ...
    def list(
        self,
        *,
        tenant: str | None = None,
        statuses: Iterable[EventStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[InboundEvent]: ...
    def for_order(self, tenant: str, internal_order_id: str) -> builtins.list[InboundEvent]: ...
    def briefs(
        self, tenant: str, statuses: Iterable[EventStatus], until: datetime | None, limit: int
    ) -> builtins.list[EventBrief]:
        """Like `list`, only id, status and time (no body): the console's counts."""
        ...

    def count_by_status(
        self, tenant: str | None = None, since: datetime | None = None
    ) -> dict[str, dict[str, int]]: ...


class ActivityCountsPort(Protocol):
    """Counts per tenant per UTC hour (shared.domain.activity): added by the processor, read by the console."""

    def add(self, tenant: str, hour: datetime, counts: Mapping[str, int], shard: int = 0) -> None: ...
    def hours(self, tenant: str, since: datetime, until: datetime) -> dict[datetime, dict[str, int]]: ...


class EventQueuePort(Protocol):
    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None: ...


class ClaimStorePort(Protocol):
    def take(self, tenant: str, name: str, owner: str, seconds: float, *, for_event: str | None = None) -> Claim | None:
        """The claim when `owner` now holds `name`; None when another does. `for_event` (an event
        attempt, `shared.domain.fencing.attempt_of`): a later attempt of that event takes it over."""
        ...

    def holds(self, tenant: str, name: str, claim: Claim) -> bool:
        """Whether `claim` is still the current, unexpired claim on `name` (one read)."""
        ...

    def release(self, tenant: str, name: str, claim: Claim) -> str | None:
        """Frees `claim` if it is still as taken: None when freed, else why nothing was done."""
        ...


class OrderRepositoryPort(Protocol):
    def get(self, tenant: str, internal_order_id: str) -> tuple[Order, str] | None: ...
    def add(self, order: Order) -> str: ...
    def save(self, order: Order, etag: str) -> str: ...
    def find_by_reference(self, tenant: str, reference: str) -> tuple[Order, str] | None: ...
    def not_in_oms(self, tenant: str, created_before: datetime, limit: int) -> list[Order]:
        """Orders not (yet) in the OMS created before `created_before`: at most `limit`, one query."""
        ...

    def awaiting_shipment(self, tenant: str, promised_before: datetime, limit: int) -> list[Order]:
        """Orders with items not ready to ship promised before `promised_before`: at most `limit`, one query."""
        ...

    def awaiting_document(self, tenant: str, shipped_before: datetime, limit: int) -> list[Order]:
        """Shipped orders without an uploaded tax document that shipped before `shipped_before` (issue 19)."""
        ...

    def returns_waiting(self, tenant: str, waiting_before: datetime, limit: int) -> list[Order]:
        """Orders with a return waiting for approval since before `waiting_before` (issue 19)."""
        ...

    def briefs(self, tenant: str, which: str, before: datetime, limit: int) -> list[OrderBrief]:
        """`not_in_oms` or `awaiting_shipment` (`which`) as their key columns only (the console's counts)."""
        ...

    def created_between(self, tenant: str, since: datetime, until: datetime, limit: int) -> list[Order]:
        """Orders created in [since, until): at most `limit` (reports)."""
        ...

    def pending_before(self, tenant: str, created_before: datetime, limit: int) -> list[Order]:
        """Orders with items not ready to ship created before `created_before`: at most `limit` (reports)."""
        ...


class DocumentStorePort(Protocol):
    """Where a tax document's PDF is kept, once (Blob Storage): written before the document is
    acknowledged, read by the upload."""

    def put(self, name: str, data: bytes) -> None: ...
    def get(self, name: str) -> bytes: ...


class ProductRepositoryPort(Protocol):
    def upsert_many(self, products: list[Product]) -> int: ...
    def merge(self, product: Product) -> None: ...
    def get(self, tenant: str, sku: str) -> Product | None: ...
    def listed_skus(self, tenant: str) -> list[str]:
        """Every SKU the tenant's marketplace listed (kept from its product webhooks)."""
        ...


class StockRepositoryPort(Protocol):
    """Each tenant's stock sync state per SKU and as a whole (shared.domain.stock)."""

    def mark_dirty(self, tenant: str, skus: Sequence[str], now: datetime) -> int:
        """Marks the SKUs changed (a new mark each), in batches; returns the number of batches."""
        ...

    def dirty(self, tenant: str, limit: int = 10_000) -> list[StockRecord]: ...
    def take(self, records: Sequence[StockRecord], now: datetime) -> list[StockRecord]:
        """Records durably that a flush is sending these SKUs (`stock.taken`); returns them as stored."""
        ...

    def record(self, outcomes: Sequence[SkuOutcome]) -> None:
        """Stores each outcome; an accepted SKU becomes clean only if nothing marked it since it was taken."""
        ...

    def get(self, tenant: str, sku: str) -> StockRecord | None: ...
    def failures(self, tenant: str, limit: int = 100) -> list[StockRecord]: ...
    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[StockRecord]:
        """The SKUs still waiting for the feed `feed_id`, as stored now (each with its version)."""
        ...

    def tenant_state(self, tenant: str) -> StockTenantState: ...
    def save_tenant_state(self, state: StockTenantState) -> None: ...


class FeedRepositoryPort(Protocol):
    """The feeds Thor created and their outcome (shared.domain.feeds)."""

    def add(self, feed: Feed) -> None: ...
    def get(self, tenant: str, feed_id: str) -> Feed | None: ...
    def open_feeds(self, tenant: str, limit: int = 100) -> list[Feed]:
        """The tenant's open feeds, oldest first."""
        ...

    def refused_recently(self, tenant: str, limit: int = 20) -> list[Feed]: ...
    def save(self, feed: Feed) -> bool:
        """Writes the feed if unchanged since it was read; False when another writer was first."""
        ...


class PriceRepositoryPort(Protocol):
    """Each tenant's price sync state per SKU and as a whole, and each seller's feed budget
    (shared.domain.prices)."""

    def mark(self, tenant: str, skus: Sequence[str], now: datetime, said: Mapping[str, str] | None = None) -> int:
        """Marks the SKUs changed (a new mark each; `said`: ZORT's webhook price, kept as a hint)."""
        ...

    def dirty(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]: ...
    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[PriceRecord]: ...
    def with_sales(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        """The SKUs with a sale (running, coming or over but not yet replaced by the normal price)."""
        ...

    def listed(self, tenant: str, limit: int = 100) -> list[PriceRecord]: ...
    def get(self, tenant: str, sku: str) -> PriceRecord | None: ...
    def take(self, records: Sequence[PriceRecord], now: datetime) -> list[PriceRecord]: ...
    def save(self, records: Sequence[PriceRecord], clean: frozenset[str] = frozenset()) -> None:
        """Stores each record's outcome; the SKUs in `clean` stop being marked unless marked since taken."""
        ...

    def tenant_state(self, tenant: str) -> PriceTenantState: ...
    def save_tenant_state(self, state: PriceTenantState) -> None: ...
    def budget(self, seller: str) -> FeedBudget: ...
    def save_budget(self, budget: FeedBudget) -> bool:
        """Writes the budget if unchanged since read; False when another writer was first."""
        ...


class IdempotencyRecord(TypedDict, total=False):
    """What is remembered for an `Idempotency-Key`: the request body's hash, and the answer given
    (`status` None while the first request with the key is still being processed)."""

    bodyHash: str
    status: int | None
    body: JsonObject
    startedAt: str
    """When the request in flight began (RFC 3339): one found still in flight well after the storage
    bound was abandoned (a 503 whose clean-up could not reach storage either) and may be taken over."""


class IdempotencyPort(Protocol):
    def get(self, tenant: str, key: str) -> IdempotencyRecord | None: ...
    def add(self, tenant: str, key: str, record: IdempotencyRecord) -> bool: ...
    def replace(self, tenant: str, key: str, record: IdempotencyRecord) -> None: ...
    def delete(self, tenant: str, key: str) -> None: ...


class CheckpointPort(Protocol):
    def get(self, name: str, key: str) -> Checkpoint | None: ...
    def list(self, name: str) -> builtins.list[Checkpoint]: ...
    def save(self, name: str, key: str, position: datetime | None, summary: Summary, now: datetime) -> Checkpoint: ...


# --- external systems -------------------------------------------------------------------------


class MarketplacePort(Protocol):
    """Falabella Seller Center, as the services use it (one tenant's account). It answers in Thor's words
    (`shared.domain.marketplace`): the adapter translates Seller Center's rows, as the OMS adapter
    translates Thor's order."""

    def get_order(self, order_id: str | int) -> MarketplaceOrder: ...
    def get_order_items(self, order_id: str | int) -> list[MarketplaceItem]:
        """The order's items, all of that order and in one currency: any other answer raises
        ExternalSystemError (rows of another order: retryable; two currencies: not)."""
        ...

    def get_products(self, skus: Sequence[str]) -> list[MarketplaceProduct]:
        """The products the storefront lists among `skus` (one unknown to it is left out)."""
        ...

    def get_orders(self, updated_after: datetime, limit: int = 100, offset: int = 0) -> list[MarketplaceOrder]:
        """One page of orders updated after `updated_after`, oldest update first."""
        ...

    def set_status_to_packed_by_marketplace(
        self, order_item_ids: Sequence[str | int], delivery_type: str = "dropship"
    ) -> dict[str, str]: ...
    def set_status_to_ready_to_ship(self, order_item_ids: Sequence[str | int], package_id: str) -> None: ...
    def update_stock(self, rows: Sequence[tuple[str, int]], warehouse: StockWarehouse | None = None) -> str:
        """One UpdateStock call of at most 500 (SKU, quantity) rows; returns the feed id the marketplace
        answered (the write is done when that feed is). A whole refused call raises ExternalSystemError."""
        ...

    def feed_status(self, feed_id: str) -> FeedReport:
        """FeedStatus: the feed's status, counts and per-SKU errors."""
        ...

    def set_invoice_pdf(
        self, order_item_ids: Sequence[str], number: str, date: str, document_type: str, operator_code: str, pdf: bytes
    ) -> JsonObject:
        """SetInvoicePDF: the tax document of those items; returns the answer's Body."""
        ...

    def get_failure_reasons(self) -> list[tuple[str, str]]:
        """GetFailureReasons: (Type, Name) rows."""
        ...

    def set_status_to_canceled(self, order_item_id: str, reason: str, reason_detail: str | None = None) -> None: ...
    def set_seller_delivery_status(self, action: str, order_item_ids: Sequence[str], reason: str | None = None) -> None:
        """SetStatusToShipped / SetStatusToDelivered / SetStatusToFailedDelivery (with a reason) of items."""
        ...

    def update_prices(self, rows: Sequence[PriceToSend]) -> str:
        """One ProductUpdate of at most 1,000 SKUs' prices (and sales); returns the feed id it answered.
        A whole refused call (a 429 among them) raises ExternalSystemError."""
        ...


class OmsPort(Protocol):
    """The OMS (one tenant's): creates or updates an order, returning ("created" | "updated", answer)."""

    def upsert_order(self, order: Order) -> tuple[str, JsonObject]: ...
    def find_order(self, order_ref: str) -> JsonObject | None: ...


class ZortPort(Protocol):
    """ZORT's API (one tenant's store): its webhook registration and the products' current stock."""

    def get_webhook(self) -> JsonObject: ...
    def update_webhook(self, key1: str, key2: str, key3: str, urls: Mapping[str, str]) -> JsonObject: ...
    def available_stock(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Each SKU's current available stock; a SKU ZORT does not know is left out."""
        ...

    def sell_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Each SKU's current `sellprice`; a SKU ZORT does not know (or gives no price) is left out."""
        ...


# --- alerts and reports (docs/operations.md "Alerts and reports") ----------------------------------------------


class IncidentRepositoryPort(Protocol):
    """Incidents (shared.domain.alerts), one per tenant and at-risk rule."""

    def active(self) -> builtins.list[Incident]:
        """Every incident open, or resolved with a message still held: one query (paged by 1,000)."""
        ...

    def save(self, incident: Incident) -> None: ...


class AlertChannelPort(Protocol):
    """One channel a tenant's messages go to (Teams, Slack, e-mail): ExternalSystemError when refused."""

    name: str

    def send(self, notice: Notice) -> None: ...


class ReportStorePort(Protocol):
    """Reports as CSV files (Blob Storage), and time-limited links to them."""

    def put(self, tenant: str, day: str, kind: str, text: str) -> str:
        """Stores the report (replacing one of the same day and kind); returns its name."""
        ...

    def get(self, tenant: str, day: str, kind: str) -> bytes | None: ...
    def link(self, name: str, now: datetime, hours: int) -> str:
        """A URL that reads the report until `now + hours`, without any other credential."""
        ...


class AlertPorts(Protocol):
    """What the alert and report services are given besides the ServiceContext."""

    @property
    def incidents(self) -> IncidentRepositoryPort: ...
    @property
    def reports(self) -> ReportStorePort: ...
    def channels(self, tenant: str) -> builtins.list[AlertChannelPort]: ...


# --- everything a service is given ----------------------------------------------------------


class ServiceContext(Protocol):
    """What services and flows are given: settings, repositories, each tenant's external systems, a
    clock and a sleep (both faked in unit tests). `shared.bootstrap.Context` and
    `tests.fakes.FakeContext` implement it."""

    @property
    def settings(self) -> Settings: ...
    @property
    def events(self) -> EventLogPort: ...
    @property
    def queue(self) -> EventQueuePort: ...
    @property
    def orders(self) -> OrderRepositoryPort: ...
    @property
    def products(self) -> ProductRepositoryPort: ...
    @property
    def idempotency(self) -> IdempotencyPort: ...
    @property
    def checkpoints(self) -> CheckpointPort: ...
    @property
    def stock(self) -> StockRepositoryPort: ...
    @property
    def feeds(self) -> FeedRepositoryPort: ...
    @property
    def claims(self) -> ClaimStorePort: ...
    @property
    def prices(self) -> PriceRepositoryPort: ...
    @property
    def activity(self) -> ActivityCountsPort: ...
    @property
    def document_store(self) -> DocumentStorePort: ...
    @property
    def handlers(self) -> Mapping[type[Message], Handler]:
        """Each message's handler (`{Model: handler}`), built once by the composition root."""

    def marketplace(self, tenant: str) -> MarketplacePort: ...
    def oms(self, tenant: str) -> OmsPort: ...
    def zort(self, tenant: str) -> ZortPort: ...
    def ready_to_ship(self, tenant: str) -> bool: ...
    def stock_settings(self, tenant: str) -> StockSyncSettings: ...
    def stock_tenants(self, tenant: str) -> list[str]:
        """Tenants with stock sync on whose stock a ZORT webhook received for `tenant` concerns."""
        ...

    def price_settings(self, tenant: str) -> PriceSyncSettings: ...
    def price_tenants(self, tenant: str) -> list[str]:
        """Tenants with price sync on whose prices a ZORT webhook received for `tenant` concerns."""
        ...

    def clock(self) -> datetime: ...
    def sleep(self, seconds: float) -> None: ...


# --- the event pipeline -------------------------------------------------------------------------

Handler = Callable[[ServiceContext, InboundEvent, Any], Outcome]
"""Applies one event: given the context, the recorded event and its body validated by the kind's model."""


def model_for(handlers: Mapping[type[Message], Handler], kind: EventKind) -> type[Message] | None:
    """The model of a stored event's kind: the one whose `kind` it is (kinds are unique: a unit test)."""
    return next((model for model in handlers if model.kind is kind), None)
