"""Stock sync state (Table `ThorStock`): PartitionKey tenant, RowKey the SKU (key-safe encoded, as in
`ThorProducts`); each tenant's state as a whole (kill switch, last flush) under PartitionKey `_tenants`.

Marks are MERGE upserts in batch transactions (≤ 100 entities, one partition each) that write only
`dirty`, a new random `mark` and `marked_at`: no read first, and they never overwrite what a flush
records. A flush writes only its own fields too; an accepted SKU is made clean with a write conditional
on the ETag the flush got when it took the SKU, so a mark that landed meanwhile (which changed the
ETag) keeps it dirty: it is sent again by the next flush. A SKU sent in a feed keeps the feed's id
(`feed_id`) until the feed settles it (shared.services.feeds); `in_feed` finds them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.product_repo import sku_key
from shared.adapters.storage import STOCK_TABLE, Storage, storage_errors
from shared.domain.stock import SkuOutcome, SkuResult, StockRecord, StockTenantState

BATCH_SIZE = 100
TENANTS_PARTITION = "_tenants"
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


def _keys(tenant: str, sku: str) -> dict[str, str]:
    return {"PartitionKey": tenant, "RowKey": sku_key(sku), "sku": sku}


def _outcome_entity(outcome: SkuOutcome, clean: bool) -> dict[str, Any]:
    record = outcome.record
    entity: dict[str, Any] = {
        **_keys(record.tenant, record.sku),
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
    if clean:
        entity.update(dirty=False, synced_mark=record.sending_mark)
    return entity


class StockRepository:
    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self) -> TableClient:
        return self.storage.table(STOCK_TABLE)

    # marks ----------------------------------------------------------------------------------

    def mark_dirty(self, tenant: str, skus: Sequence[str], now: datetime) -> int:
        rows = [
            {**_keys(tenant, sku), "dirty": True, "mark": uuid.uuid4().hex, "marked_at": now}
            for sku in dict.fromkeys(skus)
        ]
        batches = 0
        with storage_errors():
            for start in range(0, len(rows), BATCH_SIZE):
                self.table.submit_transaction(
                    [("upsert", row, {"mode": UpdateMode.MERGE}) for row in rows[start : start + BATCH_SIZE]]
                )
                batches += 1
        return batches

    # flushes --------------------------------------------------------------------------------

    def dirty(self, tenant: str, limit: int = 10_000) -> list[StockRecord]:
        return self._records("PartitionKey eq @t and dirty eq true", tenant, limit)

    def failures(self, tenant: str, limit: int = 100) -> list[StockRecord]:
        return self._records("PartitionKey eq @t and dirty eq true and failures gt 0", tenant, limit)

    def in_feed(self, tenant: str, feed_id: str, limit: int = 10_000) -> list[StockRecord]:
        """The SKUs still waiting for the feed `feed_id` (each with the version it was read at)."""
        return self._records("PartitionKey eq @t and feed_id eq @f", tenant, limit, f=feed_id)

    def _records(self, query: str, tenant: str, limit: int, **more: str) -> list[StockRecord]:
        records: list[StockRecord] = []
        with storage_errors():
            for entity in self.table.query_entities(query, parameters={"t": tenant, **more}, results_per_page=1000):
                records.append(_record(entity))
                if len(records) >= limit:
                    break
        return records

    def take(self, records: Sequence[StockRecord], now: datetime) -> list[StockRecord]:
        taken: list[StockRecord] = []
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
                for record, answer in zip(chunk, answers, strict=True):  # one answer per operation
                    record.sending_mark, record.sending_at = record.mark, now
                    record.etag = answer.get("etag")
                    taken.append(record)
        return taken

    def record(self, outcomes: Sequence[SkuOutcome]) -> None:
        with storage_errors():
            by_tenant: dict[str, list[SkuOutcome]] = {}
            for outcome in outcomes:
                by_tenant.setdefault(outcome.record.tenant, []).append(outcome)
            for chunk_source in by_tenant.values():
                for start in range(0, len(chunk_source), BATCH_SIZE):
                    self._record_batch(chunk_source[start : start + BATCH_SIZE])

    def _record_batch(self, outcomes: Sequence[SkuOutcome]) -> None:
        """One transaction: accepted SKUs conditional on the ETag they were taken at. If any of them was
        marked meanwhile the transaction fails as a whole: then each is written alone, and a changed one
        keeps its dirty flag."""
        operations = []
        for outcome in outcomes:
            if outcome.clears and outcome.record.etag:
                options = {
                    "mode": UpdateMode.MERGE,
                    "etag": outcome.record.etag,
                    "match_condition": MatchConditions.IfNotModified,
                }
                operations.append(("update", _outcome_entity(outcome, clean=True), options))
            else:
                operations.append(("upsert", _outcome_entity(outcome, clean=False), {"mode": UpdateMode.MERGE}))
        try:
            self.table.submit_transaction(operations)
            return
        except TableTransactionError:
            pass
        for outcome in outcomes:
            self._record_one(outcome)

    def _record_one(self, outcome: SkuOutcome) -> None:
        if outcome.clears and outcome.record.etag:
            try:
                self.table.update_entity(
                    _outcome_entity(outcome, clean=True),
                    mode=UpdateMode.MERGE,
                    etag=outcome.record.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
                return
            except (ResourceModifiedError, ResourceNotFoundError):
                pass  # marked again while in flight: record the answer, stay dirty
        self.table.upsert_entity(_outcome_entity(outcome, clean=False), mode=UpdateMode.MERGE)

    def get(self, tenant: str, sku: str) -> StockRecord | None:
        with storage_errors():
            try:
                return _record(self.table.get_entity(tenant, sku_key(sku)))
            except ResourceNotFoundError:
                return None

    # the tenant as a whole --------------------------------------------------------------------

    def tenant_state(self, tenant: str) -> StockTenantState:
        with storage_errors():
            try:
                entity = self.table.get_entity(TENANTS_PARTITION, tenant)
            except ResourceNotFoundError:
                return StockTenantState(tenant)
        try:
            counts = json.loads(entity.get("last_counts") or "{}")
        except ValueError:
            counts = {}
        return StockTenantState(
            tenant=tenant,
            paused=bool(entity.get("paused")),
            paused_reason=entity.get("paused_reason") or None,
            paused_at=entity.get("paused_at") or None,
            last_flush_at=entity.get("last_flush_at") or None,
            last_result=entity.get("last_result") or None,
            last_detail=entity.get("last_detail") or None,
            wait_until=entity.get("wait_until") or None,
            last_counts=counts if isinstance(counts, dict) else {},
        )

    def save_tenant_state(self, state: StockTenantState) -> None:
        entity = {
            "PartitionKey": TENANTS_PARTITION,
            "RowKey": state.tenant,
            "paused": state.paused,
            "paused_reason": state.paused_reason or "",
            "paused_at": state.paused_at,
            "last_flush_at": state.last_flush_at,
            "last_result": state.last_result or "",
            "last_detail": (state.last_detail or "")[:4000],
            "wait_until": state.wait_until,
            "last_counts": json.dumps(state.last_counts, sort_keys=True),
        }
        with storage_errors():
            self.table.upsert_entity({k: v for k, v in entity.items() if v is not None}, mode=UpdateMode.REPLACE)
