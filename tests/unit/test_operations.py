"""The ops flows (shared/services/operations.py) with an in-memory event log, and the ops package's place:
outside the library the functions import."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shared.domain.events import EventStatus, InboundEvent
from shared.services.operations import (
    EventQuery,
    check_zort_webhooks,
    events_needing_a_person,
    list_events,
    register_zort_webhooks,
)
from tests.fakes import FakeClock, FakeEventLog, FakeZort

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class EventLog(FakeEventLog):
    """The event log's queries over a fixed list of events (their statuses and times as given)."""

    def __init__(self, events: list[InboundEvent]) -> None:
        super().__init__(FakeClock(NOW))
        self.given = events

    def list(
        self,
        *,
        tenant: str | None = None,
        statuses: Iterable[EventStatus] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[InboundEvent]:
        statuses = tuple(statuses)
        return [
            e
            for e in self.given
            if (not tenant or e.tenant == tenant)
            and (not statuses or e.status in statuses)
            and (not since or e.received_at >= since)
            and (not until or e.received_at < until)
        ][:limit]


def event(name: str, status: EventStatus, age: timedelta, tenant: str = "faco") -> InboundEvent:
    return InboundEvent(
        tenant=tenant, event_id=name, kind="order-created", body={}, received_at=NOW - age, status=status
    )


def test_what_needs_a_person_is_failed_blocked_unmatched_and_received_long_ago_oldest_first() -> None:
    log = EventLog(
        [
            event("fresh", EventStatus.RECEIVED, timedelta(minutes=1)),
            event("stuck", EventStatus.RECEIVED, timedelta(minutes=20)),
            event("done", EventStatus.COMPLETED, timedelta(hours=1)),
            event("failed", EventStatus.FAILED, timedelta(minutes=2)),
            event("blocked", EventStatus.BLOCKED, timedelta(hours=2)),
            event("unmatched", EventStatus.UNMATCHED, timedelta(minutes=5)),
            event("other-tenant", EventStatus.FAILED, timedelta(minutes=5), tenant="somx"),
        ]
    )
    found = events_needing_a_person(log, EventQuery(tenant="faco"), NOW)
    assert [e.event_id for e in found] == ["blocked", "stuck", "unmatched", "failed"]
    assert "stuck" not in [e.event_id for e in events_needing_a_person(log, EventQuery(), NOW, timedelta(hours=1))]
    # a window starting after the stuck threshold lists no received event; same age: by tenant
    assert [e.event_id for e in events_needing_a_person(log, EventQuery(since=NOW - timedelta(minutes=10)), NOW)] == [
        "unmatched",
        "other-tenant",
        "failed",
    ]
    assert [e.event_id for e in list_events(log, EventQuery(statuses=(EventStatus.RECEIVED,)))] == ["stuck", "fresh"]


class Zort(FakeZort):
    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__()
        self.current = current
        self.updates: list[tuple[str, str, str, Mapping[str, str]]] = []

    def get_webhook(self) -> dict[str, Any]:
        return self.current

    def update_webhook(self, key1: str, key2: str, key3: str, urls: Mapping[str, str]) -> dict[str, Any]:
        self.updates.append((key1, key2, key3, urls))
        return {"resCode": "200"}


def test_registering_keeps_key2_and_key3_unless_given_and_fills_blank_ones() -> None:
    zort = Zort({"key2": "theirs", "key3": ""})
    register_zort_webhooks(zort, "k1", {"f": "https://thor/x"}, "faco")
    register_zort_webhooks(zort, "k1", {"f": "https://thor/x"}, "faco", key2="mine", key3="three")
    assert [u[:3] for u in zort.updates] == [("k1", "theirs", "faco"), ("k1", "mine", "three")]


def test_webhook_check_names_each_url_and_counts_a_key1_that_differs() -> None:
    fields = {"a": "ADDORDER", "b": "UPDATEORDER", "c": "ADDPRODUCT"}
    expected = {"a": "https://thor/a", "b": "https://thor/b", "c": "https://thor/c"}
    check = check_zort_webhooks(
        {"key1": "other", "a": "https://thor/a", "b": "https://elsewhere/b"}, "k1", fields, expected
    )
    assert [state for *_, state in check.urls] == ["ok", "DIFFERS", "MISSING"]
    assert (check.key1_set, check.key1_matches, check.wrong_urls, check.differences) == (True, False, 2, 3)
    unchecked = check_zort_webhooks({"key1": "k1"}, "k1", fields)
    assert [state for *_, state in unchecked.urls] == [None, None, None] and unchecked.differences == 0


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


def test_the_deployed_code_imports_nothing_of_the_ops_package() -> None:
    deployed = [ROOT / "function_app.py", *(ROOT / "functions").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]
    assert len(deployed) > 20
    importing = [
        str(p.relative_to(ROOT))
        for p in deployed
        if any(name == "ops" or name.startswith("ops.") for name in _imports(p))
    ]
    assert importing == []


def test_a_settings_file_that_is_not_one_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ops.__main__ import main

    bad = tmp_path / "local.settings.json"
    bad.write_text("{not json")
    assert main(["--settings", str(bad), "check-settings"]) == 2
    assert "is not a local.settings.json file" in capsys.readouterr().err
