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
from shared.domain.marketplace_loop import RETURN_WAITING, return_at_risk, return_deadline
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
    DOCUMENT_MISSING = "document-missing"  # shipped, and no tax document uploaded after the tenant's hours
    RETURN_DEADLINE = "return-deadline"  # a return waiting for approval 48 h or more (accepted at 72 h)


@dataclass(frozen=True)
class RiskRules:
    not_in_oms_after: timedelta = timedelta(minutes=30)
    ship_warning: timedelta = timedelta(hours=4)
    stuck_after: timedelta = timedelta(minutes=15)
    document_due: timedelta | None = None
    """Tax documents (issue 19): a shipped order without an uploaded document this long after it
    shipped is at risk (`MARKETPLACE_DOCUMENT_DUE_HOURS_<T>`); None while the tenant's flow is off."""
    returns_desk: bool = False
    """Returns desk (issue 19): a return waiting for approval is at risk from 48 h (accepted at 72 h)."""


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


def document_pending_since(order: Order) -> datetime | None:
    """When an order started to need its tax document: when it shipped, while no document of it is
    uploaded (None: not shipped, or documented)."""
    if any(document.status == "uploaded" for document in order.documents):
        return None
    shipped = order.shipped_at()
    return as_utc(shipped) if shipped else None


def returns_waiting(order: Order) -> list[tuple[str, datetime]]:
    """Items waiting for the seller's approval of their return, with when they started waiting."""
    return [
        (item.item_id, as_utc(item.status_changed_at or order.created_at or order.updated_at))
        for item in order.items
        if item.status == RETURN_WAITING
    ]


def return_waiting_since(order: Order) -> datetime | None:
    waiting = [since for _, since in returns_waiting(order)]
    return min(waiting) if waiting else None


def _loop_risks(order: Order, now: datetime, rules: RiskRules) -> list[Risk]:
    risks = []
    pending_since = document_pending_since(order)
    if rules.document_due is not None and pending_since and now - pending_since >= rules.document_due:
        why = f"shipped {_minutes(now - pending_since)} ago and no tax document uploaded to the marketplace"
        risks.append(Risk(RiskKind.DOCUMENT_MISSING, order.tenant, pending_since, why, order.internal_order_id))
    if rules.returns_desk:
        for item_id, since in returns_waiting(order):
            if return_at_risk(since, now):
                deadline = local_time(return_deadline(since), order.tenant)
                why = f"return of item {item_id} waiting for approval {_minutes(now - since)}; accepted by itself at {deadline}"
                risks.append(Risk(RiskKind.RETURN_DEADLINE, order.tenant, since, why, order.internal_order_id))
    return risks


def order_risks(order: Order, now: datetime, rules: RiskRules = RiskRules()) -> list[Risk]:
    risks = _loop_risks(order, now, rules)
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
