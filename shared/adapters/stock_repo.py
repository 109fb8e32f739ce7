"""Stock sync state (Table `ThorStock`) on the feed-sync engine's storage (shared.adapters.sync_repo: the
partition and row keys, the marks, the take, the conditional writes, each tenant's state).

What stock adds: a flush or a settlement records each SKU's outcome (`SkuOutcome`: the result, the
quantity sent, ZORT's available stock, the reason); an accepted SKU is made clean (`synced_mark`) with a
write conditional on the version it was read at, so a mark that landed meanwhile keeps it dirty. A SKU
sent in a feed keeps the feed's id (`feed_id`) until the feed settles it (shared.services.feeds);
`in_feed` finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.adapters.storage import STOCK_TABLE
from shared.adapters.sync_repo import SyncRepository, Write, keys
from shared.domain.stock import SkuOutcome, SkuResult, StockRecord

_RECORD_FIELDS = (
    "dirty",
    "mark",
    "marked_at",
    "sending_mark",
    "sending_at",
    "synced_mark",
    "sent_at",
    "reason",
    "attempted_at",
    "next_attempt_at",
    "feed_id",
)


def _record(entity: Any) -> StockRecord:
    data = {name: entity.get(name) for name in _RECORD_FIELDS if entity.get(name) not in (None, "")}
    result = entity.get("result")
    return StockRecord(
        tenant=entity["PartitionKey"],
        sku=entity.get("sku") or entity["RowKey"],
        sent_quantity=int(entity["sent_quantity"]) if entity.get("sent_quantity") not in (None, "") else None,
        zort_available=Decimal(entity["zort_available"]) if entity.get("zort_available") not in (None, "") else None,
        result=SkuResult(result) if result in SkuResult._value2member_map_ else None,
        failures=int(entity.get("failures") or 0),
        etag=entity.metadata.get("etag") if hasattr(entity, "metadata") else None,
        **data,
    )


def _outcome_entity(outcome: SkuOutcome) -> dict[str, Any]:
    record = outcome.record
    entity: dict[str, Any] = {
        **keys(record.tenant, record.sku),
        "result": outcome.result.value,
        "reason": outcome.reason or "",
        "attempted_at": outcome.at,
        "failures": outcome.failures,
        "next_attempt_at": outcome.next_attempt_at or "",  # "" clears a back-off (None is not written)
        "feed_id": outcome.feed_id if outcome.result is SkuResult.SENT else "",  # "" takes it out of its feed
    }
    if outcome.available is not None:
        entity["zort_available"] = str(outcome.available)
    if outcome.result is SkuResult.SENT:
        entity.update(sent_quantity=str(outcome.quantity), sent_at=outcome.at)
    return entity


class StockRepository(SyncRepository[StockRecord]):
    table_name = STOCK_TABLE

    def _record(self, entity: Any) -> StockRecord:
        return _record(entity)

    def mark_dirty(self, tenant: str, skus: Sequence[str], now: datetime) -> int:
        return self._mark(tenant, skus, now)

    def dirty(self, tenant: str, limit: int = 10_000) -> list[StockRecord]:
        return self._records("PartitionKey eq @t and dirty eq true", tenant, limit)

    def failures(self, tenant: str, limit: int = 100) -> list[StockRecord]:
        return self._records("PartitionKey eq @t and dirty eq true and failures gt 0", tenant, limit)

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[StockRecord]:
        """The SKUs still waiting for the feed `feed_id` (each with the version it was read at)."""
        return self._records("PartitionKey eq @t and feed_id eq @f", tenant, limit, f=feed_id)

    def record(self, outcomes: Sequence[SkuOutcome]) -> None:
        """What a flush or a settlement made of each SKU; an accepted one is cleaned only if unchanged."""
        self._write(
            [
                Write(
                    _outcome_entity(o),
                    {"dirty": False, "synced_mark": o.record.sending_mark} if o.clears else None,
                    o.record.etag,
                )
                for o in outcomes
            ]
        )
