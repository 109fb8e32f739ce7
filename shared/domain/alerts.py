"""Alerts, pure: what an incident is, when it is told, reminded and resolved, and quiet hours.

An incident is one at-risk rule firing for one tenant (`tenant` + `rule`, a `RiskKind`): the rows
the rule finds are grouped into it, so five orders not in the OMS are one incident with a count of
five, one message, not five. Its life (`step`), evaluated by the alert timer every few minutes:

- the rule finds rows and there is no open incident: it opens, and the team is told (OPENED);
- it is still open `reminder_after` after the last message: REMINDER (then again after as long);
- the rule finds nothing any more: it is resolved, and the team is told (RESOLVED) if it was told
  it opened (an incident that opened and cleared inside quiet hours is never announced);
- a message due inside the tenant's quiet hours (its own zone) is held on the incident and sent at
  the first run after they end, with the counts of that moment; a resolution held while the rule
  fires again leaves the incident open as it was (nobody was told it cleared).

No clock and no storage here: `now` is given, the service (shared/services/alerts.py) stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from shared.domain.at_risk import RiskKind

SAMPLE = 5  # ids of the incident's rows kept and shown in a message


class Message(str, Enum):
    OPENED = "opened"
    REMINDER = "reminder"
    RESOLVED = "resolved"


RULE_TITLES = {
    RiskKind.NOT_IN_OMS: "orders not in the OMS",
    RiskKind.SHIP_LATE: "orders past their promised shipping time",
    RiskKind.SHIP_SOON: "orders due to ship soon, items not ready",
    RiskKind.EVENT_FAILED: "failed events",
    RiskKind.EVENT_BLOCKED: "blocked events (a setting is missing)",
    RiskKind.EVENT_UNMATCHED: "unmatched ZORT events",
    RiskKind.EVENT_STUCK: "events stuck (received, not completed)",
    RiskKind.DOCUMENT_MISSING: "shipped orders without a tax document",
    RiskKind.RETURN_DEADLINE: "returns near their 72 h approval deadline",
}

WHAT_TO_DO = {
    RiskKind.NOT_IN_OMS: "Open the order's journey: if its event failed, read the reason (a 401/403 from the OMS "
    "means check OMS_TOKEN_<T>), fix it and replay; else re-sync the order from the console.",
    RiskKind.SHIP_LATE: "Pack and ship the items, or tell the marketplace; late shipments count against the "
    "storefront. Check ZORT sent the tracking number.",
    RiskKind.SHIP_SOON: "Make the items ready to ship before the promised time (warehouse / ZORT).",
    RiskKind.EVENT_FAILED: "Read the event's reason, fix the cause (credentials, the external system), then replay "
    "the tenant's failed events from the console.",
    RiskKind.EVENT_BLOCKED: "Set the missing setting named in the reason (Key Vault secret + tenantSystems, "
    "docs/deploy.md), then replay the events.",
    RiskKind.EVENT_UNMATCHED: "ZORT named an order Thor does not have: check the order number in ZORT and the "
    "marketplace; replay once the order exists.",
    RiskKind.EVENT_STUCK: "Check the processor is running (Application Insights, the poison queue); replay the events.",
    RiskKind.DOCUMENT_MISSING: "Send the order's tax document from the invoicing system (POST /v1/orders/{id}/documents); "
    "a sale without its document is sanctioned. If one was sent and failed, read its reason on the order's journey.",
    RiskKind.RETURN_DEADLINE: "Approve or dispute the return in Seller Center before its deadline (shown in local time); "
    "after 72 h in return_waiting_for_approval the marketplace accepts it by itself.",
}


@dataclass(frozen=True)
class Observation:
    """What one rule found for one tenant this run: how many rows (`full`: the query hit its bound,
    so at least that many), the oldest row's reason, and a few ids."""

    tenant: str
    rule: RiskKind
    count: int
    why: str
    sample: tuple[str, ...] = ()
    full: bool = False

    @property
    def count_text(self) -> str:
        return f"{self.count}+" if self.full else str(self.count)


@dataclass(frozen=True)
class Incident:
    tenant: str
    rule: RiskKind
    opened_at: datetime
    status: str = "open"  # open | resolved
    count_text: str = "0"
    why: str = ""
    sample: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    last_sent_at: datetime | None = None
    """When a message about it last went out (None: the team was never told of it)."""
    last_sent: Message | None = None
    held: Message | None = None
    """A message owed but held by quiet hours, sent when they end."""
    etag: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return incident_key(self.rule)

    @property
    def open(self) -> bool:
        return self.status == "open"


def incident_key(rule: RiskKind) -> str:
    return rule.value


@dataclass(frozen=True)
class Step:
    incident: Incident | None
    """The incident as it must be stored (None: nothing to store)."""
    send: Message | None
    changed: bool


def step(
    previous: Incident | None,
    seen: Observation | None,
    now: datetime,
    reminder_after: timedelta,
    quiet: bool,
) -> Step:
    """One evaluation of one (tenant, rule): the incident to store and the message to send now."""
    owed: Message | None
    if seen is not None:
        if previous is not None and (previous.open or previous.held is Message.RESOLVED):
            # still open (or its resolution was never told: it simply goes on)
            incident = replace(
                previous,
                status="open",
                resolved_at=None,
                held=None,
                count_text=seen.count_text,
                why=seen.why,
                sample=seen.sample,
            )
            owed = previous.held if previous.held is not Message.RESOLVED else None
            if owed is None and incident.last_sent_at and now - incident.last_sent_at >= reminder_after:
                owed = Message.REMINDER
        else:
            incident = Incident(seen.tenant, seen.rule, now, "open", seen.count_text, seen.why, seen.sample)
            owed = Message.OPENED
    else:
        if previous is None:
            return Step(None, None, False)
        if not previous.open:
            if previous.held is None or quiet:
                return Step(previous, None, False)
            return _deliver(previous, previous.held, now)
        incident = replace(previous, status="resolved", resolved_at=now)
        owed = Message.RESOLVED if previous.last_sent_at else None
        incident = replace(incident, held=None)
    if owed is None:
        return Step(incident, None, previous is None or _state(incident) != _state(previous))
    if quiet:
        return Step(replace(incident, held=owed), None, True)
    return _deliver(incident, owed, now)


def _state(incident: Incident) -> tuple[object, ...]:
    """What makes an incident worth writing again: not its reason's wording alone (it says how
    long ago, so it changes every run), which is stored with the next change."""
    return (incident.status, incident.count_text, incident.sample, incident.held, incident.last_sent_at)


def _deliver(incident: Incident, message: Message, now: datetime) -> Step:
    return Step(replace(incident, held=None, last_sent_at=now, last_sent=message), message, True)


def undelivered(incident: Incident, message: Message) -> Incident:
    """The incident when no channel took the message: held, to be sent at the next run."""
    return replace(incident, held=message, last_sent_at=None if message is Message.OPENED else incident.last_sent_at)


# --- quiet hours ----------------------------------------------------------------------------------

_QUIET = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A daily span of local wall-clock time (`22-07`, `22:30-06:45`); it may cross midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def quiet_at(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether `moment` (aware) falls inside the span in `zone`'s wall-clock time."""
        return self.contains(moment.astimezone(zone).time().replace(tzinfo=None))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet_hours(text: str) -> QuietHours | None:
    """`22-07` or `22:30-06:45` (24-hour, local); None for empty text; ValueError otherwise."""
    if not text.strip():
        return None
    match = _QUIET.match(text)
    if not match:
        raise ValueError(f"quiet hours must read HH-HH or HH:MM-HH:MM, got {text!r}")
    h1, m1, h2, m2 = (int(part or 0) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"quiet hours out of range: {text!r}")
    return QuietHours(time(h1, m1), time(h2, m2))


# --- what a message says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertMessage:
    """One message about one incident, as every channel renders it (shared/adapters/alerts/)."""

    kind: Message
    tenant: str
    tenant_name: str
    rule: RiskKind
    title: str
    count_text: str
    why: str
    what_to_do: str
    link: str
    sample: tuple[str, ...]
    opened_at: str
    """When the incident opened, in the tenant's zone (`2026-11-23 10:00 America/Santiago (UTC-03:00)`)."""

    @property
    def headline(self) -> str:
        what = RULE_TITLES[self.rule]
        if self.kind is Message.RESOLVED:
            return f"Resolved [{self.tenant}]: {what}"
        prefix = "Still open" if self.kind is Message.REMINDER else "Alert"
        return f"{prefix} [{self.tenant}]: {self.count_text} {what}"


@dataclass(frozen=True)
class ReportMessage:
    """A report's link, sent through the same channels."""

    tenant: str
    tenant_name: str
    title: str
    summary: str
    link: str
    expires: str

    @property
    def headline(self) -> str:
        return f"Report [{self.tenant}]: {self.title}"


Notice = AlertMessage | ReportMessage
