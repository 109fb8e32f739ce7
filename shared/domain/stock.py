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
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from shared.domain.feed_sync import IN_FLIGHT_FOR as IN_FLIGHT_FOR
from shared.domain.feed_sync import THROTTLE_WAIT as THROTTLE_WAIT
from shared.domain.feed_sync import SyncRecord, SyncTenantState, count, parse_zort_number, pick_due
from shared.domain.feed_sync import batches as engine_batches
from shared.domain.feed_sync import refusal_backoff as refusal_backoff
from shared.domain.feed_sync import throttle_until as throttle_until
from shared.domain.stock_settings import StockSyncSettings as StockSyncSettings
from shared.domain.stock_settings import StockWarehouse as StockWarehouse
from shared.domain.stock_settings import WarehouseKind as WarehouseKind

T = TypeVar("T")
StockTenantState = SyncTenantState
"""A tenant's stock sync as a whole (the engine's tenant state)."""

MAX_SKUS_PER_WRITE = 500
"""UpdateStock takes at most 500 SKUs per request (developers.falabella.com v600 reference updatestock)."""
WRITES_PER_FLUSH = 4
MAX_SKUS_PER_FLUSH = MAX_SKUS_PER_WRITE * WRITES_PER_FLUSH
"""A flush writes at most 4 batches per tenant; what is left stays dirty for the next flush."""


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
class StockRecord(SyncRecord):
    """One SKU's stock sync state for one tenant, as stored: the engine's columns (shared.domain.feed_sync)
    and what stock adds."""

    synced_mark: str = ""
    sent_quantity: int | None = None
    sent_at: datetime | None = None
    zort_available: Decimal | None = None
    result: SkuResult | None = None
    reason: str | None = None

    def state(self, now: datetime) -> StockState:
        if self.in_flight(now):
            return StockState.IN_FLIGHT
        if self.feed_id:
            return StockState.IN_FEED
        return StockState.DIRTY if self.dirty else StockState.CLEAN


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
        return self.result is SkuResult.ACCEPTED and self.record.unchanged_since_taken

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


# --- rules -----------------------------------------------------------------------------------------


def parse_available(value: object) -> Decimal | None:
    """ZORT's `availablestock` ("10.00", a string in its API) as a Decimal; None when absent or not a number."""
    return parse_zort_number(value)


def quantity_to_send(available: Decimal, buffer: int) -> int:
    """Whole units the storefront may offer: ZORT's available stock rounded down, less the buffer,
    never below 0 (a negative available stock, oversold in ZORT, is 0 too)."""
    if buffer < 0:
        raise ValueError("buffer must not be negative")
    return max(0, math.floor(available) - buffer)


def batches(items: Sequence[T], size: int = MAX_SKUS_PER_WRITE) -> Iterator[Sequence[T]]:
    """UpdateStock's batches: 500 SKUs at a time."""
    return engine_batches(items, size)


def pick_for_flush(
    records: Iterable[StockRecord],
    now: datetime,
    limit: int = MAX_SKUS_PER_FLUSH,
    force: bool = False,
    claimed: bool = False,
) -> list[StockRecord]:
    """The due SKUs a flush takes, longest waiting first, at most `limit`."""
    return pick_due(records, now, limit, force, claimed)


def taken(record: StockRecord, now: datetime) -> StockRecord:
    """The record as a flush takes it: the mark it covers and when, durable before anything is sent."""
    return replace(record, sending_mark=record.mark, sending_at=now)


def summarise(outcomes: Iterable[SkuOutcome]) -> dict[str, int]:
    return count(o.result.value for o in outcomes)
