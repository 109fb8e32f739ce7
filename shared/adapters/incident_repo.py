"""Incidents (Table `ThorIncidents`): PartitionKey tenant, RowKey the at-risk rule (one incident per
tenant and rule, shared/domain/alerts.py). `active` (open, or a message still held) is the column the
alert timer's one query filters on; resolved incidents stay, inactive, until the rule fires again
and replaces them.

Writes are upserts: the alert timer is the only writer, and the Functions host runs a timer
function on one instance at a time (its schedule lock), so there is no concurrent writer to guard
against with ETags.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime

from azure.data.tables import TableEntity, UpdateMode

from shared.adapters.storage import INCIDENTS_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository
from shared.domain.alerts import Incident, Message
from shared.domain.at_risk import RiskKind


def _to_entity(incident: Incident) -> Entity:
    entity: Entity = {
        "PartitionKey": incident.tenant,
        "RowKey": incident.rule.value,
        "status": incident.status,
        "active": incident.open or incident.held is not None,
        "openedAt": incident.opened_at,
        "countText": incident.count_text,
        "why": incident.why[:2000],
        "sample": json.dumps(list(incident.sample)),
        "lastSent": incident.last_sent.value if incident.last_sent else "",
        "held": incident.held.value if incident.held else "",
    }
    if incident.resolved_at:
        entity["resolvedAt"] = incident.resolved_at
    if incident.last_sent_at:
        entity["lastSentAt"] = incident.last_sent_at
    return entity


def _time(entity: TableEntity, name: str) -> datetime | None:
    value = entity.get(name)
    return value if isinstance(value, datetime) else None


def _from_entity(entity: TableEntity) -> Incident:
    opened = _time(entity, "openedAt")
    assert opened is not None
    return Incident(
        tenant=str(entity["PartitionKey"]),
        rule=RiskKind(entity["RowKey"]),
        opened_at=opened,
        status=str(entity.get("status", "open")),
        count_text=str(entity.get("countText", "")),
        why=str(entity.get("why", "")),
        sample=tuple(json.loads(entity.get("sample") or "[]")),
        resolved_at=_time(entity, "resolvedAt"),
        last_sent_at=_time(entity, "lastSentAt"),
        last_sent=Message(entity["lastSent"]) if entity.get("lastSent") else None,
        held=Message(entity["held"]) if entity.get("held") else None,
    )


class IncidentRepository(TableRepository):
    table_name = INCIDENTS_TABLE

    def active(self) -> builtins.list[Incident]:
        return [_from_entity(e) for e in self.query("active eq true", {})]

    def save(self, incident: Incident) -> None:
        with storage_errors():
            self.table.upsert_entity(_to_entity(incident), mode=UpdateMode.REPLACE)
