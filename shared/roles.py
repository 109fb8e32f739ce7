"""What each service takes: role protocols, each naming exactly the ports a service's entry point uses
(directly and through the services it calls), so a reader sees what a service touches and a fake need
provide only that.

`shared.ports.ServiceContext` (the composition root's `Context`, the tests' `FakeContext`) satisfies
every role structurally, so the functions hand it on unchanged; mypy checks each role against what its
service does with it (a service that reaches for a port its role does not name fails `make lint`).

Each `Has…` protocol is one member of the ServiceContext; a role is a set of them. Which service takes
which role is in docs/architecture.md, "What each service takes". Processing (and the ops commands
that process an event at once) take the whole ServiceContext: they call any kind's handler.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # named in signatures only
    from shared.domain.price_settings import PriceSyncSettings
    from shared.domain.stock_settings import StockSyncSettings
    from shared.ports import (
        ActivityCountsPort,
        CheckpointPort,
        ClaimStorePort,
        DocumentStorePort,
        EventLogPort,
        EventQueuePort,
        FeedRepositoryPort,
        IdempotencyPort,
        MarketplacePort,
        OmsPort,
        OrderRepositoryPort,
        PriceRepositoryPort,
        ProductRepositoryPort,
        StockRepositoryPort,
        ZortPort,
    )
    from shared.settings import Settings

# --- one member of the ServiceContext each ----------------------------------------------------------


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


class HasEvents(Protocol):
    @property
    def events(self) -> EventLogPort: ...


class HasQueue(Protocol):
    @property
    def queue(self) -> EventQueuePort: ...


class HasOrders(Protocol):
    @property
    def orders(self) -> OrderRepositoryPort: ...


class HasProducts(Protocol):
    @property
    def products(self) -> ProductRepositoryPort: ...


class HasIdempotency(Protocol):
    @property
    def idempotency(self) -> IdempotencyPort: ...


class HasCheckpoints(Protocol):
    @property
    def checkpoints(self) -> CheckpointPort: ...


class HasStock(Protocol):
    @property
    def stock(self) -> StockRepositoryPort: ...


class HasFeeds(Protocol):
    @property
    def feeds(self) -> FeedRepositoryPort: ...


class HasClaims(Protocol):
    @property
    def claims(self) -> ClaimStorePort: ...


class HasPrices(Protocol):
    @property
    def prices(self) -> PriceRepositoryPort: ...


class HasActivity(Protocol):
    @property
    def activity(self) -> ActivityCountsPort: ...


class HasDocumentStore(Protocol):
    @property
    def document_store(self) -> DocumentStorePort: ...


class HasMarketplace(Protocol):
    def marketplace(self, tenant: str) -> MarketplacePort: ...


class HasOms(Protocol):
    def oms(self, tenant: str) -> OmsPort: ...


class HasZort(Protocol):
    def zort(self, tenant: str) -> ZortPort: ...


class HasReadyToShip(Protocol):
    def ready_to_ship(self, tenant: str) -> bool: ...


class HasStockSettings(Protocol):
    def stock_settings(self, tenant: str) -> StockSyncSettings: ...


class HasStockTenants(Protocol):
    def stock_tenants(self, tenant: str) -> list[str]: ...


class HasPriceSettings(Protocol):
    def price_settings(self, tenant: str) -> PriceSyncSettings: ...


class HasPriceTenants(Protocol):
    def price_tenants(self, tenant: str) -> list[str]: ...


class HasClock(Protocol):
    def clock(self) -> datetime: ...


class HasSleep(Protocol):
    def sleep(self, seconds: float) -> None: ...


# --- the roles: what each service takes ----------------------------------------------------------------
# Named after the service (module) or, where a module's entry points need less than the module as a
# whole and are called from elsewhere, after what those entry points do.


class IntakePorts(HasEvents, HasQueue, Protocol):
    """Records one of Thor's own events and queues it (`operations.record_resync`, `record_stock_resync`)."""


class RecordingPorts(HasClock, HasEvents, HasQueue, HasSettings, Protocol):
    """Records Thor's own events as the settings allow (`marketplace_loop.record_cancellation`,
    `record_delivery_status`) or queues stale ones again (`sweeper.requeue_stale`)."""


class ActivityPorts(HasActivity, HasClock, Protocol):
    """`activity.counting`: the console's counts per tenant per hour."""


class ClaimsPorts(HasClaims, HasClock, HasEvents, HasSleep, Protocol):
    """`claims`: takes an order's claim (waiting a while) and checks the claims held are current."""


class ReplayPorts(HasActivity, HasClock, HasEvents, HasQueue, Protocol):
    """`processing.replay`: queues a finished or failed event again, counted."""


class OrderRefreshPorts(HasMarketplace, HasOrders, HasSleep, Protocol):
    """`order_sync.refresh_order`: reads an order from the marketplace and keeps it."""


class OmsSyncPorts(ClaimsPorts, HasOms, HasOrders, Protocol):
    """`order_sync.sync_to_oms`: sends a kept order to the OMS under its claim, marks it synced;
    `refund_flows.handle_refund`, which does only that."""


class OrderSyncPorts(OmsSyncPorts, HasMarketplace, Protocol):
    """`marketplace_flows.handle_order_created`, `handle_items_status`: an order created or changed, read
    from the marketplace, kept and sent to the OMS."""


class ProductSyncPorts(HasMarketplace, HasProducts, Protocol):
    """`marketplace_flows.handle_products`: the products a webhook names, read from the marketplace and kept."""


class MarketplaceLoopPorts(
    ClaimsPorts, HasDocumentStore, HasIdempotency, HasMarketplace, HasOrders, HasQueue, HasSettings, Protocol
):
    """`marketplace_loop`: tax documents (kept, then uploaded), cancellations and delivery statuses
    sent to the marketplace."""


class OmsCancellationPorts(RecordingPorts, HasOms, HasOrders, Protocol):
    """marketplace_loop.check_oms_cancellations: reads pending orders' OMS state, records cancellations."""


class RefundsPorts(HasClock, HasEvents, HasIdempotency, HasOrders, HasQueue, HasSleep, Protocol):
    """`refunds.request_refund`: a refund request, once per Idempotency-Key, recorded as an event."""


class ReconciliationPorts(
    HasCheckpoints, HasClock, HasEvents, HasMarketplace, HasOrders, HasQueue, HasSettings, Protocol
):
    """`reconciliation`: the marketplace's recently changed orders compared with Thor's, each run
    checkpointed."""


class FeedsPorts(HasClock, HasFeeds, HasMarketplace, HasPrices, HasStock, Protocol):
    """`feeds`: the feeds Thor created, polled or told of, and their outcome settled on stock and prices."""


class StockStatePorts(HasClock, HasFeeds, HasStock, HasStockSettings, Protocol):
    """`stock_sync.stock_sync_state`, `set_paused`: a tenant's stock sync as it stands, paused or resumed."""


class StockMarkPorts(HasClock, HasProducts, HasStock, HasStockTenants, Protocol):
    """`stock_sync.mark_changed`, `mark_from_zort_call`, `resync_tenant`: SKUs marked for the next flush."""


class StockResyncPorts(StockMarkPorts, HasStockSettings, Protocol):
    """`stock_sync.handle_stock_resync`: every listed SKU marked, while the tenant's stock sync is on."""


class FeedSyncPorts(
    FeedsPorts, HasClaims, HasPriceSettings, HasSettings, HasSleep, HasStockSettings, HasZort, Protocol
):
    """`feed_sync.flush`: the engine's flush of either kind (stock or prices): the tenant's claim, its open
    feeds polled, the kind's write (ZORT's values of the marked SKUs sent to the marketplace)."""


class StockFlushPorts(FeedSyncPorts, Protocol):
    """`stock_sync.flush_all`, `flush_tenant`: ZORT's stock of the marked SKUs sent to the marketplace
    (through the engine, so what it takes)."""


class PriceStatePorts(HasClock, HasPriceSettings, HasPrices, Protocol):
    """`price_sync`'s state, confirmations, sales and pause: one tenant's prices as kept."""


class PriceMarkPorts(HasClock, HasPriceTenants, HasPrices, HasProducts, Protocol):
    """`price_sync.mark_changed`, `mark_from_zort_call`, `resync_tenant`: SKUs marked for the next flush."""


class PriceFlushPorts(FeedSyncPorts, Protocol):
    """`price_sync.flush_all`, `flush_tenant`: ZORT's prices of the marked SKUs sent to the marketplace,
    within each seller's feed budget (through the engine, so what it takes)."""


class ZortFlowsPorts(
    OrderSyncPorts,
    RecordingPorts,
    PriceMarkPorts,
    StockMarkPorts,
    HasReadyToShip,
    Protocol,
):
    """`zort_flows`: a ZORT event applied: an order's status, tracking and payment (sent on to the OMS and
    the marketplace), returns linked, stock and prices marked."""


class AtRiskPorts(HasClock, HasEvents, HasOrders, HasSettings, Protocol):
    """What is at risk now, per tenant, by its rules: `alerts` (besides the `AlertPorts` the alerts are sent
    through), the console's at-risk page and an order's journey."""


class ReportsPorts(HasCheckpoints, HasClock, HasOrders, HasSettings, Protocol):
    """`reports`: each tenant's day in CSV, written once per day (checkpointed)."""


class ConsolePorts(
    ActivityPorts,
    AtRiskPorts,
    ReplayPorts,
    StockStatePorts,
    PriceStatePorts,
    HasProducts,
    HasSleep,
    Protocol,
):
    """`console`: the operations console's pages (open now, search, the SLA radar) and its actions (notes,
    replays, resyncs), over the services' state; no external system. Its pages that show one service's
    state take that service's role (`StockStatePorts`, `PriceStatePorts`, `AtRiskPorts`)."""
