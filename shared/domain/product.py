"""A product as Thor keeps it: what the marketplace says and what ZORT says about its stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    # Schemas are built on first use, not at import: a cold start pays only for what it uses.
    model_config = ConfigDict(defer_build=True)


class Product(_Model):
    tenant: str
    sku: str
    name: str | None = None
    status: str | None = None
    price: Decimal | None = None
    special_price: Decimal | None = None
    marketplace_stock: int | None = None
    marketplace_listed: bool | None = None  # the tenant's marketplace returned it (GetProducts): it sells it
    zort_id: int | None = None
    zort_stock: Decimal | None = None
    zort_available_stock: Decimal | None = None
    zort_deleted: bool | None = None
    source: str = "marketplace"
    updated_at: datetime | None = None
