"""Shared fixtures: one Azurite (free ports, in memory), the sandboxes and, for e2e, Thor's runner."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests

from localdev.stack import Stack
from shared.bootstrap import Context, get_context, reset_context
from tests.checks import present

T = TypeVar("T")

FAST_RETRIES = "1,1,1"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Azurite + the three sandboxes, with Thor's settings pointing at them (no runner)."""
    s = Stack()
    s.values["THOR_RETRY_DELAYS"] = FAST_RETRIES
    # A ZORT event matching no order is unmatched at once (its window is tested on fakes, test_zort_flows.py)
    s.values["THOR_ZORT_MATCH_WINDOW"] = "0"
    s.values["THOR_ACTIVITY_FLUSH_SECONDS"] = "0"  # the console's counts written at once: tests read them next
    s.start_storage().start_sandboxes()
    saved = dict(os.environ)
    os.environ.update(s.values)
    reset_context()
    yield s
    os.environ.clear()
    os.environ.update(saved)
    reset_context()
    s.stop()


@pytest.fixture()
def context(stack: Stack) -> Context:
    """Thor's context on the test stack, with the sandboxes reset."""
    for server in stack.servers.values():
        requests.post(server.url + "/_sandbox/reset", timeout=5)
    reset_context()
    return get_context()


@pytest.fixture(scope="session")
def thor(stack: Stack) -> Iterator[Stack]:
    """Thor's local runner as its own process, serving real HTTP with the queue trigger.

    It has its own Azurite, so its queue worker never takes the messages of the in-process
    integration tests, and no timers, so reconciliation runs only where a test asks for it."""
    runner = Stack(values=dict(stack.values), servers=stack.servers)
    runner.start_storage().start_runner(["--no-timers", "--max-poll", "0.2"])
    yield runner
    runner.stop_runner()
    present(runner.azurite).stop()


@pytest.fixture()
def key(stack: Stack) -> str:
    return stack.values["LOCAL_FUNCTION_KEY"]


@functools.cache
def app_functions() -> tuple[Any, ...]:
    """function_app's functions, built once per test process (a second `get_functions()` on the same
    app raises: it finds every name twice)."""
    import function_app

    return tuple(function_app.app.get_functions())


def eventually(check: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Polls `check` until it returns something truthy; returns it, or fails with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
