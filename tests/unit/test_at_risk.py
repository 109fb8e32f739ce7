"""The console's at-risk rules at their edges (shared/domain/at_risk.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.domain.at_risk import Risk, RiskKind, RiskRules, event_risk, missing_settings, order_risks
from shared.domain.events import EventKind, EventStatus, InboundEvent
from shared.domain.order import Order, OrderItem
from shared.domain.times import local_to_utc, tenant_zone

NOW = datetime(2026, 1, 15, 15, 0, tzinfo=timezone.utc)
RULES = RiskRules(not_in_oms_after=timedelta(minutes=30), ship_warning=timedelta(hours=4))


def order(
    tenant: str = "faco",
    created: datetime | None = NOW - timedelta(minutes=5),
    synced: bool = False,
    statuses: tuple[str, ...] = ("pending",),
    promised: datetime | None = None,
) -> Order:
    return Order(
        tenant=tenant,
        marketplace_order_id="1",
        internal_order_id=f"{tenant}-1",
        created_at=created,
        promised_shipping_time=promised,
        oms_synced=synced,
        items=[OrderItem(item_id=str(i), sku="S", status=s) for i, s in enumerate(statuses)],
    )


def kinds(risks: list[Risk]) -> list[RiskKind]:
    return [r.kind for r in risks]


def test_not_in_the_oms_exactly_n_minutes_after_creation_is_at_risk_a_second_before_is_not() -> None:
    exactly = order(created=NOW - timedelta(minutes=30))
    before = order(created=NOW - timedelta(minutes=30) + timedelta(seconds=1))
    assert kinds(order_risks(exactly, NOW, RULES)) == [RiskKind.NOT_IN_OMS]
    assert "30 min after it was created" in order_risks(exactly, NOW, RULES)[0].why
    assert order_risks(before, NOW, RULES) == []
    assert order_risks(order(created=NOW - timedelta(hours=2), synced=True), NOW, RULES) == []


def test_an_order_without_a_creation_time_counts_from_its_first_timeline_entry() -> None:
    o = order(created=None)
    o.timeline = []
    o.note("order created")
    o.timeline[0].at = NOW - timedelta(minutes=31)
    assert kinds(order_risks(o, NOW, RULES)) == [RiskKind.NOT_IN_OMS]


def test_promised_shipping_time_exactly_at_the_warning_is_soon_and_exactly_now_is_late() -> None:
    soon = order(synced=True, promised=NOW + timedelta(hours=4))
    later = order(synced=True, promised=NOW + timedelta(hours=4, seconds=1))
    late = order(synced=True, promised=NOW)
    assert kinds(order_risks(soon, NOW, RULES)) == [RiskKind.SHIP_SOON]
    assert order_risks(later, NOW, RULES) == []
    assert kinds(order_risks(late, NOW, RULES)) == [RiskKind.SHIP_LATE]


def test_items_ready_shipped_or_canceled_are_not_at_risk_whatever_the_promised_time() -> None:
    past = NOW - timedelta(days=1)
    assert order_risks(order(synced=True, promised=past, statuses=("ready_to_ship", "canceled")), NOW, RULES) == []
    assert order_risks(order(synced=True, promised=past, statuses=("shipped",)), NOW, RULES) == []
    mixed = order(synced=True, promised=past, statuses=("shipped", "pending", "canceled"))
    assert "1 item(s) not ready to ship" in order_risks(mixed, NOW, RULES)[0].why


def test_a_promised_time_in_another_tenants_zone_is_compared_in_utc_and_shown_in_that_zone() -> None:
    """The marketplace writes 11:00 local for both storefronts: Bogota (UTC-5) is 16:00Z, Santiago in
    January (summer, UTC-3) is 14:00Z. At 15:00Z Santiago's is late and Bogota's due in an hour."""
    wall = datetime(2026, 1, 15, 11, 0)
    bogota = order("faco", synced=True, promised=local_to_utc(wall, tenant_zone("faco")))
    santiago = order("facl", synced=True, promised=local_to_utc(wall, tenant_zone("facl")))
    [b] = order_risks(bogota, NOW, RULES)
    [s] = order_risks(santiago, NOW, RULES)
    assert (b.kind, s.kind) == (RiskKind.SHIP_SOON, RiskKind.SHIP_LATE)
    assert "2026-01-15 11:00 America/Bogota (UTC-05:00)" in b.why and "in 1 h" in b.why
    assert "2026-01-15 11:00 America/Santiago (UTC-03:00)" in s.why and "1 h ago" in s.why
    assert b.since == datetime(2026, 1, 15, 16, 0, tzinfo=timezone.utc)


def test_santiago_in_winter_is_utc_minus_4() -> None:
    wall = datetime(2026, 7, 15, 11, 0)
    promised = local_to_utc(wall, tenant_zone("facl"))
    [risk] = order_risks(order("facl", synced=True, promised=promised), promised, RULES)
    assert "America/Santiago (UTC-04:00)" in risk.why and risk.kind is RiskKind.SHIP_LATE


def event(
    status: EventStatus,
    received: datetime = NOW - timedelta(minutes=1),
    reason: str | None = None,
    outcome: str | None = None,
    attempts: int = 1,
) -> InboundEvent:
    return InboundEvent(
        tenant="somx",
        event_id="e1",
        kind=EventKind.ORDER_CREATED,
        body={},
        received_at=received,
        status=status,
        reason=reason,
        outcome=outcome,
        attempts=attempts,
        internal_order_id="somx-1",
    )


def test_failed_blocked_and_unmatched_events_say_why_and_blocked_names_the_missing_settings() -> None:
    failed = event_risk(event(EventStatus.FAILED, reason="OmsError: 403", attempts=6), NOW)
    assert failed and failed.kind is RiskKind.EVENT_FAILED and failed.why == "after 6 attempts: OmsError: 403"
    reason = "oms is not configured for somx: missing OMS_TOKEN_SOMX, OMS_TENANT_SOMX"
    blocked = event_risk(event(EventStatus.BLOCKED, reason=reason), NOW)
    assert blocked and blocked.why == "missing setting OMS_TOKEN_SOMX, OMS_TENANT_SOMX"
    unmatched = event_risk(event(EventStatus.UNMATCHED, outcome="no order numbered X"), NOW)
    assert unmatched and unmatched.kind is RiskKind.EVENT_UNMATCHED and "no order numbered X" in unmatched.why
    assert event_risk(event(EventStatus.COMPLETED, received=NOW - timedelta(days=3)), NOW) is None
    assert missing_settings("something else") == []


def test_a_pending_event_exactly_n_minutes_old_is_stuck_a_second_younger_is_not() -> None:
    rules = RiskRules(stuck_after=timedelta(minutes=15))
    for status in (EventStatus.RECEIVED, EventStatus.RETRY_SCHEDULED):
        stuck = event_risk(event(status, received=NOW - timedelta(minutes=15)), NOW, rules)
        assert stuck and stuck.kind is RiskKind.EVENT_STUCK and "received 15 min ago" in stuck.why
        assert (
            event_risk(event(status, received=NOW - timedelta(minutes=15) + timedelta(seconds=1)), NOW, rules) is None
        )
