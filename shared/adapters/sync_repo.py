"""The feed-sync engine's storage (shared.domain.feed_sync), shared by `ThorStock` (shared.adapters.stock_repo)
and `ThorPrices` (shared.adapters.price_repo): PartitionKey the tenant, RowKey the SKU (key-safe encoded,
as in `ThorProducts`); each tenant's state as a whole under PartitionKey `_tenants`.

Three writers own distinct columns so that none overwrites another's:

- a *mark* (MERGE upserts in batch transactions of ≤ 100 entities, no read first) writes only `dirty`, a
  new random `mark`, `marked_at` (and what the kind adds, e.g. ZORT's price hint);
- a flush's *take* writes only `sending_mark` / `sending_at` (durable before anything is sent);
- a flush or a feed's settlement writes the rest. Clearing `dirty` is conditional on the ETag the SKU was
  read (or taken) at, so a mark that landed meanwhile keeps it marked: it goes in the next flush.

Conditional writes go in batch transactions; when one of them fails (the SKU was marked meanwhile), the
transaction fails as a whole and names the operation (`TableTransactionError.index`): that SKU is written
again without clearing its mark and the transaction is sent again, so a batch of 100 costs one request
per SKU marked meanwhile, plus one (not 100 single writes). An answer that names no conditional operation
falls back to one write per SKU.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.product_repo import sku_key
from shared.adapters.storage import Storage, storage_errors
from shared.domain.feed_sync import SyncRecord, SyncTenantState

R = TypeVar("R", bound=SyncRecord)

BATCH_SIZE = 100
TENANTS_PARTITION = "_tenants"
PAGE = 1000


def keys(tenant: str, sku: str) -> dict[str, str]:
    return {"PartitionKey": tenant, "RowKey": sku_key(sku), "sku": sku}


@dataclass(frozen=True)
class Write:
    """One SKU's write by a flush or a settlement: `entity` (MERGE), and when `clean` is given, the same
    with `clean` added (the mark cleared) if the SKU is still at version `etag`."""

    entity: dict[str, Any]
    clean: Mapping[str, Any] | None = None
    etag: str | None = None

    @property
    def conditional(self) -> bool:
        return self.clean is not None and bool(self.etag)


class SyncRepository(Generic[R]):
    """The columns and writes every kind shares; a kind adds how a row reads (`_record`)."""

    table_name: str = ""

    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self) -> TableClient:
        return self.storage.table(self.table_name)

    def _record(self, entity: Any) -> R:
        raise NotImplementedError

    # marks ----------------------------------------------------------------------------------

    def _mark(
        self, tenant: str, skus: Sequence[str], now: datetime, more: Callable[[str], Mapping[str, Any]] | None = None
    ) -> int:
        rows = [
            {
                **keys(tenant, sku),
                "dirty": True,
                "mark": uuid.uuid4().hex,
                "marked_at": now,
                **(more(sku) if more else {}),
            }
            for sku in dict.fromkeys(skus)
        ]
        sent = 0
        with storage_errors():
            for start in range(0, len(rows), BATCH_SIZE):
                self._submit([("upsert", row, {"mode": UpdateMode.MERGE}) for row in rows[start : start + BATCH_SIZE]])
                sent += 1
        return sent

    # reads ----------------------------------------------------------------------------------

    def _records(self, query: str, tenant: str, limit: int, **more: str) -> list[R]:
        records: list[R] = []
        with storage_errors():
            for entity in self.table.query_entities(query, parameters={"t": tenant, **more}, results_per_page=PAGE):
                records.append(self._record(entity))
                if len(records) >= limit:
                    break
        return records

    def marked_skus(self, tenant: str, limit: int = 100_000) -> list[str]:
        """The SKUs still marked (not confirmed yet), reading only their names: a cheap count."""
        names: list[str] = []
        with storage_errors():
            found = self.table.query_entities(
                "PartitionKey eq @t and dirty eq true", parameters={"t": tenant}, select=["sku"], results_per_page=PAGE
            )
            for entity in found:
                names.append(str(entity.get("sku") or ""))
                if len(names) >= limit:
                    break
        return names

    def get(self, tenant: str, sku: str) -> R | None:
        with storage_errors():
            try:
                return self._record(self.table.get_entity(tenant, sku_key(sku)))
            except ResourceNotFoundError:
                return None

    # flushes --------------------------------------------------------------------------------

    def take(self, records: Sequence[R], now: datetime) -> list[R]:
        """Records that a flush takes these SKUs (the mark each covers, and when), in batches."""
        taken: list[R] = []
        with storage_errors():
            for start in range(0, len(records), BATCH_SIZE):
                chunk = records[start : start + BATCH_SIZE]
                operations = [
                    (
                        "upsert",
                        {**keys(r.tenant, r.sku), "sending_mark": r.mark, "sending_at": now},
                        {"mode": UpdateMode.MERGE},
                    )
                    for r in chunk
                ]
                answers = self._submit(operations)
                for record, answer in zip(chunk, answers, strict=True):  # one answer per operation
                    record.sending_mark, record.sending_at = record.mark, now
                    record.etag = answer.get("etag")
                    taken.append(record)
        return taken

    def _write(self, writes: Sequence[Write]) -> list[str | None]:
        """Each write (one partition at a time, ≤ 100 per transaction); the new version of each."""
        by_partition: dict[str, list[int]] = {}
        for n, write in enumerate(writes):
            by_partition.setdefault(str(write.entity["PartitionKey"]), []).append(n)
        etags: list[str | None] = [None] * len(writes)
        with storage_errors():
            for places in by_partition.values():
                for start in range(0, len(places), BATCH_SIZE):
                    chunk = places[start : start + BATCH_SIZE]
                    for n, etag in zip(chunk, self._write_batch([writes[n] for n in chunk]), strict=True):
                        etags[n] = etag
        return etags

    def _write_batch(self, writes: list[Write]) -> list[str | None]:
        conditional = [w.conditional for w in writes]
        for _ in range(len(writes) + 1):
            operations = [self._operation(w, c) for w, c in zip(writes, conditional, strict=True)]
            try:
                answers = self._submit(operations)
                return [answer.get("etag") for answer in answers]
            except TableTransactionError as error:
                failed = error.index
                if not (0 <= failed < len(writes) and conditional[failed]):
                    break  # not a condition that failed: one write each
                conditional[failed] = False  # marked meanwhile: written without clearing its mark
        return [self._write_one(w) for w in writes]

    def _submit(self, operations: list[Any]) -> list[Mapping[str, Any]]:
        """One batch transaction, sent once more when its answer did not come (a read timeout, a broken
        connection: the SDK does not retry a POST). Safe: a mark or a take written twice writes the same
        columns; a conditional clean that did land fails the second time and is written without clearing
        the mark (the SKU is sent again: a repeated write of the latest value is harmless). Without it, one
        slow transaction among a flush's hundreds restarts the whole flush."""
        try:
            return list(self.table.submit_transaction(operations))
        except (ServiceRequestError, ServiceResponseError):
            return list(self.table.submit_transaction(operations))

    @staticmethod
    def _operation(write: Write, conditional: bool) -> tuple[str, dict[str, Any], dict[str, Any]]:
        if conditional and write.clean is not None:
            options = {"mode": UpdateMode.MERGE, "etag": write.etag, "match_condition": MatchConditions.IfNotModified}
            return ("update", {**write.entity, **write.clean}, options)
        return ("upsert", write.entity, {"mode": UpdateMode.MERGE})

    def _write_one(self, write: Write) -> str | None:
        if write.conditional and write.clean is not None:
            try:
                answer = self.table.update_entity(
                    {**write.entity, **write.clean},
                    mode=UpdateMode.MERGE,
                    etag=write.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
                return answer.get("etag")
            except (ResourceModifiedError, ResourceNotFoundError):
                pass  # marked again meanwhile: keep the outcome, stay marked
        answer = self.table.upsert_entity(write.entity, mode=UpdateMode.MERGE)
        return answer.get("etag")

    # the tenant as a whole --------------------------------------------------------------------

    def tenant_state(self, tenant: str) -> SyncTenantState:
        with storage_errors():
            try:
                entity = self.table.get_entity(TENANTS_PARTITION, tenant)
            except ResourceNotFoundError:
                return SyncTenantState(tenant)
        try:
            counts = json.loads(entity.get("last_counts") or "{}")
        except ValueError:
            counts = {}
        return SyncTenantState(
            tenant=tenant,
            paused=bool(entity.get("paused")),
            paused_reason=entity.get("paused_reason") or None,
            paused_at=entity.get("paused_at") or None,
            last_flush_at=entity.get("last_flush_at") or None,
            last_result=entity.get("last_result") or None,
            last_detail=entity.get("last_detail") or None,
            wait_until=entity.get("wait_until") or None,
            last_counts=counts if isinstance(counts, dict) else {},
            last_feed_id=entity.get("last_feed_id") or None,
            last_feed_at=entity.get("last_feed_at") or None,
        )

    def save_tenant_state(self, state: SyncTenantState) -> None:
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
            "last_feed_id": state.last_feed_id or "",
            "last_feed_at": state.last_feed_at,
        }
        with storage_errors():
            self.table.upsert_entity({k: v for k, v in entity.items() if v is not None}, mode=UpdateMode.REPLACE)
