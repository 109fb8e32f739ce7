"""Which answers are worth another try, how long the server asked us to wait, and exponential
back-off with jitter: the retry arithmetic of :class:`shared.adapters.http.HttpCaller`."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import datetime, timezone

import requests


def is_retryable_status(status: int) -> bool:
    """Timeouts, rate limits and server errors are worth another try; other 4xx never are."""
    return status in (408, 429) or status >= 500


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date); None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def backoff_delay(attempt: int, retry_after: float | None, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Retry-After when the server gave one, else exponential back-off with "equal jitter" (half
    fixed, half random) so that concurrent workers spread out; both capped at `cap`."""
    if retry_after is not None:
        return min(retry_after, cap)
    exponential = min(base * 2.0 ** (attempt - 1), cap)
    return exponential / 2 + rng() * exponential / 2
