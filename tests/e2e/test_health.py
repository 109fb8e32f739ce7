"""GET /health: storage reachability and nothing else; 503 with Retry-After when storage is down."""

from __future__ import annotations

import json

import pytest
import requests

from localdev import smoke
from localdev.azurite import connection_string, free_port
from localdev.stack import Stack

pytestmark = pytest.mark.e2e


def test_health_is_ok_with_only_status_and_storage(thor, key):
    answer = requests.get(f"{thor.thor_url}/health", params={"code": key}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {"status": "ok", "storage": "reachable"}
    assert requests.get(f"{thor.thor_url}/health", timeout=10).status_code == 401


def test_health_is_503_with_retry_after_when_storage_is_unreachable(stack, key):
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


def test_smoke_passes_against_the_local_runner(thor, key, monkeypatch, capsys):
    monkeypatch.setenv("THOR_BASE_URL", thor.thor_url)
    monkeypatch.setenv("THOR_FUNCTION_KEY", key)
    monkeypatch.setenv("THOR_SMOKE_TENANT", "faco")
    assert smoke.main([]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and key not in out
    assert out.count("PASS") == len(smoke.checks("faco"))


def test_smoke_fails_and_says_so_when_an_answer_is_wrong(stack, key, monkeypatch, capsys):
    monkeypatch.setenv("THOR_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing answers
    monkeypatch.setenv("THOR_FUNCTION_KEY", key)
    assert smoke.main([]) == 1
    assert "FAIL" in capsys.readouterr().out
    monkeypatch.delenv("THOR_FUNCTION_KEY")
    assert smoke.main([]) == 2
