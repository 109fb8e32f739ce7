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


@dataclass(frozen=True)
class OrderBrief:
    """The columns of an order the overview counts by, read without its document (no JSON to parse)."""

    internal_order_id: str
    created_at: datetime | None
    promised_shipping_time: datetime | None


@dataclass(frozen=True)
class EventBrief:
    """The columns of an event the overview counts by (no body)."""

    event_id: str
    status: EventStatus
    received_at: datetime


NOT_READY = RANK["ready_to_ship"]
_MISSING = re.compile(r"missing ([A-Za-z0-9_*, ]+)")


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


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


def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


def missing_settings(reason: str | None) -> list[str]:
    """The settings a blocked event's reason names (`… missing OMS_TOKEN_SOMX, OMS_TENANT_SOMX`)."""
    found = _MISSING.search(reason or "")
    return [name.strip() for name in found.group(1).split(",") if name.strip()] if found else []


def event_risk(event: InboundEvent, now: datetime, rules: RiskRules = RiskRules()) -> Risk | None:
    received = as_utc(event.received_at)

    def risk(kind: RiskKind, why: str) -> Risk:
        return Risk(kind, event.tenant, received, why, event.internal_order_id, event.event_id)

    if event.status is EventStatus.FAILED:
        return risk(RiskKind.EVENT_FAILED, f"after {_attempts(event.attempts)}: {event.reason or 'no reason kept'}")
    if event.status is EventStatus.BLOCKED:
        names = missing_settings(event.reason)
        setting = f"missing setting {', '.join(names)}" if names else (event.reason or "tenant not configured")
        return risk(RiskKind.EVENT_BLOCKED, setting)
    if event.status is EventStatus.UNMATCHED:
        return risk(RiskKind.EVENT_UNMATCHED, event.outcome or event.reason or "no order found")
    if event.status.pending and now - received >= rules.stuck_after:
        why = f"received {_minutes(now - received)} ago and not completed"
        return risk(RiskKind.EVENT_STUCK, why + (f" (last: {event.reason})" if event.reason else ""))
    return None


# --- what to do about an event ------------------------------------------------------------------

_CREDENTIALS = {
    "oms": ("OMS_TOKEN_{T}", "OMS_TENANT_{T}"),
    "marketplace": ("MARKETPLACE_USER_ID_{T}", "MARKETPLACE_API_KEY_{T}"),
    "zort": ("ZORT_STORENAME_{T}", "ZORT_APIKEY_{T}", "ZORT_APISECRET_{T}"),
}
_SYSTEM_NAMES = {"oms": "the OMS", "marketplace": "the marketplace", "zort": "ZORT"}


def fix_hint(event: InboundEvent) -> str:
    """One sentence saying what a person can do about the event, from its status and last attempt."""
    last = next((a for a in reversed(event.history) if a.outcome != "replayed"), None)
    tenant = event.tenant.upper()
    if event.status is EventStatus.COMPLETED:
        return "Nothing to do: the event was applied."
    if event.status is EventStatus.BLOCKED:
        names = missing_settings(event.reason)
        setting = ", ".join(names) if names else "the tenant's settings for that system"
        return f"Set {setting} (a Key Vault secret in Azure, local.settings.json locally), then replay the event."
    if event.status is EventStatus.UNMATCHED:
        return (
            "ZORT named an order Thor does not have: check the order number in ZORT. If the order reaches Thor "
            "later (a late marketplace webhook, a re-sync), replay this event; otherwise nothing is lost by leaving it."
        )
    if last is None or last.system is None and last.error is None:
        if event.status.pending:
            return (
                "Waiting for its next attempt. If it stays here, the processor may be down or its queue message "
                "lost: replaying queues it again."
            )
        return "Replay the event."
    system = last.system or ""
    where = _SYSTEM_NAMES.get(system, system)
    where_ = where[:1].upper() + where[1:]
    status = last.http_status
    if last.code == "NOT_CONFIGURED":
        return f"Configure {where} for this tenant, then replay the event."
    if system in _CREDENTIALS and (status in (401, 403) or last.code in ("E007", "E009")):
        settings = ", ".join(name.format(T=tenant) for name in _CREDENTIALS[system])
        return f"{where_} refused Thor's credentials (HTTP {status or last.code}): check {settings}, then replay."
    if status == 429 or last.code in ("E429", "TIMEOUT", "CONNECTION_ERROR") or (status or 0) >= 500:
        if event.status.pending:
            return (
                f"{where_} was unavailable or busy: Thor tries again by itself (next retry below); nothing to do yet."
            )
        return f"{where_} was unavailable or busy until Thor gave up: once it answers again, replay the event."
    if system == "marketplace" and last.code == "NOT_FOUND":
        return (
            "The marketplace does not list the order (yet, or for this seller): check it in Seller Center, then replay."
        )
    if system and status and 400 <= status < 500:
        return (
            f"{where_} refused what Thor sent (HTTP {status}): read its error below, fix the order's "
            "data or the mapping there, then replay."
        )
    if not system:
        return (
            "Thor could not handle this event's data (an error of Thor's own): report it with the event id; a replay "
            "fails the same way until it is fixed."
        )
    return f"{where_} answered with an error: read it below, then replay once it is fixed."
