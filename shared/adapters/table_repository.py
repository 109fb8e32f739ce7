"""What every Table repository shares: its table (a client of the shared `Storage`, the table created
once, on first use), storage errors turned into `StorageUnavailable`, and the reads and conditional
writes they all make. Each repository keeps only its own: its keys, its entity's columns and its rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any, ClassVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.adapters.storage import Storage, once_more_on_broken_connection, storage_errors

Entity = dict[str, Any]
"""An entity as written: PartitionKey, RowKey and the columns, each a value the Table SDK can store."""


class TableRepository:
    """A repository over one table of `Storage`; subclasses name it in `table_name`."""

    table_name: ClassVar[str]

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @property
    def table(self) -> TableClient:
        return self.storage.table(self.table_name)

    def read(self, partition_key: str, row_key: str) -> TableEntity | None:
        """The entity (its ETag in `.metadata["etag"]`), None when there is none."""
        with storage_errors():
            try:
                return self.table.get_entity(partition_key, row_key)
            except ResourceNotFoundError:
                return None

    def insert(self, entity: Entity, *, once_more: bool = False) -> str | None:
        """Inserts the entity and returns its ETag; None when one with its keys is already stored.

        `once_more`: send it again if the connection broke under the first try (safe where an
        insert that did land and is sent again may answer "already stored")."""
        with storage_errors():
            try:
                if once_more:
                    return str(once_more_on_broken_connection(self.table.create_entity, entity)["etag"])
                return str(self.table.create_entity(entity)["etag"])
            except ResourceExistsError:
                return None

    def update_unchanged(self, entity: Entity, etag: str, mode: UpdateMode = UpdateMode.REPLACE) -> str | None:
        """Writes the entity if it is still as read under `etag`; its new ETag, None when it changed
        or was deleted since (the caller did not win)."""
        with storage_errors():
            try:
                return str(
                    self.table.update_entity(
                        entity, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified
                    )["etag"]
                )
            except (ResourceModifiedError, ResourceNotFoundError):
                return None

    def query(self, query_filter: str, parameters: Mapping[str, Any], *, limit: int | None = None) -> list[TableEntity]:
        """The entities matching an OData filter (`@name` parameters), at most `limit` of them."""
        with storage_errors():
            return first(self.table.query_entities(query_filter, parameters=dict(parameters)), limit)


def etag_of(entity: TableEntity) -> str:
    """The ETag an entity was read with (a read always carries one)."""
    return str(entity.metadata["etag"])


def first(entities: Iterable[TableEntity], limit: int | None) -> list[TableEntity]:
    """The first `limit` entities (all when None), reading no further page than needed."""
    return list(islice(entities, limit))
