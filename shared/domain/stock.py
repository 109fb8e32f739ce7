"""Stock sync rules: what a storefront is told, when, and what a SKU's sync state is.

A ZORT stock webhook is only a hint (it carries no time or sequence, and may come late or out of
order): it marks the SKU *dirty* for each tenant that sells it. A flush reads the SKU's current
available stock from ZORT (the source of truth at that moment), holds back the tenant's buffer,
never goes below 0, and writes it to the marketplace in batches of at most 500.

States of one SKU for one tenant (`StockRecord.state`):

- clean: what the marketplace was last told covers every change marked so far;
- dirty: a change was marked since (each mark is a new random token, `mark`);
- in flight: a flush has taken it (`sending_mark`, `sending_at`) and not yet recorded the answer;
  a flush that crashed leaves it so until `IN_FLIGHT_FOR` has passed, then it is dirty again;
- in feed: UpdateStock answered with a feed (`feed_id`) that has not reported yet (shared.domain.feeds).
  A SKU in an open feed is not sent again, even if marked meanwhile: the feed settles it first.

A SKU is clean only when the feed that carried it finished without an error for it *and* nothing
marked it since the flush took it (`mark == sending_mark`, and the write that makes it clean is
conditional on the version it was read at). A SKU marked again while its write is in flight or in
its feed stays dirty after the feed closes, so the next flush sends the latest value. A SKU the feed
refused keeps the marketplace's message and is retried with back-off. Writing the same absolute
quantity twice is harmless: a crash between the marketplace's answer and Thor recording it only
repeats a write of the same (or a newer) value.

Pure: no storage, no clock of its own (times are given).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from shared.domain.stock_settings import StockSyncSettings as StockSyncSettings
from shared.domain.stock_settings import StockWarehouse as StockWarehouse
from shared.domain.stock_settings import WarehouseKind as WarehouseKind

T = TypeVar("T")

MAX_SKUS_PER_WRITE = 500
"""UpdateStock takes at most 500 SKUs per request (developers.falabella.com v600 reference updatestock)."""
WRITES_PER_FLUSH = 4
MAX_SKUS_PER_FLUSH = MAX_SKUS_PER_WRITE * WRITES_PER_FLUSH
"""A flush writes at most 4 batches per tenant; what is left stays dirty for the next flush."""
IN_FLIGHT_FOR = timedelta(minutes=5)
"""How long a taken SKU counts as in flight (the function timeout): after it, a crashed flush's SKUs are dirty."""
THROTTLE_WAIT = timedelta(minutes=2)
"""Wait after a 429 without Retry-After: the marketplace's documented feed rule is 2 minutes between calls."""
FIRST_REFUSAL_BACKOFF = timedelta(minutes=5)
MAX_REFUSAL_BACKOFF = timedelta(hours=1)


class StockState(StrEnum):
    CLEAN = "clean"
    DIRTY = "dirty"
    IN_FLIGHT = "in-flight"
    IN_FEED = "in-feed"


class SkuResult(StrEnum):
    """What the last flush made of a SKU."""

    SENT = "sent"  # in a feed the marketplace has not reported on yet (feed_id)
    ACCEPTED = "accepted"  # the feed that carried it finished without an error for it
    REFUSED = "refused"  # the marketplace refused this SKU (reason kept); retried with back-off
    NOT_IN_ZORT = "not-in-zort"  # ZORT did not return the SKU: nothing written; retried with back-off
    DEFERRED = "deferred"  # not written this time (throttled, a system unreachable); next flush


@dataclass
class StockRecord:
    """One SKU's sync state for one tenant, as stored."""

    tenant: str
    sku: str
    dirty: bool = False
    mark: str = ""
    marked_at: datetime | None = None
    sending_mark: str = ""
    sending_at: datetime | None = None
    synced_mark: str = ""
    sent_quantity: int | None = None
    sent_at: datetime | None = None
    zort_available: Decimal | None = None
    result: SkuResult | None = None
    reason: str | None = None
    attempted_at: datetime | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None
    feed_id: str = ""  # the open feed carrying it ("" when none)
    etag: str | None = None  # the storage version this copy was read (or last written) at

    def in_flight(self, now: datetime) -> bool:
        taken = self.sending_at is not None and (self.attempted_at is None or self.sending_at > self.attempted_at)
        return bool(taken and self.sending_at and now - self.sending_at < IN_FLIGHT_FOR)

    def state(self, now: datetime) -> StockState:
        if self.in_flight(now):
            return StockState.IN_FLIGHT
        if self.feed_id:
            return StockState.IN_FEED
        return StockState.DIRTY if self.dirty else StockState.CLEAN

    def due(self, now: datetime, force: bool = False) -> bool:
        """Whether a flush should take it now: dirty, not in flight nor in an open feed, and past its
        back-off (unless forced)."""
        if not self.dirty or self.in_flight(now) or self.feed_id:
            return False
        return force or self.next_attempt_at is None or self.next_attempt_at <= now


@dataclass(frozen=True)
class SkuOutcome:
    """What a flush (or a feed's settlement) records for one SKU. `clears` says the SKU may become clean:
    only when its feed took it, and only if nothing marked it again since it was taken (`mark` still
    the `sending_mark`; the repository's write is also conditional on the version it was read at)."""

    record: StockRecord
    result: SkuResult
    at: datetime
    quantity: int | None = None
    available: Decimal | None = None
    reason: str | None = None
    feed_id: str = ""  # SENT: the feed that carries it; any other result clears it

    @property
    def clears(self) -> bool:
        return self.result is SkuResult.ACCEPTED and self.record.mark == self.record.sending_mark

    @property
    def failures(self) -> int:
        """Consecutive failures after this outcome: reset by a success, unchanged by a deferral or a send."""
        if self.result is SkuResult.ACCEPTED:
            return 0
        if self.result in (SkuResult.DEFERRED, SkuResult.SENT):
            return self.record.failures
        return self.record.failures + 1

    @property
    def next_attempt_at(self) -> datetime | None:
        if self.result in (SkuResult.ACCEPTED, SkuResult.DEFERRED, SkuResult.SENT):
            return None
        return self.at + refusal_backoff(self.failures)


@dataclass
class StockTenantState:
    """A tenant's stock sync as a whole: the kill switch, the last flush, a marketplace wait."""

    tenant: str
    paused: bool = False
    paused_reason: str | None = None
    paused_at: datetime | None = None
    last_flush_at: datetime | None = None
    last_result: str | None = None
    last_detail: str | None = None
    wait_until: datetime | None = None  # after a 429: no write before then
    last_counts: dict[str, int] = field(default_factory=dict)


# --- rules -----------------------------------------------------------------------------------------


def parse_available(value: object) -> Decimal | None:
    """ZORT's `availablestock` ("10.00", a string in its API) as a Decimal; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def quantity_to_send(available: Decimal, buffer: int) -> int:
    """Whole units the storefront may offer: ZORT's available stock rounded down, less the buffer,
    never below 0 (a negative available stock, oversold in ZORT, is 0 too)."""
    if buffer < 0:
        raise ValueError("buffer must not be negative")
    return max(0, math.floor(available) - buffer)


def batches(items: Sequence[T], size: int = MAX_SKUS_PER_WRITE) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def pick_for_flush(
    records: Iterable[StockRecord], now: datetime, limit: int = MAX_SKUS_PER_FLUSH, force: bool = False
) -> list[StockRecord]:
    """The due SKUs a flush takes, longest waiting first, at most `limit`."""
    due = [r for r in records if r.due(now, force)]
    due.sort(key=lambda r: (r.marked_at or now, r.sku))
    return due[:limit]


def refusal_backoff(failures: int) -> timedelta:
    """Wait before retrying a refused (or unknown in ZORT) SKU: the next flush after the first
    failure, then 5, 10, 20, 40 minutes, at most an hour."""
    if failures <= 1:
        return timedelta(0)
    backoff: timedelta = FIRST_REFUSAL_BACKOFF * (2 ** min(failures - 2, 10))
    return min(backoff, MAX_REFUSAL_BACKOFF)


def throttle_until(now: datetime, retry_after: float | None) -> datetime:
    """When writing may start again after a 429: the Retry-After the marketplace asked for, else 2 minutes."""
    if retry_after is not None and retry_after > 0:
        return now + timedelta(seconds=retry_after)
    return now + THROTTLE_WAIT


def taken(record: StockRecord, now: datetime) -> StockRecord:
    """The record as a flush takes it: the mark it covers and when, durable before anything is sent."""
    return replace(record, sending_mark=record.mark, sending_at=now)


def summarise(outcomes: Iterable[SkuOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.result.value] = counts.get(outcome.result.value, 0) + 1
    return counts
