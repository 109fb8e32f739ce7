"""The base every Table repository builds on (shared/adapters/table_repository.py), against real
Azurite: a missing entity reads as None, a second insert of the same keys and a write under a stale
ETag lose (None, nothing overwritten), and a query stops at its limit."""

from __future__ import annotations

import uuid

from azure.data.tables import UpdateMode

from shared.adapters.table_repository import TableRepository, etag_of
from shared.bootstrap import Context


class ScratchRepository(TableRepository):
    table_name = "ThorTestScratch"


def test_reads_inserts_and_writes_under_an_etag(context: Context) -> None:
    repo = ScratchRepository(context.storage)
    partition = f"p{uuid.uuid4().hex[:12]}"
    assert repo.read(partition, "a") is None

    first = repo.insert({"PartitionKey": partition, "RowKey": "a", "value": "one"})
    assert first is not None
    assert repo.insert({"PartitionKey": partition, "RowKey": "a", "value": "two"}, once_more=True) is None
    stored = repo.read(partition, "a")
    assert stored is not None and stored["value"] == "one" and etag_of(stored) == first

    second = repo.update_unchanged({"PartitionKey": partition, "RowKey": "a", "value": "three"}, first)
    assert second is not None and second != first
    assert repo.update_unchanged({"PartitionKey": partition, "RowKey": "a", "value": "stale"}, first) is None
    merged = repo.update_unchanged(
        {"PartitionKey": partition, "RowKey": "a", "extra": "x"}, second, mode=UpdateMode.MERGE
    )
    assert merged is not None
    stored = repo.read(partition, "a")
    assert stored is not None and (stored["value"], stored["extra"]) == ("three", "x")
    assert repo.update_unchanged({"PartitionKey": partition, "RowKey": "gone", "value": "v"}, first) is None


def test_a_query_stops_at_its_limit(context: Context) -> None:
    repo = ScratchRepository(context.storage)
    partition = f"p{uuid.uuid4().hex[:12]}"
    for row in "abcde":
        assert repo.insert({"PartitionKey": partition, "RowKey": row})
    assert len(repo.query("PartitionKey eq @p", {"p": partition})) == 5
    limited = repo.query("PartitionKey eq @p", {"p": partition}, limit=2)
    assert [entity["RowKey"] for entity in limited] == ["a", "b"]
