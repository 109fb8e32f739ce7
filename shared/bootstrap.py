"""The composition root: builds adapters from settings once per process, lazily (no I/O at import),
and registers each event kind's handler (`build_handlers`). Services see it as a
`shared.ports.ServiceContext`; unit tests give them `tests.fakes.FakeContext` instead."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cached_property

# What the functions need of the adapters, re-exported here: functions reach adapters only through
# the composition root (pyproject.toml's import contracts).
from shared.adapters.event_queue import decode_message as decode_message
from shared.adapters.storage import EVENTS_QUEUE as EVENTS_QUEUE
from shared.adapters.storage import storage_deadline as storage_deadline
from shared.domain.events import EventKind
from shared.domain.stock import StockSyncSettings
from shared.ports import MarketplacePort, OmsPort, Registration, ZortPort
from shared.settings import Settings, get_settings


def build_handlers() -> dict[EventKind, Registration]:
    """Each event kind's handler and the model its recorded body is validated with (the one intake used)."""
    from shared.models.internal_events import ReconcileOrderEvent, RefundEvent
    from shared.models.webhooks import ItemsStatusChangedWebhook, OrderCreatedWebhook, ProductsWebhook
    from shared.services import marketplace_flows, refund_flows, zort_flows
    from shared.zort.webhooks import ZortCall

    return {
        EventKind.ORDER_CREATED: Registration(OrderCreatedWebhook, marketplace_flows.handle_order_created),
        EventKind.ITEMS_STATUS: Registration(ItemsStatusChangedWebhook, marketplace_flows.handle_items_status),
        EventKind.PRODUCTS: Registration(ProductsWebhook, marketplace_flows.handle_products),
        EventKind.RECONCILE_ORDER: Registration(ReconcileOrderEvent, marketplace_flows.handle_order_created),
        EventKind.REFUND: Registration(RefundEvent, refund_flows.handle_refund),
        EventKind.ZORT: Registration(ZortCall, zort_flows.handle_zort),
    }


class Context:
    """Everything a function needs, created on first use and reused across invocations."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}

    @cached_property
    def handlers(self) -> Mapping[EventKind, Registration]:
        return build_handlers()

    @staticmethod
    def clock() -> datetime:
        return datetime.now(timezone.utc)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    @cached_property
    def storage(self):
        from shared.adapters.storage import Storage

        return Storage(self.settings.storage)

    @cached_property
    def events(self):
        from shared.adapters.event_log import EventLog

        return EventLog(self.storage)

    @cached_property
    def queue(self):
        from shared.adapters.event_queue import EventQueue

        return EventQueue(self.storage)

    @cached_property
    def orders(self):
        from shared.adapters.order_repo import OrderRepository

        return OrderRepository(self.storage)

    @cached_property
    def products(self):
        from shared.adapters.product_repo import ProductRepository

        return ProductRepository(self.storage)

    @cached_property
    def idempotency(self):
        from shared.adapters.idempotency_repo import IdempotencyRepository

        return IdempotencyRepository(self.storage)

    @cached_property
    def checkpoints(self):
        from shared.adapters.checkpoints import CheckpointStore

        return CheckpointStore(self.storage)

    @cached_property
    def stock(self):
        from shared.adapters.stock_repo import StockRepository

        return StockRepository(self.storage)

    @cached_property
    def claims(self):
        from shared.adapters.claims import ClaimStore

        return ClaimStore(self.storage)

    def marketplace(self, tenant: str) -> MarketplacePort:
        """The tenant's Seller Center account; NotConfigured when it has none."""
        return self.client("marketplace", tenant)  # type: ignore[return-value]

    def oms(self, tenant: str) -> OmsPort:
        """The tenant's OMS; NotConfigured when it has none."""
        return self.client("oms", tenant)  # type: ignore[return-value]

    def zort(self, tenant: str) -> ZortPort:
        """The tenant's ZORT API store; NotConfigured when it has none (or no API key)."""
        return self.client("zort", tenant)  # type: ignore[return-value]

    def ready_to_ship(self, tenant: str) -> bool:
        """Whether the tenant sets items ready to ship in the marketplace once ZORT has tracking."""
        return self.settings.ready_to_ship(tenant)

    def stock_settings(self, tenant: str) -> StockSyncSettings:
        return self.settings.stock(tenant)

    def stock_tenants(self, tenant: str) -> list[str]:
        return self.settings.stock_tenants(tenant)

    def client(self, system: str, tenant: str):
        """The tenant's client for `system` (marketplace, oms, zort) by name (the ops CLI); services
        use `marketplace()`, `oms()`, `zort()`. NotConfigured when the tenant has none."""
        key = (system, tenant)
        client = self._clients.get(key)
        if client is None:
            from shared.connectors import build_client

            with self._lock:
                client = self._clients.get(key) or build_client(self.settings, system, tenant)
                self._clients[key] = client
        return client


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
