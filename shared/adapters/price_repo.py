"""Price sync state (Table `ThorPrices`, shared.domain.prices) on the feed-sync engine's storage
(shared.adapters.sync_repo: the keys, the marks, the take, the conditional writes, each tenant's state);
each seller's feed budget (the calls it made, a 429's wait) under PartitionKey `_sellers`.

What prices add: a mark also keeps ZORT's hint (`zort_said`); a flush or a settlement writes the rest of
the record (what was sent and confirmed, the guard's hold, the sale, the SKU's history).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.product_repo import sku_key
from shared.adapters.storage import PRICES_TABLE, storage_errors
from shared.adapters.sync_repo import SyncRepository, Write, keys
from shared.domain.prices import FeedBudget, PriceRecord, PriceResult, Sale

SELLERS_PARTITION = "_sellers"
_TEXT = (
    "mark",
    "sending_mark",
    "zort_said",
    "zort_price",
    "sent",
    "sent_price",
    "feed_id",
    "confirmed",
    "confirmed_price",
    "reason",
    "held_price",
    "held_mark",
    "approved_price",
    "approved_by",
)
_TIMES = ("marked_at", "sending_at", "zort_said_at", "sent_at", "confirmed_at", "attempted_at", "next_attempt_at")


def _record(entity: Any) -> PriceRecord:
    text: dict[str, Any] = {name: str(entity.get(name) or "") for name in _TEXT}
    times: dict[str, Any] = {name: entity.get(name) or None for name in _TIMES}
    result = entity.get("result")
    sale = None
    if entity.get("sale_price") and entity.get("sale_start") and entity.get("sale_end"):
        sale = Sale(
            Decimal(str(entity["sale_price"])),
            entity["sale_start"],
            entity["sale_end"],
            str(entity.get("sale_by") or ""),
        )
    try:
        history = json.loads(entity.get("history") or "[]")
    except ValueError:
        history = []
    return PriceRecord(
        tenant=entity["PartitionKey"],
        sku=entity.get("sku") or entity["RowKey"],
        dirty=bool(entity.get("dirty")),
        result=PriceResult(result) if result in PriceResult._value2member_map_ else None,
        failures=int(entity.get("failures") or 0),
        sale=sale,
        history=history if isinstance(history, list) else [],
        etag=entity.metadata.get("etag") if hasattr(entity, "metadata") else None,
        **text,
        **times,
    )


def _flush_fields(record: PriceRecord) -> dict[str, Any]:
    """The columns a flush or a settlement owns ("" clears a time; None is not written)."""
    entity: dict[str, Any] = {
        **keys(record.tenant, record.sku),
        **{name: getattr(record, name) for name in _TEXT if name not in ("mark", "sending_mark", "zort_said")},
        **{
            name: getattr(record, name) or ""
            for name in _TIMES
            if name not in ("marked_at", "sending_at", "zort_said_at")
        },
        "result": record.result.value if record.result else "",
        "failures": record.failures,
        "history": json.dumps(record.history, separators=(",", ":"), ensure_ascii=False)[:30_000],
        "sale_price": str(record.sale.price) if record.sale else "",
        "sale_start": record.sale.start if record.sale else "",
        "sale_end": record.sale.end if record.sale else "",
        "sale_by": record.sale.by if record.sale else "",
        "on_sale": record.sale is not None,
    }
    return entity


class PriceRepository(SyncRepository[PriceRecord]):
    table_name = PRICES_TABLE

    def _record(self, entity: Any) -> PriceRecord:
        return _record(entity)

    def mark(self, tenant: str, skus: Sequence[str], now: datetime, said: Mapping[str, str] | None = None) -> int:
        def hint(sku: str) -> dict[str, Any]:
            return {"zort_said": said[sku], "zort_said_at": now} if said and sku in said else {}

        return self._mark(tenant, skus, now, hint)

    def dirty(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and dirty eq true", tenant, limit)

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and feed_id eq @f", tenant, limit, f=feed_id)

    def with_sales(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and on_sale eq true", tenant, limit)

    def listed(self, tenant: str, limit: int = 100) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t", tenant, limit)

    def save(self, records: Sequence[PriceRecord], clean: frozenset[str] = frozenset()) -> None:
        """Writes what a flush or a settlement decided; SKUs named in `clean` stop being marked, but only
        if nothing marked them since they were taken (conditional on the ETag they were taken at)."""
        etags = self._write(
            [Write(_flush_fields(r), {"dirty": False} if r.sku in clean else None, r.etag) for r in records]
        )
        for record, etag in zip(records, etags, strict=True):
            record.etag = etag or record.etag

    # the seller's feed budget -----------------------------------------------------------------

    def budget(self, seller: str) -> FeedBudget:
        with storage_errors():
            try:
                entity = self.table.get_entity(SELLERS_PARTITION, sku_key(seller))
            except ResourceNotFoundError:
                return FeedBudget(seller)
        try:
            calls = [datetime.fromisoformat(c) for c in json.loads(entity.get("calls") or "[]")]
        except (ValueError, TypeError):
            calls = []
        return FeedBudget(seller, calls, entity.get("wait_until") or None, entity.metadata.get("etag"))

    def save_budget(self, budget: FeedBudget) -> bool:
        """Writes the budget if unchanged since read (two tenants of one seller never both take a slot)."""
        entity: dict[str, Any] = {
            "PartitionKey": SELLERS_PARTITION,
            "RowKey": sku_key(budget.seller),
            "calls": json.dumps([c.isoformat() for c in budget.calls]),
            "wait_until": budget.wait_until or "",
        }
        with storage_errors():
            try:
                if budget.etag is None:
                    answer = self.table.create_entity(entity)
                else:
                    answer = self.table.update_entity(
                        entity, mode=UpdateMode.REPLACE, etag=budget.etag, match_condition=MatchConditions.IfNotModified
                    )
            except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
                return False
        budget.etag = answer.get("etag")
        return True
