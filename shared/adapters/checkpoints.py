"""Checkpoints (Table `ThorCheckpoints`): PartitionKey a job name, RowKey its key (e.g. a tenant).

A checkpoint is a position in time and the summary of the run that reached it. The position never
moves backwards: a save keeps the later of the stored and the given position, under the ETag it
read, so two runs saving at once cannot undo each other.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from azure.data.tables import TableEntity

from shared.adapters.storage import CHECKPOINTS_TABLE
from shared.adapters.table_repository import Entity, TableRepository, etag_of
from shared.domain.checkpoints import Checkpoint, Summary

__all__ = ["Checkpoint", "CheckpointStore"]

MAX_SUMMARY_CHARS = 30_000  # one Table string property holds at most 32K characters
SAVE_ATTEMPTS = 5


def _from_entity(entity: TableEntity) -> Checkpoint:
    try:
        summary = json.loads(entity.get("summary") or "{}")
    except ValueError:
        summary = {}
    return Checkpoint(
        name=entity["PartitionKey"],
        key=entity["RowKey"],
        position=entity.get("position"),
        summary=summary if isinstance(summary, dict) else {},
        updated_at=entity.get("updatedAt"),
    )


def _summary_text(summary: Summary) -> str:
    text = json.dumps(summary, default=str, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_SUMMARY_CHARS:
        return text
    trimmed: dict[str, Any] = {k: v for k, v in summary.items() if not isinstance(v, (list, dict))}
    trimmed["truncated"] = True
    return json.dumps(trimmed, default=str, separators=(",", ":"), ensure_ascii=False)[:MAX_SUMMARY_CHARS]


class CheckpointStore(TableRepository):
    table_name = CHECKPOINTS_TABLE

    def get(self, name: str, key: str) -> Checkpoint | None:
        entity = self.read(name, key)
        return _from_entity(entity) if entity is not None else None

    def list(self, name: str) -> builtins.list[Checkpoint]:
        return [_from_entity(e) for e in self.query("PartitionKey eq @n", {"n": name})]

    def save(self, name: str, key: str, position: datetime | None, summary: Summary, now: datetime) -> Checkpoint:
        """Stores `summary` and the later of the stored position and `position`; returns what is stored."""
        for _ in range(SAVE_ATTEMPTS):
            current = self.read(name, key)
            stored: datetime | None = current.get("position") if current is not None else None
            kept = max((p for p in (stored, position) if p is not None), default=None)
            entity: Entity = {"PartitionKey": name, "RowKey": key, "summary": _summary_text(summary), "updatedAt": now}
            if kept is not None:
                entity["position"] = kept
            written = self.insert(entity) if current is None else self.update_unchanged(entity, etag_of(current))
            if written is None:
                continue  # someone else saved meanwhile: read again and keep the later position
            return Checkpoint(name=name, key=key, position=kept, summary=summary, updated_at=now)
        raise RuntimeError(f"checkpoint {name}/{key} kept changing while being saved")
