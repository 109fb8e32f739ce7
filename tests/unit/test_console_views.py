"""The console's views on in-memory fakes (shared/services/console.py): what is open now adds up with
the day's flow (each event once, in its current status), every attempt is kept with what to do about
it, search finds by each kind of id across tenants, the SLA radar sorts by urgency and computes the
seller-caused cancellation rate, and the journey reads as sentences."""

from __future__ import annotations

from datetime import timedelta

from functions._console_render import age, bars, duration
from shared.domain.errors import ExternalSystemError
from shared.domain.events import HISTORY_KEPT, EventKind, EventStatus
from shared.services import console
from shared.services.processing import process_event, replay
from tests.checks import present
from tests.fakes import FakeContext, fake_context, marketplace_item
from tests.unit.test_event_pipeline import order_created, settle


class OmsRefused(ExternalSystemError):
    system = "oms"


def oms_error(code: str, status: int | None = None, retryable: bool = False) -> OmsRefused:
    return OmsRefused(code, "the OMS said no", status=status, retryable=retryable)


def forbidden() -> OmsRefused:
    return OmsRefused("HTTP_403", "token refused", status=403, operation="OMS POST /api/v1/orders")


def with_order(context: FakeContext, order_id: str, tenant: str = "sope", promised_in: float | None = None) -> str:
    item = marketplace_item(f"{order_id}0", order_id=order_id)
    if promised_in is not None:
        item = item.model_copy(update={"promised_shipping_time": context.clock() + timedelta(hours=promised_in)})
    context.marketplace(tenant).add_order(order_id, item)
    return order_created(context, order_id, tenant)


def test_a_failed_event_is_open_once_and_leaves_failed_when_replayed_and_completed() -> None:
    context = fake_context("sope")
    event_id = with_order(context, "501")
    context.oms("sope").fail_next(forbidden())
    assert settle(context, event_id) is EventStatus.FAILED
    now = console.open_now(context, "sope")
    assert now.open["failed"] == 1 and now.severity == "bad"
    assert now.flow.today("failed") == 1 and now.flow.today("accepted") == 1

    replay(context, "sope", event_id, by="ana (aad)")
    assert settle(context, event_id) is EventStatus.COMPLETED
    now = console.open_now(context, "sope")
    assert now.open["failed"] == 0 and now.severity == "ok"
    flow = {name: now.flow.today(name) for name in ("accepted", "completed", "failed", "blocked", "unmatched")}
    assert flow == {"accepted": 1, "completed": 1, "failed": 0, "blocked": 0, "unmatched": 0}
    assert now.still_pending == 0


def test_a_blocked_event_counts_once_however_often_it_is_attempted() -> None:
    context = fake_context("sope")
    event_id = order_created(context, "502", tenant="somx")  # somx has no settings: blocked
    for _ in range(3):
        context.events.events[("somx", event_id)].claimed_by = None
        process_event(context, "somx", event_id)
    now = console.open_now(context, "somx")
    assert now.open["blocked"] == 1 and now.flow.today("blocked") == 1 and now.severity == "warn"


def test_every_attempt_is_kept_with_the_system_its_http_status_the_next_retry_and_what_to_do() -> None:
    context = fake_context("sope", retry_delays=(10, 60))
    event_id = with_order(context, "503")
    context.oms("sope").fail_next(oms_error("HTTP_503", 503, retryable=True))
    context.oms("sope").fail_next(forbidden())
    assert settle(context, event_id) is EventStatus.FAILED
    event = console.event_summary(context, "sope", event_id)
    assert event is not None
    first, last = event.history
    assert (first.outcome, first.http_status, first.next_retry_at is not None) == ("retry-scheduled", 503, True)
    assert (last.outcome, last.system, last.http_status, last.code) == ("failed", "oms", 403, "HTTP_403")
    assert "check OMS_TOKEN_SOPE, OMS_TENANT_SOPE" in event.hint

    console.replay_event_action(context, "sope", event_id, "ana (aad)")
    replayed = console.event_summary(context, "sope", event_id)
    assert replayed is not None and replayed.history[-1].outcome == "replayed"
    assert replayed.history[-1].by == "ana (aad)"


def test_the_attempts_history_is_bounded() -> None:
    context = fake_context("sope", retry_delays=tuple([1] * 20))
    event_id = with_order(context, "504")
    context.oms("sope").fail_next(oms_error("TIMEOUT", retryable=True), times=14)
    settle(context, event_id, limit=20)
    event = context.events.get("sope", event_id)
    assert event is not None and event.attempts == 15 and len(event.history) == HISTORY_KEPT


def test_hints_name_the_missing_setting_and_say_what_an_unmatched_event_means() -> None:
    context = fake_context("sope")
    blocked = order_created(context, "505", tenant="somx")
    process_event(context, "somx", blocked)
    hint = console.event_summary(context, "somx", blocked)
    assert hint is not None and "Set MARKETPLACE_SOMX_*" in hint.hint and "replay" in hint.hint
    context.events.set_status(present(context.events.get("somx", blocked)), EventStatus.UNMATCHED, outcome="no order")
    unmatched = console.event_summary(context, "somx", blocked)
    assert unmatched is not None and "ZORT named an order Thor does not have" in unmatched.hint


def test_search_finds_orders_by_either_id_events_by_id_and_nothing_by_a_stranger() -> None:
    context = fake_context("sope", "faco")
    event_id = with_order(context, "506")
    settle(context, event_id)
    by_marketplace = console.search(context, "506")
    assert [(h.kind, h.tenant, h.title) for h in by_marketplace] == [("order", "sope", "sope-506")]
    assert console.search(context, "sope-506")[0].link == "/console/tenants/sope/orders/sope-506"
    [hit] = console.search(context, event_id)
    assert (hit.kind, hit.tenant, hit.title) == ("event", "sope", event_id)
    assert console.search(context, "nothing-like-it") == [] and console.search(context, "") == []


def test_the_radar_lists_late_orders_first_and_the_cancellation_rate_counts_the_sellers_side() -> None:
    context = fake_context("sope")
    for order_id, promised_in in (("601", 30), ("602", -2), ("603", 5)):
        settle(context, with_order(context, order_id, promised_in=promised_in))
    radar = console.sla_radar(context)
    assert [row.internal_order_id for row in radar.rows] == ["sope-602", "sope-603", "sope-601"]
    assert [row.severity for row in radar.rows] == ["bad", "ok", "ok"]
    assert radar.rows[0].left == timedelta(hours=-2) and "America/Lima" in radar.rows[0].promised_local

    # the marketplace cancels the late order (after its promised time: the seller did not ship)
    context.marketplace("sope").set_item_status("602", ["6020"], "canceled")
    body = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": "602", "OrderItemIds": ["6020"], "NewStatus": "canceled"},
    }
    from tests.unit.test_event_pipeline import record

    settle(context, record(context, EventKind.ITEMS_STATUS, body, internal_order_id="sope-602"))
    rate = next(r for r in console.sla_radar(context).rates if r.tenant == "sope")
    assert (rate.canceled, rate.orders) == (1, 3) and rate.severity == "bad"  # 33% > 3%


def test_the_journey_reads_as_sentences_without_python_output() -> None:
    assert console.sentence("item status", "32728130: pending -> shipped", "marketplace") == (
        "Item 32728130 went from pending to shipped (the marketplace)."
    )
    assert console.readable("items now {'32728130': 'shipped'}; sent") == "items now 32728130 shipped; sent"
    assert "{" not in console.sentence("order status", "ZORT: {'a': 'b'}", "zort")


def test_ages_and_durations_read_in_words_and_charts_have_a_round_scale_and_hour_labels() -> None:
    assert duration(timedelta(hours=3, minutes=12)) == "3 h 12 min"
    assert duration(timedelta(days=945, hours=12)) == "945 d 12 h"
    context = fake_context("sope")
    now = context.clock()
    assert age(now - timedelta(minutes=5), now) == "5 min ago" and age(now + timedelta(hours=2), now) == "in 2 h"
    series = [(now.replace(hour=h), h % 7) for h in range(24)]
    chart = bars(series, "sope")
    assert chart["top"] == 10 and len(chart["labels"]) == 12 and chart["labels"][0]["text"].isdigit()
