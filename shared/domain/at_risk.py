"""What needs a person: the console's at-risk rules, pure (no storage, no clock of its own).

An order is at risk when it is not in the OMS `not_in_oms_after` after it was created, or when it
still has items not ready to ship and its promised shipping time is within `ship_warning` or has
passed. An event is at risk when it failed, is blocked (the missing settings are named), is
unmatched, or was received `stuck_after` ago and is still pending. Each boundary is inclusive:
exactly N minutes is at risk.

Times are compared in UTC (Thor keeps every time in UTC: the marketplace's zone-less promised time
was read in the tenant's zone when the order was fetched); the reason shows the promised time in
the tenant's own zone, as the storefront's staff read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from shared.domain.events import EventStatus, InboundEvent
from shared.domain.order import Order
from shared.domain.statuses import RANK
from shared.domain.times import as_utc, in_local_time, tenant_zone


class RiskKind(str, Enum):
    NOT_IN_OMS = "not-in-oms"
    SHIP_LATE = "ship-late"  # promised shipping time passed, items not ready to ship
    SHIP_SOON = "ship-soon"  # promised shipping time within the warning, items not ready to ship
    EVENT_FAILED = "event-failed"
    EVENT_BLOCKED = "event-blocked"
    EVENT_UNMATCHED = "event-unmatched"
    EVENT_STUCK = "event-stuck"  # received and not completed for too long


@dataclass(frozen=True)
class RiskRules:
    not_in_oms_after: timedelta = timedelta(minutes=30)
    ship_warning: timedelta = timedelta(hours=4)
    stuck_after: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Risk:
    kind: RiskKind
    tenant: str
    since: datetime
    """From when it counts (UTC): created, promised, received. Lists sort oldest first."""
    why: str
    internal_order_id: str | None = None
    event_id: str | None = None


NOT_READY = RANK["ready_to_ship"]
_MISSING = re.compile(r"missing ([A-Za-z0-9_, ]+)")


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def local_time(moment: datetime, tenant: str) -> str:
    """`2026-11-23 10:00 America/Santiago (UTC-03:00)`: a UTC time as the tenant's staff read it."""
    local = in_local_time(moment, tenant_zone(tenant))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {tenant_zone(tenant).key} (UTC{offset[:3]}:{offset[3:]})"


def order_created_at(order: Order) -> datetime:
    """When the order was created: the marketplace's time, else Thor's first note of it."""
    if order.created_at:
        return as_utc(order.created_at)
    return min((as_utc(entry.at) for entry in order.timeline), default=as_utc(order.updated_at))


def items_not_ready(order: Order) -> list[str]:
    """Active items not yet ready to ship (pending)."""
    return [i.item_id for i in order.items if i.status != "canceled" and RANK.get(i.status, 0) < NOT_READY]


def order_risks(order: Order, now: datetime, rules: RiskRules = RiskRules()) -> list[Risk]:
    risks = []
    created = order_created_at(order)
    if not order.oms_synced and now - created >= rules.not_in_oms_after:
        risks.append(
            Risk(
                RiskKind.NOT_IN_OMS,
                order.tenant,
                created,
                f"not in the OMS {_minutes(now - created)} after it was created",
                order.internal_order_id,
            )
        )
    pending = items_not_ready(order)
    if pending and order.promised_shipping_time:
        promised = as_utc(order.promised_shipping_time)
        when = local_time(promised, order.tenant)
        items = f"{len(pending)} item(s) not ready to ship"
        if now >= promised:
            why = f"{items}; promised to ship by {when}, {_minutes(now - promised)} ago"
            risks.append(Risk(RiskKind.SHIP_LATE, order.tenant, promised, why, order.internal_order_id))
        elif promised - now <= rules.ship_warning:
            why = f"{items}; promised to ship by {when}, in {_minutes(promised - now)}"
            risks.append(Risk(RiskKind.SHIP_SOON, order.tenant, promised, why, order.internal_order_id))
    return risks


SELLER_SIDE = frozenset({"zort", "oms", "console"})  # sources that are the seller's own systems


def seller_canceled(order: Order) -> bool:
    """Whether the seller caused the order's cancellation, as Thor can tell (the marketplace's API does
    not say who canceled): an item moved to `canceled` before it shipped, either by the seller's own
    systems (ZORT, the OMS, the console) or by the marketplace at or after the promised shipping
    time (the seller did not ship in time). A customer's cancellation before the promised time is not."""
    promised = as_utc(order.promised_shipping_time) if order.promised_shipping_time else None
    for entry in order.timeline:
        if entry.what != "item status" or not entry.detail.endswith("-> canceled"):
            continue
        old = entry.detail.rsplit(":", 1)[-1].split("->", 1)[0].strip()
        if RANK.get(old, 0) > NOT_READY:  # shipped or later: a return, not a seller's cancellation
            continue
        if entry.source in SELLER_SIDE or (promised is not None and as_utc(entry.at) >= promised):
            return True
    return False


def missing_settings(reason: str | None) -> list[str]:
    """The settings a blocked event's reason names (`… missing OMS_TOKEN_SOMX, OMS_TENANT_SOMX`)."""
    found = _MISSING.search(reason or "")
    return [name.strip() for name in found.group(1).split(",") if name.strip()] if found else []


def event_risk(event: InboundEvent, now: datetime, rules: RiskRules = RiskRules()) -> Risk | None:
    received = as_utc(event.received_at)

    def risk(kind: RiskKind, why: str) -> Risk:
        return Risk(kind, event.tenant, received, why, event.internal_order_id, event.event_id)

    if event.status is EventStatus.FAILED:
        return risk(
            RiskKind.EVENT_FAILED, f"failed after {event.attempts} attempt(s): {event.reason or 'no reason kept'}"
        )
    if event.status is EventStatus.BLOCKED:
        names = missing_settings(event.reason)
        setting = f"missing setting {', '.join(names)}" if names else (event.reason or "tenant not configured")
        return risk(RiskKind.EVENT_BLOCKED, f"blocked: {setting}")
    if event.status is EventStatus.UNMATCHED:
        return risk(RiskKind.EVENT_UNMATCHED, f"unmatched: {event.outcome or event.reason or 'no order found'}")
    if event.status.pending and now - received >= rules.stuck_after:
        why = f"received {_minutes(now - received)} ago and not completed"
        return risk(RiskKind.EVENT_STUCK, why + (f" (last: {event.reason})" if event.reason else ""))
    return None
