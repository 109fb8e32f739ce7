"""OMS Order API client (seeds/002): find, create, update and upsert an order by ``orderRef``.

Every call sends ``Authorization: Bearer {token}``, ``X-TWC-Tenant``, ``Content-Type`` and
``Accept: application/json``, always with a timeout. Failures that may pass (connection errors,
timeouts, 408, 429, 5xx, a 2xx whose body is not JSON) are retried with exponential back-off and
jitter, Retry-After honoured but capped; any other 4xx (400, 401, 403, 404, 405 "invalid input"…)
is raised at once with ``retryable=False``. The token is never logged nor put in an error.

Upsert and duplicates: ``upsert_order`` looks the order up by orderRef and POSTs only when it is
absent. Two workers can both miss it and both POST; the OMS refuses the second POST (400, an
orderRef is unique) and also a POST retried after a timeout whose first attempt did land. So a
refused create (400/409) is followed by a second look-up: if the order is there now, it is
updated instead, and the refusal is raised only when it is still absent.
"""
from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

import requests

from shared.adapters.http_retry import backoff_delay, is_retryable_status, retry_after_seconds
from shared.domain.order import Order
from shared.oms_mapping import order_to_oms, order_update_to_oms

logger = logging.getLogger(__name__)

ORDERS_PATH = "/api/v1/orders"
_LIST_KEYS = ("content", "data", "items", "orders", "results")
_CREATE_REFUSALS = frozenset({400, 409})


@dataclass(frozen=True)
class OmsConfig:
    base_url: str
    token: str = field(repr=False)
    tenant_header: str
    timeout: tuple[float, float] = (3.05, 15)
    """(connect, read) seconds for every request."""
    max_attempts: int = 4
    backoff_base: float = 0.5
    max_backoff: float = 30.0
    """Cap (seconds) on one back-off sleep, Retry-After included."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


class OmsError(Exception):
    """A failed OMS call. ``http_status`` is None when no answer came (timeout, connection)."""

    def __init__(self, message: str, *, http_status: int | None = None, retryable: bool = False,
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.retryable = retryable
        self.retry_after = retry_after


# --- answers ------------------------------------------------------------------------------------





def _error_text(response: requests.Response) -> str:
    """The OMS's own explanation: message/error/detail (+ field) of a JSON body, else its text."""
    try:
        payload = response.json()
    except ValueError:
        return (response.text or "").strip()[:300] or "no body"
    if not isinstance(payload, dict):
        return str(payload)[:300]
    text = next((str(payload[k]) for k in ("message", "error", "detail", "title") if payload.get(k)), "")
    field_name = payload.get("field")
    if field_name and str(field_name) not in text:
        text = f"{text} (field {field_name})"
    return text[:300] or json.dumps(payload)[:300]


def parse_response(response: requests.Response, what: str) -> Any:
    """The JSON of a 2xx answer ({} when empty), else the OmsError it stands for."""
    status = response.status_code
    if 200 <= status < 300:
        if status == 204 or not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError:
            raise OmsError(f"{what}: HTTP {status} with a body that is not JSON", http_status=status,
                           retryable=True) from None
    retry_after = retry_after_seconds(response) if status in (429, 503) else None
    raise OmsError(f"{what}: HTTP {status}: {_error_text(response)}", http_status=status,
                   retryable=is_retryable_status(status), retry_after=retry_after)


def _is_order(value: Any) -> bool:
    return isinstance(value, dict) and ("orderRef" in value or "id" in value)


def pick_order(payload: Any, order_ref: str) -> dict | None:
    """The order with ``order_ref`` in a GET answer: one object (as the reference shows), a list,
    or a page wrapping a list (content/data/items/orders/results). None when it is not there."""
    if isinstance(payload, dict) and not _is_order(payload):
        payload = next((payload[k] for k in _LIST_KEYS if isinstance(payload.get(k), list)), [])
    candidates = payload if isinstance(payload, list) else [payload]
    for candidate in candidates:
        if _is_order(candidate) and candidate.get("orderRef") in (order_ref, None):
            return candidate
    return None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- client -------------------------------------------------------------------------------------

class OmsClient:
    """OMS client over one ``requests.Session`` (``sleep`` and ``rng`` injectable for tests)."""

    def __init__(self, config: OmsConfig, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random):
        self.config = config
        self._session = session or requests.Session()
        self._sleep = sleep
        self._rng = rng
        self._base = config.base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {config.token}",
            "X-TWC-Tenant": config.tenant_header,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # calls -----------------------------------------------------------------------------------

    def find_order(self, order_ref: str) -> dict | None:
        """The order with this orderRef, or None (404, or an answer without it)."""
        try:
            payload = self._call("GET", ORDERS_PATH, params={"orderRef": order_ref}, expected={404})
        except OmsError as error:
            if error.http_status == 404:
                return None
            raise
        return pick_order(payload, order_ref)

    def create_order(self, body: dict) -> dict:
        return self._as_dict(self._call("POST", ORDERS_PATH, body=body))

    def update_order(self, body: dict) -> dict:
        return self._as_dict(self._call("PUT", ORDERS_PATH, body=body))

    def upsert_order(self, order: Order) -> tuple[str, dict]:
        """("created", answer) or ("updated", answer); see the module docstring on duplicates."""
        order_ref = order.internal_order_id
        if self.find_order(order_ref) is None:
            try:
                body = order_to_oms(order, self.config.tenant_header)
                return "created", self._as_dict(self._call("POST", ORDERS_PATH, body=body, expected=_CREATE_REFUSALS))
            except OmsError as error:
                if error.http_status not in _CREATE_REFUSALS or self.find_order(order_ref) is None:
                    raise
                logger.info("OMS refused to create %s (HTTP %s) and now has it: updating", order_ref,
                            error.http_status)
        return "updated", self.update_order(order_update_to_oms(order, self.config.tenant_header))

    # plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _as_dict(payload: Any) -> dict:
        return payload if isinstance(payload, dict) else {"response": payload}

    def _call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
              expected: frozenset[int] | set[int] = frozenset()) -> Any:
        """The answer's JSON, retrying retryable failures with back-off. A failure whose status is
        in ``expected`` (a 404 for a look-up) is raised without a warning in the log."""
        what = f"OMS {method} {path}"
        data = None if body is None else json.dumps(body, default=_json_default, ensure_ascii=False).encode("utf-8")
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, path, params, data, what)
            except OmsError as error:
                if not error.retryable or attempt == attempts:
                    log = logger.debug if error.http_status in expected else logger.warning
                    log("%s failed: http_status=%s attempt=%d/%d retryable=%s: %s", what,
                                   error.http_status, attempt, attempts, error.retryable, error.message)
                    raise
                delay = backoff_delay(attempt, error.retry_after, self.config.backoff_base,
                                      self.config.max_backoff, self._rng)
                logger.info("%s retry in %.2fs: http_status=%s attempt=%d/%d", what, delay, error.http_status,
                            attempt, attempts)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, path: str, params: dict | None, data: bytes | None, what: str) -> Any:
        try:
            response = self._session.request(method, self._base + path, params=params, data=data,
                                             headers=self._headers, timeout=self.config.timeout)
        except requests.Timeout as exc:
            raise OmsError(f"{what}: timeout ({type(exc).__name__})", retryable=True) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise OmsError(f"{what}: connection failed ({type(exc).__name__})", retryable=True) from None
        except requests.RequestException as exc:
            raise OmsError(f"{what}: request failed ({type(exc).__name__})", retryable=False) from None
        try:
            return parse_response(response, what)
        except OmsError as error:
            error.message = self._scrub(error.message)
            error.args = (error.message,)
            raise

    def _scrub(self, text: str) -> str:
        """Belt and braces: an answer that echoes the token must not carry it into logs."""
        return text.replace(self.config.token, "***") if self.config.token else text



__all__ = ["OmsClient", "OmsConfig", "OmsError", "parse_response", "pick_order"]
