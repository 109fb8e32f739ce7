"""What the services need from storage, stated without any Azure SDK (adapters implement it)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Protocol

from shared.domain.events import EventStatus, InboundEvent
from shared.domain.order import Order


class StorageUnavailable(Exception):
    """Table or queue storage could not be reached or answered with a server error."""


class ConcurrentUpdate(Exception):
    """Someone else changed (or created) the record since it was read."""


class EventLogPort(Protocol):
    def add(self, event: InboundEvent) -> bool: ...
    def get(self, tenant: str, event_id: str) -> InboundEvent | None: ...
    def mark_queued(self, event: InboundEvent, queued: bool = True) -> None: ...
    def claim(self, tenant: str, event_id: str, owner: str, seconds: float) -> tuple[InboundEvent | None, bool]: ...
    def set_status(self, event: InboundEvent, status: EventStatus, *, reason: str | None = None,
                   outcome: str | None = None, attempts: int | None = None,
                   internal_order_id: str | None = None, due_in: float = 0) -> None: ...
    def list(self, *, tenant: str | None = None, statuses: Iterable[EventStatus] = (),
             since: datetime | None = None, until: datetime | None = None, limit: int = 1000) -> list[InboundEvent]: ...


class EventQueuePort(Protocol):
    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None: ...


class ClaimStorePort(Protocol):
    def take(self, tenant: str, name: str, owner: str, seconds: float) -> str | None: ...
    def release(self, tenant: str, name: str, etag: str) -> None: ...


class OrderRepositoryPort(Protocol):
    def get(self, tenant: str, internal_order_id: str) -> tuple[Order, str] | None: ...
    def add(self, order: Order) -> str: ...
    def save(self, order: Order, etag: str) -> str: ...
    def find_by_reference(self, tenant: str, reference: str) -> tuple[Order, str] | None: ...
