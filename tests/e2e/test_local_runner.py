"""The local runner, through real HTTP: the key before the method, `Allow` on every 405, a body over
the limit refused before it is read, and a log a caller can't forge lines into."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

ROUTES = {
    "/health": "GET, HEAD",
    "/v1/orders/faco-1/status": "GET, HEAD",
    "/v1/orders/faco-1/refund": "POST",
    "/webhooks/faco/orders": "POST",
    "/webhooks/faco/orders/status": "POST",
    "/webhooks/faco/products": "POST",
    "/webhooks/faco/zort": "GET, HEAD, POST",
}


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_a_method_without_a_key_gets_401_and_with_it_405_with_allow(thor: Stack, key: str, path: str) -> None:
    for method in ("DELETE", "PUT", "TRACE", "PATCH"):
        stranger = requests.request(method, thor.thor_url + path, timeout=5)
        assert stranger.status_code == 401 and not stranger.content, (method, path)
        wrong = requests.request(method, thor.thor_url + path, headers={"x-functions-key": "nope"}, timeout=5)
        assert wrong.status_code == 401, (method, path)
        caller = requests.request(method, thor.thor_url + path, params={"code": key}, timeout=5)
        assert caller.status_code == 405, (method, path)
        assert caller.headers["Allow"] == ROUTES[path]
        assert caller.headers["Content-Type"] == "application/problem+json"


def raw_post(thor: Stack, key: str, headers: bytes, *parts: bytes) -> str:
    """Sends a POST in pieces on a raw socket and returns the whole answer (each read waits 5 s at most)."""
    with socket.create_connection(("127.0.0.1", thor.thor_port), timeout=5) as conn:
        conn.sendall(
            f"POST /webhooks/faco/orders?code={key} HTTP/1.1\r\nHost: thor\r\n"
            "Content-Type: application/json\r\n".encode()
            + headers
            + b"\r\n"
        )
        for part in parts:
            conn.sendall(part)
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            body += conn.recv(65536)
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def test_a_body_over_the_limit_is_refused_from_its_content_length_before_it_is_read(thor: Stack, key: str) -> None:
    # 90 MiB announced, one byte sent: a runner that reads the body first would wait for the rest.
    answer = raw_post(thor, key, b"Content-Length: 94371840\r\n", b"{")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "application/problem+json" in answer and '"field": "body"' in answer


def expect_continue(thor: Stack, key: str, length: int, body: bytes = b"", code: str | None = None) -> str:
    """Sends a POST's head with `Expect: 100-continue` and no body; returns the first answer's head.
    A 100 Continue is answered by sending `body` and reading the final answer."""
    with socket.create_connection(("127.0.0.1", thor.thor_port), timeout=5) as conn:
        conn.sendall(
            f"POST /webhooks/faco/orders?code={code or key} HTTP/1.1\r\nHost: thor\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(65536)
        if received.startswith(b"HTTP/1.1 100"):
            conn.sendall(body)
            received = received.partition(b"\r\n\r\n")[2]
            while b"\r\n\r\n" not in received:
                received += conn.recv(65536)
            return "(after 100 Continue) " + received.decode("latin-1")
        return received.decode("latin-1")


def test_413_comes_before_100_continue_so_an_oversized_body_is_never_uploaded(thor: Stack, key: str) -> None:
    """Issue 17 item 6: the runner sent `100 Continue` first, and the client uploaded the whole body."""
    answer = expect_continue(thor, key, 90 * 1024 * 1024)  # nothing of the body is ever sent
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert expect_continue(thor, key, 10, code="wrong-key").startswith("HTTP/1.1 401")
    body = b'{"event":"onOrderCreated","payload":{"OrderId":4410002}}'
    answer = expect_continue(thor, key, len(body), body)
    assert answer.startswith("(after 100 Continue) HTTP/1.1 200"), answer[:300]


def test_a_chunked_body_is_read_only_up_to_the_limit(thor: Stack, key: str) -> None:
    chunk = b"x" * (1024 * 1024 + 1)  # one byte over, and the final chunk never sent
    answer = raw_post(thor, key, b"Transfer-Encoding: chunked\r\n", b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    body = b'{"event":"onOrderCreated","payload":{"OrderId":4410001}}'
    answer = raw_post(thor, key, b"Transfer-Encoding: chunked\r\n", b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    assert answer.startswith("HTTP/1.1 200"), answer[:300]


def test_a_caller_cannot_write_lines_into_the_runner_log(thor: Stack, key: str, tmp_path: Path) -> None:
    log_path = tmp_path / "runner.log"
    runner = Stack(values={**thor.values, "THOR_LOG_LEVEL": "INFO"}, servers=thor.servers)
    with log_path.open("w") as log_file:
        runner.start_runner(["--no-queue"], stdout=log_file)
    try:
        forged = "/v1/orders/faco-1%0D%0A2026-01-01 00:00:00,000 WARNING thor.forged: admin login%0A/status"
        answer = requests.get(runner.thor_url + forged, params={"code": key}, timeout=5)
        assert answer.status_code == 404
        text = eventually(lambda: log_path.read_text() if "-> 404" in log_path.read_text() else None, timeout=10)
    finally:
        runner.stop_runner()
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith("2026-01-01") or "thor.forged" in line.split(":")[0]]
    logged = next(line for line in lines if "-> 404" in line)
    assert "faco-1\\r\\n2026-01-01 00:00:00,000 WARNING thor.forged: admin login\\n/status" in logged


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_max_poll_that_is_not_a_positive_number_of_seconds_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--max-poll` (tests poll an idle queue often; the host's own interval is host.json's) must be a
    positive number of seconds: anything else stops the runner before it serves."""
    from localdev.runner import main

    with pytest.raises(SystemExit) as stopped:
        main(["--max-poll", value, "--settings", "/dev/null"])
    assert stopped.value.code == 2 and "--max-poll" in capsys.readouterr().err


def test_timers_runs_only_the_named_timer_triggers_on_their_schedule_or_the_interval() -> None:
    """`--timers stock_flush` (the stock benchmark) keeps reconciliation's timer from running."""
    from localdev.runner import IntervalSchedule, timer_workers
    from tests.conftest import app_functions

    functions = list(app_functions())
    every = {worker.name: worker for worker in timer_workers(functions)}
    assert {"reconcile", "stock_flush"} <= set(every)
    assert every["stock_flush"].schedule.expression == "0 */2 * * * *"
    only = timer_workers(functions, 5, frozenset({"stock_flush"}))
    assert [worker.name for worker in only] == ["stock_flush"]
    assert isinstance(only[0].schedule, IntervalSchedule) and only[0].schedule.seconds == 5


def test_a_runner_started_while_storage_does_not_answer_answers_503_within_the_bound(tmp_path: Path) -> None:
    """Drill seeds 4, 5, 9: a runner restarted during a storage freeze answered its first webhooks
    after more than 12 s (on main before the fix, not within 30 s): its HTTP server served only once
    its queue listeners had their queue, and its requests waited behind a table's first creation.
    Now the listeners start beside the server and a request never waits past its own bound."""
    import os
    import subprocess
    import sys
    import time

    from localdev.azurite import ROOT, connection_string, free_port, wait_for_port

    silent = socket.socket()  # a frozen emulator: its backlog full, a connect never completes
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    waiting = []
    for _ in range(8):
        pending = socket.socket()
        pending.setblocking(False)
        pending.connect_ex(("127.0.0.1", port))
        waiting.append(pending)
    thor_port = free_port()
    env = dict(os.environ, AzureWebJobsStorage=connection_string(port, port, port))
    with open(tmp_path / "runner.log", "wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "-m", "localdev.runner", "--port", str(thor_port), "--no-timers"]
            + ["--settings", str(ROOT / "local.settings.example.json")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(thor_port, timeout=60)
            time.sleep(1.0)  # its queue listener is waiting for storage meanwhile
            for n in range(2):
                started = time.monotonic()
                answer = requests.post(
                    f"http://127.0.0.1:{thor_port}/webhooks/faco/orders",
                    params={"code": "local-dev-key"},
                    json={"event": "onOrderCreated", "payload": {"OrderId": str(4490000 + n)}},
                    timeout=30,
                )
                assert answer.status_code == 503 and answer.headers["Retry-After"]
                assert time.monotonic() - started < 8  # the 4 s bound, with a margin for a loaded machine
        finally:
            runner.terminate()
            runner.wait(10)
            for pending in waiting:
                pending.close()
            silent.close()
