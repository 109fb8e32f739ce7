"""The inbound event log (Table `ThorEvents`): PartitionKey tenant, RowKey event id."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.data.tables import TableEntity, UpdateMode

from shared.adapters.entity_codec import pack_text, unpack_text
from shared.adapters.storage import EVENTS_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository, etag_of, first
from shared.domain.at_risk import EventBrief
from shared.domain.events import QUEUE_GRACE, Attempt, EventStatus, InboundEvent
from shared.domain.fencing import may_take
from shared.observability import mask
from shared.ports import ClaimLost, ConcurrentUpdate

NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)  # a dueBy already past: "nobody has it in hand"


def _to_entity(event: InboundEvent) -> Entity:
    entity: Entity = {
        "PartitionKey": event.tenant,
        "RowKey": event.event_id,
        "kind": event.kind.value,
        "receivedAt": event.received_at,
        "status": event.status.value,
        "attempts": event.attempts,
        "reason": event.reason,
        "outcome": event.outcome,
        "internalOrderId": event.internal_order_id,
        "updatedAt": event.updated_at or event.received_at,
        "dueBy": event.due_by or NEVER,  # in nobody's hand until a worker claims it (intake)
    }
    entity.update(pack_text("body", json.dumps(event.body, separators=(",", ":"), ensure_ascii=False)))
    if event.history:
        entity["history"] = _history_json(event.history)
    return {k: v for k, v in entity.items() if v is not None}


def _history_json(history: list[Attempt]) -> str:
    """The attempts as one string column (bounded: HISTORY_KEPT entries, errors cut to 500 characters)."""
    rows = [a.model_copy(update={"error": mask(a.error or "")[:500] or None}).model_dump(mode="json") for a in history]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


def _history(entity: TableEntity) -> list[Attempt]:
    try:
        return [Attempt.model_validate(row) for row in json.loads(entity.get("history") or "[]")]
    except ValueError:
        return []


def _from_entity(entity: TableEntity) -> InboundEvent:
    return InboundEvent(
        tenant=entity["PartitionKey"],
        event_id=entity["RowKey"],
        kind=entity["kind"],
        body=json.loads(unpack_text("body", entity) or "null"),
        received_at=entity["receivedAt"],
        status=EventStatus(entity.get("status", "received")),
        attempts=int(entity.get("attempts") or 0),
        reason=entity.get("reason"),
        outcome=entity.get("outcome"),
        internal_order_id=entity.get("internalOrderId"),
        updated_at=entity.get("updatedAt"),
        claimed_by=entity.get("claimedBy") or None,
        due_by=entity.get("dueBy"),
        history=_history(entity),
        etag=etag_of(entity),
    )


class EventLog(TableRepository):
    table_name = EVENTS_TABLE

    def add(self, event: InboundEvent) -> bool:
        """Records the event, in nobody's hand (`dueBy` past: a duplicate queues it until a worker
        claims it); False when an event with that id is already recorded."""
        etag = self.insert(_to_entity(event), once_more=True)
        event.etag = etag
        return etag is not None

    def get(self, tenant: str, event_id: str) -> InboundEvent | None:
        entity = self.read(tenant, event_id)
        return _from_entity(entity) if entity is not None else None

    def delete(self, tenant: str, event_id: str) -> None:
        with storage_errors():
            self.table.delete_entity(tenant, event_id)

    def claim(self, tenant: str, event_id: str, owner: str, seconds: float) -> tuple[InboundEvent | None, bool]:
        """(event, True) when `owner` now holds the event for `seconds`; (event, False) when it is
        completed or another owner's claim has not expired; (None, False) when there is no event.

        One read (the processor's own) and one write conditional on the ETag read: of two workers
        claiming at once, one write fails with 412 and that worker does not have the event. The
        write moves the event's fencing token (`claimFence`) one up; the event returned carries it.
        """
        entity = self.read(tenant, event_id)
        if entity is None:
            return None, False
        event = _from_entity(entity)
        now = datetime.now(timezone.utc)
        if event.status.finished:  # completed or ignored: nothing more to do
            return event, False
        if not may_take(event.claimed_by, event.due_by, owner, now):
            return event, False
        due_by = now + timedelta(seconds=seconds)
        fence = int(entity.get("claimFence") or 0) + 1
        claim = {"PartitionKey": tenant, "RowKey": event_id, "claimedBy": owner, "dueBy": due_by, "claimFence": fence}
        etag = self.update_unchanged(claim, etag_of(entity), mode=UpdateMode.MERGE)
        if etag is None:
            return event, False
        event.claimed_by, event.due_by, event.fence, event.etag = owner, due_by, fence, etag
        return event, True

    def holds(self, event: InboundEvent) -> bool:
        entity = self.read(event.tenant, event.event_id)
        return entity is not None and int(entity.get("claimFence") or 0) == event.fence

    def set_status(
        self,
        event: InboundEvent,
        status: EventStatus,
        *,
        reason: str | None = None,
        outcome: str | None = None,
        attempts: int | None = None,
        internal_order_id: str | None = None,
        due_in: float = 0,
        history: list[Attempt] | None = None,
    ) -> None:
        """Merges the new state into the stored event (status, reason, outcome, attempts, and its
        attempts' history when given) and releases its claim; a received event is due again
        `due_in` seconds from now (+ grace). A worker's write (`event.fence` set) is conditional on
        its claim still being the current one: refused with ClaimLost once another worker took the
        event over."""
        now = datetime.now(timezone.utc)
        reason_kept = mask(reason or "")[:4000]  # shown by the console and ops: never a secret
        due_by = now + timedelta(seconds=due_in) + QUEUE_GRACE
        patch: Entity = {
            "PartitionKey": event.tenant,
            "RowKey": event.event_id,
            "status": status.value,
            "updatedAt": now,
            "reason": reason_kept,
            "claimedBy": "",
            "dueBy": due_by,
        }
        if outcome is not None:
            outcome = mask(outcome)
            patch["outcome"] = outcome[:4000]
        if attempts is not None:
            patch["attempts"] = attempts
        if internal_order_id:
            patch["internalOrderId"] = internal_order_id
        if history is not None:
            patch["history"] = _history_json(history)
        if event.fence is None:  # not a worker's (a replay from ops): as it is now
            with storage_errors():
                self.table.update_entity(patch, mode=UpdateMode.MERGE)
        else:
            self._write_fenced(event, patch)
        event.status, event.reason, event.updated_at = status, reason_kept or None, now
        event.claimed_by, event.due_by = None, due_by
        if outcome is not None:
            event.outcome = outcome
        if history is not None:
            event.history = list(history)

    def _write_fenced(self, event: InboundEvent, patch: Entity) -> None:
        """Writes `patch` only while the worker's claim (`event.fence`) is the event's current one:
        conditional on the ETag of a read that shows that token; ClaimLost once it is not."""
        for _ in range(5):
            entity = self.read(event.tenant, event.event_id)
            if entity is None or int(entity.get("claimFence") or 0) != event.fence:
                raise ClaimLost(f"event {event.tenant}/{event.event_id} was taken over by another worker")
            if self.update_unchanged(patch, etag_of(entity), mode=UpdateMode.MERGE) is not None:
                return
        raise ConcurrentUpdate(f"event {event.tenant}/{event.event_id} kept changing")

    def _query(
        self,
        *,
        tenant: str | None = None,
        statuses: Iterable[EventStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        select: list[str] | None = None,
    ) -> Iterable[TableEntity]:
        """Entities matching the filters (all of them when there is none), page by page."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if tenant:
            clauses.append("PartitionKey eq @tenant")
            params["tenant"] = tenant
        status_clauses = []
        for i, status in enumerate(statuses):
            params[f"s{i}"] = status.value
            status_clauses.append(f"status eq @s{i}")
        if status_clauses:
            # The SDK substitutes @name only in space-separated words: "( … )", never "(…)".
            clauses.append("( " + " or ".join(status_clauses) + " )")
        if since:
            clauses.append("receivedAt ge @since")
            params["since"] = since
        if until:
            clauses.append("receivedAt lt @until")
            params["until"] = until
        if clauses:
            return self.table.query_entities(" and ".join(clauses), parameters=params, select=select)
        return self.table.list_entities(select=select)

    def list(
        self,
        *,
        tenant: str | None = None,
        statuses: Iterable[EventStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[InboundEvent]:
        with storage_errors():
            entities = first(self._query(tenant=tenant, statuses=statuses, since=since, until=until), limit)
        return [_from_entity(entity) for entity in entities]

    def briefs(
        self, tenant: str, statuses: Iterable[EventStatus], until: datetime | None, limit: int
    ) -> builtins.list[EventBrief]:
        """Like `list`, reading only id, status and time (no body): the console's counts."""
        with storage_errors():
            rows = first(
                self._query(tenant=tenant, statuses=statuses, until=until, select=["RowKey", "status", "receivedAt"]),
                limit,
            )
        return [EventBrief(row["RowKey"], EventStatus(row["status"]), row["receivedAt"]) for row in rows]

    def for_order(self, tenant: str, internal_order_id: str) -> builtins.list[InboundEvent]:
        """The tenant's events tied to this order (webhooks, ZORT events, refunds, reconciliation)."""
        entities = self.query("PartitionKey eq @t and internalOrderId eq @o", {"t": tenant, "o": internal_order_id})
        return sorted((_from_entity(e) for e in entities), key=lambda e: e.received_at)

    def count_by_status(self, tenant: str | None = None, since: datetime | None = None) -> dict[str, dict[str, int]]:
        """{tenant: {status: count}}, reading only the status column of each event."""
        counts: dict[str, dict[str, int]] = {}
        with storage_errors():
            for row in self._query(tenant=tenant, since=since, select=["PartitionKey", "status"]):
                per_tenant = counts.setdefault(row["PartitionKey"], {})
                per_tenant[row["status"]] = per_tenant.get(row["status"], 0) + 1
        return counts
