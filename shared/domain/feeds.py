"""Feeds: the marketplace's asynchronous writes, and what Thor keeps of each until it reports.

Seller Center answers a write such as UpdateStock (price and product updates next) with a *feed*, a
UUID, not a result: the write is done when the feed is, and per item as the feed says
(developers.falabella.com v600 ``feeds``, ``feedstatus``; the confirmed and unconfirmed facts are
listed in ``shared/adapters/seller_center/feeds.py``). Thor records each feed it creates (`Feed`:
tenant, id, action, what it carried per SKU, when), learns its outcome from ``onFeedCompleted`` or by
polling ``FeedStatus`` (`FeedReport`), and only then settles the items it carried:

- a feed is *open* until FeedStatus reports a closing status (Finished, Canceled, Error); every open
  feed is polled at each stock flush (the flush timer, every 2 minutes), and the webhook settles it
  at once when it comes;
- an open feed older than `FEED_OVERDUE_AFTER` is flagged *overdue* (ops and the console show it);
  one older than `FEED_ABANDON_AFTER` is given up: its items are sent again (an absolute quantity,
  so a repeated write is harmless) and the feed is closed as ``Abandoned``;
- a Finished feed refused the SKUs its FeedErrors (or FeedWarnings) name, each with the marketplace's
  message; the others were taken. A Canceled or Error feed took none of them.

Pure: no storage, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

FEED_OVERDUE_AFTER = timedelta(minutes=30)
"""An open feed older than this is flagged (shown as overdue); it keeps being polled."""
FEED_ABANDON_AFTER = timedelta(hours=6)
"""An open feed older than this is given up: its items are sent again in a new feed."""
ABANDONED = "Abandoned"
"""Thor's own closing status for a feed given up (never a marketplace status)."""
UNKNOWN_FEED = "Unknown"
"""Thor's own closing status for a feed the marketplace says it does not know (E012)."""


class FeedAction(StrEnum):
    """What a feed carried (the marketplace's action name)."""

    UPDATE_STOCK = "UpdateStock"
    PRODUCT_UPDATE = "ProductUpdate"  # prices (shared.services.price_sync)


class FeedState(StrEnum):
    """FeedStatus's documented statuses (v600 ``feedstatus``)."""

    QUEUED = "Queued"
    PROCESSING = "Processing"
    FINISHED = "Finished"
    CANCELED = "Canceled"
    ERROR = "Error"


CLOSING = frozenset({FeedState.FINISHED.value, FeedState.CANCELED.value, FeedState.ERROR.value})


def canonical_status(raw: object) -> str:
    """A status as documented (``finished`` → ``Finished``); an unknown one kept as written."""
    text = str(raw or "").strip()
    for state in FeedState:
        if text.lower() == state.value.lower():
            return state.value
    return text


@dataclass(frozen=True)
class FeedIssue:
    """One FeedErrors/Error or FeedWarnings/Warning: the SKU it names (may be empty), code, message."""

    sku: str
    message: str
    code: str = ""

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True)
class FeedReport:
    """FeedStatus's answer for one feed."""

    feed_id: str
    status: str
    action: str = ""
    total: int | None = None
    processed: int | None = None
    failed: int | None = None
    errors: tuple[FeedIssue, ...] = ()
    warnings: tuple[FeedIssue, ...] = ()

    @property
    def closed(self) -> bool:
        return canonical_status(self.status) in CLOSING

    @property
    def finished(self) -> bool:
        return canonical_status(self.status) == FeedState.FINISHED.value

    def refused(self, skus: set[str] | None = None) -> dict[str, str]:
        """SKU → the marketplace's reason, for each SKU an error (or a warning) of the feed names.
        Errors come first; a SKU with both keeps the error's message."""
        found = {w.sku: f"warning: {w.reason}" for w in self.warnings if w.sku}
        found.update({e.sku: e.reason for e in self.errors if e.sku})
        return {sku: reason for sku, reason in found.items() if skus is None or sku in skus}

    @property
    def general_errors(self) -> tuple[FeedIssue, ...]:
        """Errors that name no SKU (kept on the feed, shown; they do not refuse any one SKU)."""
        return tuple(e for e in self.errors if not e.sku)


@dataclass
class Feed:
    """A feed Thor created, as it keeps it (Table ``ThorFeeds``)."""

    tenant: str
    feed_id: str
    action: str
    items: dict[str, str]
    """What the feed carried: SKU → the value sent (a stock quantity, later a price…), as text."""
    created_at: datetime
    status: str = FeedState.QUEUED.value
    """The marketplace's last reported status (Queued until it reports), or Abandoned / Unknown."""
    open: bool = True
    last_polled_at: datetime | None = None
    polls: int = 0
    closed_at: datetime | None = None
    refused: dict[str, str] = field(default_factory=dict)
    """After it closed: SKU → the marketplace's reason, for each SKU it did not take."""
    detail: str = ""
    """The last thing learnt of it: a poll's error, the counts, errors naming no SKU."""
    etag: str | None = None

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at

    def overdue(self, now: datetime) -> bool:
        return self.open and self.age(now) >= FEED_OVERDUE_AFTER

    def abandoned(self, now: datetime) -> bool:
        return self.open and self.age(now) >= FEED_ABANDON_AFTER


@dataclass(frozen=True)
class Settlement:
    """What a closed feed means for the items it carried: the SKUs taken, and those refused with why."""

    accepted: tuple[str, ...]
    refused: dict[str, str]
    detail: str
    resend: bool = False
    """The items were never judged (a feed given up): sent again at once, no back-off, no failure counted."""


def settle(feed: Feed, report: FeedReport) -> Settlement:
    """The items' fate once `report` closes the feed (see the module docstring)."""
    skus = list(feed.items)
    counts = f"{report.total if report.total is not None else '?'} records, {report.failed or 0} failed"
    general = "; ".join(e.reason for e in report.general_errors)
    detail = f"{canonical_status(report.status)}: {counts}" + (f"; {general}" if general else "")
    if not report.finished:
        reason = f"feed {feed.feed_id} ended {canonical_status(report.status)}" + (f": {general}" if general else "")
        return Settlement((), {sku: reason for sku in skus}, detail)
    refused = report.refused(set(skus))
    return Settlement(tuple(sku for sku in skus if sku not in refused), refused, detail)


def given_up(feed: Feed, now: datetime) -> Settlement:
    """A feed that never reported: none of its items counts as taken (they are sent again)."""
    hours = feed.age(now).total_seconds() / 3600
    reason = f"feed {feed.feed_id} still open after {hours:.1f} h: sent again"
    return Settlement((), {sku: reason for sku in feed.items}, f"{ABANDONED}: {reason}", resend=True)
