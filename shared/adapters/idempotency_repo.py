"""Remembered answers for `Idempotency-Key` requests (Table `ThorIdempotency`)."""

from __future__ import annotations

import hashlib
import json

from shared.adapters.storage import IDEMPOTENCY_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository
from shared.ports import IdempotencyRecord


def _row_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _to_entity(tenant: str, key: str, record: IdempotencyRecord) -> Entity:
    return {"PartitionKey": tenant, "RowKey": _row_key(key), "record": json.dumps(record, default=str)}


class IdempotencyRepository(TableRepository):
    table_name = IDEMPOTENCY_TABLE

    def get(self, tenant: str, key: str) -> IdempotencyRecord | None:
        entity = self.read(tenant, _row_key(key))
        if entity is None:
            return None
        record: IdempotencyRecord = json.loads(entity["record"])
        return record

    def add(self, tenant: str, key: str, record: IdempotencyRecord) -> bool:
        return self.insert(_to_entity(tenant, key, record)) is not None

    def replace(self, tenant: str, key: str, record: IdempotencyRecord) -> None:
        with storage_errors():
            self.table.upsert_entity(_to_entity(tenant, key, record))

    def delete(self, tenant: str, key: str) -> None:
        with storage_errors():
            self.table.delete_entity(tenant, _row_key(key))
