"""The composition root: builds adapters from settings once per process, lazily (no I/O at import),
and registers each event kind's handler (`build_handlers`). Services see it as a
`shared.ports.ServiceContext`; unit tests give them `tests.fakes.FakeContext` instead."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

# What the functions need of the adapters, re-exported here: functions reach adapters only through
# the composition root (pyproject.toml's import contracts).
from shared.adapters.event_queue import decode_message as decode_message
from shared.adapters.storage import EVENTS_QUEUE as EVENTS_QUEUE
from shared.adapters.storage import storage_deadline as storage_deadline
from shared.domain.events import Message
from shared.domain.stock_settings import StockSyncSettings
from shared.ports import AlertChannelPort, Handler, MarketplacePort, OmsPort, ZortPort
from shared.settings import Settings, get_settings

if TYPE_CHECKING:  # imported where first used: a cold start pays only for what it uses
    from shared.adapters.activity_counts import BufferedActivityCounts
    from shared.adapters.checkpoints import CheckpointStore
    from shared.adapters.claims import ClaimStore
    from shared.adapters.document_store import DocumentStore
    from shared.adapters.event_log import EventLog
    from shared.adapters.event_queue import EventQueue
    from shared.adapters.feed_repo import FeedRepository
    from shared.adapters.idempotency_repo import IdempotencyRepository
    from shared.adapters.incident_repo import IncidentRepository
    from shared.adapters.order_repo import OrderRepository
    from shared.adapters.price_repo import PriceRepository
    from shared.adapters.product_repo import ProductRepository
    from shared.adapters.report_store import ReportStore
    from shared.adapters.stock_repo import StockRepository
    from shared.adapters.storage import Storage
    from shared.domain.price_settings import PriceSyncSettings

C = TypeVar("C")


def build_handlers() -> dict[type[Message], Handler]:
    """Each message's handler, as cosmicpython's `handlers.py`: processing finds a stored event's
    model through the model's `kind` (shared.ports.model_for) and gives the handler the body
    validated with it."""
    from shared.models.internal_events import (
        MarketplaceCancelEvent,
        ReconcileOrderEvent,
        RefundEvent,
        SellerDeliveryEvent,
        StockResyncEvent,
        TaxDocumentEvent,
    )
    from shared.models.webhooks import (
        FeedCompletedWebhook,
        ItemsStatusChangedWebhook,
        MarketplaceWebhook,
        OrderCreatedWebhook,
        ProductsWebhook,
    )
    from shared.services import feeds, marketplace_flows, marketplace_loop, refund_flows, stock_sync, zort_flows
    from shared.zort.calls import ZortCall

    return {
        OrderCreatedWebhook: marketplace_flows.handle_order_created,
        ItemsStatusChangedWebhook: marketplace_flows.handle_items_status,
        ProductsWebhook: marketplace_flows.handle_products,
        MarketplaceWebhook: marketplace_flows.handle_ignored,
        ReconcileOrderEvent: marketplace_flows.handle_order_created,
        RefundEvent: refund_flows.handle_refund,
        ZortCall: zort_flows.handle_zort,
        StockResyncEvent: stock_sync.handle_stock_resync,
        TaxDocumentEvent: marketplace_loop.handle_tax_document,
        MarketplaceCancelEvent: marketplace_loop.handle_cancel,
        SellerDeliveryEvent: marketplace_loop.handle_delivery_status,
        FeedCompletedWebhook: feeds.handle_feed_completed,
    }


class Context:
    """Everything a function needs, created on first use and reused across invocations."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._marketplaces: dict[str, MarketplacePort] = {}
        self._oms: dict[str, OmsPort] = {}
        self._zort: dict[str, ZortPort] = {}

    @cached_property
    def handlers(self) -> Mapping[type[Message], Handler]:
        return build_handlers()

    @staticmethod
    def clock() -> datetime:
        return datetime.now(timezone.utc)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    @cached_property
    def storage(self) -> Storage:
        from shared.adapters.storage import Storage

        return Storage(self.settings.storage)

    @cached_property
    def events(self) -> EventLog:
        from shared.adapters.event_log import EventLog

        return EventLog(self.storage)

    @cached_property
    def queue(self) -> EventQueue:
        from shared.adapters.event_queue import EventQueue

        return EventQueue(self.storage)

    @cached_property
    def orders(self) -> OrderRepository:
        from shared.adapters.order_repo import OrderRepository

        return OrderRepository(self.storage)

    @cached_property
    def products(self) -> ProductRepository:
        from shared.adapters.product_repo import ProductRepository

        return ProductRepository(self.storage)

    @cached_property
    def idempotency(self) -> IdempotencyRepository:
        from shared.adapters.idempotency_repo import IdempotencyRepository

        return IdempotencyRepository(self.storage)

    @cached_property
    def checkpoints(self) -> CheckpointStore:
        from shared.adapters.checkpoints import CheckpointStore

        return CheckpointStore(self.storage)

    @cached_property
    def stock(self) -> StockRepository:
        from shared.adapters.stock_repo import StockRepository

        return StockRepository(self.storage)

    @cached_property
    def feeds(self) -> FeedRepository:
        from shared.adapters.feed_repo import FeedRepository

        return FeedRepository(self.storage)

    @cached_property
    def prices(self) -> PriceRepository:
        from shared.adapters.price_repo import PriceRepository

        return PriceRepository(self.storage)

    @cached_property
    def claims(self) -> ClaimStore:
        from shared.adapters.claims import ClaimStore

        return ClaimStore(self.storage)

    @cached_property
    def activity(self) -> BufferedActivityCounts:
        from shared.adapters.activity_counts import ActivityCounts, BufferedActivityCounts

        return BufferedActivityCounts(ActivityCounts(self.storage), self.settings.activity_flush_seconds)

    @cached_property
    def document_store(self) -> DocumentStore:
        from shared.adapters.document_store import DocumentStore

        return DocumentStore(self.storage)

    def marketplace(self, tenant: str) -> MarketplacePort:
        """The tenant's Seller Center account; NotConfigured when it has none."""
        from shared.connectors import marketplace_client

        settings = self.settings
        return self._cached(
            self._marketplaces,
            tenant,
            lambda: marketplace_client(settings.marketplace_base_url, settings.marketplace(tenant)),
        )

    def oms(self, tenant: str) -> OmsPort:
        """The tenant's OMS; NotConfigured when it has none."""
        from shared.connectors import oms_client

        settings = self.settings
        return self._cached(self._oms, tenant, lambda: oms_client(settings.oms_base_url, settings.oms(tenant)))

    def zort(self, tenant: str) -> ZortPort:
        """The tenant's ZORT API store; NotConfigured when it has none (or no API key)."""
        from shared.connectors import zort_api_client

        settings = self.settings
        return self._cached(
            self._zort, tenant, lambda: zort_api_client(settings.zort_api_base_url, settings.zort_api(tenant))
        )

    def _cached(self, clients: dict[str, C], tenant: str, build: Callable[[], C]) -> C:
        """The tenant's client from `clients`, built (once, under the lock) on first use."""
        client = clients.get(tenant)
        if client is None:
            with self._lock:
                client = clients.get(tenant)
                if client is None:
                    client = clients[tenant] = build()
        return client

    @cached_property
    def alert_ports(self) -> AlertAdapters:
        return AlertAdapters(self)

    def ready_to_ship(self, tenant: str) -> bool:
        """Whether the tenant sets items ready to ship in the marketplace once ZORT has tracking."""
        return self.settings.ready_to_ship(tenant)

    def stock_settings(self, tenant: str) -> StockSyncSettings:
        return self.settings.stock(tenant)

    def stock_tenants(self, tenant: str) -> list[str]:
        return self.settings.stock_tenants(tenant)

    def price_settings(self, tenant: str) -> PriceSyncSettings:
        return self.settings.prices(tenant)

    def price_tenants(self, tenant: str) -> list[str]:
        return self.settings.price_tenants(tenant)

    def client(self, system: str, tenant: str) -> MarketplacePort | OmsPort | ZortPort:
        """The tenant's client for `system` (marketplace, oms, zort) by name (the ops CLI); services
        use `marketplace()`, `oms()`, `zort()`. NotConfigured when the tenant has none."""
        clients: dict[str, Callable[[str], MarketplacePort | OmsPort | ZortPort]] = {
            "marketplace": self.marketplace,
            "oms": self.oms,
            "zort": self.zort,
        }
        if system not in clients:
            raise ValueError(f"no client for {system!r}")
        return clients[system](tenant)


class AlertAdapters:
    """The alert and report services' ports (shared.ports.AlertPorts): incidents, report blobs and
    each tenant's channels, built from settings on first use."""

    def __init__(self, context: Context):
        self._context = context
        self._channels: dict[str, list[AlertChannelPort]] = {}
        self._lock = threading.Lock()

    @cached_property
    def incidents(self) -> IncidentRepository:
        from shared.adapters.incident_repo import IncidentRepository

        return IncidentRepository(self._context.storage)

    @cached_property
    def reports(self) -> ReportStore:
        from shared.adapters.report_store import ReportStore

        return ReportStore(self._context.settings.storage)

    def channels(self, tenant: str) -> list[AlertChannelPort]:
        with self._lock:
            if tenant not in self._channels:
                self._channels[tenant] = self._build(tenant)
            return self._channels[tenant]

    def _build(self, tenant: str) -> list[AlertChannelPort]:
        from shared.adapters.alerts import AcsEmailChannel, AcsEmailConfig, SlackChannel, TeamsChannel
        from shared.adapters.http.session import CorrelatedSession

        alerts = self._context.settings.alerts
        wanted = alerts.channels(tenant)
        channels: list[AlertChannelPort] = []
        if wanted.teams_url:
            channels.append(TeamsChannel(wanted.teams_url, session=CorrelatedSession()))
        if wanted.slack_url:
            channels.append(SlackChannel(wanted.slack_url, session=CorrelatedSession()))
        if wanted.email_to and alerts.acs_endpoint and alerts.acs_sender:
            token = None
            if not alerts.acs_access_key:
                token = _acs_token(self._context.settings.storage.client_id)
            config = AcsEmailConfig(
                base_url=alerts.acs_endpoint, access_key=alerts.acs_access_key, sender=alerts.acs_sender
            )
            channels.append(AcsEmailChannel(config, wanted.email_to, token=token, session=CorrelatedSession()))
        return channels


def _acs_token(client_id: str | None) -> Callable[[], str]:
    """An Entra ID token for ACS as the app's managed identity (no access key configured)."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    from shared.adapters.alerts.email import TOKEN_SCOPE

    credential = ManagedIdentityCredential(client_id=client_id) if client_id else DefaultAzureCredential()
    return lambda: credential.get_token(TOKEN_SCOPE).token


_context: Context | None = None
_context_lock = threading.Lock()


def get_context() -> Context:
    global _context
    if _context is None:
        with _context_lock:
            if _context is None:
                _context = Context(get_settings())
    return _context


def reset_context() -> None:
    """Forget the process's context (tests change settings between runs)."""
    global _context
    with _context_lock:
        _context = None
    get_settings.cache_clear()
