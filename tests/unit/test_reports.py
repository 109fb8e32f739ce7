"""A report's rows are the orders of the tenant's local day, right across Chile's clock changes
(shared/domain/reports.py, shared/services/reports.py), on fakes."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

from shared.domain.order import Order, OrderItem
from shared.domain.reports import local_day
from shared.services.reports import build_report, run_reports
from tests.fakes import FakeAlerts, FakeContext, fake_context

UTC = timezone.utc


def add(
    context: FakeContext,
    tenant: str,
    number: int,
    created: datetime,
    status: str = "pending",
    promised: datetime | None = None,
) -> None:
    context.orders.add(
        Order(
            tenant=tenant,
            marketplace_order_id=str(number),
            internal_order_id=f"{tenant}-{number}",
            created_at=created,
            promised_shipping_time=promised,
            items=[OrderItem(item_id=str(number), sku="S", status=status)],
        )
    )


def ids(text: str) -> list[str]:
    return [row["internal_order_id"] for row in csv.DictReader(io.StringIO(text))]


def test_the_day_the_clocks_go_back_has_25_hours_and_its_report_all_of_them() -> None:
    # Santiago, 2026-04-05 00:00 (UTC-3) becomes 2026-04-04 23:00 (UTC-4), at 03:00 UTC
    context = fake_context("facl", now=datetime(2026, 4, 6, 12, 0, tzinfo=UTC))
    add(context, "facl", 1, datetime(2026, 4, 4, 2, 59, tzinfo=UTC))  # 2026-04-03 23:59 local: the day before
    add(context, "facl", 2, datetime(2026, 4, 4, 3, 0, tzinfo=UTC))  # 00:00 local: first minute of the day
    add(context, "facl", 3, datetime(2026, 4, 5, 2, 30, tzinfo=UTC))  # 23:30 local (UTC-3), first time
    add(context, "facl", 4, datetime(2026, 4, 5, 3, 30, tzinfo=UTC))  # 23:30 local again (UTC-4): same day
    add(context, "facl", 5, datetime(2026, 4, 5, 4, 0, tzinfo=UTC))  # 2026-04-05 00:00 local: the next day
    start, end = local_day("facl", date(2026, 4, 4))
    assert end - start == timedelta(hours=25)
    text, rows, truncated = build_report(context, "facl", date(2026, 4, 4), "orders")
    assert ids(text) == ["facl-2", "facl-3", "facl-4"] and rows == 3 and not truncated
    assert ids(build_report(context, "facl", date(2026, 4, 5), "orders")[0]) == ["facl-5"]
    local_times = [row["created_at_local"] for row in csv.DictReader(io.StringIO(text))]
    assert local_times == ["2026-04-04T00:00:00-03:00", "2026-04-04T23:30:00-03:00", "2026-04-04T23:30:00-04:00"]


def test_the_day_the_clocks_go_forward_has_23_hours_and_its_report_only_those() -> None:
    # Santiago, 2026-09-06 00:00 (UTC-4) becomes 01:00 (UTC-3), at 04:00 UTC
    context = fake_context("facl", now=datetime(2026, 9, 8, 12, 0, tzinfo=UTC))
    add(context, "facl", 1, datetime(2026, 9, 6, 3, 59, tzinfo=UTC))  # 2026-09-05 23:59 local
    add(context, "facl", 2, datetime(2026, 9, 6, 4, 0, tzinfo=UTC))  # 2026-09-06 01:00 local: the day's start
    add(context, "facl", 3, datetime(2026, 9, 7, 2, 59, tzinfo=UTC))  # 23:59 local
    add(context, "facl", 4, datetime(2026, 9, 7, 3, 30, tzinfo=UTC))  # 2026-09-07 00:30 local: the next day
    start, end = local_day("facl", date(2026, 9, 6))
    assert end - start == timedelta(hours=23)
    assert ids(build_report(context, "facl", date(2026, 9, 6), "orders")[0]) == ["facl-2", "facl-3"]


def test_the_pending_report_lists_what_was_still_owed_when_the_day_ended() -> None:
    context = fake_context("faco", now=datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    day_end = local_day("faco", date(2026, 12, 3))[1]
    add(context, "faco", 1, day_end - timedelta(days=2), promised=day_end - timedelta(hours=5))
    add(context, "faco", 2, day_end - timedelta(hours=1), status="ready_to_ship")  # not owed
    add(context, "faco", 3, day_end + timedelta(minutes=1))  # created after the day ended
    text = build_report(context, "faco", date(2026, 12, 3), "pending")[0]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["internal_order_id"] for r in rows] == ["faco-1"]
    assert rows[0]["hours_past_promise"] == "5.0"


def test_the_reports_timer_writes_each_tenants_last_day_once_and_sends_its_links() -> None:
    now = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 03:00 in Santiago and Buenos Aires, 01:00 in Bogota
    context, alerts = fake_context("facl", now=now), FakeAlerts()
    add(context, "facl", 1, datetime(2026, 12, 3, 15, 0, tzinfo=UTC))
    reports = run_reports(context, alerts)
    names = {r.name for r in reports}
    assert "facl/2026-12-03/orders.csv" in names and "facl/2026-12-03/pending.csv" in names
    assert ids(alerts.reports.blobs["facl/2026-12-03/orders.csv"].decode()) == ["facl-1"]
    links = [n for n in alerts.channel.notices if n.tenant == "facl"]
    assert len(links) == 2 and links[0].link.startswith("https://reports.example/facl/2026-12-03/orders.csv")
    assert "72" not in links[0].expires and links[0].expires.startswith("2026-12-07T06:00:00")
    assert run_reports(context, alerts) == []  # the day is written once


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted() -> None:
    from shared.domain.reports import to_csv

    text = to_csv(["a", "b"], [["=HYPERLINK(1)", "-12.5"], ["@SUM(1)", "-x"]])
    assert text.splitlines()[1:] == ["'=HYPERLINK(1),-12.5", "'@SUM(1),'-x"]
