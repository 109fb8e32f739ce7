"""The feed-sync engine's rules, shared by its two users: stock sync (shared.domain.stock) and price sync
(shared.domain.prices). Each keeps, per tenant and SKU, a *marked set* and pushes it to the marketplace
in feeds, confirmed per SKU by the feed tracker (shared.domain.feeds).

One SKU's sync state for one tenant (`SyncRecord`, the columns both kinds share):

- marked (`dirty`): a change was marked since the marketplace last confirmed one (each mark is a new
  random token, `mark`, so a change that lands while the SKU is being sent is never lost);
- in flight: a flush has taken it (`sending_mark`, `sending_at`) and not yet recorded the answer. Flushes
  of a tenant and kind run one at a time (a claim), so the next flush finds a SKU still in flight only
  when the flush that took it died: it takes it again at once (`due(..., claimed=True)`; a repeated
  write of the latest value is harmless). Outside a flush (ops, the console) it shows as in flight until
  `IN_FLIGHT_FOR` has passed;
- in feed: the marketplace answered with a feed (`feed_id`) that has not reported yet; a SKU in an open
  feed is not sent again, even if marked meanwhile: the feed settles it first, then it goes again;
- refused (or unknown to ZORT): kept with the reason, retried with back-off (`refusal_backoff`);
- clean (synced): the feed that carried it finished without an error for it *and* nothing marked it
  since the flush took it (`mark == sending_mark`; the write is conditional on the stored version too).

What differs per kind (what a row carries, rounding, the price guard, promotions, which writes the
marketplace throttles) stays with each kind.

Pure: no storage, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R", bound="SyncRecord")

IN_FLIGHT_FOR = timedelta(minutes=5)
"""How long a taken SKU counts as in flight (the function timeout): after it, a crashed flush's SKUs go again."""
THROTTLE_WAIT = timedelta(minutes=2)
"""Wait after a 429 without Retry-After: the marketplace's documented feed rule is 2 minutes between calls."""
FIRST_REFUSAL_BACKOFF = timedelta(minutes=5)
MAX_REFUSAL_BACKOFF = timedelta(hours=1)


@dataclass
class SyncRecord:
    """The columns of one SKU's sync state that every kind keeps (see the module docstring)."""

    tenant: str
    sku: str
    dirty: bool = False
    mark: str = ""
    marked_at: datetime | None = None
    sending_mark: str = ""
    sending_at: datetime | None = None
    feed_id: str = ""  # the open feed carrying it ("" when none)
    attempted_at: datetime | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None
    etag: str | None = None  # the storage version this copy was read (or last written) at

    def in_flight(self, now: datetime) -> bool:
        taken = self.sending_at is not None and (self.attempted_at is None or self.sending_at > self.attempted_at)
        return bool(taken and self.sending_at and now - self.sending_at < IN_FLIGHT_FOR)

    def waiting(self) -> bool:
        """Whether the kind holds it back for another reason (a price held for a person); none by default."""
        return False

    def due(self, now: datetime, force: bool = False, claimed: bool = False) -> bool:
        """Whether a flush should take it now: marked, not in an open feed nor held, past its back-off
        (unless forced), and not in flight, unless the caller holds the tenant's flush claim (`claimed`:
        then whoever took it is gone)."""
        if not self.dirty or self.feed_id or self.waiting() or (self.in_flight(now) and not claimed):
            return False
        return force or self.next_attempt_at is None or self.next_attempt_at <= now

    @property
    def unchanged_since_taken(self) -> bool:
        """Nothing marked it since the flush took it: it may become clean once its feed took it."""
        return self.mark == self.sending_mark


@dataclass
class SyncTenantState:
    """A tenant's sync of one kind as a whole: the kill switch, the last flush, a marketplace wait."""

    tenant: str
    paused: bool = False
    paused_reason: str | None = None
    paused_at: datetime | None = None
    last_flush_at: datetime | None = None
    last_result: str | None = None
    last_detail: str | None = None
    wait_until: datetime | None = None  # after a 429: no write before then
    last_counts: dict[str, int] = field(default_factory=dict)
    last_feed_id: str | None = None
    last_feed_at: datetime | None = None


# --- rules -----------------------------------------------------------------------------------------


def pick_due(records: Iterable[R], now: datetime, limit: int, force: bool = False, claimed: bool = False) -> list[R]:
    """The due SKUs a flush takes, longest waiting first, at most `limit` (`claimed`: see `SyncRecord.due`)."""
    due = [r for r in records if r.due(now, force, claimed)]
    due.sort(key=lambda r: (r.marked_at or now, r.sku))
    return due[:limit]


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in order, `size` at a time (a feed's documented maximum)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


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


def parse_zort_number(value: object) -> Decimal | None:
    """A number as ZORT writes it (`availablestock`, `sellprice`: a string such as "10.00" or "1,250.50")
    as a Decimal; None when absent or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def count(results: Iterable[str]) -> dict[str, int]:
    """How many of each result (a flush's counts, as ops and the console show them)."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result] = counts.get(result, 0) + 1
    return counts
