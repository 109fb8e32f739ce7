"""The retry policy (shared.domain.retries) is the one place the retry numbers are written: the
worst case per event computed from it is the one docs/architecture.md shows, and every retrying part
reads it (or, where it cannot import it, agrees with it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.adapters.http.config import HttpConfig
from shared.adapters.storage import CLIENT_OPTIONS
from shared.domain.retries import RETRY_POLICY, CallRetries, EventRetries, RetryPolicy, StorageRetries
from shared.services.claims import CLAIM_SECONDS
from shared.services.order_changes import MAX_CONFLICTS
from shared.services.processing import MISSING_DELAYS
from shared.settings import DEFAULT_RETRY_DELAYS

ROOT = Path(__file__).resolve().parents[2]


def documented_budget() -> dict[str, float]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text.split("<!-- retry-budget -->")[1].split("<!-- /retry-budget -->")[0]
    rows = re.findall(r"^\| ([a-z][^|]*?) \| ([0-9.]+) \|$", block, re.M)
    return {name: float(value) for name, value in rows}


def test_the_documented_worst_case_is_the_policys() -> None:
    budget = RETRY_POLICY.budget()
    assert documented_budget() == {
        "attempts per event": budget.event_attempts,
        "sends of one external call per event": budget.sends_per_call,
        "seconds of one external call": budget.call_seconds,
        "seconds of one storage request": budget.storage_request_seconds,
        "seconds from an event's first attempt to failed": budget.event_seconds,
    }


def test_the_worst_case_is_computed_from_each_level() -> None:
    """Small numbers, counted by hand: the arithmetic, not a copy of the constants."""
    policy = RetryPolicy(
        storage=StorageRetries(retries=1, backoff=0.5, connect_timeout=1, read_timeout=2),
        call=CallRetries(attempts=3, max_backoff=10, timeout=(1, 4)),
        event=EventRetries(delays=(10, 20), attempt_seconds=60),
    )
    budget = policy.budget()
    assert budget.event_attempts == 3
    assert budget.sends_per_call == 9  # 3 tries × 3 attempts
    assert budget.call_seconds == 3 * 5 + 2 * 10
    assert budget.storage_request_seconds == 2 * 3 + 0.5
    assert budget.event_seconds == 10 + 20 + 3 * 60


def test_every_retrying_part_reads_the_policy() -> None:
    config = HttpConfig(base_url="http://x")
    assert (config.max_attempts, config.backoff_base, config.max_backoff, config.timeout) == (
        RETRY_POLICY.call.attempts,
        RETRY_POLICY.call.backoff_base,
        RETRY_POLICY.call.max_backoff,
        RETRY_POLICY.call.timeout,
    )
    assert CLIENT_OPTIONS["retry_total"] == RETRY_POLICY.storage.retries
    assert CLIENT_OPTIONS["retry_backoff_factor"] == RETRY_POLICY.storage.backoff
    assert RETRY_POLICY.event.delays == DEFAULT_RETRY_DELAYS
    assert RETRY_POLICY.event.missing_delays == MISSING_DELAYS
    assert RETRY_POLICY.order_write_conflicts == MAX_CONFLICTS


def test_what_cannot_import_the_policy_agrees_with_it() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    hours, minutes, seconds = (int(part) for part in host["functionTimeout"].split(":"))
    assert hours * 3600 + minutes * 60 + seconds == RETRY_POLICY.event.attempt_seconds
    assert host["extensions"]["queues"]["maxDequeueCount"] == RETRY_POLICY.event.crash_deliveries
    assert RETRY_POLICY.event.attempt_seconds == CLAIM_SECONDS
