"""GET /health: storage reachability and nothing else; 503 with Retry-After when storage is down."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from localdev import smoke
from localdev.azurite import connection_string, free_port
from localdev.stack import Stack
from shared.adapters.event_log import EventLog
from shared.adapters.storage import Storage
from shared.domain.events import EventStatus, InboundEvent
from shared.settings import StorageSettings

pytestmark = pytest.mark.e2e


def test_health_is_ok_with_only_status_and_storage(thor: Stack, key: str) -> None:
    answer = requests.get(f"{thor.thor_url}/health", params={"code": key}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"status": "ok", "storage": "reachable"}
    assert requests.get(f"{thor.thor_url}/health", timeout=10).status_code == 401


def test_health_is_503_with_retry_after_when_storage_is_unreachable(stack: Stack, key: str) -> None:
    closed = free_port()  # nothing listens there
    values = dict(stack.values, AzureWebJobsStorage=connection_string(closed, closed, closed))
    runner = Stack(values=values, thor_port=0)
    runner.start_runner(["--no-queue"])  # HTTP only: the queue listener would need storage at startup
    try:
        answer = requests.get(f"{runner.thor_url}/health", headers={"x-functions-key": key}, timeout=30)
    finally:
        runner.stop_runner()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.json() == {"status": "degraded", "storage": "unreachable"}
    text = answer.text + json.dumps(dict(answer.headers))
    for leak in ("Traceback", "Error", str(closed), "devstoreaccount1", "AccountKey"):
        assert leak not in text


def test_smoke_passes_against_the_local_runner(
    thor: Stack, key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THOR_BASE_URL", thor.thor_url)
    monkeypatch.setenv("THOR_FUNCTION_KEY", key)
    monkeypatch.setenv("THOR_SMOKE_TENANT", "faco")
    assert smoke.main([]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and key not in out
    assert out.count("PASS") == len(smoke.checks("faco")) + 3  # and the write path's three steps
    assert "write path: cleaned up" in out


class _WatchingSession(requests.Session):
    """Reads the smoke event from storage just before the smoke deletes it."""

    def __init__(self, events: EventLog) -> None:
        super().__init__()
        self.log = events
        self.before_delete: list[InboundEvent | None] = []

    def delete(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        event_id = (url.decode() if isinstance(url, bytes) else url).rsplit("/", 1)[-1]
        self.before_delete.append(self.log.get(kwargs["params"]["tenant"], event_id))
        return super().delete(url, **kwargs)


def test_smoke_write_path_records_queues_processes_and_cleans_up(thor: Stack, key: str) -> None:
    events = EventLog(Storage(StorageSettings(thor.values["AzureWebJobsStorage"], None, None, None, None)))
    with _WatchingSession(events) as session:
        steps = smoke.write_path(session, thor.thor_url, key, "fape", wait=60, run_id="smoke-e2e")
    assert [(name, ok) for name, ok, _ in steps] == [
        ("synthetic event accepted", True),
        ("queued and processed", True),
        ("cleaned up", True),
    ]
    [seen] = session.before_delete
    assert seen is not None and seen.status is EventStatus.IGNORED and seen.attempts >= 1
    assert seen.body == {"event": "onStatisticsUpdated", "payload": {"thorSmoke": "smoke-e2e"}}
    assert events.get("fape", seen.event_id) is None  # cleaned up


def test_smoke_event_route_refuses_real_events_and_keyless_calls(thor: Stack, key: str) -> None:
    hook: dict[str, Any] = {"event": "onStatisticsUpdated", "payload": {"Sku": "not-a-smoke"}}
    answer = requests.post(f"{thor.thor_url}/webhooks/fape/products", json=hook, params={"code": key}, timeout=10)
    event_id = answer.json()["eventId"]
    url = f"{thor.thor_url}/v1/smoke/events/{event_id}"
    assert requests.get(url, params={"tenant": "fape", "code": key}, timeout=10).status_code == 404
    assert requests.delete(url, params={"tenant": "fape", "code": key}, timeout=10).status_code == 404
    assert requests.get(url, params={"tenant": "fape"}, timeout=10).status_code == 401
    assert requests.delete(url, params={"tenant": "fape"}, timeout=10).status_code == 401


def test_smoke_fails_and_says_so_when_an_answer_is_wrong(
    stack: Stack, key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THOR_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing answers
    monkeypatch.setenv("THOR_FUNCTION_KEY", key)
    assert smoke.main([]) == 1
    assert "FAIL" in capsys.readouterr().out
    monkeypatch.delenv("THOR_FUNCTION_KEY")
    assert smoke.main([]) == 2


def test_smoke_refuses_to_run_without_a_key_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("THOR_FUNCTION_KEY", raising=False)
    monkeypatch.delenv("THOR_BASE_URL", raising=False)
    sent: list[str] = []
    monkeypatch.setattr(requests.Session, "request", lambda self, method, url, **kw: sent.append(url))
    assert smoke.main(["--env", "prod"]) == 2
    assert "THOR_FUNCTION_KEY" in capsys.readouterr().err
    monkeypatch.setenv("THOR_FUNCTION_KEY", "   ")
    assert smoke.main(["--env", "test"]) == 2
    assert smoke.main(["--env", "staging"]) == 2
    assert sent == []
