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

Current stock (``available_stock``, for the stock flush). Confirmed (developers.zortout.com
api-reference/product, v4; the v3 page documents the same method as GETPRODUCTS): ``GET
{base}/Product/GetProducts`` with the query ``page`` (default 1) and ``limit`` ("Max = 500"; v3: 2000),
the same three credential headers and a ``skulist`` HEADER ("Sku List Ex. P0001,P0002"); the answer
has ``res`` ("Response Code 200- Success"), ``list`` (products with ``sku``, ``stock`` and
``availablestock``, both Strings such as ``"10.00"``) and ``count`` ("Total product number by filter").
v4 is used rather than v3 because Thor's ZORT base URL (``ZORT_API_BASE_URL``) is v4's.
Unconfirmed: what ``availablestock`` excludes (Thor reads it as the units ZORT can still sell, and
falls back to ``stock`` when it is missing), the longest ``skulist`` header ZORT accepts (Thor sends
``stock_chunk_size``, 200, SKUs per call) and whether ``res`` may also come as ``{resCode, resDesc}``
(both are read). A SKU with a comma cannot be named in ``skulist`` and is reported as not found.

Current prices (``sell_prices``, for the price flush): the same GetProducts answer documents ``sellprice``
(String, "Sell price") and ``sell_vat_status`` (v4); the v3 webhook examples (ADDPRODUCT, UPDATEPRODUCT)
carry ``sellprice`` ("20.00") too. Neither names a sale price, a promotion or a validity window: ZORT
carries none that Thor could read, so sales come from ops. Unconfirmed: whether ``sellprice`` includes
VAT (Thor sends it as ZORT gives it; a tenant's markup or adjustment can correct it) and the store's
currency (not in the answer: stated per tenant, MARKETPLACE_PRICE_ZORT_CURRENCY).

Webhook registration (UPDATEWEBHOOK) takes ``key1``..``key3`` and one URL per event
(``webhooks.py`` lists the fields and builds the URLs that point ZORT at Thor).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from shared.adapters.http import HttpCaller, HttpConfig, Reply, Request, is_retryable_status
from shared.adapters.zort.webhooks import WEBHOOK_URL_FIELDS
from shared.domain.errors import ExternalSystemError
from shared.domain.stock import parse_available

ZORT_API_URL = "https://open-api.zortout.com/v4"
API_VERSION = "4"
ROUTES = {
    "GETWEBHOOK": ("GET", "Webhook/GetWebhook"),
    "UPDATEWEBHOOK": ("POST", "Webhook/UpdateWebhook"),
    "GETPRODUCTS": ("GET", "Product/GetProducts"),
}
PRODUCTS_PAGE_LIMIT = 500  # v4's documented maximum per page
SUCCESS_CODE = "200"

# --- configuration and errors -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ZortApiConfig(HttpConfig):
    storename: str
    apikey: str = field(repr=False)
    apisecret: str = field(repr=False)
    stock_chunk_size: int = 200
    """SKUs named per GetProducts call (in the ``skulist`` header, whose longest value is undocumented)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.base_url:
            raise ValueError("base_url must not be empty")
        if self.stock_chunk_size < 1:
            raise ValueError("stock_chunk_size must be at least 1")

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.apikey, self.apisecret)


class ZortApiError(ExternalSystemError):
    """A failed ZORT call: ``code`` is ZORT's ``resCode`` (``"401"``, ``"500"``…) or one of Thor's own."""

    system = "zort"


def is_retryable_res_code(res_code: str) -> bool:
    """``resCode`` values worth retrying: 5xx-like (server trouble) and ``429`` (rate limit)."""
    text = str(res_code).strip()
    return text.isdigit() and (text == "429" or (len(text) == 3 and text.startswith("5")))


def _res_fields(payload: dict[str, Any]) -> tuple[str | None, str]:
    """``(resCode, resDesc)`` of a body: top level (v3) or under ``res`` (v4 style)."""
    if "resCode" in payload:
        return str(payload.get("resCode")).strip(), str(payload.get("resDesc") or "")
    res = payload.get("res")
    if isinstance(res, dict) and "resCode" in res:
        return str(res.get("resCode")).strip(), str(res.get("resDesc") or "")
    return None, ""


def parse_reply(reply: Reply) -> dict[str, Any]:
    """The JSON object of a successful call, or the ZortApiError the answer stands for: a
    ``resCode`` other than ``"200"`` (whatever the HTTP status), a body that is not a JSON object,
    or a status that is not 2xx. A body without ``resCode`` is accepted on a 2xx: GETWEBHOOK's
    reference lists only the webhook fields."""
    payload = reply.json()
    if not isinstance(payload, dict):
        raise reply.malformed(f"expected a JSON object, got {type(payload).__name__}")
    res_code, res_desc = _res_fields(payload)
    if res_code is None and isinstance(payload.get("res"), (str, int)):  # GetProducts: "res": "200"
        res_code = str(payload["res"]).strip()
    if res_code is not None and res_code != SUCCESS_CODE:
        retryable = is_retryable_res_code(res_code) or is_retryable_status(reply.status)
        raise reply.error(res_code, res_desc or "no resDesc", retryable=retryable)
    if not reply.ok:
        raise reply.http_error()
    return payload


# --- client -----------------------------------------------------------------------------------


class ZortApiClient:
    """Synchronous ZORT v4 client over one ``requests.Session``.

    ``sleep`` and ``rng`` are injectable so tests can record back-offs and fix the jitter.
    """

    def __init__(
        self,
        config: ZortApiConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ):
        self.config = config
        self._http = HttpCaller(config, ZortApiError, session=session, sleep=sleep, rng=rng)
        self._url = _endpoint(config.base_url)
        self._headers = {
            "storename": config.storename,
            "apikey": config.apikey,
            "apisecret": config.apisecret,
            "Accept": "application/json",
        }

    # methods -------------------------------------------------------------------------------

    def get_webhook(self) -> dict[str, Any]:
        """The store's webhook settings as ZORT returns them: key1..key3 and the URL fields."""
        return self._call("GETWEBHOOK")

    def update_webhook(self, key1: str, key2: str, key3: str, urls: Mapping[str, str]) -> dict[str, Any]:
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

    def sell_prices(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Each SKU's current ``sellprice``; SKUs ZORT does not return (or returns without a price) are
        left out. Read like ``available_stock``."""
        from shared.domain.prices import parse_price

        found: dict[str, Decimal] = {}
        for row in self._products(skus):
            price = parse_price(row.get("sellprice"))
            if price is not None:
                found[str(row["sku"])] = price
        return found

    def _products(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        """GetProducts' rows for the SKUs (``stock_chunk_size`` per call, every page of each)."""
        wanted = [sku for sku in dict.fromkeys(str(s) for s in skus) if sku and "," not in sku]
        rows_found: list[dict[str, Any]] = []
        size = self.config.stock_chunk_size
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            headers = {"skulist": ",".join(chunk)}
            page, seen = 1, 0
            while True:
                params = {"page": str(page), "limit": str(PRODUCTS_PAGE_LIMIT)}
                answer = self._call("GETPRODUCTS", params=params, headers=headers)
                rows = answer.get("list") or []
                for row in rows if isinstance(rows, list) else []:
                    if isinstance(row, dict) and str(row.get("sku")) in chunk:
                        rows_found.append(row)
                seen += len(rows) if isinstance(rows, list) else 0
                count = answer.get("count")
                total = int(str(count)) if str(count).strip().isdigit() else seen
                if not rows or seen >= total or len(rows) < PRODUCTS_PAGE_LIMIT:
                    break
                page += 1
        return rows_found

    def available_stock(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Each SKU's current available stock (``availablestock``, else ``stock``); SKUs ZORT does not
        return are left out. ``stock_chunk_size`` SKUs per call, every page of each."""
        found: dict[str, Decimal] = {}
        for row in self._products(skus):
            units = parse_available(row.get("availablestock"))
            units = units if units is not None else parse_available(row.get("stock"))
            if units is not None:
                found[str(row["sku"])] = units
        return found

    # plumbing ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        http_method, route = ROUTES[method]
        request = Request(
            http_method,
            f"{self._url}/{route}",
            params=params,
            headers={**self._headers, **(headers or {})},
            json=body,
        )
        return self._http.call(method, request, parse_reply)


def _endpoint(base_url: str) -> str:
    """``base_url`` without query, fragment or final ``/``; a bare host (no path) gets ZORT's ``/v4``."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/") or "/v4"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


__all__ = [
    "API_VERSION",
    "ZORT_API_URL",
    "ZortApiClient",
    "ZortApiConfig",
    "ZortApiError",
    "is_retryable_res_code",
    "parse_reply",
]
