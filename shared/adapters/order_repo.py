"""Orders (Table `ThorOrders`): PartitionKey tenant, RowKey internal order id, the order as JSON.

Saves are conditional on the ETag read (optimistic concurrency): a concurrent writer makes the
save raise `ConcurrentUpdate`, and the service retries on fresh data. No lost update.
"""

from __future__ import annotations

import builtins

from azure.data.tables import TableEntity

from shared.adapters.entity_codec import pack_text, unpack_text
from shared.adapters.storage import ORDERS_TABLE
from shared.adapters.table_repository import Entity, TableRepository, etag_of
from shared.domain.order import Order
from shared.ports import ConcurrentUpdate


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
    }
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
