"""The local runner runs the reconciliation timer: an order whose webhook never came reaches the OMS."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from localdev.runner import parse_schedule
from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

ORDER_ID = 7312001


def test_an_order_whose_webhook_never_arrived_reaches_the_oms_and_the_status_endpoint(
    stack: Stack, timer_runner: Stack, key: str
) -> None:
    for server in stack.servers.values():
        requests.post(server.url + "/_sandbox/reset", timeout=5)
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/orders", json={"order_ids": [ORDER_ID]}, timeout=5
    ).raise_for_status()
    internal_id = f"faco-{ORDER_ID}"

    def in_oms() -> list[dict[str, Any]]:
        orders = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
        return [o["order"] for o in orders if o["order"].get("orderRef") == internal_id]

    oms_orders = eventually(in_oms, timeout=20)
    assert len(oms_orders) == 1 and oms_orders[0]["orderLines"]

    def status() -> dict[str, Any] | None:
        answer = requests.get(
            f"{timer_runner.thor_url}/v1/orders/{internal_id}/status", params={"code": key}, timeout=5
        )
        return answer.json() if answer.status_code == 200 else None

    view = eventually(status, timeout=10)
    assert view["marketplaceOrderId"] == str(ORDER_ID) and view["items"]
    assert len(in_oms()) == 1  # one order in the OMS, however many timer runs saw it


@pytest.mark.parametrize(
    "schedule, after, expected",
    [
        ("0 */15 * * * *", "2024-05-01T10:07:30", "2024-05-01T10:15:00"),
        ("0 */15 * * * *", "2024-05-01T10:15:00", "2024-05-01T10:30:00"),
        ("*/5 * * * * *", "2024-05-01T10:07:31", "2024-05-01T10:07:35"),
        ("0 0 9-17/2 * * mon-fri", "2024-05-03T17:00:00", "2024-05-06T09:00:00"),
        ("30 5 0 1 jan,jul *", "2024-05-01T00:00:00", "2024-07-01T00:05:30"),
        ("0 0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 0 12 * * 0", "2024-05-01T00:00:00", "2024-05-05T12:00:00"),
        ("0 0 12 * * 7", "2024-05-01T00:00:00", "2024-05-05T12:00:00"),
        ("0 0,30 8 * * *", "2024-05-01T08:10:00", "2024-05-01T08:30:00"),
        ("00:05:00", "2024-05-01T08:10:00", "2024-05-01T08:15:00"),
    ],
)
def test_ncrontab_schedules(schedule: str, after: str, expected: str) -> None:
    moment = datetime.fromisoformat(after).replace(tzinfo=timezone.utc)
    assert parse_schedule(schedule).next_after(moment) == datetime.fromisoformat(expected).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("schedule", ["* * * * *", "61 * * * * *", "*/0 * * * * *", "5-1 * * * * *", "x * * * * *"])
def test_bad_ncrontab_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(schedule)
