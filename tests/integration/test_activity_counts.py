"""The console's activity counts against Azurite: the buffered writer (shared/adapters/activity_counts.py)
adds in memory and writes one addition per tenant and hour after its interval, from a timer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from shared.adapters.activity_counts import ActivityCounts, BufferedActivityCounts
from shared.bootstrap import Context
from tests.conftest import eventually

HOUR = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
NEXT_HOUR = datetime(2026, 11, 23, 11, tzinfo=timezone.utc)


def tenant_of_this_test() -> str:
    return f"t{uuid.uuid4().hex[:10]}"  # a partition of its own: other tests' counts never mix in


def test_buffered_counts_are_written_once_after_the_interval_and_summed(context: Context) -> None:
    tenant, counts = tenant_of_this_test(), ActivityCounts(context.storage)
    written: list[str] = []
    original = counts.add

    def add(tenant: str, hour: datetime, counts: Mapping[str, int], shard: int = 0) -> None:
        written.append(tenant)
        original(tenant, hour, counts, shard)

    counts.add = add  # type: ignore[method-assign]  # patched for this test only
    buffered = BufferedActivityCounts(counts, every=0.5)
    for _ in range(3):
        buffered.add(tenant, HOUR.replace(minute=20), {"accepted": 1, "completed": 1})
    buffered.add(tenant, HOUR.replace(minute=40), {"failed": 1})
    assert counts.hours(tenant, HOUR, NEXT_HOUR) == {}  # nothing written yet: kept in memory
    found = eventually(lambda: counts.hours(tenant, HOUR, NEXT_HOUR), timeout=10)
    assert found[HOUR]["accepted"] == 3 and found[HOUR]["completed"] == 3 and found[HOUR]["failed"] == 1
    assert written == [tenant]  # one addition for the hour, not one per event


def test_flush_writes_at_once_and_an_interval_of_zero_writes_each_addition(context: Context) -> None:
    tenant, counts = tenant_of_this_test(), ActivityCounts(context.storage)
    buffered = BufferedActivityCounts(counts, every=60)
    buffered.add(tenant, HOUR, {"orders_created": 2})
    buffered.flush()  # at exit, or a caller that cannot wait
    assert counts.hours(tenant, HOUR, NEXT_HOUR)[HOUR]["orders_created"] == 2
    immediate = BufferedActivityCounts(counts, every=0)
    immediate.add(tenant, HOUR, {"orders_created": 1})
    assert counts.hours(tenant, HOUR, NEXT_HOUR)[HOUR]["orders_created"] == 3


def test_a_failed_write_is_logged_and_never_raised(context: Context, caplog: pytest.LogCaptureFixture) -> None:
    tenant = tenant_of_this_test()

    class Down(ActivityCounts):
        def add(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("storage unreachable")

    buffered = BufferedActivityCounts(Down(context.storage), every=60)
    buffered.add(tenant, HOUR, {"accepted": 1})
    buffered.flush()
    assert f"activity counts of {tenant} not added" in caplog.text
