"""The composition root: builds adapters from settings once per process, lazily (no I/O at import)."""
from __future__ import annotations

import threading
from functools import cached_property

from shared.settings import Settings, get_settings


class Context:
    """Everything a function needs, created on first use and reused across invocations."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], object] = {}

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
    def claims(self):
        from shared.adapters.claims import ClaimStore
        return ClaimStore(self.storage)

    def client(self, system: str, tenant: str):
        """The tenant's client for `system` (marketplace, oms, zort); NotConfigured when it has none."""
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
