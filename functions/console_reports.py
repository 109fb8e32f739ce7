"""The console's report downloads: `GET /console/tenants/{tenant}/reports/{day}/{file}`, `{day}` a
date (`2026-12-03`) or `today` / `yesterday` (the tenant's local day), `{file}` `orders.csv` (daily
order summary) or `pending.csv` (pending orders). The stored report when the reports timer wrote it,
else built now from the orders (one query; the day so far for today). Signed in like every console
page (functions/console.py `console_page`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import azure.functions as func

from functions._http import Problem
from functions.console import _tenant, console_page
from shared.bootstrap import get_context

if TYPE_CHECKING:
    from functions._console_security import Principal

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
FILES = {"orders.csv": "orders", "pending.csv": "pending"}


def _day(text: str, today: date) -> date:
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Problem(400, "Bad day", f"{text!r} is not a date (yyyy-mm-dd), today or yesterday", "day") from None
    if day > today:
        raise Problem(404, "No report", f"{day} has not begun in this storefront", "day")
    return day


@bp.function_name("console_report")
@bp.route(route="console/tenants/{tenant}/reports/{day}/{file}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_report(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.domain.reports import local_date
    from shared.services.reports import build_report

    tenant = _tenant(req)
    kind = FILES.get(req.route_params.get("file", ""))
    if kind is None:
        raise Problem(404, "No such report", "reports are orders.csv and pending.csv", "file")
    context = get_context()
    day = _day(req.route_params.get("day", ""), local_date(context.clock(), tenant))
    body = context.alert_ports.reports.get(tenant, day.isoformat(), kind)
    if body is None:
        body = build_report(context, tenant, day, kind)[0].encode("utf-8")
    return func.HttpResponse(
        body,
        status_code=200,
        mimetype="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{tenant}-{day.isoformat()}-{kind}.csv"'},
    )
