"""ZORT (zortout.com) v4 API client: registering Thor's webhook URLs and reading them back.

ZORT's current documentation is v4 (developers.zortout.com, "ZORT API V4"; v3 moved to
developers-v3.zortout.com). Its webhook page documents ``POST {base}/Webhook/UpdateWebhook`` and
``GET {base}/Webhook/GetWebhook`` with base ``https://open-api.zortout.com/v4`` and the headers
``storename``, ``apikey``, ``apisecret`` (plus an optional ``X-Request-ID``); the body fields are v3's
(key1..key3 and one URL per event). ``base_url`` is that base (the local sandbox's is
``http://127.0.0.1:7103/v4``).

Confirmed (developers.zortout.com/overview/webhook): the two routes, the headers, key1..key3 and the
URL fields up to the transfer ones. Unconfirmed: whether v4's UpdateWebhook has a URL field for
DELETEORDER or the other deletions (the stored copy of the page is cut before the end of the list),
and the exact shape of GetWebhook's answer (the code reads ``resCode`` at the top or under ``res``,
as public v4 clients do).

ZORT answers HTTP 200 even when the call failed: the outcome is the body's ``resCode`` (``"200"``
is success) with ``resDesc`` saying why. So a 200 whose ``resCode`` is not ``"200"`` is an error,
retryable only when the code looks like a server-side one (5xx) or a rate limit (429). Connection
errors, timeouts, HTTP 429/5xx and bodies that are not JSON are retried with exponential back-off
and jitter.

The API key and secret are never logged nor put in an error: ``resDesc`` is scrubbed of them
too, in case the server echoes a header back.

Webhook registration (UPDATEWEBHOOK) takes ``key1``..``key3`` and one URL per event;
:func:`thor_webhook_urls` builds the URLs that point ZORT at Thor's ``/webhooks/{tenant}/zort``.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from shared.adapters.http_retry import backoff_delay, is_retryable_status, retry_after_seconds
import requests

logger = logging.getLogger(__name__)

ZORT_API_URL = "https://open-api.zortout.com/v4"
API_VERSION = "4"
ROUTES = {"GETWEBHOOK": ("GET", "Webhook/GetWebhook"), "UPDATEWEBHOOK": ("POST", "Webhook/UpdateWebhook")}
SUCCESS_CODE = "200"

# --- webhook URL fields -----------------------------------------------------------------------

WEBHOOK_URL_FIELDS: dict[str, str] = {
    # UPDATEWEBHOOK body field → the ``method`` ZORT sends for that event (v3 and v4 webhook references).
    "addproducturl": "ADDPRODUCT",
    "updateproducturl": "UPDATEPRODUCT",
    "deleteproducturl": "DELETEPRODUCT",
    "updatequantityurl": "UPDATEPRODUCTQUANTITY",
    "addorderurl": "ADDORDER",
    "updateorderurl": "UPDATEORDER",
    "updateordertrackingurl": "UPDATEORDERTRACKING",
    "updateorderpaymenturl": "UPDATEORDERPAYMENT",
    "addpurchaseurl": "ADDPURCHASEORDER",
    "updatepurchaseurl": "UPDATEPURCHASEORDER",
    "updatepurchasepaymenturl": "UPDATEPURCHASEORDERPAYMENT",
    "addreturnorderurl": "ADDRETURNORDER",
    "updatereturnorderurl": "UPDATERETURNORDER",
    "updatereturnorderpaymenturl": "UPDATERETURNORDERPAYMENT",
    "addreturnpurchaseurl": "ADDRETURNPURCHASEORDER",
    "updatereturnpurchaseurl": "UPDATERETURNPURCHASEORDER",
    "updatereturnpurchasepaymenturl": "UPDATERETURNPURCHASEORDERPAYMENT",
    "addtransferurl": "ADDTRANSFER",
    "updatetransferurl": "UPDATETRANSFER",
}
"""Every URL field of UPDATEWEBHOOK/GETWEBHOOK, in the reference's order.

DELETEORDER, DELETEPURCHASEORDER, DELETERETURNORDER and DELETERETURNPURCHASEORDER are webhook
events ZORT documents, but UPDATEWEBHOOK has no URL field for them (only ``deleteproducturl``
exists among the deletions), so they cannot be registered through the API; the v3 reference does
not say where ZORT sends them (presumably a URL set in the ZORT portal, unconfirmed)."""

UNREGISTRABLE_EVENTS = ("DELETEORDER", "DELETEPURCHASEORDER", "DELETERETURNORDER", "DELETERETURNPURCHASEORDER")


def thor_webhook_urls(base_url: str, tenant: str, function_key: str) -> dict[str, str]:
    """Every UPDATEWEBHOOK URL field pointing at Thor's ZORT endpoint for ``tenant``.

    ``{base_url}/webhooks/{tenant}/zort?method={EVENT}&code={function_key}``: ``method`` is also
    what ZORT adds to the query when it calls (whether it appends to a URL that already has a
    query, and so repeats ``method``, is unconfirmed; Thor reads the value either way). ``code`` is
    the Azure Functions key, percent-encoded (a function key may hold ``=``, ``/`` or ``+``).
    """
    if not tenant or not str(tenant).strip():
        raise ValueError("tenant must not be empty")
    if not function_key:
        raise ValueError("function_key must not be empty")
    root = base_url.rstrip("/")
    endpoint = f"{root}/webhooks/{quote(str(tenant).strip(), safe='')}/zort"
    code = quote(function_key, safe="")
    return {name: f"{endpoint}?method={event}&code={code}" for name, event in WEBHOOK_URL_FIELDS.items()}


# --- configuration and errors -----------------------------------------------------------------

@dataclass(frozen=True)
class ZortApiConfig:
    base_url: str
    storename: str
    apikey: str = field(repr=False)
    apisecret: str = field(repr=False)
    timeout: tuple[float, float] = (3.05, 15)
    max_attempts: int = 4
    backoff_base: float = 0.5
    max_backoff: float = 30.0
    """Cap (seconds) on one back-off sleep, Retry-After included."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.base_url:
            raise ValueError("base_url must not be empty")


class ZortApiError(Exception):
    """A failed ZORT call. ``retryable`` tells whether trying again later may succeed.

    ``res_code`` is ZORT's ``resCode`` (``"401"``, ``"500"``…) or one of Thor's own: ``TIMEOUT``,
    ``CONNECTION_ERROR``, ``REQUEST_FAILED``, ``MALFORMED_RESPONSE``, ``HTTP_<status>``.
    """

    def __init__(self, res_code: str, message: str, *, retryable: bool, http_status: int | None = None,
                 method: str | None = None, retry_after: float | None = None):
        super().__init__(f"{method or 'ZORT'}: {res_code}: {message}")
        self.res_code = res_code
        self.message = message
        self.retryable = retryable
        self.http_status = http_status
        self.method = method
        self.retry_after = retry_after




def is_retryable_res_code(res_code: str) -> bool:
    """``resCode`` values worth retrying: 5xx-like (server trouble) and ``429`` (rate limit)."""
    text = str(res_code).strip()
    return text.isdigit() and (text == "429" or (len(text) == 3 and text.startswith("5")))




def _res_fields(payload: dict) -> tuple[str | None, str]:
    """``(resCode, resDesc)`` of a body: top level (v3) or under ``res`` (v4 style)."""
    if "resCode" in payload:
        return str(payload.get("resCode")).strip(), str(payload.get("resDesc") or "")
    res = payload.get("res")
    if isinstance(res, dict) and "resCode" in res:
        return str(res.get("resCode")).strip(), str(res.get("resDesc") or "")
    return None, ""


def parse_response(response: requests.Response, method: str, secrets: tuple[str, ...] = ()) -> dict:
    """The JSON object of a successful call, or the ZortApiError the response stands for.

    A body without ``resCode`` is accepted when the status is 2xx: GETWEBHOOK's reference lists
    only the webhook fields. ``secrets`` are masked out of any message taken from the body.
    """
    status = response.status_code
    retry_after = retry_after_seconds(response) if status == 429 else None
    try:
        payload = response.json()
    except ValueError:
        if 200 <= status < 300:
            raise ZortApiError("MALFORMED_RESPONSE", "response body is not JSON", retryable=True,
                               http_status=status, method=method) from None
        raise ZortApiError(f"HTTP_{status}", "response body is not JSON", retryable=is_retryable_status(status),
                           http_status=status, method=method, retry_after=retry_after) from None
    if not isinstance(payload, dict):
        if 200 <= status < 300:
            raise ZortApiError("MALFORMED_RESPONSE", f"expected a JSON object, got {type(payload).__name__}",
                               retryable=True, http_status=status, method=method)
        raise ZortApiError(f"HTTP_{status}", f"HTTP {status}", retryable=is_retryable_status(status),
                           http_status=status, method=method, retry_after=retry_after)
    res_code, res_desc = _res_fields(payload)
    if res_code is not None and res_code != SUCCESS_CODE:
        retryable = is_retryable_res_code(res_code) or is_retryable_status(status)
        raise ZortApiError(res_code, _scrub(res_desc or "no resDesc", secrets), retryable=retryable,
                           http_status=status, method=method, retry_after=retry_after)
    if not 200 <= status < 300:
        raise ZortApiError(f"HTTP_{status}", f"HTTP {status}", retryable=is_retryable_status(status),
                           http_status=status, method=method, retry_after=retry_after)
    return payload


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:500]


# --- client -----------------------------------------------------------------------------------

class ZortApiClient:
    """Synchronous ZORT v4 client over one ``requests.Session``.

    ``sleep`` and ``rng`` are injectable so tests can record back-offs and fix the jitter.
    """

    def __init__(self, config: ZortApiConfig, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random):
        self.config = config
        self._session = session or requests.Session()
        self._sleep = sleep
        self._rng = rng
        self._url = _endpoint(config.base_url)
        self._headers = {
            "storename": config.storename,
            "apikey": config.apikey,
            "apisecret": config.apisecret,
            "Accept": "application/json",
        }

    # methods -------------------------------------------------------------------------------

    def get_webhook(self) -> dict:
        """The store's webhook settings as ZORT returns them: key1..key3 and the URL fields."""
        return self._call("GETWEBHOOK")

    def update_webhook(self, key1: str, key2: str, key3: str, urls: Mapping[str, str]) -> dict:
        """Register ``key1``..``key3`` and ``urls`` (URL field → URL; ``""`` turns an event off).

        Only the fields in ``urls`` are sent. ZORT's reference says a null or blank URL leaves
        its trigger inactive, so a field left out is presumably turned off too (unconfirmed
        whether ZORT keeps the previous value instead): pass every field to be explicit, e.g.
        :func:`thor_webhook_urls`. Returns ZORT's answer (``resCode``, ``resDesc``).
        """
        unknown = sorted(set(urls) - set(WEBHOOK_URL_FIELDS))
        if unknown:
            raise ValueError(f"unknown webhook URL fields: {', '.join(unknown)}")
        for name, value in (("key1", key1), ("key2", key2), ("key3", key3)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")
        body: dict[str, Any] = {"key1": key1, "key2": key2, "key3": key3}
        for name, value in urls.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            body[name] = value or ""
        return self._call("UPDATEWEBHOOK", body)

    # plumbing ------------------------------------------------------------------------------

    def _call(self, method: str, body: dict | None = None) -> dict:
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, body)
            except ZortApiError as error:
                if not error.retryable or attempt == attempts:
                    logger.warning("ZORT %s failed: res_code=%s http_status=%s attempt=%d/%d retryable=%s",
                                   method, error.res_code, error.http_status, attempt, attempts, error.retryable)
                    raise
                delay = backoff_delay(attempt, error.retry_after, self.config.backoff_base,
                                      self.config.max_backoff, self._rng)
                logger.info("ZORT %s retry in %.2fs: res_code=%s http_status=%s attempt=%d/%d",
                            method, delay, error.res_code, error.http_status, attempt, attempts)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, body: dict | None) -> dict:
        http_method, route = ROUTES[method]
        try:
            response = self._session.request(http_method, f"{self._url}/{route}", headers=self._headers,
                                             json=body, timeout=self.config.timeout)
        except requests.Timeout as exc:
            raise ZortApiError("TIMEOUT", type(exc).__name__, retryable=True, method=method) from None
        except requests.ConnectionError as exc:
            raise ZortApiError("CONNECTION_ERROR", type(exc).__name__, retryable=True, method=method) from None
        except requests.RequestException as exc:
            raise ZortApiError("REQUEST_FAILED", type(exc).__name__, retryable=False, method=method) from None
        return parse_response(response, method, (self.config.apikey, self.config.apisecret))



def _endpoint(base_url: str) -> str:
    """``base_url`` without query, fragment or final ``/``; a bare host (no path) gets ZORT's ``/v4``."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/") or "/v4"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


__all__ = [
    "API_VERSION",
    "UNREGISTRABLE_EVENTS",
    "WEBHOOK_URL_FIELDS",
    "ZORT_API_URL",
    "ZortApiClient",
    "ZortApiConfig",
    "ZortApiError",
    "is_retryable_res_code",
    "parse_response",
    "thor_webhook_urls",
]
