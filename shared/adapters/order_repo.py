"""Orders (Table `ThorOrders`): PartitionKey tenant, RowKey internal order id, the order as JSON.

Besides the JSON, a few columns the console's at-risk queries filter on inside the tenant's
partition: `omsSynced`, `createdAt`, `awaitingShipment` (an active item not yet ready to ship) and
`promisedShippingTime`. Orders saved before those columns existed get them on their next save;
until then `updatedAt` stands in for `createdAt` (an order is updated after it is created).

Saves are conditional on the ETag read (optimistic concurrency): a concurrent writer makes the
save raise `ConcurrentUpdate`, and the service retries on fresh data. No lost update.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timezone
from typing import Any

from azure.data.tables import TableEntity

from shared.adapters.entity_codec import pack_text, unpack_text
from shared.adapters.storage import ORDERS_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository, etag_of
from shared.domain.at_risk import (
    OrderBrief,
    document_pending_since,
    items_not_ready,
    order_created_at,
    return_waiting_since,
)
from shared.domain.order import Order
from shared.ports import ConcurrentUpdate

_NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)  # "not pending": later than any cutoff
MAX_PAGES = 2  # requests per at-risk query (shared/services/console.py names the page's total)


def _to_entity(order: Order) -> Entity:
    entity: Entity = {
        "PartitionKey": order.tenant,
        "RowKey": order.internal_order_id,
        "marketplaceOrderId": order.marketplace_order_id,
        "orderNumber": order.order_number or "",
        "zortOrderId": order.zort_order_id or "",
        "status": order.status,
        "omsSynced": order.oms_synced,
        "updatedAt": order.updated_at,
        "version": order.version,
        "createdAt": order_created_at(order),
        "awaitingShipment": bool(items_not_ready(order)),
    }
    if order.promised_shipping_time:
        entity["promisedShippingTime"] = order.promised_shipping_time
    # Issue 19's at-risk queries: shipped without an uploaded tax document, a return waiting for approval.
    entity["documentPendingSince"] = document_pending_since(order) or _NEVER
    entity["returnWaitingSince"] = return_waiting_since(order) or _NEVER
    entity.update(pack_text("doc", order.model_dump_json()))
    return entity


def _from_entity(entity: TableEntity) -> tuple[Order, str]:
    return Order.model_validate_json(unpack_text("doc", entity)), etag_of(entity)


class OrderRepository(TableRepository):
    table_name = ORDERS_TABLE

    def get(self, tenant: str, internal_order_id: str) -> tuple[Order, str] | None:
        entity = self.read(tenant, internal_order_id)
        return _from_entity(entity) if entity is not None else None

    def add(self, order: Order) -> str:
        """Stores a new order; its ETag. ConcurrentUpdate when someone else created it first."""
        etag = self.insert(_to_entity(order))
        if etag is None:
            raise ConcurrentUpdate(order.internal_order_id)
        return etag

    def save(self, order: Order, etag: str) -> str:
        """Replaces the order read under `etag`; its new ETag. ConcurrentUpdate when it changed since."""
        new_etag = self.update_unchanged(_to_entity(order), etag)
        if new_etag is None:
            raise ConcurrentUpdate(order.internal_order_id)
        return new_etag

    def find_by_reference(self, tenant: str, reference: str) -> tuple[Order, str] | None:
        """An order whose internal id, marketplace order id or order number is `reference`."""
        reference = (reference or "").strip()
        if not reference:
            return None
        if reference.startswith(f"{tenant}-"):
            found = self.get(tenant, reference)
            if found:
                return found
        # The SDK substitutes @name only in space-separated words: "( … )", never "(…)".
        query = "PartitionKey eq @t and ( orderNumber eq @r or marketplaceOrderId eq @r or zortOrderId eq @r )"
        entities = self.query(query, {"t": tenant, "r": reference}, limit=1)
        return _from_entity(entities[0]) if entities else None

    def list(self, tenant: str, limit: int = 1000) -> builtins.list[Order]:
        return [_from_entity(entity)[0] for entity in self.query("PartitionKey eq @t", {"t": tenant}, limit=limit)]

    def _bounded(self, query: str, parameters: dict[str, Any], limit: int) -> builtins.list[Order]:
        """At most `limit` orders of one filtered query inside a partition, in at most MAX_PAGES
        requests: one page of `limit` (≤ 1,000) normally; a service that stops a long partition scan
        early answers a partial page with a continuation, followed once."""
        orders: builtins.list[Order] = []
        with storage_errors():
            pages = self.table.query_entities(query, parameters=parameters, results_per_page=limit).by_page()
            for number, page in enumerate(pages, start=1):
                orders += [_from_entity(entity)[0] for entity in page]
                if len(orders) >= limit or number >= MAX_PAGES:
                    break
        return orders[:limit]

    NOT_IN_OMS = "PartitionKey eq @t and omsSynced eq false and ( createdAt le @c or updatedAt le @c )"
    AWAITING = "PartitionKey eq @t and awaitingShipment eq true and promisedShippingTime le @c"

    def not_in_oms(self, tenant: str, created_before: datetime, limit: int) -> builtins.list[Order]:
        return self._bounded(self.NOT_IN_OMS, {"t": tenant, "c": created_before}, limit)

    def briefs(self, tenant: str, which: str, before: datetime, limit: int) -> builtins.list[OrderBrief]:
        """The at-risk queries (`not_in_oms`, `awaiting_shipment`) reading three columns, not the document:
        at most `limit` rows in at most MAX_PAGES requests."""
        query = {"not_in_oms": self.NOT_IN_OMS, "awaiting_shipment": self.AWAITING}[which]
        rows: builtins.list[OrderBrief] = []
        with storage_errors():
            pages = self.table.query_entities(
                query,
                parameters={"t": tenant, "c": before},
                results_per_page=limit,
                select=["RowKey", "createdAt", "promisedShippingTime"],
            ).by_page()
            for number, page in enumerate(pages, start=1):
                rows += [OrderBrief(e["RowKey"], e.get("createdAt"), e.get("promisedShippingTime")) for e in page]
                if len(rows) >= limit or number >= MAX_PAGES:
                    break
        return rows[:limit]

    def awaiting_shipment(self, tenant: str, promised_before: datetime, limit: int) -> builtins.list[Order]:
        return self._bounded(self.AWAITING, {"t": tenant, "c": promised_before}, limit)

    def created_between(self, tenant: str, since: datetime, until: datetime, limit: int) -> builtins.list[Order]:
        """Orders created in [since, until) (the `createdAt` column), at most `limit` (reports)."""
        query = "PartitionKey eq @t and createdAt ge @s and createdAt lt @u"
        return [_from_entity(e)[0] for e in self.query(query, {"t": tenant, "s": since, "u": until}, limit=limit)]

    def pending_before(self, tenant: str, created_before: datetime, limit: int) -> builtins.list[Order]:
        """Orders with an active item not ready to ship, created before `created_before` (reports)."""
        query = "PartitionKey eq @t and awaitingShipment eq true and createdAt lt @c"
        return [_from_entity(e)[0] for e in self.query(query, {"t": tenant, "c": created_before}, limit=limit)]

    def awaiting_document(self, tenant: str, shipped_before: datetime, limit: int) -> builtins.list[Order]:
        query = "PartitionKey eq @t and documentPendingSince le @c"
        return self._bounded(query, {"t": tenant, "c": shipped_before}, limit)

    def returns_waiting(self, tenant: str, waiting_before: datetime, limit: int) -> builtins.list[Order]:
        query = "PartitionKey eq @t and returnWaitingSince le @c"
        return self._bounded(query, {"t": tenant, "c": waiting_before}, limit)
