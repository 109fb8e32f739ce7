"""What every HTTP connector is configured with besides its credentials."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.retries import RETRY_POLICY


@dataclass(frozen=True, kw_only=True)
class HttpConfig:
    """Base of each connector's configuration (``SellerCenterConfig``, ``OmsConfig``,
    ``ZortApiConfig`` add their credentials and options). Keyword-only, so subclasses can add
    required fields after these defaults."""

    base_url: str
    # Defaults: the retry policy's (shared.domain.retries.RETRY_POLICY.call), written there once.
    timeout: tuple[float, float] = RETRY_POLICY.call.timeout
    """(connect, read) seconds for every request."""
    max_attempts: int = RETRY_POLICY.call.attempts
    """Attempts per call, the first included."""
    backoff_base: float = RETRY_POLICY.call.backoff_base
    """Seconds before the second attempt; doubled for each next one (see ``backoff_delay``)."""
    max_backoff: float = RETRY_POLICY.call.max_backoff
    """Cap (seconds) on one back-off sleep, Retry-After included."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credentials that must never appear in an error message (masked as ``***``)."""
        return ()
