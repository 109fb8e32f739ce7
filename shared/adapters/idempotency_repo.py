"""Remembered answers for `Idempotency-Key` requests (Table `ThorIdempotency`)."""

from __future__ import annotations

import hashlib
import json

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.adapters.storage import IDEMPOTENCY_TABLE, Storage, storage_errors


def _row_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class IdempotencyRepository:
    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self):
        return self.storage.table(IDEMPOTENCY_TABLE)

    def get(self, tenant: str, key: str) -> dict | None:
        with storage_errors():
            try:
                entity = self.table.get_entity(tenant, _row_key(key))
            except ResourceNotFoundError:
                return None
        return json.loads(entity["record"])

    def add(self, tenant: str, key: str, record: dict) -> bool:
        with storage_errors():
            try:
                self.table.create_entity(
                    {"PartitionKey": tenant, "RowKey": _row_key(key), "record": json.dumps(record, default=str)}
                )
                return True
            except ResourceExistsError:
                return False

    def replace(self, tenant: str, key: str, record: dict) -> None:
        with storage_errors():
            self.table.upsert_entity(
                {"PartitionKey": tenant, "RowKey": _row_key(key), "record": json.dumps(record, default=str)}
            )

    def delete(self, tenant: str, key: str) -> None:
        with storage_errors():
            self.table.delete_entity(tenant, _row_key(key))
