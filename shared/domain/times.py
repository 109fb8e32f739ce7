"""Times: how Thor reads other systems' local times and how it writes its own.

Thor keeps and answers every time in UTC. Other systems sometimes write wall-clock times without a
zone (the marketplace writes ``2026-04-04 23:30:00`` in its platform's zone, ``MARKETPLACE_TIMEZONE_<T>``,
America/Santiago by default); those are read here in the zone that system writes them in.

Wall-clock times near a daylight-saving change need care (Chile, ``America/Santiago``):
- when clocks go back, one local hour happens twice and a zone-less time in it is ambiguous.
  ``local_to_utc`` reads it as its first occurrence (the earlier instant, ``fold=0``) and
  ``latest_reading`` gives its second occurrence, so a caller can choose the safe side;
- when clocks go forward, one local hour never happens; a time in it is read with the offset in
  force before the change (what ``zoneinfo`` does with ``fold=0``), i.e. as if the clock had not
  been moved yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import overload
from zoneinfo import ZoneInfo

from shared.tenants import TENANT_TIMEZONES

UTC = timezone.utc


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def tenant_zone(tenant: str) -> ZoneInfo:
    """The IANA zone the tenant's storefront writes its times in (KeyError for an unknown tenant)."""
    return zone(TENANT_TIMEZONES[tenant])


def as_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is taken as UTC (Thor's own naive times are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local_to_utc(wall_clock: datetime, in_zone: tzinfo) -> datetime:
    """A zone-less wall-clock time read in ``in_zone``, as UTC (first occurrence when ambiguous)."""
    if wall_clock.tzinfo is not None:
        return wall_clock.astimezone(UTC)
    return wall_clock.replace(tzinfo=in_zone, fold=0).astimezone(UTC)


def latest_reading(moment: datetime, in_zone: ZoneInfo) -> datetime:
    """The latest instant the same wall-clock reading of ``moment`` in ``in_zone`` can stand for.

    Equal to ``moment`` except in the hour that happens twice when clocks go back, where the
    second occurrence is one hour (the change) later.
    """
    wall = as_utc(moment).astimezone(in_zone).replace(tzinfo=None)
    return max(as_utc(moment), wall.replace(tzinfo=in_zone, fold=1).astimezone(UTC))


def utc_offset_change(start: datetime, end: datetime, in_zone: ZoneInfo) -> timedelta:
    """How much the zone's clock went back between ``start`` and ``end`` (zero if it did not)."""
    before = as_utc(start).astimezone(in_zone).utcoffset() or timedelta(0)
    after = as_utc(end).astimezone(in_zone).utcoffset() or timedelta(0)
    return max(before - after, timedelta(0))


def in_local_time(moment: datetime, in_zone: ZoneInfo) -> datetime:
    """``moment`` as an aware datetime in ``in_zone`` (its offset is the one in force then)."""
    return as_utc(moment).astimezone(in_zone)


@overload
def rfc3339(moment: datetime) -> str: ...
@overload
def rfc3339(moment: None) -> None: ...
@overload
def rfc3339(moment: datetime | None) -> str | None: ...
def rfc3339(moment: datetime | None) -> str | None:
    """Thor's one way of writing a time: RFC 3339, UTC, milliseconds and ``Z`` (``2026-11-23T00:34:10.477Z``).

    A naive datetime is taken as UTC. ``None`` stays ``None``.
    """
    if moment is None:
        return None
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def json_default(value: object) -> str:
    """``json.dumps(default=...)`` for Thor's answers: datetimes as ``rfc3339``, anything else as text."""
    if isinstance(value, datetime):
        return rfc3339(value)
    return str(value)
