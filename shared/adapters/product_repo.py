"""Products (Table `ThorProducts`): PartitionKey tenant, RowKey the SKU (key-safe encoded).

Many products are written with batch transactions (≤ 100 entities, one partition each), so a
1,000-SKU event costs about ten Table requests, not a thousand.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

from azure.data.tables import TableEntity, UpdateMode

from shared.adapters.storage import PRODUCTS_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository
from shared.domain.product import Product

BATCH_SIZE = 100
_FIELDS = (
    "name",
    "status",
    "price",
    "special_price",
    "marketplace_stock",
    "marketplace_listed",
    "zort_id",
    "zort_stock",
    "zort_available_stock",
    "zort_deleted",
    "source",
    "updated_at",
)


def sku_key(sku: str) -> str:
    """Table keys may not hold / \\ # ? or control characters: percent-encode those."""
    return quote(sku, safe=" !$&'()*+,-.:;=@_~[]{}|^`\"<>")


def _to_entity(product: Product) -> Entity:
    entity: Entity = {"PartitionKey": product.tenant, "RowKey": sku_key(product.sku), "sku": product.sku}
    for field in _FIELDS:
        value = getattr(product, field)
        if value is None:
            continue
        # Decimals as text (exact); ints as text too: the SDK sends a plain int as Edm.Int32 and
        # refuses ZORT ids of 2**31 and more.
        entity[field] = str(value) if isinstance(value, (Decimal, int)) and not isinstance(value, bool) else value
    entity.setdefault("updated_at", datetime.now(timezone.utc))
    return entity


def _from_entity(entity: TableEntity) -> Product:
    data: dict[str, Any] = {field: entity.get(field) for field in _FIELDS if entity.get(field) is not None}
    return Product(tenant=entity["PartitionKey"], sku=entity.get("sku") or unquote(entity["RowKey"]), **data)


class ProductRepository(TableRepository):
    table_name = PRODUCTS_TABLE

    def upsert_many(self, products: list[Product]) -> int:
        """Merges the products in batches of 100 per tenant; returns the number of batches sent."""
        by_tenant: dict[str, dict[str, Entity]] = {}
        for product in products:
            entity = _to_entity(product)
            by_tenant.setdefault(product.tenant, {})[entity["RowKey"]] = entity  # last one wins
        batches = 0
        with storage_errors():
            for entities in by_tenant.values():
                rows = list(entities.values())
                for start in range(0, len(rows), BATCH_SIZE):
                    self.table.submit_transaction(
                        [("upsert", row, {"mode": UpdateMode.MERGE}) for row in rows[start : start + BATCH_SIZE]]
                    )
                    batches += 1
        return batches

    def merge(self, product: Product) -> None:
        with storage_errors():
            self.table.upsert_entity(_to_entity(product), mode=UpdateMode.MERGE)

    def listed_skus(self, tenant: str) -> list[str]:
        """Every SKU the tenant's marketplace returned (its product webhooks): the SKUs it sells."""
        with storage_errors():
            found = self.table.query_entities(
                "PartitionKey eq @t and marketplace_listed eq true",
                parameters={"t": tenant},
                select=["RowKey", "sku"],
                results_per_page=1000,
            )
            return [entity.get("sku") or unquote(entity["RowKey"]) for entity in found]

    def get(self, tenant: str, sku: str) -> Product | None:
        entity = self.read(tenant, sku_key(sku))
        return _from_entity(entity) if entity is not None else None
