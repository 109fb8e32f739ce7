"""Through the local runner: a ZORT event that matches no order is processed (unmatched), the alert
timer opens an incident and its message reaches Teams, Slack and e-mail (the alert sandbox checks
each against its schema), once; the reports timer writes yesterday's reports and their link reads
the CSV from Blob Storage; the console serves a report to a signed-in user."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e


def received(stack: Stack) -> list[dict[str, Any]]:
    return requests.get(stack.servers["alerts"].url + "/_sandbox/received", timeout=5).json()


def test_an_unmatched_event_becomes_one_alert_on_every_channel_and_reports_are_linked(
    stack: Stack, timer_runner: Stack, key: str
) -> None:
    requests.post(stack.servers["alerts"].url + "/_sandbox/reset", timeout=5)
    number = f"faco-9{uuid.uuid4().int % 10**8}"
    answer = requests.post(
        f"{timer_runner.thor_url}/webhooks/faco/zort",
        params={"method": "UPDATEORDERTRACKING", "number": number, "code": key},
        headers={"Authorization": "Basic local-zort-key1-faco"},
        data={"payload": '[{"trackingno":"THP1","trackingurl":"","shippingdate":null}]'},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text

    def unmatched_alerts() -> list[dict[str, Any]] | None:
        found = [r for r in received(stack) if "unmatched ZORT events" in str(r["body"]) and "[faco]" in str(r["body"])]
        return found if len({r["channel"] for r in found}) == 3 else None

    found = eventually(unmatched_alerts, timeout=30)
    assert sorted(r["channel"] for r in found) == ["email", "slack", "teams"]
    time.sleep(3)  # three more timer runs: the incident is still open, no second alert
    assert (
        len([r for r in received(stack) if "unmatched ZORT events" in str(r["body"]) and "[faco]" in str(r["body"])])
        == 3
    )

    def report_link() -> str | None:
        for r in received(stack):
            if r["channel"] == "slack" and "Report [faco]: daily order summary" in r["body"]["text"]:
                return r["body"]["blocks"][-1]["elements"][0]["url"]
        return None

    link = eventually(report_link, timeout=30)
    csv_answer = requests.get(link, timeout=10)
    assert csv_answer.status_code == 200 and csv_answer.text.startswith("internal_order_id,")

    page = requests.get(
        f"{timer_runner.thor_url}/console/tenants/faco/reports/today/pending.csv", timeout=10, allow_redirects=False
    )
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/csv")
    assert page.text.startswith("internal_order_id,marketplace_order_id,created_at_local")
    bad = requests.get(f"{timer_runner.thor_url}/console/tenants/faco/reports/2026-13-01/orders.csv", timeout=10)
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("application/problem+json")
