"""Price sync state (Table `ThorPrices`, shared.domain.prices): PartitionKey tenant, RowKey the SKU
(key-safe encoded, as in `ThorProducts`); each tenant's state as a whole under PartitionKey `_tenants`;
each seller's feed budget (the calls it made, a 429's wait) under PartitionKey `_sellers`.

As in `ThorStock`, three writers own distinct columns so that none overwrites another's: a *mark*
(MERGE upserts in batches of 100, no read first) writes `dirty`, a new random `mark`, `marked_at` and
ZORT's hint (`zort_said`); a flush's *take* writes `sending_mark` / `sending_at`; a flush or a feed's
settlement writes the rest. Clearing `dirty` is conditional on the ETag the flush took the SKU at, so a
mark that landed meanwhile keeps the SKU marked (its latest price goes in the next flush).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.product_repo import sku_key
from shared.adapters.storage import PRICES_TABLE, Storage, storage_errors
from shared.domain.prices import FeedBudget, PriceRecord, PriceResult, PriceTenantState, Sale

BATCH_SIZE = 100
TENANTS_PARTITION = "_tenants"
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


def _keys(tenant: str, sku: str) -> dict[str, str]:
    return {"PartitionKey": tenant, "RowKey": sku_key(sku), "sku": sku}


def _flush_fields(record: PriceRecord, clean: bool) -> dict[str, Any]:
    """The columns a flush or a settlement owns ("" clears a time; None is not written)."""
    entity: dict[str, Any] = {
        **_keys(record.tenant, record.sku),
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
    if clean:
        entity["dirty"] = False
    return entity


class PriceRepository:
    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self) -> TableClient:
        return self.storage.table(PRICES_TABLE)

    # marks ----------------------------------------------------------------------------------

    def mark(self, tenant: str, skus: Sequence[str], now: datetime, said: Mapping[str, str] | None = None) -> int:
        rows = []
        for sku in dict.fromkeys(skus):
            row: dict[str, Any] = {**_keys(tenant, sku), "dirty": True, "mark": uuid.uuid4().hex, "marked_at": now}
            if said and sku in said:
                row.update(zort_said=said[sku], zort_said_at=now)
            rows.append(row)
        batches = 0
        with storage_errors():
            for start in range(0, len(rows), BATCH_SIZE):
                self.table.submit_transaction(
                    [("upsert", row, {"mode": UpdateMode.MERGE}) for row in rows[start : start + BATCH_SIZE]]
                )
                batches += 1
        return batches

    # reads ----------------------------------------------------------------------------------

    def dirty(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and dirty eq true", tenant, limit)

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and feed_id eq @f", tenant, limit, f=feed_id)

    def with_sales(self, tenant: str, limit: int = 25_000) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t and on_sale eq true", tenant, limit)

    def listed(self, tenant: str, limit: int = 100) -> list[PriceRecord]:
        return self._records("PartitionKey eq @t", tenant, limit)

    def get(self, tenant: str, sku: str) -> PriceRecord | None:
        with storage_errors():
            try:
                return _record(self.table.get_entity(tenant, sku_key(sku)))
            except ResourceNotFoundError:
                return None

    def _records(self, query: str, tenant: str, limit: int, **more: str) -> list[PriceRecord]:
        records: list[PriceRecord] = []
        with storage_errors():
            for entity in self.table.query_entities(query, parameters={"t": tenant, **more}, results_per_page=1000):
                records.append(_record(entity))
                if len(records) >= limit:
                    break
        return records

    # flushes --------------------------------------------------------------------------------

    def take(self, records: Sequence[PriceRecord], now: datetime) -> list[PriceRecord]:
        taken: list[PriceRecord] = []
        with storage_errors():
            for start in range(0, len(records), BATCH_SIZE):
                chunk = records[start : start + BATCH_SIZE]
                operations = [
                    (
                        "upsert",
                        {**_keys(r.tenant, r.sku), "sending_mark": r.mark, "sending_at": now},
                        {"mode": UpdateMode.MERGE},
                    )
                    for r in chunk
                ]
                answers = self.table.submit_transaction(operations)
                for record, answer in zip(chunk, answers, strict=True):
                    record.sending_mark, record.sending_at = record.mark, now
                    record.etag = answer.get("etag")
                    taken.append(record)
        return taken

    def save(self, records: Sequence[PriceRecord], clean: frozenset[str] = frozenset()) -> None:
        """Writes what a flush or a settlement decided; SKUs named in `clean` stop being marked, but only
        if nothing marked them since they were taken (conditional on the ETag they were taken at)."""
        with storage_errors():
            for start in range(0, len(records), BATCH_SIZE):
                self._save_batch(records[start : start + BATCH_SIZE], clean)

    def _save_batch(self, records: Sequence[PriceRecord], clean: frozenset[str]) -> None:
        operations = []
        for record in records:
            if record.sku in clean and record.etag:
                options = {
                    "mode": UpdateMode.MERGE,
                    "etag": record.etag,
                    "match_condition": MatchConditions.IfNotModified,
                }
                operations.append(("update", _flush_fields(record, clean=True), options))
            else:
                operations.append(("upsert", _flush_fields(record, clean=False), {"mode": UpdateMode.MERGE}))
        try:
            answers = self.table.submit_transaction(operations)
            for record, answer in zip(records, answers, strict=True):
                record.etag = answer.get("etag") or record.etag
            return
        except TableTransactionError:
            pass
        for record in records:
            self._save_one(record, record.sku in clean)

    def _save_one(self, record: PriceRecord, clean: bool) -> None:
        if clean and record.etag:
            try:
                answer = self.table.update_entity(
                    _flush_fields(record, clean=True),
                    mode=UpdateMode.MERGE,
                    etag=record.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
                record.etag = answer.get("etag") or record.etag
                return
            except (ResourceModifiedError, ResourceNotFoundError):
                pass  # marked again meanwhile: keep the outcome, stay marked
        answer = self.table.upsert_entity(_flush_fields(record, clean=False), mode=UpdateMode.MERGE)
        record.etag = answer.get("etag") or record.etag

    # the tenant as a whole --------------------------------------------------------------------

    def tenant_state(self, tenant: str) -> PriceTenantState:
        with storage_errors():
            try:
                entity = self.table.get_entity(TENANTS_PARTITION, tenant)
            except ResourceNotFoundError:
                return PriceTenantState(tenant)
        try:
            counts = json.loads(entity.get("last_counts") or "{}")
        except ValueError:
            counts = {}
        return PriceTenantState(
            tenant=tenant,
            paused=bool(entity.get("paused")),
            paused_reason=entity.get("paused_reason") or None,
            paused_at=entity.get("paused_at") or None,
            last_flush_at=entity.get("last_flush_at") or None,
            last_result=entity.get("last_result") or None,
            last_detail=entity.get("last_detail") or None,
            last_feed_id=entity.get("last_feed_id") or None,
            last_feed_at=entity.get("last_feed_at") or None,
            last_counts=counts if isinstance(counts, dict) else {},
        )

    def save_tenant_state(self, state: PriceTenantState) -> None:
        entity = {
            "PartitionKey": TENANTS_PARTITION,
            "RowKey": state.tenant,
            "paused": state.paused,
            "paused_reason": state.paused_reason or "",
            "paused_at": state.paused_at,
            "last_flush_at": state.last_flush_at,
            "last_result": state.last_result or "",
            "last_detail": (state.last_detail or "")[:4000],
            "last_feed_id": state.last_feed_id or "",
            "last_feed_at": state.last_feed_at,
            "last_counts": json.dumps(state.last_counts, sort_keys=True),
        }
        with storage_errors():
            self.table.upsert_entity({k: v for k, v in entity.items() if v is not None}, mode=UpdateMode.REPLACE)

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
