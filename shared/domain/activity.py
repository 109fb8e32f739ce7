"""Activity counts: what happened per tenant per UTC hour, for the console's charts.

The event processor adds to these as it records outcomes (never the webhook's acknowledgement,
which stays at one insert and one enqueue). A page reads a tenant's hours with one bounded query
instead of scanning its events: 7 days are 168 hours x `SHARDS` rows, under one page of 1,000.

Counts are of what the processor recorded in that hour: `accepted` is an event's first attempt,
`completed` / `failed` / `blocked` / `unmatched` / `ignored` its outcome, `orders_created` an order Thor kept for the first time,
`oms_synced` an order that reached the OMS for the first time, `seller_canceled` an order that became
canceled by the seller's side (shared.domain.at_risk.seller_canceled). Each event is counted once, in
its current outcome: an attempt that leaves it where it was is not counted again, and a replay takes
its old outcome back (-1 in the replay's hour), so per day accepted = completed + failed + blocked +
unmatched + still pending, for the events accepted and finished that day. A crash between recording an
outcome and adding its count loses that one count: these are a dashboard, not a ledger.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

COUNTERS: tuple[str, ...] = (
    "accepted",
    "completed",
    "failed",
    "blocked",
    "unmatched",
    "ignored",
    "orders_created",
    "oms_synced",
    "seller_canceled",
)
# Rows per hour: concurrent workers of one tenant add to different rows, so fewer conflicts.
SHARDS = 4
HOUR = timedelta(hours=1)


def hour_start(moment: datetime) -> datetime:
    """The UTC hour `moment` falls in (a naive datetime is taken as UTC)."""
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_key(moment: datetime) -> str:
    """`2026112314`: sorts like the hours, so a range of hours is a range of keys."""
    return hour_start(moment).strftime("%Y%m%d%H")


def hour_from_key(key: str) -> datetime:
    return datetime.strptime(key[:10], "%Y%m%d%H").replace(tzinfo=timezone.utc)


def shard_of(name: str) -> int:
    """A stable shard for an event id (crc32, the same in every process)."""
    return zlib.crc32(name.encode()) % SHARDS


@dataclass
class HourlyCounts:
    """A tenant's counts per hour over [since, until), hours without activity absent."""

    since: datetime
    until: datetime
    hours: dict[datetime, dict[str, int]] = field(default_factory=dict)

    def total(self, counter: str, since: datetime | None = None) -> int:
        start = hour_start(since) if since else self.since
        return sum(counts.get(counter, 0) for hour, counts in self.hours.items() if hour >= start)

    def series(self, counter: str, since: datetime | None = None) -> list[tuple[datetime, int]]:
        """One point per hour from `since` (default: the start) to the end, zeros included."""
        points, hour = [], hour_start(since) if since else self.since
        while hour < self.until:
            points.append((hour, self.hours.get(hour, {}).get(counter, 0)))
            hour += HOUR
        return points
