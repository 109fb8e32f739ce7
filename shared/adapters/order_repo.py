"""Orders (Table `ThorOrders`): PartitionKey tenant, RowKey internal order id, the order as JSON.

Saves are conditional on the ETag read (optimistic concurrency): a concurrent writer makes the
save raise `ConcurrentUpdate`, and the service retries on fresh data. No lost update.
"""

from __future__ import annotations

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.entity_codec import pack_text, unpack_text
from shared.adapters.storage import ORDERS_TABLE, Storage, storage_errors
from shared.domain.order import Order
from shared.ports import ConcurrentUpdate


def _to_entity(order: Order) -> dict:
    entity = {
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


def _from_entity(entity) -> tuple[Order, str]:
    return Order.model_validate_json(unpack_text("doc", entity)), entity.metadata["etag"]


class OrderRepository:
    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self):
        return self.storage.table(ORDERS_TABLE)

    def get(self, tenant: str, internal_order_id: str) -> tuple[Order, str] | None:
        with storage_errors():
            try:
                return _from_entity(self.table.get_entity(tenant, internal_order_id))
            except ResourceNotFoundError:
                return None

    def add(self, order: Order) -> str:
        with storage_errors():
            try:
                return self.table.create_entity(_to_entity(order))["etag"]
            except ResourceExistsError as error:
                raise ConcurrentUpdate(order.internal_order_id) from error

    def save(self, order: Order, etag: str) -> str:
        with storage_errors():
            try:
                return self.table.update_entity(
                    _to_entity(order), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                )["etag"]
            except (ResourceModifiedError, ResourceNotFoundError) as error:
                raise ConcurrentUpdate(order.internal_order_id) from error

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
        with storage_errors():
            for entity in self.table.query_entities(query, parameters={"t": tenant, "r": reference}):
                return _from_entity(entity)
        return None

    def list(self, tenant: str, limit: int = 1000) -> list[Order]:
        with storage_errors():
            orders = []
            for entity in self.table.query_entities("PartitionKey eq @t", parameters={"t": tenant}):
                orders.append(_from_entity(entity)[0])
                if len(orders) >= limit:
                    break
            return orders
