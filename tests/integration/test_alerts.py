"""Alerts and reports against Azurite and the alert sandbox: the real adapters' payloads are taken by
a sandbox that checks them against each channel's schema (and refuses a broken one), incidents
round-trip through ThorIncidents, reports through Blob Storage with a SAS link that reads without
any other credential and stops working when it expires."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from localdev.sandboxes.alerts import LOCAL_ACS_KEY
from localdev.stack import Stack
from shared.adapters.alerts import AcsEmailChannel, AcsEmailConfig, AlertError, SlackChannel, TeamsChannel
from shared.adapters.incident_repo import IncidentRepository
from shared.adapters.report_store import ReportStore
from shared.bootstrap import Context
from shared.domain.alerts import Incident, Message, Notice, ReportMessage
from shared.domain.at_risk import RiskKind
from shared.domain.order import Order, OrderItem
from shared.ports import AlertChannelPort
from shared.services.alerts import run_alerts
from tests.unit.test_alert_payloads import alert


def received(stack: Stack) -> list[dict[str, Any]]:
    return requests.get(stack.servers["alerts"].url + "/_sandbox/received", timeout=5).json()


def test_each_channel_sends_what_its_sandbox_accepts_against_the_schema(stack: Stack, context: Context) -> None:
    url = stack.servers["alerts"].url
    config = AcsEmailConfig(base_url=f"{url}/acs", access_key=LOCAL_ACS_KEY, sender="DoNotReply@thor.local")
    channels: list[AlertChannelPort] = [
        TeamsChannel(f"{url}/teams/ops"),
        SlackChannel(f"{url}/slack/ops"),
        AcsEmailChannel(config, ("ops@thor.local",)),
    ]
    notices: list[Notice] = [
        alert(Message.OPENED),
        alert(Message.RESOLVED),
        ReportMessage("facl", "F", "t", "s", "https://x", "z"),
    ]
    for channel in channels:
        for notice in notices:
            channel.send(notice)
    got = received(stack)
    assert [(r["channel"], r["name"]) for r in got] == [("teams", "ops")] * 3 + [("slack", "ops")] * 3 + [
        ("email", "ops@thor.local")
    ] * 3
    assert got[0]["body"]["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_the_sandbox_refuses_a_card_outside_the_schema_and_a_wrong_signature(stack: Stack, context: Context) -> None:
    url = stack.servers["alerts"].url
    answer = requests.post(
        f"{url}/teams/ops",
        json={
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock"}]},
                }
            ],
        },
        timeout=5,
    )
    assert answer.status_code == 400 and "text" in answer.text
    wrong = AcsEmailConfig(base_url=f"{url}/acs", access_key="d3Jvbmcta2V5", sender="DoNotReply@thor.local")
    with pytest.raises(AlertError) as refused:
        AcsEmailChannel(wrong, ("ops@thor.local",)).send(alert(Message.OPENED))
    assert refused.value.status == 401
    assert received(stack) == []


def test_incidents_round_trip_and_only_active_ones_are_read(context: Context) -> None:
    repo = IncidentRepository(context.storage)
    tenant = f"t{uuid.uuid4().hex[:8]}"
    now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    opened = Incident(tenant, RiskKind.EVENT_FAILED, now, count_text="3", why="failed", sample=("e1", "e2"))
    held = Incident(
        tenant,
        RiskKind.NOT_IN_OMS,
        now,
        status="resolved",
        resolved_at=now,
        last_sent_at=now,
        last_sent=Message.OPENED,
        held=Message.RESOLVED,
    )
    done = Incident(tenant, RiskKind.SHIP_LATE, now, status="resolved", resolved_at=now)
    for incident in (opened, held, done):
        repo.save(incident)
    mine = {i.rule: i for i in repo.active() if i.tenant == tenant}
    assert set(mine) == {RiskKind.EVENT_FAILED, RiskKind.NOT_IN_OMS}
    assert mine[RiskKind.EVENT_FAILED] == opened and mine[RiskKind.NOT_IN_OMS] == held


def test_a_report_link_reads_the_csv_without_credentials_until_it_expires(context: Context) -> None:
    store = ReportStore(context.settings.storage)
    tenant = f"t{uuid.uuid4().hex[:8]}"
    name = store.put(tenant, "2026-12-03", "orders", "internal_order_id\r\nfacl-1\r\n")
    assert store.get(tenant, "2026-12-03", "orders") == b"internal_order_id\r\nfacl-1\r\n"
    assert store.get(tenant, "2026-12-02", "orders") is None
    now = datetime.now(timezone.utc)
    link = store.link(name, now, 1)
    answer = requests.get(link, timeout=5)
    assert answer.status_code == 200 and answer.text.endswith("facl-1\r\n")
    assert "sp=r" in link and "se=" in link
    expired = store.link(name, now - timedelta(hours=3), 1)
    assert requests.get(expired, timeout=5).status_code == 403
    assert requests.get(link.split("?")[0], timeout=5).status_code in (401, 403, 404)  # no SAS, no read


def test_the_alert_run_sends_one_incident_through_every_configured_channel(stack: Stack, context: Context) -> None:
    now = datetime.now(timezone.utc)
    number = uuid.uuid4().int % 10**9
    context.orders.add(
        Order(
            tenant="sope",
            marketplace_order_id=str(number),
            internal_order_id=f"sope-{number}",
            created_at=now - timedelta(hours=1),
            items=[OrderItem(item_id="1", sku="S", status="ready_to_ship")],
        )
    )
    run_alerts(context, context.alert_ports)
    mine = [r for r in received(stack) if "[sope]" in str(r["body"]) and "not in the OMS" in str(r["body"])]
    assert sorted(r["channel"] for r in mine) == ["email", "slack", "teams"]
    run_alerts(context, context.alert_ports)  # still open, no reminder yet: nothing more
    assert len([r for r in received(stack) if "[sope]" in str(r["body"]) and "not in the OMS" in str(r["body"])]) == 3
