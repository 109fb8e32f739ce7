"""Reports, pure: a tenant's local day and the rows of its two daily reports, as CSV.

A tenant's day is midnight to midnight on its storefront's own clock (shared/tenants.py zones), so it
is 24 hours long except when the clocks change: in Chile (`America/Santiago`) the day the clocks go
forward has 23 hours and the day they go back 25. `local_day` gives its bounds in UTC from the zone's
rules (never by adding 24 hours to a midnight).

- The daily order summary: every order created in the day (its `created_at` as the marketplace
  wrote it, read in the tenant's zone when fetched; Thor's first note of it otherwise), one row each.
- The pending-orders report: every order with an active item not yet ready to ship that was
  created before the day ended, as the day ended: what the warehouse still owes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from shared.domain.at_risk import items_not_ready, order_created_at
from shared.domain.order import Order
from shared.domain.times import UTC, as_utc, rfc3339, tenant_zone

KINDS = ("orders", "pending")  # daily order summary, pending orders
TITLES = {"orders": "daily order summary", "pending": "pending orders"}
MAX_ROWS = 10_000  # rows read for one report (a bigger day is cut there, and the report says so)


def local_day(tenant: str, day: date) -> tuple[datetime, datetime]:
    """The tenant's local day `day`, [start, end) in UTC."""
    zone = tenant_zone(tenant)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def local_date(moment: datetime, tenant: str) -> date:
    return as_utc(moment).astimezone(tenant_zone(tenant)).date()


def last_full_day(now: datetime, tenant: str) -> date:
    """The tenant's most recent local day that has ended."""
    return local_date(now, tenant) - timedelta(days=1)


def _local(moment: datetime | None, tenant: str) -> str:
    if moment is None:
        return ""
    return as_utc(moment).astimezone(tenant_zone(tenant)).isoformat(timespec="seconds")


ORDER_COLUMNS = (
    "internal_order_id",
    "marketplace_order_id",
    "order_number",
    "created_at_local",
    "created_at_utc",
    "status",
    "items",
    "items_not_ready",
    "grand_total",
    "currency",
    "in_oms",
)
PENDING_COLUMNS = (
    "internal_order_id",
    "marketplace_order_id",
    "created_at_local",
    "promised_shipping_local",
    "items_not_ready",
    "hours_past_promise",
    "in_oms",
)


def order_rows(orders: Iterable[Order], tenant: str) -> list[list[str]]:
    rows = []
    for order in sorted(orders, key=order_created_at):
        created = order_created_at(order)
        rows.append(
            [
                order.internal_order_id,
                order.marketplace_order_id,
                order.order_number or "",
                _local(created, tenant),
                rfc3339(created),
                order.status,
                str(len(order.items)),
                str(len(items_not_ready(order))),
                str(order.grand_total),
                order.currency or "",
                "yes" if order.oms_synced else "no",
            ]
        )
    return rows


def pending_rows(orders: Iterable[Order], tenant: str, as_of: datetime) -> list[list[str]]:
    rows = []
    for order in sorted(orders, key=order_created_at):
        pending = items_not_ready(order)
        if not pending:
            continue
        promised = order.promised_shipping_time
        late = ""
        if promised is not None and as_utc(promised) < as_of:
            late = f"{(as_of - as_utc(promised)).total_seconds() / 3600:.1f}"
        rows.append(
            [
                order.internal_order_id,
                order.marketplace_order_id,
                _local(order_created_at(order), tenant),
                _local(promised, tenant),
                str(len(pending)),
                late,
                "yes" if order.oms_synced else "no",
            ]
        )
    return rows


def to_csv(columns: Iterable[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line breaks
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return buffer.getvalue()


def _safe_cell(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection: a leading = + - @)."""
    return "'" + cell if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not _number(cell)) else cell


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
