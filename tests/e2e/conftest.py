"""Fixtures of the end-to-end tests that need a runner of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.stack import Stack


@pytest.fixture(scope="module")
def timer_runner(stack: Stack) -> Iterator[Stack]:
    """A second runner on the session's Azurite and sandboxes, its timers firing every second: one per
    module (its tests use SKUs and orders of their own), stopped before the next module, so it never
    takes the queue messages or runs the timers of another module's tests."""
    runner = Stack(values=dict(stack.values), thor_port=0)
    runner.start_runner(["--timer-interval", "1"])
    yield runner
    runner.stop_runner()
