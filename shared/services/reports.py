"""Daily reports per tenant (shared/domain/reports.py): written as CSV to Blob Storage once the
tenant's local day has ended, announced through its alert channels with a time-limited link, and
downloadable from the console.

The reports timer (functions/reports_timer.py, hourly) writes, for each tenant whose last full local
day is not yet reported (checkpoint `reports`, per tenant: the end of the last day written), that
day's order summary and pending orders, then moves the checkpoint. A run that fails half-way writes
the day again at the next run (a report replaces the one of the same day and kind).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.domain.alerts import ReportMessage
from shared.domain.reports import (
    MAX_ROWS,
    ORDER_COLUMNS,
    PENDING_COLUMNS,
    TITLES,
    last_full_day,
    local_day,
    order_rows,
    pending_rows,
    to_csv,
)
from shared.domain.times import rfc3339
from shared.ports import AlertPorts
from shared.roles import HasOrders, ReportsPorts
from shared.services.alerts import deliver
from shared.tenants import TENANT_NAMES, TENANTS

log = logging.getLogger("thor.reports")
CHECKPOINT = "reports"


@dataclass(frozen=True)
class Report:
    tenant: str
    day: date
    kind: str
    name: str
    rows: int
    truncated: bool
    text: str


def build_report(context: HasOrders, tenant: str, day: date, kind: str) -> tuple[str, int, bool]:
    """The report's CSV, its number of rows and whether MAX_ROWS cut it: one query."""
    start, end = local_day(tenant, day)
    if kind == "orders":
        orders = context.orders.created_between(tenant, start, end, MAX_ROWS)
        rows = order_rows(orders, tenant)
        return to_csv(ORDER_COLUMNS, rows), len(rows), len(orders) >= MAX_ROWS
    if kind == "pending":
        orders = context.orders.pending_before(tenant, end, MAX_ROWS)
        rows = pending_rows(orders, tenant, end)
        return to_csv(PENDING_COLUMNS, rows), len(rows), len(orders) >= MAX_ROWS
    raise ValueError(f"no report {kind!r}")


def write_reports(
    context: ReportsPorts, alerts: AlertPorts, tenant: str, day: date, announce: bool = True
) -> list[Report]:
    """Writes the tenant's two reports of `day` and sends their links through its channels."""
    settings = context.settings.alerts
    now = context.clock()
    written = []
    for kind in ("orders", "pending"):
        text, rows, truncated = build_report(context, tenant, day, kind)
        name = alerts.reports.put(tenant, day.isoformat(), kind, text)
        written.append(Report(tenant, day, kind, name, rows, truncated, text))
        if announce:
            link = alerts.reports.link(name, now, settings.report_link_hours)
            cut = f" (cut at {MAX_ROWS:,} rows)" if truncated else ""
            notice = ReportMessage(
                tenant=tenant,
                tenant_name=TENANT_NAMES[tenant],
                title=f"{TITLES[kind]} {day.isoformat()}",
                summary=f"{rows} row(s){cut}; also on the console: "
                f"{settings.console_base_url}/console/tenants/{tenant}/reports/{day.isoformat()}/{kind}.csv",
                link=link,
                expires=rfc3339(now + timedelta(hours=settings.report_link_hours)),
            )
            deliver(alerts.channels(tenant), notice)
    return written


def run_reports(context: ReportsPorts, alerts: AlertPorts) -> list[Report]:
    """Writes each tenant's last full local day once (the checkpoint remembers it)."""
    now = context.clock()
    done: list[Report] = []
    for tenant in TENANTS:
        day = last_full_day(now, tenant)
        _, end = local_day(tenant, day)
        checkpoint = context.checkpoints.get(CHECKPOINT, tenant)
        if checkpoint and checkpoint.position and checkpoint.position >= end:
            continue
        reports = write_reports(context, alerts, tenant, day)
        context.checkpoints.save(
            CHECKPOINT, tenant, end, {"day": day.isoformat(), "rows": {r.kind: r.rows for r in reports}}, now
        )
        done += reports
    return done


def report_csv(context: object, alerts: AlertPorts, tenant: str, day: date, kind: str) -> bytes | None:
    """A stored report (the console's download); None when it was never written."""
    return alerts.reports.get(tenant, day.isoformat(), kind)


def as_of(now: datetime) -> str:
    return rfc3339(now)
