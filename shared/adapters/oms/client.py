"""OMS Order API client (seeds/002): find, create, update and upsert an order by ``orderRef``.

Every call sends ``Authorization: Bearer {token}``, ``X-TWC-Tenant``, ``Content-Type`` and
``Accept: application/json`` through the shared retrying call (``shared.adapters.http``): failures
that may pass (connection errors, timeouts, 408, 429, 5xx, a 2xx whose body is not JSON) are
retried with exponential back-off and jitter, Retry-After honoured but capped; any other 4xx (400,
401, 403, 404, 405 "invalid input"…) is raised at once with ``retryable=False``. The token is never
logged nor put in an error. The body is Thor's order translated by ``mapping.py``.

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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeGuard

import requests

from shared.adapters.http import HttpCaller, HttpConfig, Reply, Request
from shared.adapters.oms.mapping import order_to_oms, order_update_to_oms
from shared.domain.errors import ExternalSystemError
from shared.domain.order import Order

logger = logging.getLogger(__name__)

ORDERS_PATH = "/api/v1/orders"
_LIST_KEYS = ("content", "data", "items", "orders", "results")
_CREATE_REFUSALS = frozenset({400, 409})


@dataclass(frozen=True, kw_only=True)
class OmsConfig(HttpConfig):
    token: str = field(repr=False)
    tenant_header: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.token,)


class OmsError(ExternalSystemError):
    """A failed OMS call: ``code`` is ``HTTP_<status>`` or one of Thor's own (``TIMEOUT``…)."""

    system = "oms"


# --- answers ------------------------------------------------------------------------------------


def _error_text(response: requests.Response) -> str:
    """The OMS's own explanation: message/error/detail (+ field) of a JSON body, else its text."""
    try:
        payload = response.json()
    except ValueError:
        return (response.text or "").strip() or "no body"
    if not isinstance(payload, dict):
        return str(payload)
    text = next((str(payload[k]) for k in ("message", "error", "detail", "title") if payload.get(k)), "")
    field_name = payload.get("field")
    if field_name and str(field_name) not in text:
        text = f"{text} (field {field_name})"
    return text or json.dumps(payload)


def parse_reply(reply: Reply) -> Any:
    """The JSON of a 2xx answer ({} when empty), else the OmsError it stands for."""
    if not reply.ok:
        raise reply.http_error(_error_text(reply.response))
    if reply.status == 204 or not reply.response.content.strip():
        return {}
    return reply.json()


def _is_order(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and ("orderRef" in value or "id" in value)


def pick_order(payload: Any, order_ref: str) -> dict[str, Any] | None:
    """The order with ``order_ref`` in a GET answer: one object (as the reference shows), a list,
    or a page wrapping a list (content/data/items/orders/results). None when it is not there."""
    if isinstance(payload, dict) and not _is_order(payload):
        payload = next((payload[k] for k in _LIST_KEYS if isinstance(payload.get(k), list)), [])
    candidates = payload if isinstance(payload, list) else [payload]
    for candidate in candidates:
        if _is_order(candidate) and candidate.get("orderRef") in (order_ref, None):
            return candidate
    return None


_MONEY_MARK = "\x00"
_MONEY_TEXT = re.compile(r'"\\u0000(-?\d+\.\d\d)\\u0000"')


def _money_marked(value: Any) -> Any:
    if isinstance(value, float):  # every float in an OMS body is an amount (mapping._amount)
        return f"{_MONEY_MARK}{value:.2f}{_MONEY_MARK}"
    if isinstance(value, dict):
        return {key: _money_marked(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_money_marked(inner) for inner in value]
    return value


def body_json(body: Any) -> str:
    """The body as JSON, every amount written as a number with two decimals (`1.50`, not `1.5`)."""
    text = json.dumps(_money_marked(body), default=_json_default, ensure_ascii=False)
    return _MONEY_TEXT.sub(r"\1", text)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- client -------------------------------------------------------------------------------------


class OmsClient:
    """OMS client over one ``requests.Session`` (``sleep`` and ``rng`` injectable for tests)."""

    def __init__(
        self,
        config: OmsConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ):
        self.config = config
        self._http = HttpCaller(config, OmsError, session=session, sleep=sleep, rng=rng)
        self._base = config.base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {config.token}",
            "X-TWC-Tenant": config.tenant_header,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    # calls -----------------------------------------------------------------------------------

    def find_order(self, order_ref: str) -> dict[str, Any] | None:
        """The order with this orderRef, or None (404, or an answer without it)."""
        try:
            payload = self._call("GET", ORDERS_PATH, params={"orderRef": order_ref}, expected={404})
        except OmsError as error:
            if error.status == 404:
                return None
            raise
        return pick_order(payload, order_ref)

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._as_dict(self._call("POST", ORDERS_PATH, body=body))

    def update_order(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._as_dict(self._call("PUT", ORDERS_PATH, body=body))

    def upsert_order(self, order: Order) -> tuple[str, dict[str, Any]]:
        """("created", answer) or ("updated", answer); see the module docstring on duplicates."""
        order_ref = order.internal_order_id
        if self.find_order(order_ref) is None:
            try:
                body = order_to_oms(order, self.config.tenant_header)
                return "created", self._as_dict(self._call("POST", ORDERS_PATH, body=body, expected=_CREATE_REFUSALS))
            except OmsError as error:
                if error.status not in _CREATE_REFUSALS or self.find_order(order_ref) is None:
                    raise
                logger.info("OMS refused to create %s (HTTP %s) and now has it: updating", order_ref, error.status)
        return "updated", self.update_order(order_update_to_oms(order, self.config.tenant_header))

    # plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _as_dict(payload: Any) -> dict[str, Any]:
        return payload if isinstance(payload, dict) else {"response": payload}

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        expected: frozenset[int] | set[int] = frozenset(),
    ) -> Any:
        """The answer's JSON. A failure whose status is in ``expected`` (a 404 for a look-up) is
        raised without a warning in the log."""
        data = None if body is None else body_json(body).encode("utf-8")
        request = Request(method, self._base + path, params=params, headers=self._headers, data=data)
        return self._http.call(f"OMS {method} {path}", request, parse_reply, quiet=expected)


__all__ = ["OmsClient", "OmsConfig", "OmsError", "parse_reply", "pick_order"]
