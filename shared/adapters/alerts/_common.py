"""What the three channels share: the error type, the HTTP settings, the answer check."""

from __future__ import annotations

from shared.adapters.http import HttpConfig, Reply
from shared.domain.errors import ExternalSystemError


class AlertError(ExternalSystemError):
    """A channel refused or did not answer: `operation` names the channel."""

    system = "alerts"


def webhook_config(url: str) -> HttpConfig:
    """Short timeouts and two attempts: the timer runs again in 5 minutes and a message no channel
    took stays held until then."""
    return HttpConfig(base_url=url, timeout=(3.05, 10), max_attempts=2, backoff_base=1.0, max_backoff=5.0)


def accepted(reply: Reply) -> None:
    """A 2xx is taken; anything else is the channel's error with its own words (no URL: it is the secret)."""
    if not reply.ok:
        raise reply.http_error(f"HTTP {reply.status}: {(reply.response.text or '').strip()[:200]}")
