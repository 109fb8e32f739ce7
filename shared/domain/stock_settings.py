"""A tenant's stock sync configuration, apart from the stock rules (shared.domain.stock) so that the
settings, read at every cold start, do not load the rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WarehouseKind = Literal["SellerWarehouseId", "GSCFacilityId"]


@dataclass(frozen=True)
class StockWarehouse:
    """Where UpdateStock writes: a seller warehouse or a GSC facility (never both in one request)."""

    kind: WarehouseKind
    id: str


@dataclass(frozen=True)
class StockSyncSettings:
    """A tenant's stock sync configuration (settings MARKETPLACE_STOCK_*_<T>)."""

    enabled: bool = False
    buffer: int = 0
    warehouse: StockWarehouse | None = None  # None: the marketplace's main warehouse
