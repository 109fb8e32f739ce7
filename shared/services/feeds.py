"""The feed tracker: each asynchronous write Thor makes to the marketplace, until its feed reports.

Rules in shared.domain.feeds; what is confirmed of the marketplace's feeds in
shared/adapters/seller_center/feeds.py.

- `record_stock_feed`: the stock flush records the feed UpdateStock answered (what it carried, SKU →
  quantity, and when) *before* it marks those SKUs as in that feed, so a crash between the two leaves
  a feed that settles nothing (its SKUs are sent again once their in-flight time passes).
- `poll_open_feeds`: each flush (stock or price, shared.services.feed_sync) asks FeedStatus about every
  open feed of the tenant (oldest first; `MAX_POLLS` only bounds a backlog) and settles those that closed; a feed still open after
  `FEED_ABANDON_AFTER` is given up (its SKUs are sent again), one the marketplace does not know
  (E012) too. So a lost onFeedCompleted costs at most one flush interval.
- `handle_feed_completed`: the onFeedCompleted webhook (event kind `feed-completed`, recorded by any of
  the three marketplace webhook routes): FeedStatus for that feed, then the same settlement. A feed
  Thor did not create (a product feed made in Seller Center) or already settled is nothing to do.
- Settling an UpdateStock feed (`close`): the SKUs still in it become clean if the feed took them and
  nothing marked them since they were taken, else dirty again (sent by the next flush: the latest
  value wins); a refused SKU keeps the marketplace's message and is retried with back-off. Settling
  twice (the webhook and a poll at once) is harmless: the second finds no SKU still in the feed, and
  the feed itself is saved conditional on the version it was read at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.domain.errors import ExternalSystemError
from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.feeds import (
    ABANDONED,
    UNKNOWN_FEED,
    Feed,
    FeedAction,
    FeedReport,
    Settlement,
    canonical_status,
    given_up,
    settle,
)
from shared.domain.stock import SkuOutcome, SkuResult
from shared.models.webhooks import FeedCompletedWebhook
from shared.ports import MarketplacePort
from shared.roles import FeedsPorts
from shared.services.price_settlement import settle_price_feed

MAX_POLLS = 200
"""Open feeds asked about per tenant and flush: all of them in practice (a stock flush makes at most 4
new ones, a price flush at most 20, and each is settled by the next flush that finds it closed). The
bound only keeps a flush within its time when feeds pile up (the marketplace not answering)."""
UNKNOWN_FEED_CODE = "E012"
"""FeedStatus's documented error for a feed id it does not know (v600 ``feedstatus``)."""


def record_stock_feed(context: FeedsPorts, tenant: str, feed_id: str, rows: Sequence[tuple[str, int]]) -> Feed:
    feed = Feed(tenant, feed_id, FeedAction.UPDATE_STOCK.value, {sku: str(q) for sku, q in rows}, context.clock())
    context.feeds.add(feed)
    return feed


@dataclass
class PollReport:
    polled: int = 0
    settled: int = 0
    still_open: int = 0
    overdue: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def detail(self) -> str:
        if not self.polled and not self.settled:
            return ""
        text = f"feeds: {self.polled} polled, {self.settled} settled, {self.still_open} open"
        if self.overdue:
            text += f" ({self.overdue} overdue)"
        if self.refused:
            text += f", {self.refused} SKU(s) refused"
        return text + "".join(f"; {p}" for p in self.problems)


def poll_open_feeds(context: FeedsPorts, tenant: str, marketplace: MarketplacePort) -> PollReport:
    """Asks FeedStatus about the tenant's open feeds and settles those that closed (module docstring)."""
    report = PollReport()
    for feed in context.feeds.open_feeds(tenant, limit=MAX_POLLS):
        now = context.clock()
        if feed.abandoned(now):
            report.settled += 1
            close(context, feed, given_up(feed, now), ABANDONED)
            continue
        report.polled += 1
        try:
            answer = marketplace.feed_status(feed.feed_id)
        except ExternalSystemError as error:
            if error.code == UNKNOWN_FEED_CODE:
                report.settled += 1
                close_unknown(context, feed, error)
                continue
            feed.last_polled_at, feed.polls, feed.detail = now, feed.polls + 1, f"FeedStatus failed: {error}"
            context.feeds.save(feed)
            report.still_open += 1
            report.problems.append(f"FeedStatus {feed.feed_id}: {error}")
            if error.retryable:
                break  # the marketplace is struggling: the next flush asks again
            continue
        if apply_report(context, feed, answer):
            report.settled += 1
            report.refused += len(feed.refused)
        else:
            report.still_open += 1
            report.overdue += feed.overdue(now)
    return report


def close_unknown(context: FeedsPorts, feed: Feed, error: ExternalSystemError) -> None:
    """FeedStatus does not know the feed (E012): none of its items counts as judged; they go again."""
    reason = f"the marketplace does not know feed {feed.feed_id}: sent again"
    close(context, feed, Settlement((), dict.fromkeys(feed.items, reason), str(error), resend=True), UNKNOWN_FEED)


def apply_report(context: FeedsPorts, feed: Feed, answer: FeedReport) -> bool:
    """Applies FeedStatus's answer to the feed: settles it when closed (True), else notes its status."""
    feed.last_polled_at, feed.polls = context.clock(), feed.polls + 1
    if not answer.closed:
        feed.status = canonical_status(answer.status) or feed.status
        feed.detail = f"{feed.status}: {answer.processed or 0} of {answer.total or '?'} records processed"
        context.feeds.save(feed)
        return False
    close(context, feed, settle(feed, answer), canonical_status(answer.status))
    return True


def close(context: FeedsPorts, feed: Feed, settlement: Settlement, status: str) -> None:
    """Settles what the feed carried, then closes it (in this order: a crash between them re-settles
    nothing and closes it at the next poll)."""
    now = context.clock()
    if feed.action == FeedAction.UPDATE_STOCK.value:
        _settle_stock(context, feed, settlement, now)
    elif feed.action == FeedAction.PRODUCT_UPDATE.value:
        settle_price_feed(context, feed, settlement, now)
    feed.open, feed.status, feed.closed_at = False, status, now
    feed.refused = {} if settlement.resend else dict(settlement.refused)  # given up: none was refused
    feed.detail = settlement.detail
    context.feeds.save(feed)  # False: another settlement closed it first, with the same outcome


def _settle_stock(context: FeedsPorts, feed: Feed, settlement: Settlement, now: datetime) -> None:
    outcomes = []
    for record in context.stock.in_feed(feed.tenant, feed.feed_id):
        sent = feed.items.get(record.sku, "")
        quantity = int(sent) if sent.isdigit() else record.sent_quantity
        reason = settlement.refused.get(record.sku)
        if reason is None:
            outcomes.append(SkuOutcome(record, SkuResult.ACCEPTED, now, quantity))
        else:
            result = SkuResult.DEFERRED if settlement.resend else SkuResult.REFUSED
            outcomes.append(SkuOutcome(record, result, now, quantity, reason=reason))
    if outcomes:
        context.stock.record(outcomes)


def handle_feed_completed(context: FeedsPorts, event: InboundEvent, hook: FeedCompletedWebhook) -> Outcome:
    """onFeedCompleted: FeedStatus for the feed, then its settlement (see the module docstring)."""
    feed_id = hook.payload.Feed
    feed = context.feeds.get(event.tenant, feed_id)
    if feed is None:
        return Outcome(EventStatus.COMPLETED, f"feed {feed_id} is not one Thor created: nothing to do")
    if not feed.open:
        return Outcome(EventStatus.COMPLETED, f"feed {feed_id} already settled ({feed.status})")
    try:
        answer = context.marketplace(event.tenant).feed_status(feed_id)
    except ExternalSystemError as error:
        if error.code != UNKNOWN_FEED_CODE:
            raise  # retried by the queue when retryable; polling covers it meanwhile
        close_unknown(context, feed, error)
        return Outcome(EventStatus.COMPLETED, f"feed {feed_id}: the marketplace does not know it; its SKUs go again")
    if not apply_report(context, feed, answer):
        return Outcome(
            EventStatus.COMPLETED,
            f"feed {feed_id}: FeedStatus still says {feed.status}; the stock flush keeps polling it",
        )
    taken = len(feed.items) - len(feed.refused)
    return Outcome(
        EventStatus.COMPLETED,
        f"feed {feed_id} {feed.status}: {taken} SKU(s) taken, {len(feed.refused)} refused",
    )
