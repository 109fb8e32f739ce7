"""Checkpoints (Table `ThorCheckpoints`): PartitionKey a job name, RowKey its key (e.g. a tenant).

A checkpoint is a position in time and the summary of the run that reached it. The position never
moves backwards: a save keeps the later of the stored and the given position, under the ETag it
read, so two runs saving at once cannot undo each other.
"""

from __future__ import annotations

import json
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.storage import CHECKPOINTS_TABLE, Storage, storage_errors
from shared.domain.checkpoints import Checkpoint

__all__ = ["Checkpoint", "CheckpointStore"]

MAX_SUMMARY_CHARS = 30_000  # one Table string property holds at most 32K characters
SAVE_ATTEMPTS = 5


def _from_entity(entity) -> Checkpoint:
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


def _summary_text(summary: dict) -> str:
    text = json.dumps(summary, default=str, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= MAX_SUMMARY_CHARS:
        return text
    trimmed = {k: v for k, v in summary.items() if not isinstance(v, (list, dict))}
    trimmed["truncated"] = True
    return json.dumps(trimmed, default=str, separators=(",", ":"), ensure_ascii=False)[:MAX_SUMMARY_CHARS]


class CheckpointStore:
    def __init__(self, storage: Storage):
        self.storage = storage

    @property
    def table(self):
        return self.storage.table(CHECKPOINTS_TABLE)

    def get(self, name: str, key: str) -> Checkpoint | None:
        with storage_errors():
            try:
                return _from_entity(self.table.get_entity(name, key))
            except ResourceNotFoundError:
                return None

    def list(self, name: str) -> list[Checkpoint]:
        with storage_errors():
            return [_from_entity(e) for e in self.table.query_entities("PartitionKey eq @n", parameters={"n": name})]

    def save(self, name: str, key: str, position: datetime | None, summary: dict, now: datetime) -> Checkpoint:
        """Stores `summary` and the later of the stored position and `position`; returns what is stored."""
        for _ in range(SAVE_ATTEMPTS):
            with storage_errors():
                try:
                    current = self.table.get_entity(name, key)
                except ResourceNotFoundError:
                    current = None
            stored = current.get("position") if current is not None else None
            kept = max((p for p in (stored, position) if p is not None), default=None)
            entity = {"PartitionKey": name, "RowKey": key, "summary": _summary_text(summary), "updatedAt": now}
            if kept is not None:
                entity["position"] = kept
            with storage_errors():
                try:
                    if current is None:
                        self.table.create_entity(entity)
                    else:
                        self.table.update_entity(
                            entity,
                            mode=UpdateMode.REPLACE,
                            etag=current.metadata["etag"],
                            match_condition=MatchConditions.IfNotModified,
                        )
                except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
                    continue  # someone else saved meanwhile: read again and keep the later position
            return Checkpoint(name=name, key=key, position=kept, summary=summary, updated_at=now)
        raise RuntimeError(f"checkpoint {name}/{key} kept changing while being saved")
