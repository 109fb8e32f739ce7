import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from localdev.azurite import connection_string
from shared.adapters import storage as storage_module
from shared.adapters.event_log import EventLog
from shared.adapters.event_queue import EventQueue
from shared.adapters.storage import Storage, once_more_on_broken_connection, storage_deadline
from shared.ports import StorageUnavailable
from shared.settings import StorageSettings


def test_a_broken_connection_gets_exactly_one_more_try() -> None:
    calls: list[object] = []

    def flaky(value: int) -> int:
        calls.append(value)
        if len(calls) == 1:
            raise ServiceResponseError("Connection aborted: reset by peer")
        return value * 2

    assert once_more_on_broken_connection(flaky, 21) == 42 and calls == [21, 21]

    def always_broken() -> None:
        calls.append("x")
        raise ServiceRequestError("refused")

    calls.clear()
    with pytest.raises(ServiceRequestError):
        once_more_on_broken_connection(always_broken)
    assert calls == ["x", "x"]


# --- every storage call is bounded in time (issue 9, part 1) -------------------------------------


@pytest.fixture()
def silent_storage() -> Iterator[Storage]:
    """A Storage whose endpoints accept connections and never answer (a frozen emulator)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)  # the kernel completes the handshakes; nobody ever reads or answers
    port = server.getsockname()[1]
    yield Storage(
        StorageSettings(
            connection_string=connection_string(port, port, port),
            account_name=None,
            table_uri=None,
            queue_uri=None,
            client_id=None,
        )
    )
    server.close()


def _bounded(call: Callable[[], object], limit: float) -> tuple[Exception | None, float]:
    """Runs `call` in a thread; returns (what it raised, seconds taken), failing if it runs past `limit`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            call()
        except Exception as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the storage call was still waiting after {limit}s"
    return outcome.get("error"), outcome["seconds"]


def test_a_request_deadline_bounds_every_storage_call_against_a_silent_server(silent_storage: Storage) -> None:
    def record_and_read() -> None:
        with storage_deadline(1.0):
            EventLog(silent_storage).get("faco", "some-event")

    error, _ = _bounded(record_and_read, limit=10)
    assert isinstance(error, StorageUnavailable)

    def enqueue() -> None:
        with storage_deadline(1.0):
            EventQueue(silent_storage).send("faco", "some-event")

    error, _ = _bounded(enqueue, limit=10)
    assert isinstance(error, StorageUnavailable)


def test_without_a_deadline_the_transport_timeouts_still_apply(
    silent_storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "READ_TIMEOUT", 0.3)
    error, _ = _bounded(lambda: EventLog(silent_storage).get("faco", "some-event"), limit=20)
    assert isinstance(error, StorageUnavailable)


def test_the_transport_given_to_the_clients_carries_the_timeouts() -> None:
    transport = storage_module._transport()
    assert (transport.connection_config.timeout, transport.connection_config.read_timeout) == (
        storage_module.CONNECT_TIMEOUT,
        storage_module.READ_TIMEOUT,
    )


def test_a_request_does_not_wait_past_its_bound_behind_a_first_use_that_has_none(
    silent_storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drill seeds 4, 5, 9: a runner restarted while storage was frozen answered its first webhooks
    after more than 12 s. Its queue worker (no deadline) was creating the event table on first use,
    under the one lock of `Storage`, for its read timeout and more; every request waited for
    that lock outside its own bound, then failed at once."""
    monkeypatch.setattr(storage_module, "READ_TIMEOUT", 6.0)  # the worker's creation: 6 s against silence
    worker = threading.Thread(target=lambda: _swallow(lambda: EventLog(silent_storage).get("faco", "e")), daemon=True)
    worker.start()
    time.sleep(0.3)  # the worker is creating the table, holding its lock

    def webhook() -> None:
        with storage_deadline(1.0):
            EventLog(silent_storage).get("faco", "some-event")

    error, _ = _bounded(webhook, limit=3)
    assert isinstance(error, StorageUnavailable)

    def enqueue() -> None:  # the queue's first use does not wait for a table's either
        with storage_deadline(1.0):
            EventQueue(silent_storage).send("faco", "some-event")

    error, _ = _bounded(enqueue, limit=3)
    assert isinstance(error, StorageUnavailable)
    assert worker.is_alive()  # still creating: the requests did not wait for it


def _swallow(call: Callable[[], object]) -> None:
    try:
        call()
    except StorageUnavailable:
        pass
