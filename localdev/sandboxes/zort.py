"""A local ZORT (zortout.com) v4 API, and a sender that plays ZORT calling Thor's webhook.

Run it with ``python -m localdev.sandboxes.zort --port 7103 --store faco-store=APIKEY:APISECRET``.

The API is ZORT's v4 webhook registration (developers.zortout.com/overview/webhook):
``GET /v4/Webhook/GetWebhook`` and ``POST /v4/Webhook/UpdateWebhook`` with the headers ``storename``,
``apikey`` and ``apisecret``. Checks, in this order:

1. the route (paths compared case-insensitively, as ASP.NET routes are)     → HTTP 404
2. the HTTP verb the reference gives (GetWebhook GET, UpdateWebhook POST)    → HTTP 405
3. headers ``storename``/``apikey``/``apisecret`` present and matching a configured store
   (constant-time compare)                                                  → HTTP 200, resCode ``100``
4. UpdateWebhook: the body is a JSON object; ``key1``..``key3`` non-blank strings; every URL
   field a string or null that is blank or an ``http(s)://host…`` URL       → HTTP 200, resCode ``400``

Confirmed: the routes, headers and body fields (the reference); resCode 200 is success (v4 "Data
Definition"). From a public v4 client (code search, a Netlify function calling open-api.zortout.com/v4):
ZORT answers HTTP 200 with the outcome in ``resCode``, "resCode 100 Invalid API" for a known route
called without valid credentials, HTTP 404 for an unknown route. Unconfirmed, the sandbox's choice:
the HTTP 405 for a wrong verb, resCode 400 for a bad body, and that

- UpdateWebhook replaces the whole setting: a URL field left out is stored blank (the reference:
  "If this value is null or blank, this trigger will be not active"); unknown fields are ignored;
- GetWebhook answers ``resCode``/``resDesc`` next to ``key1``..``key3`` and every URL field, blank
  for a store never configured.

Current stock (developers.zortout.com api-reference/product): ``GET /v4/Product/GetProducts`` with the
same credential headers, the ``skulist`` header (comma-separated SKUs), ``page`` (default 1) and
``limit`` (at most 500, v4's documented maximum; more is read as 500, the sandbox's choice); it answers
``{"res": "200", "list": [...], "count": N}`` with ``sku``, ``name``, ``stock`` and ``availablestock``
as strings (``"10.00"``). Without ``skulist`` every product of the store is listed. Only products
given to the sandbox exist: ``POST /_sandbox/stock {"store": "thor-faco", "stock": {"SKU": "10.00"}}``
(and ``POST /_sandbox/prices {"store": "thor-facl", "prices": {"SKU": "59990"}}`` sets ``sellprice``)
sets their available stock (``stock`` too, unless ``{"SKU": {"stock": "12", "availablestock": "10"}}``).

Faults injected with ``/_sandbox/fail`` are the shared ones (``500``/``429``/``timeout``/
``malformed``) plus ``res<code>``, e.g. ``{"mode": "res500"}``: HTTP 200 with
``{"resCode": "500", "resDesc": "sandbox injected failure"}``, ZORT's way of failing.

``send_webhook`` POSTs an event to Thor the way ZORT's reference describes, and ``SEED_EXAMPLES``
holds the reference's example payload of each of the 23 events (read from tests/fixtures/zort/).
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from werkzeug.wrappers import Request, Response

from localdev.sandboxes._server import Fault, SandboxApp, json_response, serve_forever
from shared.adapters.zort.webhooks import WEBHOOK_URL_FIELDS

ROUTES = {
    "/v4/webhook/getwebhook": ("GETWEBHOOK", "GET"),
    "/v4/webhook/updatewebhook": ("UPDATEWEBHOOK", "POST"),
    "/v4/product/getproducts": ("GETPRODUCTS", "GET"),
}
PRODUCTS_MAX_LIMIT = 500
KEY_FIELDS = ("key1", "key2", "key3")


class ZortError(Exception):
    """A ``{resCode, resDesc}`` failure to answer with (HTTP 200, as ZORT does)."""

    def __init__(self, res_code: str, res_desc: str) -> None:
        super().__init__(f"{res_code}: {res_desc}")
        self.res_code, self.res_desc = res_code, res_desc


def _answer(res_code: str, res_desc: str, **fields: Any) -> Response:
    return json_response({"resCode": res_code, "resDesc": res_desc, **fields})


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def _blank_webhook() -> dict[str, str]:
    return {**{name: "" for name in KEY_FIELDS}, **{name: "" for name in WEBHOOK_URL_FIELDS}}


class Zort:
    """The API's state: stores and their webhook settings."""

    def __init__(self, stores: Mapping[str, tuple[str, str]]) -> None:
        self.stores = {name: (str(key), str(secret)) for name, (key, secret) in stores.items()}
        self.webhooks: dict[str, dict[str, str]] = {}
        self.products: dict[str, dict[str, dict[str, str]]] = {}  # store -> SKU -> {stock, availablestock}
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.webhooks.clear()
            self.products.clear()

    def set_stock(self, spec: dict[str, Any]) -> Response:
        store, stock = spec.get("store"), spec.get("stock")
        if not isinstance(store, str) or not isinstance(stock, dict):
            return json_response({"error": "expected {store, stock: {sku: quantity}}"}, 400)
        with self.lock:
            products = self.products.setdefault(store, {})
            for sku, value in stock.items():
                given: dict[str, Any] = value if isinstance(value, dict) else {"stock": value, "availablestock": value}
                products[str(sku)] = {
                    **products.get(str(sku), {}),
                    "stock": f"{float(given.get('stock', given.get('availablestock', 0))):.2f}",
                    "availablestock": f"{float(given.get('availablestock', given.get('stock', 0))):.2f}",
                }
        return json_response({"ok": True})

    def set_prices(self, spec: dict[str, Any]) -> Response:
        """``{"store": "thor-facl", "prices": {"SKU": "59990.00"}}``: each SKU's ``sellprice`` (GetProducts
        answers it; a SKU given a price and no stock has stock 0)."""
        store, prices = spec.get("store"), spec.get("prices")
        if not isinstance(store, str) or not isinstance(prices, dict):
            return json_response({"error": "expected {store, prices: {sku: price}}"}, 400)
        with self.lock:
            products = self.products.setdefault(store, {})
            for sku, value in prices.items():
                row = products.setdefault(str(sku), {"stock": "0.00", "availablestock": "0.00"})
                row["sellprice"] = f"{float(value):.2f}"
        return json_response({"ok": True})

    def get_products(self, store: str, request: Request) -> Response:
        wanted = [sku.strip() for sku in request.headers.get("skulist", "").split(",") if sku.strip()]
        page = int(request.args.get("page") or 1) if (request.args.get("page") or "1").isdigit() else 1
        asked = request.args.get("limit") or str(PRODUCTS_MAX_LIMIT)
        limit = min(int(asked), PRODUCTS_MAX_LIMIT) if asked.isdigit() and int(asked) > 0 else PRODUCTS_MAX_LIMIT
        with self.lock:
            products = self.products.get(store, {})
            skus = [sku for sku in dict.fromkeys(wanted) if sku in products] if wanted else sorted(products)
            rows = [{"id": 1000 + n, "sku": sku, "name": sku, **products[sku]} for n, sku in enumerate(skus)]
        page_rows = rows[(max(page, 1) - 1) * limit : max(page, 1) * limit]
        return json_response({"res": "200", "list": page_rows, "count": len(rows)})

    def handle(self, request: Request) -> Response:
        route = ROUTES.get(request.path.rstrip("/").lower())
        if route is None:
            return json_response({"error": f"not found: {request.path}"}, 404)
        method, verb = route
        if request.method != verb:
            return json_response({"error": f"{request.method} is not allowed on {request.path}"}, 405)
        try:
            store = self.authenticate(request)
            return self.dispatch(store, method, request)
        except ZortError as error:
            return _answer(error.res_code, error.res_desc)

    def authenticate(self, request: Request) -> str:
        name = request.headers.get("storename", "")
        key = request.headers.get("apikey", "")
        secret = request.headers.get("apisecret", "")
        expected = self.stores.get(name)
        valid = bool(name and key and secret and expected)
        if expected is not None:  # compare both even when one differs: no early exit to time
            key_ok = hmac.compare_digest(key.encode("utf-8"), expected[0].encode("utf-8"))
            secret_ok = hmac.compare_digest(secret.encode("utf-8"), expected[1].encode("utf-8"))
            valid = valid and key_ok and secret_ok
        if not valid:
            raise ZortError("100", "Invalid API: storename, apikey or apisecret is missing or invalid")
        return name

    def dispatch(self, store: str, method: str, request: Request) -> Response:
        if method == "GETPRODUCTS":
            return self.get_products(store, request)
        if method == "GETWEBHOOK":
            with self.lock:
                settings = dict(self.webhooks.get(store) or _blank_webhook())
            return _answer("200", "Success", **settings)
        self.webhooks_update(store, request)
        return _answer("200", "Success")

    def webhooks_update(self, store: str, request: Request) -> None:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise ZortError("400", "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ZortError("400", "the body must be a JSON object")
        settings = _blank_webhook()
        for name in KEY_FIELDS:
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ZortError("400", f"{name} is required")
            settings[name] = value
        for name in WEBHOOK_URL_FIELDS:
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise ZortError("400", f"{name} must be a string")
            value = value.strip()
            if value and not _is_http_url(value):
                raise ZortError("400", f"{name} must be an http(s) URL or blank")
            settings[name] = value
        with self.lock:
            self.webhooks[store] = settings


def _fault_hook(fault: Fault, request: Request) -> Response | None:
    if fault.mode.startswith("res"):
        return _answer(fault.mode[3:] or "500", "sandbox injected failure")
    return None


def create_app(stores: dict[str, tuple[str, str]]) -> SandboxApp:
    """The ZORT sandbox. ``stores`` maps storename → (apikey, apisecret); its own control routes set
    the products' stock and prices."""
    zort = Zort(stores)
    return SandboxApp(
        zort.handle,
        reset=zort.reset,
        fault_hook=_fault_hook,
        controls={"stock": zort.set_stock, "prices": zort.set_prices},
    )


# --- ZORT calling Thor --------------------------------------------------------------------------

AUTH_STYLES = ("basic", "basic-base64", "key1-header", "none")
"""How key1 travels. ``basic``: ``Authorization: Basic {key1}`` plus the ``key1``..``key3`` headers, as
ZORT's webhook documentation (v3 seeds/001 and v4 developers.zortout.com/overview/webhook) lists them;
``basic-base64``: Basic with base64(key1), what an HTTP client building Basic auth sends;
``key1-header``: only the ``key1`` header (receivers that read the key there, shared/reference/zort.md);
``none``: no key at all (a probe)."""

BODY_STYLES = ("form", "json", "multipart", "form-without-payload", "no-content-type")
"""How the event travels. ``form``: ``payload=<json>`` url-encoded (the documentation's "Request Body:
payload (String)"); ``json``: the event's JSON itself; ``multipart``: ``payload`` as a multipart form
field; ``form-without-payload``: the payload object's own fields as form fields; ``no-content-type``:
the JSON without a Content-Type header. All but the first two are shapes public receivers of ZORT
webhooks guard against (shared/reference/zort.md); which one ZORT itself uses is not documented."""


def _auth_headers(style: str, key1: str, key2: str, key3: str) -> dict[str, str]:
    if style not in AUTH_STYLES:
        raise ValueError(f"auth must be one of {AUTH_STYLES}")
    if style == "none":
        return {}
    if style == "key1-header":
        return {"key1": key1, "key2": key2, "key3": key3}
    token = base64.b64encode(key1.encode("utf-8")).decode("ascii") if style == "basic-base64" else key1
    return {"Authorization": f"Basic {token}", "key1": key1, "key2": key2, "key3": key3}


def send_webhook(
    thor_url: str,
    method: str | None,
    payload: object,
    key1: str,
    key2: str = "",
    key3: str = "",
    *,
    as_form: bool = True,
    query: dict[str, Any] | None = None,
    timeout: float = 10,
    auth: str = "basic",
    body: str | None = None,
    http_method: str = "POST",
) -> requests.Response:
    """Call ``thor_url`` as ZORT does.

    ``method`` and ``query`` (``id``, ``number``, ``paymentstatus``…) join the URL's own query
    (``code`` stays), each name once; ``method=None`` plays the verification ping. ``auth`` and
    ``body`` pick a shape from AUTH_STYLES / BODY_STYLES (``body`` defaults to ``form`` when
    ``as_form`` else ``json``); ``payload=None`` sends no body. A ``str``/``bytes`` payload is sent as
    is, to play a malformed one.

    Unconfirmed: how ZORT merges ``method`` into a URL that already has a query (this sets it once).
    """
    parts = urlsplit(thor_url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if method is not None:
        params["method"] = method
    params.update({str(k): str(v) for k, v in (query or {}).items()})
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))
    headers = _auth_headers(auth, key1, key2, key3)
    style = body or ("form" if as_form else "json")
    if style not in BODY_STYLES:
        raise ValueError(f"body must be one of {BODY_STYLES}")
    if payload is None:
        return requests.request(http_method, url, headers=headers, timeout=timeout)
    if isinstance(payload, bytes):
        text = payload.decode("utf-8")
    elif isinstance(payload, str):
        text = payload
    else:
        text = json.dumps(payload, ensure_ascii=False)
    if style == "form":
        return requests.request(http_method, url, data={"payload": text}, headers=headers, timeout=timeout)
    if style == "multipart":
        return requests.request(http_method, url, files={"payload": (None, text)}, headers=headers, timeout=timeout)
    if style == "form-without-payload":
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(text).items()}
        return requests.request(http_method, url, data=fields, headers=headers, timeout=timeout)
    data = text.encode("utf-8")
    if style == "json":
        headers["Content-Type"] = "application/json; charset=utf-8"
    request = requests.Request(http_method, url, data=data, headers=headers).prepare()
    if style == "no-content-type":
        request.headers.pop("Content-Type", None)
    with requests.Session() as session:
        return session.send(request, timeout=timeout)


# --- the reference's example payloads ------------------------------------------------------------
# tests/fixtures/zort/<METHOD>.json: copied verbatim from ZORT's v3 webhook reference ("Ex. Payload
# JSON"), typos included (the transfer date really is "2021-01- 25" and DELETERETURNPURCHASEORDER's
# number "DO-0001"); the reference gives ADD*/UPDATE*/UPDATE*PAYMENT of one document the same example.
# The tests read the same files: localdev may read files under tests/fixtures (shared/ must not).

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "zort"

SEED_EXAMPLES: dict[str, Any] = {path.stem: json.loads(path.read_text()) for path in sorted(FIXTURES.glob("*.json"))}
"""Each of the 23 events' example payload, parsed; entries never share objects (each is its own
parse), so mutating one does not change another. Copy before mutating all the same."""


# --- command line ------------------------------------------------------------------------------


def _store(text: str) -> tuple[str, tuple[str, str]]:
    """``NAME=APIKEY:APISECRET``; split at the first ``=`` and then the first ``:`` (API keys are
    base64 and may end in ``=``; store names are e-mail addresses or slugs)."""
    name, sep, credentials = text.partition("=")
    key, colon, secret = credentials.partition(":")
    if not sep or not colon or not name or not key or not secret:
        raise argparse.ArgumentTypeError(f"expected NAME=APIKEY:APISECRET, got {text.split('=')[0]!r}=…")
    return name, (key, secret)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local ZORT v4 API sandbox (webhook settings)")
    parser.add_argument("--port", type=int, default=7103)
    parser.add_argument(
        "--store",
        type=_store,
        action="append",
        default=[],
        metavar="NAME=APIKEY:APISECRET",
        help="a store and its API key and secret (repeatable)",
    )
    args = parser.parse_args(argv)
    if not args.store:
        parser.error("give at least one --store NAME=APIKEY:APISECRET")
    serve_forever(create_app(dict(args.store)), args.port, "ZORT")


if __name__ == "__main__":
    main()
