"""What the console's templates use besides the data: times (UTC RFC 3339 kept, shown in the
tenant's zone and as an age in words), and the hourly bar charts, drawn server-side as SVG geometry
with an axis, its scale and hour labels (no script, no inline style: the CSP allows neither)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.domain.times import in_local_time, rfc3339, tenant_zone
from shared.services.console import FLOW_COUNTERS, OPEN_COUNTERS, RADAR_ROWS
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
RISK_SEVERITY = {
    "not-in-oms": "bad",
    "ship-late": "bad",
    "event-failed": "bad",
    "ship-soon": "warn",
    "event-blocked": "warn",
    "event-unmatched": "warn",
    "event-stuck": "warn",
}
# Chart geometry, in SVG user units: the plot, a left margin for the scale, a bottom one for hours.
PLOT_HEIGHT = 60
LEFT = 34
BOTTOM = 16
TOP = 6


def local(moment: datetime | None, tenant: str) -> str:
    if moment is None:
        return ""
    return in_local_time(moment, tenant_zone(tenant)).strftime("%Y-%m-%d %H:%M")


def hour_label(moment: datetime, tenant: str) -> str:
    return in_local_time(moment, tenant_zone(tenant)).strftime("%a %H:00")


def duration(delta: timedelta) -> str:
    """A length of time in words: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def age(moment: datetime | None, now: datetime) -> str:
    """How long ago (or in how long) `moment` is, in words: `3 h 12 min ago`, `in 20 min`."""
    if moment is None:
        return ""
    delta = now - moment
    return f"in {duration(delta)}" if delta.total_seconds() < 0 else f"{duration(delta)} ago"


def time_left(delta: timedelta) -> str:
    return f"late by {duration(delta)}" if delta.total_seconds() <= 0 else f"{duration(delta)} left"


def _nice_top(top: int) -> int:
    """The scale's top: the busiest hour rounded up to 1, 2 or 5 times a power of ten."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top <= step * factor:
                return step * factor
        step *= 10


def bars(series: list[tuple[datetime, int]], tenant: str, width: int = 0) -> dict[str, Any]:
    """Geometry of one bar chart: a bar per hour on a scale from 0 to a round top, the scale's
    values on the left axis, and hour labels (in the tenant's zone) under the bars, at most 12."""
    count = max(len(series), 1)
    bar_width = width or (24 if count <= 24 else 6 if count <= 72 else 4)
    top = _nice_top(max((value for _, value in series), default=0) or 1)
    shapes = []
    for index, (hour, value) in enumerate(series):
        height = round(value * PLOT_HEIGHT / top) if value else 0
        shapes.append(
            {
                "x": LEFT + index * bar_width + 1,
                "y": TOP + PLOT_HEIGHT - height,
                "h": height,
                "hour": hour,
                "count": value,
            }
        )
    every = max(1, -(-count // 12))
    if count > 24:  # a week: label midnights and noons of the tenant's day, whatever the spacing
        labels = [
            {"x": LEFT + i * bar_width, "text": in_local_time(hour, tenant_zone(tenant)).strftime("%a %H h")}
            for i, (hour, _) in enumerate(series)
            if in_local_time(hour, tenant_zone(tenant)).hour in (0,)
        ]
    else:
        labels = [
            {"x": LEFT + i * bar_width + bar_width / 2, "text": in_local_time(hour, tenant_zone(tenant)).strftime("%H")}
            for i, (hour, _) in enumerate(series)
            if i % every == 0
        ]
    plot_width = count * bar_width
    return {
        "width": LEFT + plot_width + 4,
        "height": TOP + PLOT_HEIGHT + BOTTOM,
        "plot_left": LEFT,
        "plot_right": LEFT + plot_width,
        "plot_top": TOP,
        "plot_bottom": TOP + PLOT_HEIGHT,
        "mid": TOP + PLOT_HEIGHT / 2,
        "bars": shapes,
        "bar": bar_width - 2,
        "top": top,
        "half": top / 2 if top % 2 else top // 2,
        "labels": labels,
        "label_y": TOP + PLOT_HEIGHT + 12,
        "total": sum(value for _, value in series),
    }


FILTERS = {"utc": rfc3339, "local": local, "hour_label": hour_label, "duration": duration, "time_left": time_left}
GLOBALS = {
    "TENANTS": TENANTS,
    "TENANT_NAMES": TENANT_NAMES,
    "COUNTER_LABELS": COUNTER_LABELS,
    "RISK_LABELS": RISK_LABELS,
    "RISK_SEVERITY": RISK_SEVERITY,
    "OPEN_COUNTERS": OPEN_COUNTERS,
    "FLOW_COUNTERS": FLOW_COUNTERS,
    "RADAR_ROWS": RADAR_ROWS,
    "bars": bars,
    "age": age,
}
