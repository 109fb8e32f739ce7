"""What the console's templates use besides the data: times (UTC RFC 3339 kept, shown in the
tenant's zone beside it) and the small hourly bar charts, drawn server-side as SVG geometry (no
script, no inline style: the CSP allows neither)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.times import in_local_time, rfc3339, tenant_zone
from shared.tenants import TENANT_NAMES, TENANTS

COUNTER_LABELS = {
    "accepted": "events accepted",
    "completed": "completed",
    "failed": "failed",
    "blocked": "blocked",
    "unmatched": "unmatched",
    "ignored": "ignored (not acted on)",
    "orders_created": "orders created",
    "oms_synced": "orders in the OMS",
}
RISK_LABELS = {
    "not-in-oms": "not in the OMS",
    "ship-late": "shipping late",
    "ship-soon": "shipping soon",
    "event-failed": "failed",
    "event-blocked": "blocked",
    "event-unmatched": "unmatched",
    "event-stuck": "not completed",
    "document-missing": "no tax document",
    "return-deadline": "return deadline",
}
CHART_HEIGHT = 40


def local(moment: datetime | None, tenant: str) -> str:
    if moment is None:
        return ""
    return in_local_time(moment, tenant_zone(tenant)).strftime("%Y-%m-%d %H:%M")


def hour_label(moment: datetime, tenant: str) -> str:
    return in_local_time(moment, tenant_zone(tenant)).strftime("%a %H:00")


def bars(series: list[tuple[datetime, int]], width: int = 4) -> dict[str, Any]:
    """Geometry of one bar chart: a bar per hour, scaled to the busiest hour."""
    top = max((count for _, count in series), default=0) or 1
    shapes = []
    for index, (hour, count) in enumerate(series):
        height = round(count * (CHART_HEIGHT - 2) / top) if count else 0
        shapes.append({"x": index * width, "y": CHART_HEIGHT - height, "h": height, "hour": hour, "count": count})
    return {
        "width": max(len(series) * width, width),
        "height": CHART_HEIGHT,
        "bars": shapes,
        "bar": width - 1,
        "top": top,
    }


FILTERS = {"utc": rfc3339, "local": local, "hour_label": hour_label}
GLOBALS = {
    "TENANTS": TENANTS,
    "TENANT_NAMES": TENANT_NAMES,
    "COUNTER_LABELS": COUNTER_LABELS,
    "RISK_LABELS": RISK_LABELS,
    "bars": bars,
}
