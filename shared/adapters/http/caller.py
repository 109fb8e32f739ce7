"""The one retrying HTTP call every connector (Seller Center, OMS, ZORT) goes through.

One call is: build the request (afresh for each attempt, so Seller Center can sign a new
Timestamp), send it on the connector's ``requests.Session`` with the configured timeout, hand the
answer to the connector's parse hook, and retry what is retryable with back-off. The parse hook
sees every answer, 2xx included, because Seller Center (``ErrorResponse``) and ZORT (``resCode``)
report failures inside HTTP 200 bodies; it returns the result or raises the connector's
:class:`~shared.domain.errors.ExternalSystemError`, built with :meth:`Reply.error`.

Retried: errors marked ``retryable`` (timeouts, connection failures, 408/429/5xx by default, and
whatever the hook marks so), after ``backoff_delay`` (Retry-After when the server sent one, capped),
up to ``max_attempts`` attempts; the last error is then raised as it is, still ``retryable``, so the
caller (event processing) can try again much later. Retry-After is read on 429 and 503, the
statuses it is defined for (developer.mozilla.org "Retry-After"; HTTP Semantics, field.retry-after).
``sleep`` and ``rng`` are injectable: tests record the back-offs instead of sleeping them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from shared.adapters.http.backoff import backoff_delay, is_retryable_status, retry_after_seconds
from shared.adapters.http.config import HttpConfig
from shared.domain.errors import ExternalSystemError

logger = logging.getLogger("thor.http")

T = TypeVar("T")
MAX_MESSAGE = 500
"""Characters of an external system's own explanation kept in an error message."""


@dataclass(frozen=True)
class Request:
    """One HTTP request, as ``requests.Session.request`` takes it (the timeout is the caller's)."""

    method: str
    url: str
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | bytearray | None = None
    json: Any = None


@dataclass(frozen=True)
class Reply:
    """One answer as a connector's parse hook sees it, with the means to turn it into an error."""

    response: requests.Response
    operation: str
    error_type: type[ExternalSystemError]
    secrets: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self, code: str, message: str, *, retryable: bool | None = None, **details: Any) -> ExternalSystemError:
        """The connector's error for this answer: its status, its Retry-After (on 429 and 503), the
        message with every secret masked; retryable as given, else as the status says. ``details``
        go to the connector's error type as they are."""
        for secret in self.secrets:
            if secret:
                message = message.replace(secret, "***")
        retry_after = retry_after_seconds(self.response) if self.status in (429, 503) else None
        return self.error_type(
            code,
            message[:MAX_MESSAGE],
            status=self.status,
            operation=self.operation,
            retryable=is_retryable_status(self.status) if retryable is None else retryable,
            retry_after=retry_after,
            **details,
        )

    def http_error(self, message: str | None = None) -> ExternalSystemError:
        """``HTTP_<status>``, retryable as the status says."""
        return self.error(f"HTTP_{self.status}", message or f"HTTP {self.status}")

    def malformed(self, message: str) -> ExternalSystemError:
        """A body Thor cannot read: on a 2xx a truncated or garbled answer (retryable); otherwise
        (a proxy's HTML page, a wrong base URL) as the status says."""
        if self.ok:
            return self.error("MALFORMED_RESPONSE", message, retryable=True)
        return self.http_error(message)

    def json(self) -> Any:
        """The body's JSON, or :meth:`malformed` when it is not JSON."""
        try:
            return self.response.json()
        except ValueError:
            raise self.malformed("response body is not JSON") from None


class HttpCaller:
    """Sends one connector's requests over one ``requests.Session``, retrying with back-off."""

    def __init__(
        self,
        config: HttpConfig,
        error_type: type[ExternalSystemError],
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ):
        self.config = config
        self.session = session or requests.Session()
        self._error_type = error_type
        self._sleep = sleep
        self._rng = rng

    def call(
        self,
        operation: str,
        request: Request | Callable[[], Request],
        parse: Callable[[Reply], T],
        *,
        quiet: Collection[int] = (),
    ) -> T:
        """What ``parse`` makes of the first answer that is not a retryable error. ``request`` may be
        a function, called for each attempt. A final failure whose status is in ``quiet`` (a 404 the
        connector expects) is logged at debug level rather than as a warning."""
        attempts = self.config.max_attempts
        system = self._error_type.system
        for attempt in range(1, attempts + 1):
            try:
                return parse(self._send(operation, request() if callable(request) else request))
            except ExternalSystemError as error:
                if not error.retryable or attempt == attempts:
                    log = logger.debug if error.status in quiet else logger.warning
                    log(
                        "%s %s failed: code=%s status=%s attempt=%d/%d retryable=%s: %s",
                        system,
                        operation,
                        error.code,
                        error.status,
                        attempt,
                        attempts,
                        error.retryable,
                        error.message,
                    )
                    raise
                delay = backoff_delay(
                    attempt, error.retry_after, self.config.backoff_base, self.config.max_backoff, self._rng
                )
                logger.info(
                    "%s %s retry in %.2fs: code=%s status=%s attempt=%d/%d",
                    system,
                    operation,
                    delay,
                    error.code,
                    error.status,
                    attempt,
                    attempts,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, operation: str, request: Request) -> Reply:
        try:
            response = self.session.request(
                request.method,
                request.url,
                params=request.params,
                headers=request.headers,
                data=request.data,
                json=request.json,
                timeout=self.config.timeout,
            )
        except requests.Timeout as exc:
            raise self._no_answer("TIMEOUT", "timeout", exc, operation, retryable=True) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise self._no_answer("CONNECTION_ERROR", "connection failed", exc, operation, retryable=True) from None
        except requests.RequestException as exc:
            raise self._no_answer("REQUEST_FAILED", "request failed", exc, operation, retryable=False) from None
        return Reply(response, operation, self._error_type, self.config.secrets)

    def _no_answer(
        self, code: str, what: str, exc: Exception, operation: str, *, retryable: bool
    ) -> ExternalSystemError:
        """No answer came: only the exception's type is kept (its text may hold the URL)."""
        return self._error_type(code, f"{what} ({type(exc).__name__})", retryable=retryable, operation=operation)
