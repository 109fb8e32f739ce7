"""Alerts on fakes: one incident gives one alert, a reminder and a resolution; quiet hours hold in
the tenant's own zone; a channel that refuses keeps the message held (shared/domain/alerts.py,
shared/services/alerts.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from typing import Any

import pytest

from shared.adapters.alerts import AlertError
from shared.domain.alerts import Message, Observation, QuietHours, parse_quiet_hours, step
from shared.domain.at_risk import RiskKind
from shared.domain.order import Order, OrderItem
from shared.domain.times import tenant_zone
from shared.services.alerts import run_alerts
from shared.settings import AlertSettings
from tests.checks import present
from tests.fakes import FakeAlertChannel, FakeAlerts, FakeContext, fake_context

NOW = datetime(2026, 1, 15, 15, 0, tzinfo=timezone.utc)  # 12:00 in Santiago (summer, UTC-3)


def unsynced(context: FakeContext, tenant: str, number: int, created: datetime) -> None:
    context.orders.add(
        Order(
            tenant=tenant,
            marketplace_order_id=str(number),
            internal_order_id=f"{tenant}-{number}",
            created_at=created,
            oms_synced=False,
            items=[OrderItem(item_id=str(number), sku="S", status="ready_to_ship")],
        )
    )


def synced_all(context: FakeContext, tenant: str) -> None:
    for (owner, order_id), _ in list(context.orders.orders.items()):
        if owner == tenant:
            order, etag = present(context.orders.get(owner, order_id))
            order.oms_synced = True
            context.orders.save(order, etag)


def with_alerts(context: FakeContext, **settings: Any) -> None:
    context.settings = replace(context.settings, alerts=AlertSettings(**settings))


def kinds(channel: FakeAlertChannel) -> list[tuple[str, RiskKind, Message]]:
    return [(n.tenant, n.rule, n.kind) for n in channel.notices]


def test_one_incident_gives_one_alert_then_a_reminder_then_a_resolution() -> None:
    context, alerts = fake_context("facl", now=NOW), FakeAlerts()
    with_alerts(context, reminder_hours=4, console_base_url="https://thor.example")
    for number in range(1, 6):  # five orders, one incident
        unsynced(context, "facl", number, NOW - timedelta(hours=1, minutes=number))

    run_alerts(context, alerts)
    opened = alerts.channel.notices
    assert kinds(alerts.channel) == [("facl", RiskKind.NOT_IN_OMS, Message.OPENED)]
    assert opened[0].count_text == "5"
    assert opened[0].link == "https://thor.example/console/tenants/facl/at-risk"
    assert "OMS_TOKEN_FACL" in opened[0].what_to_do
    assert "not in the OMS" in opened[0].why
    assert opened[0].sample[0] == "facl-5"  # oldest first

    for _ in range(3):  # still open, before the reminder: nothing more
        context.clock.advance(60 * 60)
        run_alerts(context, alerts)
    assert len(alerts.channel.notices) == 1

    context.clock.advance(60 * 60)  # 4 h after the alert
    unsynced(context, "facl", 6, NOW)
    run_alerts(context, alerts)
    assert kinds(alerts.channel)[-1] == ("facl", RiskKind.NOT_IN_OMS, Message.REMINDER)
    assert alerts.channel.notices[-1].count_text == "6"

    synced_all(context, "facl")
    context.clock.advance(5 * 60)
    run_alerts(context, alerts)
    assert kinds(alerts.channel)[-1] == ("facl", RiskKind.NOT_IN_OMS, Message.RESOLVED)
    run_alerts(context, alerts)
    assert len(alerts.channel.notices) == 3


def test_a_run_with_nothing_at_risk_and_no_incident_writes_nothing() -> None:
    context, alerts = fake_context("facl", now=NOW), FakeAlerts()
    run = run_alerts(context, alerts)
    assert run.writes == 0 and alerts.incidents.queries == 1 and alerts.channel.notices == []


def test_an_unchanged_open_incident_is_not_written_again() -> None:
    context, alerts = fake_context("facl", now=NOW), FakeAlerts()
    unsynced(context, "facl", 1, NOW - timedelta(hours=1))
    run_alerts(context, alerts)
    writes = alerts.incidents.writes
    context.clock.advance(300)
    assert run_alerts(context, alerts).writes == 0
    assert alerts.incidents.writes == writes


@pytest.mark.parametrize(
    ("tenant", "utc_hour", "quiet"),
    [
        ("facl", 2, True),  # 23:00 in Santiago (UTC-3, summer): quiet
        ("facl", 10, False),  # 07:00 in Santiago: quiet hours over
        ("somx", 2, False),  # 20:00 in Mexico City (UTC-6): not yet quiet
        ("somx", 5, True),  # 23:00 in Mexico City
    ],
)
def test_quiet_hours_are_read_in_the_tenants_own_zone(tenant: str, utc_hour: int, quiet: bool) -> None:
    hours = parse_quiet_hours("22-07")
    assert hours is not None
    moment = datetime(2026, 1, 15, utc_hour, 0, tzinfo=timezone.utc)
    assert hours.quiet_at(moment, tenant_zone(tenant)) is quiet


def test_a_message_due_in_quiet_hours_is_held_and_sent_when_they_end() -> None:
    night = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)  # 23:00 in Santiago
    context, alerts = fake_context("facl", now=night), FakeAlerts()
    with_alerts(context, tenant_quiet_hours={"facl": "22-07"})
    unsynced(context, "facl", 1, night - timedelta(hours=1))

    run = run_alerts(context, alerts)
    assert alerts.channel.notices == [] and run.held == [("facl", "not-in-oms", "opened")]
    context.clock.advance(7 * 3600 + 55 * 60)  # 06:55 local: still quiet
    run_alerts(context, alerts)
    assert alerts.channel.notices == []
    context.clock.advance(5 * 60)  # 07:00 local
    unsynced(context, "facl", 2, night)
    run_alerts(context, alerts)
    assert kinds(alerts.channel) == [("facl", RiskKind.NOT_IN_OMS, Message.OPENED)]
    assert alerts.channel.notices[0].count_text == "2"  # the counts of the moment it is sent


def test_quiet_hours_of_another_tenant_do_not_hold_this_ones_alert() -> None:
    night = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)
    context, alerts = fake_context("facl", "somx", now=night), FakeAlerts()
    with_alerts(context, tenant_quiet_hours={"facl": "22-07"})
    unsynced(context, "facl", 1, night - timedelta(hours=1))
    unsynced(context, "somx", 1, night - timedelta(hours=1))
    run_alerts(context, alerts)
    assert kinds(alerts.channel) == [("somx", RiskKind.NOT_IN_OMS, Message.OPENED)]


def test_an_incident_that_opens_and_clears_inside_quiet_hours_is_never_announced() -> None:
    night = datetime(2026, 1, 15, 2, 0, tzinfo=timezone.utc)
    context, alerts = fake_context("facl", now=night), FakeAlerts()
    with_alerts(context, quiet_hours="22-07")
    unsynced(context, "facl", 1, night - timedelta(hours=1))
    run_alerts(context, alerts)
    synced_all(context, "facl")
    context.clock.advance(3600)
    run_alerts(context, alerts)
    context.clock.advance(8 * 3600)
    run_alerts(context, alerts)
    assert alerts.channel.notices == []


def test_a_resolution_held_by_quiet_hours_is_sent_when_they_end() -> None:
    evening = datetime(2026, 1, 15, 0, 0, tzinfo=timezone.utc)  # 21:00 in Santiago
    context, alerts = fake_context("facl", now=evening), FakeAlerts()
    with_alerts(context, quiet_hours="22-07")
    unsynced(context, "facl", 1, evening - timedelta(hours=1))
    run_alerts(context, alerts)  # told at 21:00
    synced_all(context, "facl")
    context.clock.advance(2 * 3600)  # 23:00: resolved, held
    run_alerts(context, alerts)
    assert [n.kind for n in alerts.channel.notices] == [Message.OPENED]
    context.clock.advance(8 * 3600)  # 07:00
    run_alerts(context, alerts)
    assert [n.kind for n in alerts.channel.notices] == [Message.OPENED, Message.RESOLVED]


def test_a_message_no_channel_takes_is_held_and_sent_at_the_next_run() -> None:
    context, alerts = fake_context("facl", now=NOW), FakeAlerts()
    unsynced(context, "facl", 1, NOW - timedelta(hours=1))
    alerts.channel.fail_next(AlertError("HTTP_500", "down", status=500, retryable=True))
    run = run_alerts(context, alerts)
    assert alerts.channel.notices == [] and run.failures
    context.clock.advance(300)
    run_alerts(context, alerts)
    assert kinds(alerts.channel) == [("facl", RiskKind.NOT_IN_OMS, Message.OPENED)]


def test_one_channel_failing_does_not_stop_the_other() -> None:
    context = fake_context("facl", now=NOW)
    slack, teams = FakeAlertChannel("slack"), FakeAlertChannel("teams")
    alerts = FakeAlerts(per_tenant={"facl": [teams, slack]})
    teams.fail_next(AlertError("HTTP_400", "bad", status=400))
    unsynced(context, "facl", 1, NOW - timedelta(hours=1))
    run_alerts(context, alerts)
    run_alerts(context, alerts)
    assert len(slack.notices) == 1 and teams.notices == []


def test_quiet_hours_parse_and_cross_midnight() -> None:
    assert parse_quiet_hours("") is None
    hours = parse_quiet_hours("22:30-06:45")
    assert hours == QuietHours(time(22, 30), time(6, 45))
    assert hours.contains(time(23, 0)) and hours.contains(time(6, 44)) and not hours.contains(time(6, 45))
    assert not hours.contains(time(22, 29))
    with pytest.raises(ValueError):
        parse_quiet_hours("25-07")
    with pytest.raises(ValueError):
        parse_quiet_hours("late")


def test_step_reopens_an_incident_whose_resolution_was_held() -> None:
    seen = Observation("facl", RiskKind.EVENT_FAILED, 1, "failed")
    first = step(None, seen, NOW, timedelta(hours=4), quiet=False)
    resolved = step(first.incident, None, NOW + timedelta(minutes=5), timedelta(hours=4), quiet=True)
    assert resolved.incident and resolved.incident.held is Message.RESOLVED
    again = step(resolved.incident, seen, NOW + timedelta(minutes=10), timedelta(hours=4), quiet=True)
    assert again.incident and again.incident.open and again.incident.held is None and again.send is None
    assert again.incident.opened_at == NOW  # the same incident, nobody was told it cleared
