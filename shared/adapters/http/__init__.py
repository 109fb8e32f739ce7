"""The toolkit the HTTP connectors share: their configuration base and the one retrying call."""

from shared.adapters.http.backoff import backoff_delay, is_retryable_status, retry_after_seconds
from shared.adapters.http.caller import HttpCaller, Reply, Request
from shared.adapters.http.config import HttpConfig

__all__ = [
    "HttpCaller",
    "HttpConfig",
    "Reply",
    "Request",
    "backoff_delay",
    "is_retryable_status",
    "retry_after_seconds",
]
