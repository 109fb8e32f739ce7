r"""A local Falabella Seller Center: the checks of the real API and deterministic data for any id.

Run it with ``python -m localdev.sandboxes.marketplace --port 7101 --key faco@thor.local=APIKEY
--tenant faco@thor.local=faco``. Each seller user belongs to one storefront (tenant), as on the real
platform where a user is created in one seller account: the tenant gives the user's currency and
operator code (default ``facl``). Times are written in one zone for every storefront, the platform's
(``shared.tenants.MARKETPLACE_TIMEZONE``, America/Santiago: Thor's default, docs/api.md "Marketplace times").

Requests are ``GET|POST /?Action=..`` with the parameters in the query. They are checked like the
real API checks them, in this order (codes of the reference; HTTP 400 for every ErrorResponse
since no source states another status, except E429 below):

1. Action, Timestamp, UserID, Version, Signature present                     → E001
2. User-Agent with at least the documented ``SellerId/Language/LanguageVersion`` (three non-empty
   parts; more are allowed, as the Falabella SDK appends integrator and country)
                                                  → E001 (the code is the sandbox's choice, none documented)
3. UserID known                                                               → E009
4. Signature over every other parameter (constant-time compare)               → E007
5. Timestamp ISO 8601 with offset, within ``max_skew_seconds`` of now          → E003
6. Format=JSON (the sandbox speaks JSON only)                                 → E001
7. Action known                                                               → E008 (unconfirmed)

Answers use the marketplace's JSON quirks: every value is a string, a one-element collection is an
object rather than a list, empty values are ``""``, and order totals carry thousands separators
(``"69,190.00"``) as in the public SDK samples. Times are written as the real API writes them (public
sample: LinioIT/seller-center-sdk ``gsc-master`` ``tests/_schemas/Order/OrderResponse.xml``):
``CreatedAt``, ``UpdatedAt``, ``PromisedShippingTime`` as ``YYYY-MM-DD HH:MM:SS``, the wall clock of
the platform's zone without an offset, ``AddressUpdatedAt`` the same way in UTC, and ``Head.Timestamp`` in the same
zone with its offset (``2026-01-10T12:52:46-0300``), as the documented Falabella answers carry it.
GetOrders ``UpdatedAfter`` is read with its offset, or, without one (the SDK sends ``Y-m-d\TH:i:s``),
in the platform's zone.

Ready to ship follows Falabella's current documentation: GetOrderItems gives each item its
``PackageId`` (``MPDS-<order number>-0001``, the shape of the SDK's sample) from the start (v600
SetStatusToPackedByMarketplace: "Deprecated Endpoint. Still operational. You can retrieve the
PackageId using GetOrderItems or GetMultipleOrderItems"); POST SetStatusToReadyToShip (v500:
``OrderItemIds``, ``PackageId``; a ``DeliveryType`` is checked only when sent) moves the items to
``ready_to_ship`` and the marketplace assigns the carrier and tracking code. The deprecated POST
SetStatusToPackedByMarketplace (``OrderItemIds``, ``DeliveryType``) is still served: it answers each
item's PackageId (a new one for items of an order made ``unpackaged`` by the control route, whose
items GetOrderItems lists without one). Refused as in the documented
error tables: ``OrderItemIds`` not a non-empty JSON array → E023, an unknown item → E020, items of
several orders → E029, DeliveryType not dropship/pickup/send_to_warehouse → E024, ShippingProvider or
TrackingNumber sent → E091, an item not pending / ready to ship → E073, a PackageId that is not the
items' package → E122. The sandbox's own choices (nothing documented): a missing ``OrderItemIds`` is
E001, and ready to ship of an item without a PackageId (an ``unpackaged`` order's, never packed) is E122 too.

Data is derived from the ids, so any webhook leads somewhere real:

- order N has ``1 + N % 3`` items with OrderItemIds ``N*10 + i``; SKUs, names and prices come
  from the same per-SKU table GetProducts uses, so items and products agree;
- item statuses are state: ``pending`` (packed or not) until SetStatusToReadyToShip or a control route
  changes them; changing an item sets its order's UpdatedAt to now and lists the order in GetOrders.

Control routes besides those of ``_server.SandboxApp``:

- ``POST /_sandbox/items/status {"order_item_ids": [..], "status": "shipped"}`` sets item statuses
  (to mimic the marketplace changing an order before its webhook arrives);
- ``POST /_sandbox/orders {"order_ids": [..], "updated_at": "2024-05-01T12:00:00+00:00"?}`` lists
  orders in GetOrders, updated at ``updated_at`` (default now; a zone-less value is taken as UTC);
- ``POST /_sandbox/orders/missing {"order_ids": [..]}`` makes GetOrder and GetOrderItems answer
  empty collections for those orders (an order the seller cannot see);
- ``POST /_sandbox/orders/shipping-type {"order_ids": [..], "shipping_type": "Own Delivery"}`` makes those
  orders' items carry that ShippingType (default ``Dropshipping``);
- ``POST /_sandbox/invoices/lose-answers {"times": 1}`` makes SetInvoicePDF take the next documents and
  answer 500 (a lost answer); ``GET /_sandbox/invoices`` answers the documents taken per UserID (no PDFs);
- ``POST /_sandbox/invoices/on-behalf {"user_id": "…", "on": true}``: the marketplace issues that seller's
  invoices on its behalf, so SetInvoicePDF refuses its documents (v600: "Upload is not allowed for orders
  where Falabella.com issues the invoice on behalf of seller");
- ``POST /_sandbox/orders/dates {"order_ids": [..], "created_at": "…", "promised_at": "…"?}`` dates
  those orders (created, and promised to ship: default 2 days later) instead of the 2024 dates the
  ids give, so `make demo` shows orders of today;
- ``POST /_sandbox/orders/unpackaged {"order_ids": [..]}`` makes those orders' items come without a
  PackageId until packed with the deprecated SetStatusToPackedByMarketplace.

Stock: POST UpdateStock with the XML body ``<Request><Warehouse><Stock>[<SellerWarehouseId>|<GSCFacilityId>]
<SellerSku/><Quantity/></Stock>…</Warehouse></Request>`` (developers.falabella.com v600 ``updatestock``:
at most 500 SKUs, never both kinds of warehouse id in one request, none meaning the main warehouse).
UpdateStock answers a *feed*, as the real API does (LinioIT/seller-center-sdk
``tests/_schemas/Product/UpdateStockResponse.xml``, cited in shared/reference/seller-center.md):
``{"Stocks": {"feed": "<uuid>"}}`` in a SuccessResponse; the write is done when the feed is. A body
that is not that XML, no rows, more than 500 rows or both id kinds → ErrorResponse E001 (HTTP 400,
the sandbox's choice). Per-row problems are the feed's errors, reported by FeedStatus (v600
``feedstatus``; shape of the SDK fixture ``tests/_schemas/Feed/FeedProductUpdate.xml``):
``Body.FeedDetail{Feed, Status, Action, CreationDate, UpdatedDate, Source, TotalRecords,
ProcessedRecords, FailedRecords, FeedErrors{Error[{Code, Message, SellerSku}]}, FeedWarnings}``: a
row without SellerSku, a Quantity that is not a whole number of 0 or more ("Negative value is not
allowed"), and SKUs refused on demand. A feed is ``Queued`` until it finishes: when FeedStatus asks
about it at least ``delay`` seconds after it was made (default 0: at the first ask), or, when a
webhook URL is set, ``delay`` seconds after it was made, when the sandbox POSTs
``{"event": "onFeedCompleted", "payload": {"Feed": "<uuid>"}}`` to that URL. Only then is the stock it
carried kept, and only for the SKUs it accepted (per seller user, warehouse and SKU). An unknown
FeedID → E012 "Invalid Feed ID" (documented). Throttling follows the documented feed rule (50 calls
free, then at least 120 s apart, per seller; whether it applies to UpdateStock is unconfirmed): a call
too soon answers HTTP 429, ErrorResponse E429, with ``Retry-After`` the seconds left.

- ``POST /_sandbox/stock/refuse {"skus": [..], "message": "..."}`` makes the feeds made from then on
  refuse those SKUs in their FeedErrors (``{"skus": []}`` or ``POST /_sandbox/stock/refuse/off`` stops
  it, the stock kept);
- ``POST /_sandbox/feeds {"delay": 0, "webhook_url": "http://…/webhooks/{tenant}/products?code=…",
  "webhook_delay": null, "hold": false}``: the feeds' delay; the URL onFeedCompleted is sent to
  (``{tenant}`` is the seller user's storefront; null sends none), after ``webhook_delay`` seconds
  (default ``delay``), finishing the feed then; ``hold`` keeps every feed Queued (one that never reports);
- ``GET /_sandbox/feeds`` lists the feeds (id, user, status, rows, errors, webhook sent or its error);
- ``POST /_sandbox/stock/limits {"free_calls": 50, "min_interval": 120}`` sets the throttle (per user);
- ``GET /_sandbox/stock`` answers ``{user: {warehouse: {sku: quantity}}}`` (warehouse ``main``,
  ``SellerWarehouseId:<id>`` or ``GSCFacilityId:<id>``).

Prices: POST ProductUpdate (developers.falabella.com v600 ``productupdate``) with the XML body
``<Request><Product><SellerSku/><BusinessUnits><BusinessUnit><OperatorCode/><Price/>[<SpecialPrice/>
<SpecialFromDate/><SpecialToDate/>]</BusinessUnit></BusinessUnits></Product>…</Request>`` answers a feed as
the documented feeds page shows (v300 ``feeds``: the feed id is ``Head.RequestId``, the Body empty). It
is throttled by the documented feed rule (v600 ``feeds``: ProductCreate/Update/Remove and Image, 50 calls
free, then at least 120 s apart, HTTP 429 with ``Retry-After`` beyond), counted apart from UpdateStock.
A body that is not that XML, or holds no Product, is E001. Per product, the feed reports an error (code
1) for an empty SellerSku, no BusinessUnit with the user's OperatorCode, a Price or SpecialPrice that is
not a number above 0, a SpecialFromDate / SpecialToDate not written ``YYYY-MM-DD HH:MM:SS``, or a SKU
refused on demand (``/_sandbox/stock/refuse``, shared with stock). Fields sent empty are ignored, as
documented; when the feed finishes, the fields given are kept per seller user and SKU.
``GET /_sandbox/prices`` answers ``{user: {sku: {Price, SpecialPrice, SpecialFromDate, SpecialToDate,
Effective}}}``, ``Effective`` being the price a customer sees now (the SpecialPrice between its dates, read
in the platform's zone like every zone-less time here, else the Price). The sandbox does not refuse cents in a CLP or COP price (no
source says it does).

Faults injected with ``/_sandbox/fail`` answer like the marketplace: mode ``429`` gives an
ErrorResponse E429 with HTTP 429 and ``Retry-After: 1``; ``500``/5xx give an ErrorResponse of type
Platform, code 1000; ``timeout`` and ``malformed`` are the shared ones.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests
from werkzeug.wrappers import Request, Response

from localdev.sandboxes._server import ControlError, Fault, SandboxApp, json_response, serve_forever
from shared.adapters.seller_center.signing import sign
from shared.domain.times import zone as time_zone
from shared.tenants import MARKETPLACE_TIMEZONE, is_tenant

REQUIRED_PARAMS = ("Action", "Timestamp", "UserID", "Version", "Signature")
DELIVERY_TYPES = frozenset({"dropship", "pickup", "send_to_warehouse"})
DEFAULT_TENANT = "facl"
INVOICE_PATH = "/v1/marketplace-sellers/invoice/pdf"
INVOICE_SIGNED_HEADERS = ("Action", "Format", "Service", "Timestamp", "UserID", "Version")
INVOICE_TYPES = {  # developers.falabella.com v600 setinvoicepdf: allowed document types by country
    "FACL": ("BOLETA", "FACTURA", "NOTA_DE_CREDITO"),
    "FAPE": ("BOLETA", "FACTURA", "NOTA_DE_CREDITO"),
    "FACO": ("FACTURA", "NOTA_DE_CREDITO"),
}
INVOICEABLE = (
    "ready_to_ship",
    "shipped",
    "delivered",
    "failed_delivery",
    "return_shipped_by_customer",
    "return_waiting_for_approval",
    "return_rejected",
    "returned",
)
FAILURE_REASONS = (("canceled", "Out of stock"), ("canceled", "Wrong address"), ("failed", "Customer not at home"))
_TENANT_CURRENCIES = {"ar": "ARS", "co": "COP", "cl": "CLP", "pe": "PEN", "mx": "MXN"}
ITEM_STATUSES = frozenset(
    {
        "pending",
        "ready_to_ship",
        "shipped",
        "delivered",
        "canceled",
        "failed_delivery",
        "return_shipped_by_customer",
        "return_waiting_for_approval",
        "return_rejected",
        "returned",
    }
)
_API_DATETIME = "%Y-%m-%d %H:%M:%S"
_EPOCH = datetime(2024, 5, 1, 9, 0, 0, tzinfo=timezone.utc)
"""Orders are created from here on, one minute apart per id (modulo ~69 days)."""

_FIRST_NAMES = ("Camila", "Matías", "Valentina", "Sebastián", "Isidora", "Benjamín", "Florencia", "Joaquín")
_LAST_NAMES = ("González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva")
_STREETS = ("Av. Providencia", "Calle Los Aromos", "Av. Libertador", "Pasaje Las Rosas", "Calle Mayor")
_PRODUCTS = (
    ("Zapatillas Running Trail", "Andes Sport", "Deportes > Calzado"),
    ("Polera Algodón Orgánico", "Pacífico", "Moda > Poleras"),
    ("Audífonos Bluetooth", "SonoMax", "Tecnología > Audio"),
    ("Set de Sartenes Antiadherentes", "Cocina Viva", "Hogar > Cocina"),
    ("Mochila Urbana 25L", "Ruta Norte", "Accesorios > Mochilas"),
    ("Lámpara de Escritorio LED", "Lumo", "Hogar > Iluminación"),
    ("Botella Térmica 750ml", "Glaciar", "Deportes > Accesorios"),
    ("Cuaderno Universitario 100h", "Papelería Sur", "Librería > Cuadernos"),
)
_COUNTRIES = {
    "CLP": ("Chile", "Santiago", "Región Metropolitana", "8320000"),
    "COP": ("Colombia", "Bogotá", "Cundinamarca", "110111"),
    "PEN": ("Perú", "Lima", "Lima", "15001"),
    "ARS": ("Argentina", "Buenos Aires", "CABA", "C1001"),
    "MXN": ("México", "Ciudad de México", "CDMX", "06000"),
}


class ApiError(Exception):
    """An ErrorResponse to answer with."""

    def __init__(
        self, code: str, message: str, error_type: str = "Sender", status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.error_type, self.status = code, message, error_type, status
        self.retry_after = retry_after


# --- deterministic data ---------------------------------------------------------------------


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _money(amount: Decimal, grouped: bool = False) -> str:
    return f"{amount:,.2f}" if grouped else f"{amount:.2f}"


def _date(moment: datetime, zone: ZoneInfo | timezone) -> str:
    """The API's zone-less ``YYYY-MM-DD HH:MM:SS``, as the wall clock in ``zone`` shows ``moment``."""
    return moment.astimezone(zone).strftime(_API_DATETIME)


def _quirk(rows: list[Any]) -> list[Any] | dict[str, Any]:
    """The marketplace's collection quirk: one element is an object, several are a list."""
    return rows[0] if len(rows) == 1 else rows


def product_facts(sku: str) -> dict[str, Any]:
    """Name, brand, category, price and stock of ``sku``, stable across runs."""
    seed = _digest(sku)
    name, brand, category = _PRODUCTS[seed % len(_PRODUCTS)]
    price = Decimal(4990 + (seed // 7 % 90) * 1000)
    return {"name": name, "brand": brand, "category": category, "price": price, "stock": seed // 11 % 40}


def item_count(order_id: int) -> int:
    return 1 + order_id % 3


def item_sku(order_id: int, index: int) -> str:
    return f"THOR-{(order_id * 7 + index * 13) % 1000:04d}"


def order_created_at(order_id: int) -> datetime:
    return _EPOCH + timedelta(minutes=order_id % 100_000)


def parse_order_id(value: str) -> int:
    text = (value or "").strip()
    if not text.isdigit() or int(text) <= 0:
        raise ApiError("E016", f"Invalid Order ID ({value})")
    return int(text)


def split_item_id(value: object) -> tuple[int, int]:
    """Order id and item index of an OrderItemId ``order_id*10 + index``."""
    text = str(value).strip()
    if not text.isdigit():
        raise ApiError("E020", f"Invalid Order Item ID ({value})")
    order_id, index = divmod(int(text), 10)
    if order_id <= 0 or index >= item_count(order_id):
        raise ApiError("E020", f"Invalid Order Item ID ({value})")
    return order_id, index


def _json_list_param(params: dict[str, Any], name: str) -> list[Any]:
    raw = params.get(name)
    if raw is None:
        raise ApiError("E001", f"Parameter {name} is mandatory")
    try:
        values = json.loads(raw)
    except ValueError:
        raise ApiError("E001", f"Parameter {name} must be a JSON array") from None
    if not isinstance(values, list):
        raise ApiError("E001", f"Parameter {name} must be a JSON array")
    return values


def _int_param(params: dict[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise ApiError("E001", f"Parameter {name} must be a non-negative integer")
    value = int(raw)
    return min(value, maximum) if maximum else value


def _parse_timestamp(raw: str | None, zone: ZoneInfo | timezone | None = None) -> datetime | None:
    """An ISO 8601 time with its offset; without one, read in ``zone`` (None: refused)."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone) if zone is not None else None
    return moment


# --- mutable state --------------------------------------------------------------------------


@dataclass
class ItemState:
    status: str = "pending"
    shipment_provider: str = ""
    tracking_code: str = ""
    package_id: str = ""

    def packed(self, package_id: str, order_id: int) -> ItemState:
        return ItemState(
            self.status,
            self.shipment_provider or "Falabella Logística",
            self.tracking_code or f"FLX{order_id}{package_id[-4:]}",
            package_id,
        )


@dataclass
class SandboxFeed:
    """An UpdateStock (or ProductUpdate) feed: its rows, the errors it will report, whether it finished."""

    feed_id: str
    user: str
    tenant: str
    rows: list[tuple[str, str, int | None]]
    errors: list[dict[str, str]]
    created: datetime
    made_at: float  # monotonic
    status: str = "Queued"
    updated: datetime | None = None
    webhook: str = ""
    action: str = "UpdateStock"
    prices: list[dict[str, str]] = field(default_factory=list)  # ProductUpdate: per product, the fields given

    def detail(self) -> dict[str, Any]:
        closed = self.status != "Queued"
        return {
            "Feed": self.feed_id,
            "Status": self.status,
            "Action": self.action,
            "CreationDate": self.created.strftime("%Y-%m-%d %H:%M:%S"),
            "UpdatedDate": self.updated.strftime("%Y-%m-%d %H:%M:%S") if self.updated else "",
            "Source": "api",
            "TotalRecords": str(len(self.rows)),
            "ProcessedRecords": str(len(self.rows) - len(self.errors)) if closed else "0",
            "FailedRecords": str(len(self.errors)) if closed else "0",
            "FeedErrors": {"Error": _quirk(self.errors)} if closed and self.errors else "",
            "FeedWarnings": "",
        }


@dataclass
class MarketplaceState:
    items: dict[str, ItemState] = field(default_factory=dict)
    updated_at: dict[int, datetime] = field(default_factory=dict)
    """Orders listed by GetOrders, with their last update."""
    missing: set[int] = field(default_factory=set)
    unpackaged: set[int] = field(default_factory=set)
    """Orders whose items GetOrderItems lists without a PackageId (until packed the deprecated way)."""
    packages: dict[int, int] = field(default_factory=dict)
    """Packages created per order (numbers the next PackageId)."""
    stock: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """UserID -> warehouse -> SellerSku -> quantity, as UpdateStock set it."""
    refused_skus: dict[str, str] = field(default_factory=dict)
    stock_calls: dict[str, list[float]] = field(default_factory=dict)
    """UserID -> monotonic times of its UpdateStock calls (the throttle)."""
    product_feed_calls: dict[str, list[float]] = field(default_factory=dict)
    """UserID -> monotonic times of its ProductUpdate calls (the documented feed throttle)."""
    prices: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """UserID -> SellerSku -> the price fields its finished ProductUpdate feeds set."""
    throttled: int = 0
    """429s answered (the benchmark reads it)."""
    free_calls: int = 50
    min_interval: float = 120.0
    shipping_types: dict[int, str] = field(default_factory=dict)
    """Orders whose items carry another ShippingType than ``Dropshipping`` (control route)."""
    invoices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """UserID -> the tax documents SetInvoicePDF took (without their PDFs: size and hash)."""
    lose_invoice_answers: int = 0
    """SetInvoicePDF calls to take and then answer 500 (a lost answer: the retry is a repeat)."""
    invoiced_on_behalf: set[str] = field(default_factory=set)
    """UserIDs whose invoices the marketplace issues itself: SetInvoicePDF refuses their documents."""
    canceled_reasons: dict[str, str] = field(default_factory=dict)
    """Item id -> the reason SetStatusToCanceled was given."""
    dated: dict[int, tuple[datetime, datetime | None]] = field(default_factory=dict)
    """Orders given a creation (and promised shipping) time by `/_sandbox/orders/dates`."""
    feeds: dict[str, SandboxFeed] = field(default_factory=dict)
    feed_delay: float = 0.0
    feed_webhook_url: str | None = None
    feed_webhook_delay: float | None = None
    hold_feeds: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.updated_at.clear()
            self.missing.clear()
            self.unpackaged.clear()
            self.packages.clear()
            self.stock.clear()
            self.refused_skus.clear()
            self.stock_calls.clear()
            self.dated.clear()
            self.product_feed_calls.clear()
            self.prices.clear()
            self.throttled = 0
            self.free_calls, self.min_interval = 50, 120.0
            self.shipping_types.clear()
            self.invoices.clear()
            self.lose_invoice_answers = 0
            self.invoiced_on_behalf.clear()
            self.canceled_reasons.clear()
            self.feeds.clear()
            self.feed_delay, self.feed_webhook_url, self.hold_feeds = 0.0, None, False
            self.feed_webhook_delay = None

    def item(self, order_id: int, index: int) -> ItemState:
        """An item's state; a new order's items already carry their PackageId, as GetOrderItems gives it
        (v600 SetStatusToPackedByMarketplace: "Deprecated Endpoint ... You can retrieve the PackageId
        using GetOrderItems or GetMultipleOrderItems"), except for orders made `unpackaged`."""
        found = self.items.get(str(order_id * 10 + index))
        if found is not None:
            return found
        return ItemState(package_id="" if order_id in self.unpackaged else self.first_package(order_id))

    @staticmethod
    def first_package(order_id: int) -> str:
        return f"MPDS-{200_000_000 + order_id}-0001"

    def created(self, order_id: int) -> datetime:
        dated = self.dated.get(order_id)
        return dated[0] if dated else order_created_at(order_id)

    def promised(self, order_id: int) -> datetime:
        dated = self.dated.get(order_id)
        return (dated[1] if dated else None) or self.created(order_id) + timedelta(days=2)

    def touch(self, order_id: int, moment: datetime) -> None:
        self.updated_at[order_id] = moment

    def new_package(self, order_id: int) -> str:
        """A new PackageId for the order, shaped like the SDK sample's ``MPDS-200131783-9800``."""
        self.packages[order_id] = self.packages.get(order_id, 0 if order_id in self.unpackaged else 1) + 1
        return f"MPDS-{200_000_000 + order_id}-{self.packages[order_id]:04d}"


# --- the marketplace ------------------------------------------------------------------------


class Marketplace:
    """The request handler and its data; ``create_sandbox`` wraps it with the control routes."""

    def __init__(
        self,
        api_keys: dict[str, str],
        max_skew_seconds: int,
        currencies: dict[str, str],
        tenants: dict[str, str] | None = None,
    ) -> None:
        self.api_keys = dict(api_keys)
        self.max_skew = timedelta(seconds=max_skew_seconds)
        self.currencies = dict(currencies)
        self.tenants = dict(tenants or {})
        self.state = MarketplaceState()
        self.actions = {
            "GetOrder": self.get_order,
            "GetOrders": self.get_orders,
            "GetOrderItems": self.get_order_items,
            "GetProducts": self.get_products,
            "SetStatusToPackedByMarketplace": self.set_status_to_packed_by_marketplace,
            "SetStatusToReadyToShip": self.set_status_to_ready_to_ship,
            "UpdateStock": self.update_stock,
            "GetFailureReasons": self.get_failure_reasons,
            "SetStatusToCanceled": self.set_status_to_canceled,
            "SetStatusToShipped": self.set_seller_delivery_status,
            "SetStatusToDelivered": self.set_seller_delivery_status,
            "SetStatusToFailedDelivery": self.set_seller_delivery_status,
            "ProductUpdate": self.product_update,
            "FeedStatus": self.feed_status,
        }

    # request handling ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == INVOICE_PATH:
            return self.set_invoice_pdf(request)
        params = request.args.to_dict(flat=True)
        action = params.get("Action", "")
        if request.path != "/" or request.method not in ("GET", "POST"):
            return json_response({"error": "not found"}, 404)
        try:
            context = self.authenticate(request, params)
            context.update(
                user=params["UserID"], method=request.method, body=request.get_data(as_text=True), action=action
            )
            response_type, body = self.actions[action](params, context)
        except ApiError as error:
            headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
            return error_response(action, error, headers)
        return success_response(action, response_type, body, context["zone"], context.get("request_id"))

    def authenticate(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        """The real API's checks, in order; returns what the actions need to know of the caller."""
        missing = [name for name in REQUIRED_PARAMS if not params.get(name)]
        if missing:
            raise ApiError("E001", f"Parameter {missing[0]} is mandatory")
        user_agent = request.headers.get("User-Agent", "")
        parts = user_agent.split("/")
        if len(parts) < 3 or not all(part.strip() for part in parts[:3]):
            raise ApiError(
                "E001",
                "Header User-Agent is mandatory as "
                "Falabella_SellerId/Programming_language/programming_language_version",
            )
        api_key = self.api_keys.get(params["UserID"])
        if api_key is None:
            raise ApiError("E009", "Access Denied")
        unsigned = {name: value for name, value in params.items() if name != "Signature"}
        expected = sign(unsigned, api_key).encode("ascii")
        if not hmac.compare_digest(expected, params["Signature"].lower().encode("utf-8")):
            raise ApiError("E007", "Login failed. Signature mismatching")
        moment = _parse_timestamp(params["Timestamp"])
        if moment is None or abs(datetime.now(timezone.utc) - moment) > self.max_skew:
            raise ApiError("E003", "Timestamp has expired")
        if params.get("Format", "XML").upper() != "JSON":
            raise ApiError("E001", "The sandbox supports Format=JSON only")
        if params["Action"] not in self.actions:
            raise ApiError("E008", f"Invalid Action ({params['Action']})")
        tenant = self.tenants.get(params["UserID"], DEFAULT_TENANT)
        return {
            "currency": self.currencies.get(params["UserID"], _TENANT_CURRENCIES[tenant[2:]]),
            "operator_code": tenant.upper(),
            "zone": time_zone(MARKETPLACE_TIMEZONE),
        }

    # actions -------------------------------------------------------------------------------

    def get_order(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        order_id = parse_order_id(params.get("OrderId", ""))
        with self.state.lock:
            if order_id in self.state.missing:
                return "Orders", {"Orders": []}
            order = self.order_payload(order_id, context)
        return "Orders", {"Orders": {"Order": order}}

    def get_order_items(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        order_id = parse_order_id(params.get("OrderId", ""))
        with self.state.lock:
            if order_id in self.state.missing:
                return "OrderItems", {"OrderItems": []}
            rows = self.item_payloads(order_id, context)
        return "OrderItems", {"OrderItems": {"OrderItem": _quirk(rows)}}

    def get_orders(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        updated_after = _parse_timestamp(params.get("UpdatedAfter"), context["zone"])
        if params.get("UpdatedAfter") and updated_after is None:
            raise ApiError("E001", "Parameter UpdatedAfter must be an ISO 8601 date")
        limit = _int_param(params, "Limit", 100, maximum=5000)
        offset = _int_param(params, "Offset", 0)
        sort_by = params.get("SortBy") or "created_at"
        if sort_by not in ("created_at", "updated_at"):
            raise ApiError("E001", "Parameter SortBy must be created_at or updated_at")
        descending = (params.get("SortDirection") or "DESC").upper() == "DESC"
        with self.state.lock:
            listed = [
                (order_id, when)
                for order_id, when in self.state.updated_at.items()
                if updated_after is None or when > updated_after
            ]
            if sort_by == "updated_at":
                listed.sort(key=lambda pair: (pair[1], pair[0]), reverse=descending)
            else:
                listed.sort(key=lambda pair: (order_created_at(pair[0]), pair[0]), reverse=descending)
            page = [self.order_payload(order_id, context) for order_id, _ in listed[offset : offset + limit]]
        body = {"Orders": {"Order": _quirk(page)} if page else [], "TotalCount": str(len(listed))}
        return "Orders", body

    def get_products(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        skus = [str(sku) for sku in _json_list_param(params, "SkuSellerList")]
        rows = [self.product_payload(sku, context) for sku in dict.fromkeys(skus)]
        return "Products", {"Products": {"Product": _quirk(rows)} if rows else []}

    def _one_order_items(
        self, params: dict[str, Any], delivery_type_required: bool = True
    ) -> list[tuple[str, int, int]]:
        """(item id, order id, index) of ``OrderItemIds`` after the checks both status actions share.
        SetStatusToReadyToShip's current (v500) parameters are ``OrderItemIds`` and ``PackageId``: a
        DeliveryType is checked only when sent."""
        ids = _order_item_ids_param(params)
        located = [(str(item_id).strip(), *split_item_id(item_id)) for item_id in ids]
        if (delivery_type_required or "DeliveryType" in params) and params.get("DeliveryType") not in DELIVERY_TYPES:
            raise ApiError("E024", f'"{params.get("DeliveryType", "")}" Invalid Delivery Type')
        if params.get("ShippingProvider") or params.get("TrackingNumber"):
            raise ApiError(
                "E091",
                "You are not allowed to set the shipment provider and tracking number and "
                "the delivery type is wrong. Please use send_to_warehouse",
            )
        if len({order_id for _, order_id, _ in located}) > 1:
            raise ApiError("E029", "Order items must be from the same order")
        blocked = [
            item_id
            for item_id, order_id, index in located
            if self.state.item(order_id, index).status not in ("pending", "ready_to_ship")
        ]
        if blocked:
            raise ApiError("E073", f"All order items must have status Pending or Ready To Ship. ({', '.join(blocked)})")
        return located

    def set_status_to_packed_by_marketplace(
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        with self.state.lock:
            located = self._one_order_items(params)
            order_id = located[0][1]
            package_id = next(
                (
                    self.state.item(order_id, index).package_id
                    for _, _, index in located
                    if self.state.item(order_id, index).package_id
                ),
                None,
            )
            package_id = package_id or self.state.new_package(order_id)
            for item_id, _, index in located:
                self.state.items[item_id] = self.state.item(order_id, index).packed(package_id, order_id)
            self.state.touch(order_id, datetime.now(timezone.utc).replace(microsecond=0))
        rows = [
            {
                "OrderItemId": item_id,
                "PurchaseOrderId": str(order_id),
                "PurchaseOrderNumber": str(200_000_000 + order_id),
                "PackageId": package_id,
            }
            for item_id, _, _ in located
        ]
        return "OrderItems", {"OrderItems": {"OrderItem": _quirk(rows)}}

    def set_status_to_ready_to_ship(
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        with self.state.lock:
            located = self._one_order_items(params, delivery_type_required=False)
            wanted = (params.get("PackageId") or "").strip()
            for _item_id, order_id, index in located:
                package = self.state.item(order_id, index).package_id
                if not package or (wanted and wanted != package):
                    raise ApiError("E122", f"Invalid Package ID ({wanted})")
            now = datetime.now(timezone.utc).replace(microsecond=0)
            for item_id, order_id, index in located:
                current = self.state.item(order_id, index).packed(self.state.item(order_id, index).package_id, order_id)
                self.state.items[item_id] = ItemState(
                    "ready_to_ship", current.shipment_provider, current.tracking_code, current.package_id
                )
                self.state.touch(order_id, now)
        rows = [
            {
                "OrderItemId": item_id,
                "PurchaseOrderId": str(order_id),
                "PurchaseOrderNumber": str(200_000_000 + order_id),
            }
            for item_id, order_id, _ in located
        ]
        return "OrderItems", {"OrderItems": {"OrderItem": _quirk(rows)}}

    # the order loop (issue 19) -----------------------------------------------------------------

    def get_failure_reasons(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """``Reasons.Reason`` rows of Type and Name (LinioIT/seller-center-sdk ``gsc-master``
        FailureReasonsSuccessResponse.xml; the names here are the sandbox's own)."""
        rows = [{"Type": kind, "Name": name} for kind, name in FAILURE_REASONS]
        return "Reasons", {"Reasons": {"Reason": rows}}

    def set_status_to_canceled(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """v600: only an item in ``pending`` (E028 otherwise), never a Fulfillment one; Reason a known
        GetFailureReasons Name (E022)."""
        if context["method"] != "POST":
            raise ApiError("E001", "SetStatusToCanceled is a POST")
        raw = (params.get("OrderItemId") or "").strip()
        if not raw:
            raise ApiError("E001", "Parameter OrderItemId is mandatory")
        item_id, order_id, index = (raw, *split_item_id(raw))
        reason = params.get("Reason") or ""
        if reason not in {name for _, name in FAILURE_REASONS}:
            raise ApiError("E022", f'"{reason}" Invalid Reason')
        with self.state.lock:
            if self.state.shipping_types.get(order_id, "Dropshipping").lower() == "fulfillment":
                raise ApiError("E028", 'It is not possible to set the order to the status "canceled" (Fulfillment)')
            current = self.state.item(order_id, index)
            if current.status != "pending":
                raise ApiError(
                    "E028", f'It is not possible to set the order to the status "canceled" ({current.status})'
                )
            self.state.items[item_id] = ItemState(
                "canceled", current.shipment_provider, current.tracking_code, current.package_id
            )
            self.state.canceled_reasons[item_id] = reason
            self.state.touch(order_id, datetime.now(timezone.utc).replace(microsecond=0))
        return "OrderItems", {"OrderItems": {"OrderItem": {"OrderItemId": item_id}}}

    def set_seller_delivery_status(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """SetStatusToShipped / ToDelivered / ToFailedDelivery (parameters unconfirmed: ``OrderItemIds``
        as ready to ship). Refused (E028) for a Fulfillment item (as every status action, v600) or a
        status that does not move forward."""
        action = context["action"]
        target = {"SetStatusToShipped": "shipped", "SetStatusToDelivered": "delivered"}.get(action, "failed_delivery")
        ids = _order_item_ids_param(params)
        if target == "failed_delivery" and params.get("Reason") not in {name for _, name in FAILURE_REASONS}:
            raise ApiError("E022", f'"{params.get("Reason", "")}" Invalid Reason')
        allowed_from = {"shipped": ("ready_to_ship",), "delivered": ("ready_to_ship", "shipped")}.get(
            target, ("ready_to_ship", "shipped")
        )
        with self.state.lock:
            located = [(str(i).strip(), *split_item_id(i)) for i in ids]
            for _item_id, order_id, index in located:
                shipping = self.state.shipping_types.get(order_id, "Dropshipping")
                if shipping.lower() == "fulfillment":
                    raise ApiError("E028", f'It is not possible to set the order to the status "{target}" ({shipping})')
                if self.state.item(order_id, index).status not in allowed_from:
                    status = self.state.item(order_id, index).status
                    raise ApiError("E028", f'It is not possible to set the order to the status "{target}" ({status})')
            now = datetime.now(timezone.utc).replace(microsecond=0)
            for item_id, order_id, index in located:
                current = self.state.item(order_id, index)
                self.state.items[item_id] = ItemState(
                    target, current.shipment_provider, current.tracking_code, current.package_id
                )
                self.state.touch(order_id, now)
        return "OrderItems", {"OrderItems": {"OrderItem": _quirk([{"OrderItemId": i} for i, _, _ in located])}}

    def set_invoice_pdf(self, request: Request) -> Response:
        """SetInvoicePDF (v600 ``setinvoicepdf``): POST, signed over the headers Action, Format, Service,
        Timestamp, UserID, Version (the Signature a header too); refuses a type the country does not
        take (BOLETA in Colombia), an operatorCode other than FACL / FACO / FAPE or not the seller's, an
        item that has not gone through ready to ship, a format other than pdf, a seller whose invoices
        the marketplace issues (control route). No size limit: the documentation states none. The same document
        again (items, number, type) is answered as a success and kept once (unconfirmed: how the real API
        answers a repeat)."""
        action = "SetInvoicePDF"
        if request.method != "POST":
            return json_response({"error": "not found"}, 404)
        headers = {name: request.headers.get(name, "") for name in INVOICE_SIGNED_HEADERS}
        try:
            missing = [name for name in (*INVOICE_SIGNED_HEADERS, "Signature") if not request.headers.get(name)]
            if missing:
                raise ApiError("E001", f"Parameter {missing[0]} is mandatory")
            api_key = self.api_keys.get(headers["UserID"])
            if api_key is None:
                raise ApiError("E009", "Access Denied")
            expected = sign(headers, api_key).encode("ascii")
            if not hmac.compare_digest(expected, request.headers["Signature"].lower().encode("utf-8")):
                raise ApiError("E007", "Login failed. Signature mismatching")
            moment = _parse_timestamp(headers["Timestamp"])
            if moment is None or abs(datetime.now(timezone.utc) - moment) > self.max_skew:
                raise ApiError("E003", "Timestamp has expired")
            if headers["Service"] != "Invoice":
                raise ApiError("E001", "Header Service must be Invoice")
            body = request.get_json(force=True, silent=True)
            if not isinstance(body, dict):
                raise ApiError("E001", "The body must be a JSON object")
            tenant = self.tenants.get(headers["UserID"], DEFAULT_TENANT)
            document = self._checked_invoice(body, tenant)
            with self.state.lock:
                if headers["UserID"] in self.state.invoiced_on_behalf:
                    raise ApiError(
                        "E001",
                        "Upload is not allowed for orders where Falabella.com issues the invoice on behalf of seller",
                    )
        except ApiError as error:
            return error_response(action, error)
        zone = time_zone(MARKETPLACE_TIMEZONE)
        with self.state.lock:
            taken = self.state.invoices.setdefault(headers["UserID"], [])
            if not any(_same_invoice(known, document) for known in taken):
                taken.append(document)
            if self.state.lose_invoice_answers > 0:
                self.state.lose_invoice_answers -= 1
                return error_response(action, ApiError("1000", "Internal Application Error", "Platform", 500))
        return success_response(action, "Invoice", {"Invoice": {"invoiceNumber": document["invoiceNumber"]}}, zone)

    def _checked_invoice(self, body: dict[str, Any], tenant: str) -> dict[str, Any]:
        required = ("orderItemIds", "invoiceNumber", "date", "invoiceType", "operatorCode", "invoiceDocumentFormat")
        missing = [name for name in (*required, "invoiceDocument") if not body.get(name)]
        if missing:
            raise ApiError("E001", f"Parameter {missing[0]} is mandatory")
        operator = str(body["operatorCode"])
        allowed = INVOICE_TYPES.get(operator)
        if allowed is None:
            raise ApiError("E001", f"operatorCode must be one of {', '.join(INVOICE_TYPES)}")
        if operator != tenant.upper() and operator[2:] != tenant[2:].upper():
            raise ApiError("E001", f"operatorCode {operator} is not the seller's country")
        if body["invoiceType"] not in allowed:
            raise ApiError("E001", f"invoiceType {body['invoiceType']} is not valid for {operator}")
        if body["invoiceDocumentFormat"] != "pdf":
            raise ApiError("E001", "invoiceDocumentFormat must be pdf")
        try:
            pdf = base64.b64decode(str(body["invoiceDocument"]), validate=True)
        except ValueError:
            raise ApiError("E001", "invoiceDocument is not base64") from None
        if not pdf.startswith(b"%PDF-"):
            raise ApiError("E001", "invoiceDocument is not a PDF")
        ids = body["orderItemIds"]
        if not isinstance(ids, list) or not ids:
            raise ApiError("E023", "Invalid Order Item IDs")
        with self.state.lock:
            for raw in ids:
                order_id, index = split_item_id(raw)
                status = self.state.item(order_id, index).status
                if status == "canceled" or status not in INVOICEABLE:
                    raise ApiError(
                        "E001", f"Order item {raw} has not gone through ready_to_ship or shipment confirmed ({status})"
                    )
        return {
            "orderItemIds": [str(i) for i in ids],
            "invoiceNumber": str(body["invoiceNumber"]),
            "invoiceType": body["invoiceType"],
            "date": str(body["date"]),
            "operatorCode": operator,
            "size": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(),
        }

    def invoices_snapshot(self) -> Response:
        with self.state.lock:
            return json_response({user: list(documents) for user, documents in self.state.invoices.items()})

    def set_shipping_types(self, spec: dict[str, Any]) -> Response:
        """``{"order_ids": [..], "shipping_type": "Own Delivery"}``: those orders' items carry it."""
        shipping_type = str(spec.get("shipping_type") or "").strip()
        if not shipping_type:
            return json_response({"error": "shipping_type is required"}, 400)
        order_ids = _order_ids(spec)
        with self.state.lock:
            self.state.shipping_types.update({order_id: shipping_type for order_id in order_ids})
        return json_response({"ok": True})

    def invoice_on_behalf(self, spec: dict[str, Any]) -> Response:
        """``{"user_id": "…", "on": true}``: the marketplace issues that seller's invoices (SetInvoicePDF refuses)."""
        user = str(spec.get("user_id") or "")
        if not user:
            raise ControlError("user_id is required")
        with self.state.lock:
            if spec.get("on", True):
                self.state.invoiced_on_behalf.add(user)
            else:
                self.state.invoiced_on_behalf.discard(user)
        return json_response({"ok": True})

    def lose_invoice_answers(self, spec: dict[str, Any]) -> Response:
        """``{"times": 1}``: the next SetInvoicePDF calls are taken, then answered 500 (a lost answer)."""
        with self.state.lock:
            self.state.lose_invoice_answers = int(spec.get("times") or 1)
        return json_response({"ok": True})

    def update_stock(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if context["method"] != "POST":
            raise ApiError("E001", "UpdateStock must be sent with POST")
        rows = _stock_rows(context["body"])
        user = context["user"]
        with self.state.lock:
            self._throttle(user)
            errors = []
            for _, sku, quantity in rows:
                problem = None
                if not sku:
                    problem = ("1", "SellerSku cannot be empty")
                elif quantity is None or quantity < 0:
                    problem = ("1", "Negative value is not allowed")
                elif sku in self.state.refused_skus:
                    problem = ("1", self.state.refused_skus[sku])
                if problem:
                    errors.append({"Code": problem[0], "Message": problem[1], "SellerSku": sku})
            feed = SandboxFeed(
                uuid.uuid4().hex,
                user,
                self.tenants.get(user, DEFAULT_TENANT),
                rows,
                errors,
                datetime.now(context["zone"]),
                time.monotonic(),
            )
            self._open_feed(feed)
        return "", {"Stocks": {"feed": feed.feed_id}}

    def _open_feed(self, feed: SandboxFeed) -> None:
        """Keeps a new feed (under the state's lock) and, where an onFeedCompleted URL is set, completes it
        and calls that URL after the feed's delay."""
        self.state.feeds[feed.feed_id] = feed
        url = self.state.feed_webhook_url
        delay = self.state.feed_delay if self.state.feed_webhook_delay is None else self.state.feed_webhook_delay
        if url:
            timer = threading.Timer(delay, self._complete_and_notify, (feed.feed_id, url))
            timer.daemon = True
            timer.start()

    def product_update(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if context["method"] != "POST":
            raise ApiError("E001", "ProductUpdate must be sent with POST")
        products = _price_rows(context["body"])
        user = context["user"]
        operator = context["operator_code"].lower()
        with self.state.lock:
            self._throttle(user, self.state.product_feed_calls)
            errors, kept = [], []
            for sku, units in products:
                problem = _price_problem(sku, units, operator) or (self.state.refused_skus.get(sku) if sku else None)
                if problem:
                    errors.append({"Code": "1", "Message": problem, "SellerSku": sku})
                else:
                    kept.append(
                        {"SellerSku": sku, **next(u for u in units if u.get("OperatorCode", "").lower() == operator)}
                    )
            feed = SandboxFeed(
                uuid.uuid4().hex,
                user,
                self.tenants.get(user, DEFAULT_TENANT),
                [("", sku, None) for sku, _ in products],
                errors,
                datetime.now(context["zone"]),
                time.monotonic(),
                action="ProductUpdate",
                prices=kept,
            )
            self._open_feed(feed)
        context["request_id"] = feed.feed_id
        return "", {}

    def prices_snapshot(self) -> Response:
        with self.state.lock:
            answer: dict[str, dict[str, dict[str, str]]] = {}
            for user, skus in self.state.prices.items():
                local_now = datetime.now(time_zone(MARKETPLACE_TIMEZONE)).replace(tzinfo=None)
                answer[user] = {
                    sku: {**fields, "Effective": _effective(fields, local_now)} for sku, fields in skus.items()
                }
            return json_response({"prices": answer, "throttled": self.state.throttled})

    def _finish(self, feed: SandboxFeed) -> None:
        """The feed ends Finished: its accepted rows' stock (or prices) are kept (callers hold the lock)."""
        if feed.status != "Queued" or self.state.hold_feeds:
            return
        if feed.action == "ProductUpdate":
            held = self.state.prices.setdefault(feed.user, {})
            for fields in feed.prices:
                current = held.setdefault(fields["SellerSku"], {})
                current.update({k: v for k, v in fields.items() if k in _PRICE_FIELDS and v})  # empty: ignored
            feed.status, feed.updated = "Finished", datetime.now(time_zone(MARKETPLACE_TIMEZONE))
            return
        refused = {error["SellerSku"] for error in feed.errors}
        kept = self.state.stock.setdefault(feed.user, {})
        for warehouse, sku, quantity in feed.rows:
            if sku and sku not in refused and quantity is not None and quantity >= 0:
                kept.setdefault(warehouse, {})[sku] = quantity
        feed.status, feed.updated = "Finished", datetime.now(time_zone(MARKETPLACE_TIMEZONE))

    def _complete_and_notify(self, feed_id: str, url: str) -> None:
        with self.state.lock:
            feed = self.state.feeds[feed_id]
            self._finish(feed)
            if feed.status == "Queued":
                return
        body: dict[str, Any] = {"event": "onFeedCompleted", "payload": {"Feed": feed_id}}
        try:
            answer = requests.post(url.replace("{tenant}", feed.tenant), json=body, timeout=10)
            feed.webhook = f"HTTP {answer.status_code}"
        except requests.RequestException as error:  # the marketplace would retry; the sandbox only records it
            feed.webhook = f"failed: {error}"

    def feed_status(self, params: dict[str, Any], context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        feed_id = params.get("FeedID", "").strip()
        with self.state.lock:
            feed = self.state.feeds.get(feed_id)
            if feed is None or feed.user != context["user"]:
                raise ApiError("E012", "Invalid Feed ID")
            if time.monotonic() - feed.made_at >= self.state.feed_delay:
                self._finish(feed)
            return "FeedDetail", {"FeedDetail": feed.detail()}

    def set_feeds(self, spec: dict[str, Any]) -> Response:
        try:
            delay = float(spec.get("delay", 0))
            webhook_delay = None if spec.get("webhook_delay") is None else float(spec["webhook_delay"])
        except (TypeError, ValueError):
            return json_response({"error": "delay and webhook_delay must be numbers of seconds"}, 400)
        url = spec.get("webhook_url")
        if url is not None and not isinstance(url, str):
            return json_response({"error": "webhook_url must be a string or null"}, 400)
        with self.state.lock:
            self.state.feed_delay, self.state.feed_webhook_url = max(0.0, delay), url or None
            self.state.hold_feeds = bool(spec.get("hold", False))
            self.state.feed_webhook_delay = None if webhook_delay is None else max(0.0, webhook_delay)
        return json_response({"ok": True})

    def feeds_snapshot(self) -> Response:
        with self.state.lock:
            return json_response(
                [
                    {
                        "feed": f.feed_id,
                        "user": f.user,
                        "status": f.status,
                        "rows": len(f.rows),
                        "errors": f.errors,
                        "webhook": f.webhook,
                    }
                    for f in self.state.feeds.values()
                ]
            )

    def _throttle(self, user: str, counted: dict[str, list[float]] | None = None) -> None:
        """The feed rule (50 calls free, then at least `min_interval` seconds apart), per user."""
        now = time.monotonic()
        calls = (self.state.stock_calls if counted is None else counted).setdefault(user, [])
        if len(calls) >= self.state.free_calls and calls:
            wait = calls[-1] + self.state.min_interval - now
            if wait > 0:
                self.state.throttled += 1
                raise ApiError("E429", "Too many requests", status=429, retry_after=max(1, math.ceil(wait)))
        calls.append(now)

    def set_refused_skus(self, spec: dict[str, Any]) -> Response:
        skus = spec.get("skus")
        if not isinstance(skus, list):
            return json_response({"error": "skus must be a list"}, 400)
        message = str(spec.get("message") or "Seller SKU not found")
        with self.state.lock:
            self.state.refused_skus = {str(sku): message.replace("%s", str(sku)) for sku in skus}
        return json_response({"ok": True})

    def set_stock_limits(self, spec: dict[str, Any]) -> Response:
        try:
            free, interval = int(spec.get("free_calls", 50)), float(spec.get("min_interval", 120))
        except (TypeError, ValueError):
            return json_response({"error": "free_calls and min_interval must be numbers"}, 400)
        with self.state.lock:
            self.state.free_calls, self.state.min_interval = free, interval
        return json_response({"ok": True})

    def date_orders(self, spec: dict[str, Any]) -> Response:
        """``{"order_ids": [..], "created_at": ISO 8601, "promised_at": ISO 8601?}``: those orders were
        created then (default: the sandbox's 2024 dates) and promised to ship then (default: 2 days later),
        so a demo shows orders of today. Their other data stays as it is."""
        created = _parse_timestamp(spec.get("created_at"), timezone.utc)
        promised = _parse_timestamp(spec.get("promised_at"), timezone.utc) if spec.get("promised_at") else None
        if created is None or (spec.get("promised_at") and promised is None):
            return json_response({"error": "created_at (and promised_at) must be ISO 8601 times"}, 400)
        with self.state.lock:
            for order_id in spec.get("order_ids", []):
                self.state.dated[int(order_id)] = (created, promised)
        return json_response({"ok": True})

    def stock_snapshot(self) -> Response:
        with self.state.lock:
            return json_response(json.loads(json.dumps(self.state.stock)))

    # payloads ------------------------------------------------------------------------------

    def item_payloads(self, order_id: int, context: dict[str, Any]) -> list[dict[str, Any]]:
        created = self.state.created(order_id)
        rows = []
        for index in range(item_count(order_id)):
            sku = item_sku(order_id, index)
            facts = product_facts(sku)
            state = self.state.item(order_id, index)
            rows.append(
                {
                    "OrderItemId": str(order_id * 10 + index),
                    "OrderId": str(order_id),
                    "Name": facts["name"],
                    "Sku": sku,
                    "ShopSku": f"{sku}-{_digest(sku) % 10_000_000:07d}",
                    "ShippingType": self.state.shipping_types.get(order_id, "Dropshipping"),
                    "ItemPrice": _money(facts["price"]),
                    "PaidPrice": _money(facts["price"]),
                    "WalletCredits": "0.00",  # as the SDK fixture OrderItemsResponse.xml writes it
                    "Currency": context["currency"],
                    "TaxAmount": "0.00",
                    "ShippingAmount": "0.00",
                    "VoucherAmount": "0.00",
                    "VoucherCode": "",
                    "Status": state.status,
                    "ShipmentProvider": state.shipment_provider,
                    "TrackingCode": state.tracking_code,
                    "PackageId": state.package_id,
                    "PromisedShippingTime": _date(self.state.promised(order_id), context["zone"]),
                    "CreatedAt": _date(created, context["zone"]),
                    "UpdatedAt": _date(
                        self.state.updated_at.get(order_id, created + timedelta(minutes=5)), context["zone"]
                    ),
                }
            )
        return rows

    def order_payload(self, order_id: int, context: dict[str, Any]) -> dict[str, Any]:
        items = self.item_payloads(order_id, context)
        total = sum((Decimal(item["PaidPrice"]) for item in items), Decimal(0))
        product_total = sum((Decimal(item["ItemPrice"]) for item in items), Decimal(0))
        statuses = list(dict.fromkeys(item["Status"] for item in items))
        created = self.state.created(order_id)
        first = _FIRST_NAMES[order_id % len(_FIRST_NAMES)]
        last = _LAST_NAMES[order_id // len(_FIRST_NAMES) % len(_LAST_NAMES)]
        address = self.address(order_id, first, last, context["currency"])
        return {
            "OrderId": str(order_id),
            "OrderNumber": str(200_000_000 + order_id),
            "CustomerFirstName": first,
            "CustomerLastName": last,
            "PaymentMethod": "CreditCard",
            "Remarks": "",
            "Price": _money(total),
            "GiftOption": "0",
            "VoucherCode": "",
            "CreatedAt": _date(created, context["zone"]),
            "UpdatedAt": _date(self.state.updated_at.get(order_id, created + timedelta(minutes=5)), context["zone"]),
            "AddressUpdatedAt": _date(created, timezone.utc),
            "AddressBilling": address,
            "AddressShipping": dict(address),
            "NationalRegistrationNumber": str(10_000_000 + order_id % 15_000_000),
            "ItemsCount": str(len(items)),
            "PromisedShippingTime": _date(self.state.promised(order_id), context["zone"]),
            "ExtraAttributes": "",
            "Statuses": {"Status": _quirk(statuses)},
            "ShippingType": "Dropshipping",
            "OperatorCode": context["operator_code"],
            "GrandTotal": _money(total, grouped=True),
            "ProductTotal": _money(product_total, grouped=True),
            "TaxAmount": "0.00",
            "ShippingFeeTotal": "0.00",
            "Voucher": "0.00",
        }

    @staticmethod
    def address(order_id: int, first: str, last: str, currency: str) -> dict[str, Any]:
        country, city, region, post_code = _COUNTRIES.get(currency, _COUNTRIES["CLP"])
        return {
            "FirstName": first,
            "LastName": last,
            "Phone": f"9{order_id % 100_000_000:08d}",
            "Phone2": "",
            "Address1": f"{_STREETS[order_id % len(_STREETS)]} {100 + order_id % 900}",
            "Address2": "",
            "CustomerEmail": "",
            "City": city,
            "Ward": "",
            "Region": region,
            "PostCode": post_code,
            "Country": country,
        }

    @staticmethod
    def product_payload(sku: str, context: dict[str, Any]) -> dict[str, Any]:
        facts = product_facts(sku)
        return {
            "SellerSku": sku,
            "ShopSku": f"{sku}-{_digest(sku) % 10_000_000:07d}",
            "Name": facts["name"],
            "Brand": facts["brand"],
            "PrimaryCategory": facts["category"],
            "Description": "",
            "BusinessUnits": {
                "BusinessUnit": {
                    "BusinessUnit": "Falabella",
                    "OperatorCode": context["operator_code"].lower(),
                    "Price": _money(facts["price"]),
                    "SpecialPrice": "",
                    "SpecialFromDate": "",
                    "SpecialToDate": "",
                    "Stock": str(facts["stock"]),
                    "Status": "active",
                    "IsPublished": "1",
                }
            },
        }

    # control -------------------------------------------------------------------------------

    def set_item_statuses(self, spec: dict[str, Any]) -> Response:
        status = spec.get("status")
        if status not in ITEM_STATUSES:
            return json_response({"error": f"status must be one of {sorted(ITEM_STATUSES)}"}, 400)
        try:
            located = [(str(item_id).strip(), *split_item_id(item_id)) for item_id in spec.get("order_item_ids") or []]
        except ApiError as error:
            raise ControlError(error.message) from None
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self.state.lock:
            for item_id, order_id, index in located:
                current = self.state.item(order_id, index)
                self.state.items[item_id] = ItemState(
                    status, current.shipment_provider, current.tracking_code, current.package_id
                )
                self.state.touch(order_id, now)
        return json_response({"ok": True, "order_item_ids": [item_id for item_id, _, _ in located]})

    def seed_orders(self, spec: dict[str, Any]) -> Response:
        when: datetime | None = datetime.now(timezone.utc).replace(microsecond=0)
        if spec.get("updated_at"):
            when = _parse_timestamp(spec["updated_at"]) or _naive_utc(spec["updated_at"])
        if when is None:
            return json_response({"error": "updated_at must be ISO 8601 or YYYY-MM-DD HH:MM:SS"}, 400)
        order_ids = _order_ids(spec)
        with self.state.lock:
            for order_id in order_ids:
                self.state.touch(order_id, when)
        return json_response({"ok": True, "order_ids": [str(order_id) for order_id in order_ids]})

    def mark_unpackaged(self, spec: dict[str, Any]) -> Response:
        """Orders whose items have no PackageId yet (only SetStatusToPackedByMarketplace gives one)."""
        order_ids = _order_ids(spec)
        with self.state.lock:
            self.state.unpackaged.update(order_ids)
        return json_response({"ok": True})

    def mark_missing(self, spec: dict[str, Any]) -> Response:
        order_ids = _order_ids(spec)
        with self.state.lock:
            self.state.missing.update(order_ids)
        return json_response({"ok": True})


def _order_item_ids_param(params: dict[str, Any]) -> list[Any]:
    """The ``OrderItemIds`` parameter of a status action: a non-empty JSON list (E001 when absent, E023
    when not one)."""
    if params.get("OrderItemIds") is None:
        raise ApiError("E001", "Parameter OrderItemIds is mandatory")
    try:
        ids = json.loads(params["OrderItemIds"])
    except ValueError:
        ids = None
    if not isinstance(ids, list) or not ids:
        raise ApiError("E023", f'"{params["OrderItemIds"]}" Invalid Order Item IDs')
    return ids


def _order_ids(spec: dict[str, Any]) -> list[int]:
    """A control route's ``order_ids``, each as the API would read it (a ControlError otherwise)."""
    try:
        return [parse_order_id(str(order_id)) for order_id in spec.get("order_ids") or []]
    except ApiError as error:
        raise ControlError(error.message) from None


def _stock_rows(body: str) -> list[tuple[str, str, int | None]]:
    """(warehouse, SellerSku, Quantity or None when not a whole number) of each ``<Stock>`` row."""
    try:
        root = ElementTree.fromstring(body or "")
    except ElementTree.ParseError:
        raise ApiError("E001", "The request body must be the UpdateStock XML") from None
    stocks = root.findall("./Warehouse/Stock") if root.tag == "Request" else []
    if not stocks:
        raise ApiError("E001", "The request body must hold <Request><Warehouse><Stock> rows")
    if len(stocks) > 500:
        raise ApiError("E001", "The maximum number of SKUs per request is 500")
    kinds = {
        kind for kind in ("SellerWarehouseId", "GSCFacilityId") for stock in stocks if stock.find(kind) is not None
    }
    if len(kinds) > 1:
        raise ApiError("E001", "Send GSCFacilityId or SellerWarehouseId, not both")
    rows = []
    for stock in stocks:
        warehouse = "main"
        for kind in kinds:
            warehouse = f"{kind}:{(stock.findtext(kind) or '').strip()}"
        quantity_text = (stock.findtext("Quantity") or "").strip()
        quantity = int(quantity_text) if quantity_text.lstrip("-").isdigit() else None
        rows.append((warehouse, (stock.findtext("SellerSku") or "").strip(), quantity))
    return rows


def _same_invoice(known: dict[str, Any], document: dict[str, Any]) -> bool:
    keys = ("orderItemIds", "invoiceNumber", "invoiceType")
    return all(known[key] == document[key] for key in keys)


_PRICE_FIELDS = ("Price", "SpecialPrice", "SpecialFromDate", "SpecialToDate")


def _price_rows(body: str) -> list[tuple[str, list[dict[str, str]]]]:
    """(SellerSku, its BusinessUnits' fields) of each ``<Product>`` of a ProductUpdate."""
    try:
        root = ElementTree.fromstring(body or "")
    except ElementTree.ParseError:
        raise ApiError("E001", "The request body must be the ProductUpdate XML") from None
    products = root.findall("./Product") if root.tag == "Request" else []
    if not products:
        raise ApiError("E001", "The request body must hold <Request><Product> elements")
    rows = []
    for product in products:
        units = [
            {child.tag: (child.text or "").strip() for child in unit}
            for unit in product.findall("./BusinessUnits/BusinessUnit")
        ]
        rows.append(((product.findtext("SellerSku") or "").strip(), units))
    return rows


def _price_problem(sku: str, units: list[dict[str, str]], operator: str) -> str | None:
    if not sku:
        return "SellerSku cannot be empty"
    unit = next((u for u in units if u.get("OperatorCode", "").lower() == operator), None)
    if unit is None:
        return f"No BusinessUnit with OperatorCode {operator}"
    for name in ("Price", "SpecialPrice"):
        text = unit.get(name, "")
        if text:
            try:
                if Decimal(text) <= 0:
                    return f"{name} must be greater than 0"
            except ArithmeticError:
                return f"{name} is not a number"
    for name in ("SpecialFromDate", "SpecialToDate"):
        if unit.get(name) and _naive_utc(unit[name]) is None:
            return f"{name} must be written YYYY-MM-DD HH:MM:SS"
    return None


def _effective(fields: dict[str, str], local_now: datetime) -> str:
    """The price a customer sees now: the SpecialPrice between its dates (local wall clock), else the Price."""
    special, start, end = fields.get("SpecialPrice"), fields.get("SpecialFromDate"), fields.get("SpecialToDate")
    if special and start and end:
        begins, ends = datetime.strptime(start, _API_DATETIME), datetime.strptime(end, _API_DATETIME)
        if begins <= local_now <= ends:
            return special
    return fields.get("Price", "")


def _naive_utc(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, _API_DATETIME).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _head(action: str, response_type: str, zone: ZoneInfo) -> dict[str, Any]:
    """Timestamp in the platform's zone with its offset, ``-0300`` style as in the SDK samples."""
    return {
        "RequestId": uuid.uuid4().hex,
        "RequestAction": action,
        "ResponseType": response_type,
        "Timestamp": datetime.now(zone).strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def success_response(
    action: str, response_type: str, body: dict[str, Any], zone: ZoneInfo, request_id: str | None = None
) -> Response:
    head = _head(action, response_type, zone)
    if request_id:  # a feed: its id is the RequestId (v300 ``feeds``)
        head["RequestId"] = request_id
    return json_response({"SuccessResponse": {"Head": head, "Body": body}})


def error_response(action: str, error: ApiError, headers: dict[str, Any] | None = None) -> Response:
    head = {
        "RequestAction": action,
        "ErrorType": error.error_type,
        "ErrorCode": error.code,
        "ErrorMessage": f"{error.code}: {error.message}",
    }
    return json_response({"ErrorResponse": {"Head": head, "Body": {}}}, error.status, headers)


def marketplace_fault(fault: Fault, request: Request) -> Response | None:
    """Injected 429 and 5xx answered as the marketplace's ErrorResponse; other modes as shared."""
    action = request.args.get("Action", "")
    if fault.mode == "429":
        return error_response(action, ApiError("E429", "Too many requests", status=429), {"Retry-After": "1"})
    if fault.mode.isdigit() and int(fault.mode) >= 500:
        return error_response(action, ApiError("1000", "Internal Application Error", "Platform", int(fault.mode)))
    return None


def create_sandbox(marketplace: Marketplace) -> SandboxApp:
    """`SandboxApp` plus the marketplace's own control routes."""
    return SandboxApp(
        marketplace.handle,
        reset=marketplace.state.clear,
        fault_hook=marketplace_fault,
        views={
            "stock": lambda request: marketplace.stock_snapshot(),
            "invoices": lambda request: marketplace.invoices_snapshot(),
            "feeds": lambda request: marketplace.feeds_snapshot(),
            "prices": lambda request: marketplace.prices_snapshot(),
        },
        controls={
            "items/status": marketplace.set_item_statuses,
            "orders": marketplace.seed_orders,
            "orders/missing": marketplace.mark_missing,
            "orders/dates": marketplace.date_orders,
            "orders/unpackaged": marketplace.mark_unpackaged,
            "stock/refuse": marketplace.set_refused_skus,
            "stock/refuse/off": lambda spec: marketplace.set_refused_skus({"skus": []}),
            "stock/limits": marketplace.set_stock_limits,
            "feeds": marketplace.set_feeds,
            "orders/shipping-type": marketplace.set_shipping_types,
            "invoices/lose-answers": marketplace.lose_invoice_answers,
            "invoices/on-behalf": marketplace.invoice_on_behalf,
        },
    )


def create_app(
    api_keys: dict[str, str],
    max_skew_seconds: int = 300,
    currencies: dict[str, str] | None = None,
    tenants: dict[str, str] | None = None,
) -> SandboxApp:
    """The marketplace sandbox. ``api_keys`` maps UserID → API key; ``tenants`` maps UserID → its
    storefront (time zone, operator code, currency; default ``facl``); ``currencies`` maps UserID →
    the currency its items are sold in (default the storefront country's)."""
    unknown = [tenant for tenant in (tenants or {}).values() if not is_tenant(tenant)]
    if unknown:
        raise ValueError(f"unknown tenant(s): {', '.join(unknown)}")
    return create_sandbox(Marketplace(api_keys, max_skew_seconds, currencies or {}, tenants))


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Falabella Seller Center sandbox")
    parser.add_argument("--port", type=int, default=7101)
    parser.add_argument(
        "--key",
        type=_pair,
        action="append",
        default=[],
        metavar="USERID=APIKEY",
        help="a seller user and its API key (repeatable)",
    )
    parser.add_argument(
        "--currency",
        type=_pair,
        action="append",
        default=[],
        metavar="USERID=CURRENCY",
        help="currency of a user's items, e.g. faco@thor.local=COP (default: its storefront country's)",
    )
    parser.add_argument(
        "--tenant",
        type=_pair,
        action="append",
        default=[],
        metavar="USERID=TENANT",
        help="storefront of a user, e.g. faco@thor.local=faco (default facl)",
    )
    parser.add_argument("--max-skew", type=int, default=300, help="accepted Timestamp skew in seconds")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give at least one --key USERID=APIKEY")
    app = create_app(
        dict(args.key),
        args.max_skew,
        {user: cur.upper() for user, cur in args.currency},
        {user: tenant.lower() for user, tenant in args.tenant},
    )
    serve_forever(app, args.port, "marketplace")


if __name__ == "__main__":
    main()
