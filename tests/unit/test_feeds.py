"""The feed tracker on fakes (shared/services/feeds.py, shared/domain/feeds.py) and the reading of the
marketplace's feed answers (shared/adapters/seller_center/feeds.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from shared.adapters.seller_center.feeds import feed_of, feed_report
from shared.domain.events import EventKind, EventStatus
from shared.domain.feeds import FEED_ABANDON_AFTER, FEED_OVERDUE_AFTER, Feed, FeedIssue, FeedReport, settle
from shared.domain.product import Product
from shared.domain.stock import SkuResult, StockState, StockSyncSettings
from shared.services import console, intake
from shared.services.console import stock_sync_view
from shared.services.processing import process_event
from shared.services.stock_sync import flush_tenant, stock_sync_state
from tests.checks import present
from tests.fakes import FakeContext, fake_context

T = "faco"


def stock_context(*skus: str) -> FakeContext:
    context = fake_context(T)
    context.stock_sync[T] = StockSyncSettings(enabled=True)
    for sku in skus:
        context.products.merge(Product(tenant=T, sku=sku, marketplace_listed=True))
        context.zorts[T].stock[sku] = Decimal(4)
    context.stock.mark_dirty(T, list(skus), context.clock())
    return context


def feed_completed(context: FakeContext, feed_id: str, delivery: str = "") -> EventStatus | None:
    acceptance = intake.record_event(
        context.events,
        context.queue,
        tenant=T,
        kind=EventKind.FEED_COMPLETED,
        identity=["onFeedCompleted", feed_id, delivery],
        body={"event": "onFeedCompleted", "payload": {"Feed": feed_id}},
    )
    return process_event(context, T, acceptance.event_id, context.settings.retry_delays)


def state_of(context: FakeContext, sku: str) -> StockState:
    record = context.stock.get(T, sku)
    assert record is not None
    return record.state(context.clock())


def test_a_sku_is_clean_only_after_its_feed_completes_and_the_webhook_settles_it() -> None:
    context = stock_context("A", "B")
    marketplace = context.marketplaces[T]
    marketplace.finish_on_ask = False  # FeedStatus keeps answering Queued
    flush_tenant(context, T)
    [feed_id] = marketplace.feeds
    for _ in range(3):
        context.clock.advance(120)
        flush_tenant(context, T)
    assert state_of(context, "A") is StockState.IN_FEED and marketplace.stock == {}
    [state] = stock_sync_state(context, [T])
    [open_feed] = state.open_feeds
    assert (open_feed.feed_id, open_feed.skus, open_feed.age_minutes, open_feed.polls) == (feed_id, 2, 6.0, 3)
    assert state.in_feed == 2 and not open_feed.overdue
    marketplace.finish(feed_id)  # the marketplace processes it and sends onFeedCompleted
    assert feed_completed(context, feed_id) is EventStatus.COMPLETED
    assert context.events.list()[-1].outcome == f"feed {feed_id} Finished: 2 SKU(s) taken, 0 refused"
    assert state_of(context, "A") is StockState.CLEAN and state_of(context, "B") is StockState.CLEAN
    assert not context.feeds.open_feeds(T)
    assert feed_completed(context, feed_id, "again") is EventStatus.COMPLETED  # another one: nothing more
    assert "already settled" in present(context.events.list()[-1].outcome)


def test_the_console_counts_a_tenants_open_feeds_as_open_now() -> None:
    context = stock_context("A")
    context.marketplaces[T].finish_on_ask = False
    flush_tenant(context, T)
    assert console.open_now(context, T).open["open_feeds"] == 1
    [feed_id] = context.marketplaces[T].feeds
    context.marketplaces[T].finish(feed_id)
    feed_completed(context, feed_id)
    assert console.open_now(context, T).open["open_feeds"] == 0


def test_a_lost_on_feed_completed_is_covered_by_the_next_flush_polling_feed_status() -> None:
    context = stock_context("A")
    flush_tenant(context, T)
    assert state_of(context, "A") is StockState.IN_FEED
    context.clock.advance(120)
    report = flush_tenant(context, T)  # no webhook ever came
    assert "1 polled, 1 settled" in report.polled
    assert state_of(context, "A") is StockState.CLEAN
    assert [c[0] for c in context.marketplaces[T].calls] == ["update_stock", "feed_status"]


def test_a_webhook_for_a_feed_thor_did_not_create_is_recorded_and_does_nothing() -> None:
    context = stock_context()
    assert feed_completed(context, "829a8d2a-d370-4fa6-8613-8554f43d5fed") is EventStatus.COMPLETED
    assert "not one Thor created" in present(context.events.list()[-1].outcome)
    assert not context.marketplaces[T].calls


def test_a_feed_that_never_reports_is_flagged_then_given_up_and_its_skus_sent_again() -> None:
    context = stock_context("A")
    marketplace = context.marketplaces[T]
    marketplace.finish_on_ask = False
    flush_tenant(context, T)
    context.clock.advance(FEED_OVERDUE_AFTER.total_seconds())
    flush_tenant(context, T)
    [state] = stock_sync_state(context, [T])
    assert state.open_feeds[0].overdue
    view = dict(stock_sync_view(context, T).details)
    assert any(
        label.startswith("open feed") and value.startswith("OVERDUE 30 min old") for label, value in view.items()
    )
    context.clock.advance((FEED_ABANDON_AFTER - FEED_OVERDUE_AFTER).total_seconds())
    flush_tenant(context, T)  # given up: A is sent again in a new feed, no failure counted
    assert len(marketplace.feeds) == 2 and state_of(context, "A") is StockState.IN_FEED
    record = context.stock.get(T, "A")
    assert record and record.failures == 0
    [first, _] = marketplace.feeds
    given_up = context.feeds.get(T, first)
    assert present(given_up).status == "Abandoned" and "still open after 6.0 h: sent again" in present(given_up).detail


def test_a_feed_the_marketplace_does_not_know_sends_its_skus_again() -> None:
    context = stock_context("A")
    marketplace = context.marketplaces[T]
    flush_tenant(context, T)
    marketplace.feeds.clear()  # FeedStatus now answers E012 Invalid Feed ID
    flush_tenant(context, T)
    assert len([c for c in marketplace.calls if c[0] == "update_stock"]) == 2
    assert state_of(context, "A") is StockState.IN_FEED


def test_a_canceled_feed_refuses_all_it_carried_with_back_off() -> None:
    context = stock_context("A")
    marketplace = context.marketplaces[T]
    marketplace.finish_on_ask = False
    flush_tenant(context, T)
    [feed_id] = marketplace.feeds
    marketplace.finish(feed_id, "Canceled")
    marketplace.finish_on_ask = True
    flush_tenant(context, T)
    record = context.stock.get(T, "A")
    assert record and record.result is SkuResult.SENT and record.reason == f"feed {feed_id} ended Canceled"
    flush_tenant(context, T)  # sent again at once, taken this time
    assert state_of(context, "A") is StockState.CLEAN and marketplace.stock == {"A": 4}


# --- rules ---------------------------------------------------------------------------------------


def test_a_finished_feed_refuses_the_skus_its_errors_or_warnings_name() -> None:
    feed = Feed(T, "F", "UpdateStock", {"A": "1", "B": "2", "C": "3"}, created_at=fake_context().clock())
    report = FeedReport(
        "F",
        "finished",  # any spelling
        errors=(FeedIssue("B", "Negative value is not allowed", "1"), FeedIssue("", "SellerSku cannot be empty", "0")),
        warnings=(FeedIssue("C", "The following SKUs have been excluded"),),
    )
    outcome = settle(feed, report)
    assert outcome.accepted == ("A",)
    assert outcome.refused == {
        "B": "1: Negative value is not allowed",
        "C": "warning: The following SKUs have been excluded",
    }
    assert "0: SellerSku cannot be empty" in outcome.detail
    assert not FeedReport("F", "Processing").closed and FeedReport("F", "Error").closed


# --- the marketplace's answers ------------------------------------------------------------------


def test_the_feed_of_an_update_stock_answer() -> None:
    # LinioIT/seller-center-sdk tests/_schemas/Product/UpdateStockResponse.xml: <Body><Stocks><feed>UUID</feed>
    fixture = {"SuccessResponse": {"Head": {"RequestId": ""}, "Body": {"Stocks": {"feed": "a1b2-c3"}}}}
    assert feed_of(fixture) == "a1b2-c3"
    # developers.falabella.com v300 feeds: the feed id is the answer's Head.RequestId, Body empty
    assert feed_of({"SuccessResponse": {"Head": {"RequestId": "6a521aff"}, "Body": ""}}) == "6a521aff"
    assert feed_of({"SuccessResponse": {"Head": {}, "Body": {}}}) == ""


def test_feed_status_read_as_the_sdk_fixture_writes_it() -> None:
    # LinioIT/seller-center-sdk gsc-master tests/_schemas/Feed/FeedProductUpdate.xml, as JSON
    body = {
        "FeedDetail": {
            "Feed": "aa19d73f-ab3a-48c1-b196-9a1f18e5280e",
            "Status": "Finished",
            "Action": "ProductUpdate",
            "CreationDate": "2018-12-17 13:46:25",
            "Source": "api",
            "TotalRecords": "1232",
            "ProcessedRecords": "1190",
            "FailedRecords": "114",
            "FeedErrors": {
                "Error": [
                    {"Code": "1", "Message": "Negative value is not allowed", "SellerSku": "9786077351993"},
                    {"Code": "1", "Message": "Seller SKU '9788441418011' not found", "SellerSku": "9788441418011"},
                ]
            },
            "FeedWarnings": {"Warning": {"Message": "The following SKUs have been excluded", "SellerSku": "X"}},
        }
    }
    report = feed_report(body, "aa19d73f-ab3a-48c1-b196-9a1f18e5280e")
    assert (
        report is not None and report.finished and (report.total, report.processed, report.failed) == (1232, 1190, 114)
    )
    assert report.refused() == {
        "9786077351993": "1: Negative value is not allowed",
        "9788441418011": "1: Seller SKU '9788441418011' not found",
        "X": "warning: The following SKUs have been excluded",
    }
    one = feed_report({"FeedDetail": {"Status": "Queued", "FeedErrors": ""}}, "F")
    assert one is not None and one.feed_id == "F" and not one.closed and one.errors == ()
    assert feed_report({}, "F") is None


def test_overdue_and_abandoned_ages() -> None:
    now = fake_context().clock()
    feed = Feed(T, "F", "UpdateStock", {}, created_at=now)
    assert not feed.overdue(now + FEED_OVERDUE_AFTER - timedelta(seconds=1))
    assert feed.overdue(now + FEED_OVERDUE_AFTER) and not feed.abandoned(now + FEED_OVERDUE_AFTER)
    assert feed.abandoned(now + FEED_ABANDON_AFTER)


def test_a_paused_tenant_writes_nothing_but_its_open_feeds_still_settle() -> None:
    from shared.services.stock_sync import set_paused

    context = stock_context("A")
    flush_tenant(context, T)
    set_paused(context, T, True, "audit")
    context.stock.mark_dirty(T, ["A"], context.clock())  # changed meanwhile: waits for the resume
    report = flush_tenant(context, T)
    assert report.result == "paused" and "1 settled" in report.polled
    assert context.marketplaces[T].stock == {"A": 4} and state_of(context, "A") is StockState.DIRTY
    assert len([c for c in context.marketplaces[T].calls if c[0] == "update_stock"]) == 1


def test_on_feed_completed_for_a_feed_the_marketplace_does_not_know_sends_its_skus_again() -> None:
    context = stock_context("A")
    flush_tenant(context, T)
    [feed_id] = context.marketplaces[T].feeds
    context.marketplaces[T].feeds.clear()
    assert feed_completed(context, feed_id) is EventStatus.COMPLETED
    assert "does not know it" in (context.events.list()[-1].outcome or "")
    assert state_of(context, "A") is StockState.DIRTY and present(context.feeds.get(T, feed_id)).status == "Unknown"


def test_a_sku_in_an_open_feed_is_not_due_even_forced_and_clears_only_unchanged() -> None:
    from shared.domain.stock import SkuOutcome, StockRecord

    now = fake_context().clock()
    record = StockRecord(T, "A", dirty=True, mark="m2", sending_mark="m1", feed_id="F")
    assert record.state(now) is StockState.IN_FEED and not record.due(now, force=True)
    assert not SkuOutcome(record, SkuResult.ACCEPTED, now).clears  # marked again since it was taken
    assert SkuOutcome(StockRecord(T, "A", dirty=True, mark="m1", sending_mark="m1"), SkuResult.ACCEPTED, now).clears
    sent = SkuOutcome(StockRecord(T, "A", failures=2), SkuResult.SENT, now, feed_id="F")
    assert not sent.clears and sent.failures == 2 and sent.next_attempt_at is None


def test_a_crash_between_recording_a_feed_and_marking_its_skus_loses_nothing() -> None:
    import pytest

    from shared.domain.stock import IN_FLIGHT_FOR

    context = stock_context("A")
    real = context.stock.record

    def crash(outcomes: object) -> None:
        raise RuntimeError("the host died")

    context.stock.record = crash  # type: ignore[method-assign]  # patched for this test only
    with pytest.raises(RuntimeError):
        flush_tenant(context, T)
    context.stock.record = real  # type: ignore[method-assign]  # patched for this test only
    [orphan] = context.feeds.open_feeds(T)  # recorded first: it names A, A does not name it
    assert state_of(context, "A") is StockState.IN_FLIGHT
    context.clock.advance(IN_FLIGHT_FOR.total_seconds())
    report = flush_tenant(context, T)  # the orphan settles nothing and closes; A goes again
    assert "1 settled" in report.polled and report.result == "sent"
    assert not present(context.feeds.get(T, orphan.feed_id)).open
    flush_tenant(context, T)
    assert state_of(context, "A") is StockState.CLEAN and context.marketplaces[T].stock == {"A": 4}
