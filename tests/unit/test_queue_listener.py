"""The local runner's queue listener (localdev/runner.QueueWorker) on an in-memory queue client: it keeps
taking messages while a function hangs (the host's `newBatchThreshold`), after storage stopped under
it, and says where a function that runs long waits (issue 17: drill seed 4 left messages visible and
untaken by every runner for three minutes)."""

from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import ServiceResponseError

from localdev.runner import QueueWorker


class MemoryQueue:
    """What QueueWorker uses of a QueueClient: receive (with a lease), update, delete, send."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[SimpleNamespace] = []
        self.hidden_until: dict[str, float] = {}
        self.deleted: list[str] = []
        self.down = False  # storage stopped: every call fails as a read timeout does
        self.polls_while_down = 0
        self.count = 0

    def put(self, content: str) -> None:
        with self.lock:
            self.count += 1
            self.messages.append(
                SimpleNamespace(
                    id=f"m{self.count}",
                    content=content,
                    dequeue_count=0,
                    inserted_on=None,
                    expires_on=None,
                    pop_receipt="r0",
                )
            )

    def _fail_if_down(self) -> None:
        if self.down:
            raise ServiceResponseError("Read timed out. (read timeout=4.0)")

    def receive_messages(self, max_messages: int, visibility_timeout: int) -> list[SimpleNamespace]:
        with self.lock:
            if self.down:
                self.polls_while_down += 1
            self._fail_if_down()
            now = time.monotonic()
            taken = [m for m in self.messages if self.hidden_until.get(m.id, 0) <= now][:max_messages]
            for message in taken:
                message.dequeue_count += 1
                self.hidden_until[message.id] = now + visibility_timeout
            return taken

    def update_message(self, message: SimpleNamespace, visibility_timeout: int) -> SimpleNamespace:
        with self.lock:
            self._fail_if_down()
            self.hidden_until[message.id] = time.monotonic() + visibility_timeout
            return SimpleNamespace(pop_receipt="r1")

    def delete_message(self, message: SimpleNamespace) -> None:
        with self.lock:
            self._fail_if_down()
            self.messages = [m for m in self.messages if m.id != message.id]
            self.deleted.append(message.content)

    def send_message(self, content: str) -> None:
        self.put(content)


class Functions:
    """The queue-triggered function: records each body; the body `hang` waits until released."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, message: Any) -> None:
        body = message.get_body().decode()
        if body == "hang":
            self.started.set()
            self.release.wait(30)
        with self.lock:
            self.ran.append(body)


def until(check: Any, timeout: float = 15.0) -> bool:
    """Waits for `check()` (a liveness bound, not a speed figure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture()
def listener() -> Any:
    queue, functions = MemoryQueue(), Functions()
    client: Any = queue  # what QueueWorker uses of a QueueClient, in memory
    poison: Any = MemoryQueue()
    worker = QueueWorker(functions, client, poison, {"batchSize": 4, "newBatchThreshold": 2}, lease=30)
    worker.max_poll = 0.05
    thread = threading.Thread(target=worker.run, daemon=True)
    yield queue, functions, worker, thread
    functions.release.set()
    worker.stop()
    thread.join(5)


def test_a_function_that_hangs_does_not_stop_the_listener_taking_other_messages(listener: Any) -> None:
    """Before: the listener waited for its whole batch, so one hung function stopped the instance."""
    queue, functions, worker, thread = listener
    queue.put("hang")
    thread.start()
    assert functions.started.wait(10)
    for n in range(10):
        queue.put(f"after-{n}")
    assert until(lambda: len(functions.ran) == 10), functions.ran
    assert worker.running == 1  # the hung one, still holding only its own message
    functions.release.set()
    assert until(lambda: len(queue.deleted) == 11)


def test_the_next_batch_waits_until_no_more_than_the_threshold_still_run(listener: Any) -> None:
    queue, functions, worker, thread = listener
    release = {f"m{n}": threading.Event() for n in range(12)}
    started: list[str] = []

    def slow(message: Any) -> None:
        name = message.get_body().decode()
        started.append(name)
        release[name].wait(30)

    worker.user_function = slow
    for name in release:
        queue.put(name)
    thread.start()
    assert until(lambda: len(started) == 4)
    time.sleep(0.3)  # a listener that took more would have started them by now
    assert len(started) == 4 and worker.running == 4  # one batch: 4 running, more than the threshold (2)
    release["m0"].set()
    time.sleep(0.3)
    assert len(started) == 4  # 3 still running: more than the threshold
    release["m1"].set()
    assert until(lambda: len(started) == 8)  # down to 2 running: the next batch (4) is taken
    time.sleep(0.3)
    assert len(started) == 8 and worker.running == 6  # at most batchSize + newBatchThreshold at once
    for event in release.values():
        event.set()
    assert until(lambda: len(queue.deleted) == 12)


def test_the_listener_takes_messages_again_after_storage_stopped_under_it(listener: Any) -> None:
    queue, functions, worker, thread = listener
    queue.put("before")
    thread.start()
    assert until(lambda: queue.deleted == ["before"])
    queue.down = True
    assert until(lambda: queue.polls_while_down >= 3)  # polls fail and go on
    queue.down = False
    queue.put("after")
    assert until(lambda: queue.deleted == ["before", "after"])


def test_a_function_still_running_after_a_minute_is_logged_with_where_it_waits(
    listener: Any, caplog: pytest.LogCaptureFixture
) -> None:
    queue, functions, worker, thread = listener
    worker.SLOW_SECONDS = 0.2
    queue.put("hang")
    with caplog.at_level(logging.WARNING, logger="thor.runner"):
        thread.start()
        assert functions.started.wait(10)
        assert until(lambda: any("still running" in r.getMessage() for r in caplog.records))
    slow = next(r.getMessage() for r in caplog.records if "still running" in r.getMessage())
    assert "queue message m1" in slow and "in __call__" in slow and "self.release.wait(30)" in slow
