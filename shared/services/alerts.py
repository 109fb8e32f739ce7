"""The alert timer's work (functions/alerts_timer.py): evaluate the at-risk rules per tenant, keep one
incident per tenant and rule (shared/domain/alerts.py), and send what is due through the tenant's
channels (Teams, Slack, e-mail: shared/adapters/alerts/).

Storage work per run, whatever the number of orders (10,000 in the benchmark):
- 1 query of the active incidents (open, or with a message held), one request per 1,000 of them;
- per tenant, 4 bounded queries (`ROWS` rows each, as the console's at-risk page: orders not in the
  OMS, orders awaiting shipment near their promised time, failed / blocked / unmatched events,
  pending events received before the stuck limit): 36 for the nine tenants; and where the tenant's
  order-loop flows are on (issue 19), 1 more each: shipped orders without a tax document after the
  tenant's hours (`MARKETPLACE_DOCUMENTS_<T>`, `MARKETPLACE_DOCUMENT_DUE_HOURS_<T>`), returns waiting
  for approval 48 h or more (`MARKETPLACE_RETURNS_DESK_<T>`; accepted by themselves at 72 h);
- 1 write per incident that changed (opened, count or reason changed, message sent or held,
  resolved); none for an incident that stays as it was.
A count that reached `ROWS` is shown as `50+`: the rule found at least that many.

A message no channel took (every channel failed) stays held on the incident and is sent again at
the next run; a message some channel took counts as sent (the failures are logged).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from shared.domain.alerts import (
    RULE_TITLES,
    SAMPLE,
    WHAT_TO_DO,
    AlertMessage,
    Incident,
    Message,
    Notice,
    Observation,
    parse_quiet_hours,
    step,
    undelivered,
)
from shared.domain.at_risk import Risk, RiskKind, RiskRules, event_risk, local_time, order_risks
from shared.domain.errors import ExternalSystemError
from shared.domain.events import PENDING
from shared.domain.marketplace_loop import RETURN_AT_RISK_AFTER
from shared.domain.times import tenant_zone
from shared.ports import AlertChannelPort, AlertPorts
from shared.roles import AtRiskPorts, HasSettings
from shared.services.operations import NEEDING_A_PERSON
from shared.tenants import TENANT_NAMES, TENANTS

log = logging.getLogger("thor.alerts")

ROWS = 50  # rows per at-risk query (the console's at-risk page reads the same)
ORDER_KINDS = {
    RiskKind.NOT_IN_OMS: "late",
    RiskKind.SHIP_LATE: "shipping",
    RiskKind.SHIP_SOON: "shipping",
    RiskKind.DOCUMENT_MISSING: "undocumented",
    RiskKind.RETURN_DEADLINE: "returns",
}


def loop_rules(context: HasSettings, tenant: str, rules: RiskRules) -> RiskRules:
    """`rules` with the tenant's order-loop rules (issue 19), each only while its flow is on (as the
    console's at-risk page: shared.services.console.tenant_rules)."""
    loop = context.settings.loop(tenant)
    return dataclasses.replace(
        rules,
        document_due=timedelta(hours=loop.document_due_hours) if loop.documents else None,
        returns_desk=loop.returns_desk,
    )


def observe(context: AtRiskPorts, tenant: str, rules: RiskRules = RiskRules(), limit: int = ROWS) -> list[Observation]:
    """What each at-risk rule finds for the tenant now, grouped by rule: 4 bounded queries, and one per
    order-loop rule whose flow is on."""
    now = context.clock()
    rules = loop_rules(context, tenant, rules)
    late = context.orders.not_in_oms(tenant, now - rules.not_in_oms_after, limit)
    shipping = context.orders.awaiting_shipment(tenant, now + rules.ship_warning, limit)
    undocumented = (
        context.orders.awaiting_document(tenant, now - rules.document_due, limit) if rules.document_due else []
    )
    returns = context.orders.returns_waiting(tenant, now - RETURN_AT_RISK_AFTER, limit) if rules.returns_desk else []
    needing = context.events.list(tenant=tenant, statuses=NEEDING_A_PERSON, limit=limit)
    pending = context.events.list(tenant=tenant, statuses=sorted(PENDING), until=now - rules.stuck_after, limit=limit)
    found: dict[RiskKind, list[Risk]] = defaultdict(list)
    seen: set[tuple[RiskKind, str | None]] = set()
    for order in [*late, *shipping, *undocumented, *returns]:
        for risk in order_risks(order, now, rules):
            if (risk.kind, risk.internal_order_id) not in seen:
                seen.add((risk.kind, risk.internal_order_id))
                found[risk.kind].append(risk)
    for event in [*needing, *pending]:
        flagged = event_risk(event, now, rules)
        if flagged:
            found[flagged.kind].append(flagged)
    full = {
        "late": len(late) >= limit,
        "shipping": len(shipping) >= limit,
        "needing": len(needing) >= limit,
        "pending": len(pending) >= limit,
        "undocumented": len(undocumented) >= limit,
        "returns": len(returns) >= limit,
    }
    observations = []
    for kind, risks in found.items():
        risks.sort(key=lambda r: r.since)
        source = ORDER_KINDS.get(kind) or ("pending" if kind is RiskKind.EVENT_STUCK else "needing")
        sample = tuple(r.internal_order_id or r.event_id or "" for r in risks[:SAMPLE])
        observations.append(Observation(tenant, kind, len(risks), risks[0].why, sample, full[source]))
    return observations


def notice_for(context: HasSettings, incident: Incident, kind: Message) -> AlertMessage:
    settings = context.settings.alerts
    tenant = incident.tenant
    return AlertMessage(
        kind=kind,
        tenant=tenant,
        tenant_name=TENANT_NAMES[tenant],
        rule=incident.rule,
        title=RULE_TITLES[incident.rule],
        count_text=incident.count_text,
        why=incident.why,
        what_to_do=WHAT_TO_DO[incident.rule].replace("<T>", tenant.upper()),
        link=f"{settings.console_base_url}/console/tenants/{tenant}/at-risk",
        sample=incident.sample,
        opened_at=local_time(incident.opened_at, tenant),
    )


def deliver(channels: list[AlertChannelPort], notice: Notice) -> tuple[bool, list[str]]:
    """Sends to every channel; (whether one took it or there is none, the failures)."""
    failures = []
    for channel in channels:
        try:
            channel.send(notice)
        except ExternalSystemError as error:
            failures.append(f"{channel.name}: {error.code} {error.message}")
            log.warning("alert to %s failed for %s: %s", channel.name, notice.tenant, error)
    return (not channels or len(failures) < len(channels)), failures


@dataclass
class AlertRun:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, rule, message)
    held: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    writes: int = 0


def run_alerts(context: AtRiskPorts, alerts: AlertPorts, rules: RiskRules = RiskRules()) -> AlertRun:
    """One run of the alert timer over every tenant."""
    now = context.clock()
    settings = context.settings.alerts
    reminder_after = timedelta(hours=settings.reminder_hours)
    active = {(i.tenant, i.rule): i for i in alerts.incidents.active()}
    run = AlertRun()
    for tenant in TENANTS:
        seen = {o.rule: o for o in observe(context, tenant, rules)}
        hours = parse_quiet_hours(settings.quiet(tenant))
        quiet = bool(hours and hours.quiet_at(now, tenant_zone(tenant)))
        for rule in RiskKind:
            previous, observation = active.get((tenant, rule)), seen.get(rule)
            if previous is None and observation is None:
                continue
            decided = step(previous, observation, now, reminder_after, quiet)
            incident = decided.incident
            if incident is None:
                continue
            if decided.send is not None:
                ok, failures = deliver(alerts.channels(tenant), notice_for(context, incident, decided.send))
                run.failures += failures
                if ok:
                    run.sent.append((tenant, rule.value, decided.send.value))
                else:
                    incident = undelivered(incident, decided.send)
            elif incident.held is not None and decided.changed:
                run.held.append((tenant, rule.value, incident.held.value))
            if decided.changed:
                alerts.incidents.save(incident)
                run.writes += 1
    return run
