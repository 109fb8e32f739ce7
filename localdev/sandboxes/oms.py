"""A local OMS Order API (seeds/002) that checks what the real one checks.

Run it: ``python -m localdev.sandboxes.oms --port 7102 --token local-oms-faco=faco`` (``--token``
repeats; without any, every Thor tenant ``t`` gets the token ``local-oms-t`` for header ``t``).

What it answers, in this order of checks (status codes are the reference's list: 200, 201, 400,
401, 403, 404, 405 "Invalid input"; it documents no 409 nor 415):

- 401 without ``Authorization: Bearer <known token>``;
- 403 when ``X-TWC-Tenant`` is absent or is not the tenant that token belongs to;
- 400 when a POST/PUT is not ``Content-Type: application/json`` or its body is not JSON;
- 405 "Invalid input" when the JSON does not fit the order schema (types, enums, integer cents,
  unknown field names, ``null`` in an enum field); the answer names the field, e.g.
  ``{"field": "deliveryStatus", ...}``. The reference marks no field of an order line, shipment or
  entry as required, so none is demanded (``entryRef``, ``productRef``, ``quantity``,
  ``shipmentRef`` may be left out); it gives ``channel``, ``deliveryStatus``, ``orderStatus``,
  ``paymentStatus`` and ``shippingState`` an enum and never null, so each may be absent but not
  ``null``. ``orderRef`` is the one field demanded on ``POST /api/v1/orders``: the sandbox's own
  choice (it keys orders by it; whether the real OMS requires it is unconfirmed);
- 400 when a POST repeats an ``orderRef`` the tenant already has (the check and the insert are one
  atomic step, so concurrent POSTs of one order store it once);
- 404 when GET/PUT name an order the tenant does not have.

``POST /api/v1/orders`` → 201 with the stored order, which gets an ``id`` (24 hex digits, like a
MongoDB ObjectId: the real format is unconfirmed); its lines and shipments get ``id``, ``orderId``
and ``orderRef``. ``PUT /api/v1/orders`` finds the order by ``id`` or ``orderRef`` in the body (or
``?orderId=``/``?orderRef=``) and merges: top-level fields replace, addresses merge, orderLines
merge by entryRef and shipments by shipmentRef. ``GET /api/v1/orders?orderRef=…|orderId=…`` → the
order (one object, as the reference shows). ``GET /api/v1/orders/entries?…`` → the order's lines as a
list (the reference's sample answer there is a whole order, evidently pasted; the title says
"Get all order lines"). The entry endpoints: ``POST /api/v1/orders/entries`` (an order line naming its
order by ``orderRef`` or ``orderId``) → 201 the stored line; ``PUT /api/v1/orders/entries`` (a line
found by ``id`` or by ``orderRef`` + ``entryRef``), ``PUT /api/v1/orders/entries/id={id}`` and
``PUT /api/v1/orders/entries/{orderref}/ref={ref}`` → 200 the merged line; none needs ``entryRef``
in the body (the reference's samples for the last two have none).

Control routes added to `_server`'s: ``GET /_sandbox/orders`` → ``{"count": n, "orders":
[{"tenant": "faco", "order": {...}}]}``; ``GET /_sandbox/history[?orderRef=…]`` → ``{orderRef:
[{"method", "status", "at", "body"}]}``, every order body the OMS received (POST / PUT of
``/api/v1/orders``), in the order received, with the status it answered (the scale-out drill checks
that no order moves backwards and none is created twice); ``POST /_sandbox/reset`` also forgets the
orders and the history.
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.wrappers import Request, Response

from localdev.sandboxes._server import SandboxApp, json_response, serve_forever
from shared.tenants import TENANTS

ORDERS_PATH = "/api/v1/orders"
ENTRIES_PATH = "/api/v1/orders/entries"

# --- the order schema (seeds/002), strict: JSON types as documented, no unknown fields ---------

OrderStatus = Literal[
    "AWAITING_PAYMENT",
    "AWAITING_PICKUP",
    "AWAITING_SHIPMENT",
    "CANCELLED",
    "COMPLETE",
    "CREATED",
    "DECLINED",
    "DISPUTED",
    "IN_PROGRESS",
    "MANUAL_VERIFY",
    "OTHER",
    "PARTIALLY_RETURNED",
    "PARTIALLY_SHIPPED",
    "RETURNED",
    "SHIPPED",
]
PaymentStatus = Literal[
    "AUTHORIZED",
    "DECLINED",
    "FRAUD_DETECTED",
    "MANUAL_VERIFY",
    "NOT_PAID",
    "OTHER",
    "PAID",
    "PARTIALLY_PAID",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
    "VOIDED",
]
DeliveryStatus = Literal["DELIVERED", "IN_PROCESS", "PARTIALLY_SHIPPED", "READY_TO_SHIP", "SHIPPED"]
ShippingState = Literal["CREATED", "DELIVERED", "OTHER", "PACKED", "PICKED", "READY_FOR_SHIPPING", "SHIPPED"]
Channel = Literal["MOBILE", "OTHER", "POS", "WEB"]

Cents = int | None  # every …InCent / …Cent field: an integer (strict: 12.0 is refused)
Number = float | None  # decimals: a JSON number (an integer is a number too; "12.5" is not)
Text = str | None
When = datetime | None  # ISO 8601 text, e.g. 2022-06-27T14:39:07.843Z


class _Schema(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class AddressIn(_Schema):
    address1: Text = None
    address2: Text = None
    addressId: Text = None
    addressRef: Text = None
    city: Text = None
    company: Text = None
    country: Text = None
    countryCode: Text = None
    countryName: Text = None
    email: Text = None
    id: Text = None
    name: Text = None
    phone: Text = None
    postcode: Text = None
    province: Text = None
    provinceCode: Text = None


class OrderLineIn(_Schema):
    entryRef: str | None = Field(default=None, min_length=1)
    productRef: str | None = Field(default=None, min_length=1)
    quantity: int | None = Field(default=None, ge=0)
    appliedDiscounts: list[dict[str, Any]] | None = None
    basePrice: Number = None
    basePriceExTax: Number = None
    basePriceExTaxInCent: Cents = None
    basePriceInCent: Cents = None
    basePriceIncTax: Number = None
    basePriceIncTaxInCent: Cents = None
    cancelledAt: When = None
    created_at: When = None
    gtin: Text = None
    id: Text = None
    orderId: Text = None
    orderRef: Text = None
    processedAt: When = None
    productId: Text = None
    refundAmount: Number = None
    refundAmountInCent: Cents = None
    returnId: int | None = None
    returnedAt: When = None
    returnedQuantity: int | None = Field(default=None, ge=0)
    shippedQuantity: int | None = Field(default=None, ge=0)
    totalAmount: Number = None
    totalAmountBeforeDiscount: Number = None
    totalAmountBeforeDiscountInCent: Cents = None
    totalAmountExTax: Number = None
    totalAmountInCent: Cents = None
    totalAmountIncTax: Number = None
    totalAmountIncTaxInCent: Cents = None
    updated_at: When = None


class ShipmentLineIn(_Schema):
    entryRef: str | None = Field(default=None, min_length=1)
    # The reference types quantityShipped as a string; a JSON integer is accepted too.
    quantityShipped: str | int | None = None
    created_at: When = None
    entryId: Text = None
    id: Text = None
    orderId: Text = None
    orderRef: Text = None
    shipmentId: Text = None
    shipmentLineRef: Text = None
    shipmentRef: Text = None
    updated_at: When = None


class ShipmentIn(_Schema):
    shipmentRef: str | None = Field(default=None, min_length=1)
    created_at: When = None
    deliveryDate: When = None
    id: Text = None
    orderId: Text = None
    orderRef: Text = None
    shipmentLines: list[ShipmentLineIn] = Field(default_factory=list)
    shipmentProvider: Text = None
    # The reference documents no enum for shipmentStatus (its sample says "DELIVERED").
    shipmentStatus: Text = None
    shippedDate: When = None
    trackingNumber: Text = None
    trackingUrl: Text = None
    updated_at: When = None


class OrderIn(_Schema):
    """The body of ``POST /api/v1/orders``: every field of the reference's order."""

    orderRef: str = Field(min_length=1)
    acceptsMarketing: bool | None = None
    appliedDiscounts: list[dict[str, Any]] | None = None
    appliedTaxes: list[dict[str, Any]] | None = None
    attributeGroups: dict[str, Any] | None = None
    billingAddress: AddressIn | None = None
    cancelReason: Text = None
    cancelled: bool | None = None
    cancelledAt: When = None
    cartId: Text = None
    channel: Channel = None  # type: ignore[assignment]  # enum fields: may be absent, never null (defaults are not validated)
    confirmed: bool | None = None
    couponDiscounts: Number = None
    couponDiscountsInCent: Cents = None
    created_at: When = None
    currencyCode: Text = None
    customerId: Text = None
    customerLocale: Text = None
    customerRef: Text = None
    deliveryStatus: DeliveryStatus = None  # type: ignore[assignment]  # may be absent, never null
    email: Text = None
    handlingCost: Number = None
    handlingCostExTax: Number = None
    handlingCostExTaxInCent: Cents = None
    handlingCostInCent: Cents = None
    handlingCostIncTax: Number = None
    handlingCostIncTaxInCent: Cents = None
    id: Text = None
    ipAddress: Text = None
    ipAddressCountry: Text = None
    ipAddressCountryIsocode: Text = None
    itemsCancelled: int | None = Field(default=None, ge=0)
    itemsReturned: int | None = Field(default=None, ge=0)
    itemsShipped: int | None = Field(default=None, ge=0)
    orderLines: list[OrderLineIn] | None = None
    orderStatus: OrderStatus = None  # type: ignore[assignment]  # may be absent, never null
    paymentMethod: Text = None
    paymentProvider: Text = None
    paymentStatus: PaymentStatus = None  # type: ignore[assignment]  # may be absent, never null
    processedAt: When = None
    promotionalDiscounts: Number = None
    promotionalDiscountsInCent: Cents = None
    refundedAmount: Number = None
    refundedAmountInCent: Cents = None
    returnReason: Text = None
    returned: bool | None = None
    returnedAt: When = None
    shipmentMode: dict[str, Any] | None = None
    shipments: list[ShipmentIn] | None = None
    shippingAddress: AddressIn | None = None
    shippingCost: Number = None
    shippingCostBeforeDiscount: Number = None
    shippingCostBeforeDiscountInCent: Cents = None
    shippingCostExTax: Number = None
    shippingCostExTaxInCent: Cents = None
    shippingCostInCent: Cents = None
    shippingCostIncTax: Number = None
    shippingCostIncTaxCent: Cents = None  # sic: the reference's name
    shippingState: ShippingState = None  # type: ignore[assignment]  # may be absent, never null
    taxCategoryCode: Text = None
    taxIncluded: bool | None = None
    totalAmount: Number = None
    totalAmountBeforeDiscount: Number = None
    totalAmountBeforeDiscountInCent: Cents = None
    totalAmountExTax: Number = None
    totalAmountExTaxInCent: Cents = None
    totalAmountInCent: Cents = None
    totalAmountIncTax: Number = None
    totalAmountIncTaxInCent: Cents = None
    totalDiscounts: Number = None
    totalDiscountsInCent: Cents = None
    totalItems: int | None = Field(default=None, ge=0)
    updated_at: When = None
    wrappingCost: Number = None
    wrappingCostExTax: Number = None
    wrappingCostExTaxInCent: Cents = None
    wrappingCostInCent: Cents = None
    wrappingCostIncTax: Number = None
    wrappingCostIncTaxInCent: Cents = None


class OrderUpdateIn(OrderIn):
    """The body of ``PUT /api/v1/orders``: the same schema, found by ``id`` or ``orderRef``."""

    orderRef: str | None = Field(default=None, min_length=1)  # type: ignore[assignment]  # optional here: found by id or orderRef


class InvalidInput(Exception):
    def __init__(self, field: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.errors = errors or [{"field": field, "message": message}]


_UNION_TAGS = {"str", "int", "float", "bool", "datetime", "dict", "list", "none"}


def field_path(loc: tuple[Any, ...]) -> str:
    """``("orderLines", 0, "productRef")`` → ``"orderLines.0.productRef"``, without pydantic's
    union-member tags (``"str"``, ``"literal[...]"``)."""
    parts = [str(p) for p in loc if isinstance(p, int) or (p not in _UNION_TAGS and "[" not in str(p))]
    return ".".join(parts) or "body"


def _duplicate_entry_refs(body: OrderIn) -> None:
    seen: set[str] = set()
    for index, line in enumerate(body.orderLines or []):
        if line.entryRef is None:
            continue
        if line.entryRef in seen:
            raise InvalidInput(f"orderLines.{index}.entryRef", f"entryRef {line.entryRef!r} appears twice")
        seen.add(line.entryRef)


def validate_order(raw: str | bytes, *, update: bool = False) -> OrderIn:
    """The body checked against the schema, or `InvalidInput` naming the first bad field."""
    model = OrderUpdateIn if update else OrderIn
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"field": field_path(e["loc"]), "message": _message(e)} for e in exc.errors()]
        raise InvalidInput(errors[0]["field"], errors[0]["message"], errors) from None
    _duplicate_entry_refs(body)
    return body


def validate_entry(raw: str | bytes) -> OrderLineIn:
    """An order line sent alone to the entry endpoints, checked like one in ``orderLines``."""
    try:
        return OrderLineIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"field": field_path(e["loc"]), "message": _message(e)} for e in exc.errors()]
        raise InvalidInput(errors[0]["field"], errors[0]["message"], errors) from None


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return error["msg"]


# --- storage ------------------------------------------------------------------------------------


def _now() -> str:
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_id() -> str:
    return secrets.token_hex(12)


def _merge_list(
    current: list[dict[str, Any]],
    incoming: list[dict[str, Any]],
    key: str,
    merge_item: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Items of ``incoming`` merged into ``current`` by ``key``; new keys are appended."""
    merged = [dict(item) for item in current]
    index = {item.get(key): position for position, item in enumerate(merged) if item.get(key) is not None}
    for item in incoming:
        position = index.get(item.get(key)) if item.get(key) is not None else None
        if position is None:
            if item.get(key) is not None:
                index[item.get(key)] = len(merged)
            merged.append(dict(item))
        else:
            merged[position] = merge_item(merged[position], item)
    return merged


def _merge_shipment(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    lines = _merge_list(
        current.get("shipmentLines") or [],
        incoming.get("shipmentLines") or [],
        "entryRef",
        lambda old, new: {**old, **new},
    )
    return {**current, **incoming, "shipmentLines": lines}


def merge_order(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = {**current}
    for key, value in incoming.items():
        if key == "orderLines" and value is not None:
            merged[key] = _merge_list(current.get(key) or [], value, "entryRef", lambda old, new: {**old, **new})
        elif key == "shipments" and value is not None:
            merged[key] = _merge_list(current.get(key) or [], value, "shipmentRef", _merge_shipment)
        elif key.endswith("Address") and isinstance(value, dict) and isinstance(current.get(key), dict):
            merged[key] = {**current[key], **value}
        else:
            merged[key] = value
    return merged


def _stamp(order: dict[str, Any]) -> dict[str, Any]:
    """Ids and back-references the OMS assigns: id on the order, its lines and shipments."""
    order_id, order_ref = order["id"], order.get("orderRef")
    for line in order.get("orderLines") or []:
        line.setdefault("id", _new_id())
        line.update(orderId=order_id, orderRef=order_ref)
    for shipment in order.get("shipments") or []:
        shipment.setdefault("id", _new_id())
        shipment.update(orderId=order_id, orderRef=order_ref)
        for line in shipment.get("shipmentLines") or []:
            line.setdefault("id", _new_id())
            line.update(
                orderId=order_id, orderRef=order_ref, shipmentId=shipment["id"], shipmentRef=shipment.get("shipmentRef")
            )
    order["updated_at"] = _now()
    return order


class DuplicateRef(Exception):
    """A PUT would give an order the orderRef of another."""


class OrderStore:
    """Orders per tenant header, behind one lock so look-up-and-insert is atomic."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: dict[str, dict[str, dict[str, Any]]] = {}  # tenant → id → order

    def _find(self, tenant: str, order_id: str | None, order_ref: str | None) -> dict[str, Any] | None:
        orders = self.orders.get(tenant, {})
        if order_id:
            return orders.get(order_id)
        return next((o for o in orders.values() if o.get("orderRef") == order_ref), None) if order_ref else None

    def find(self, tenant: str, order_id: str | None = None, order_ref: str | None = None) -> dict[str, Any] | None:
        with self.lock:
            found = self._find(tenant, order_id, order_ref)
            return copy.deepcopy(found) if found else None

    def create(self, tenant: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The stored order, or None when the tenant already has this orderRef."""
        with self.lock:
            if self._find(tenant, None, body["orderRef"]) is not None:
                return None
            order = {**copy.deepcopy(body), "id": _new_id()}
            order.setdefault("created_at", _now())
            self.orders.setdefault(tenant, {})[order["id"]] = _stamp(order)
            return copy.deepcopy(order)

    def update(
        self, tenant: str, order_id: str | None, order_ref: str | None, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The merged order, None when absent; `DuplicateRef` when a new orderRef is taken."""
        with self.lock:
            current = self._find(tenant, order_id, order_ref)
            if current is None:
                return None
            new_ref = body.get("orderRef")
            if new_ref and new_ref != current.get("orderRef") and self._find(tenant, None, new_ref):
                raise DuplicateRef(new_ref)
            merged = merge_order(current, {k: v for k, v in copy.deepcopy(body).items() if k != "id"})
            self.orders[tenant][current["id"]] = _stamp(merged)
            return copy.deepcopy(merged)

    def add_entry(
        self, tenant: str, order_id: str | None, order_ref: str | None, line: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The stored line (merged by entryRef when the order has it), None when the order is absent."""
        with self.lock:
            order = self._find(tenant, order_id, order_ref)
            if order is None:
                return None
            order["orderLines"] = _merge_list(
                order.get("orderLines") or [], [line], "entryRef", lambda old, new: {**old, **new}
            )
            _stamp(order)
            ref = line.get("entryRef")
            stored = next(
                (entry for entry in order["orderLines"] if ref is not None and entry.get("entryRef") == ref),
                order["orderLines"][-1],
            )
            return copy.deepcopy(stored)

    def update_entry(
        self,
        tenant: str,
        line: dict[str, Any],
        *,
        line_id: str | None = None,
        order_ref: str | None = None,
        entry_ref: str | None = None,
    ) -> dict[str, Any] | None:
        """The merged line found by its id, or by its order's orderRef and its entryRef; None if absent."""
        with self.lock:
            for order in self.orders.get(tenant, {}).values():
                if order_ref is not None and order.get("orderRef") != order_ref:
                    continue
                for position, current in enumerate(order.get("orderLines") or []):
                    if (line_id and current.get("id") == line_id) or (
                        not line_id and entry_ref and current.get("entryRef") == entry_ref
                    ):
                        changes = {k: v for k, v in line.items() if k not in ("id", "orderId", "orderRef")}
                        order["orderLines"][position] = {**current, **changes}
                        _stamp(order)
                        return copy.deepcopy(order["orderLines"][position])
            return None

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {"tenant": tenant, "order": copy.deepcopy(order)}
                for tenant, orders in self.orders.items()
                for order in orders.values()
            ]

    def clear(self) -> None:
        with self.lock:
            self.orders.clear()


# --- HTTP ---------------------------------------------------------------------------------------


def _error(status: int, error: str, message: str, field: str | None = None, **extra: Any) -> Response:
    body = {"status": status, "error": error, "message": message, **({"field": field} if field else {}), **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return json_response(body, status, headers)


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(request: Request, tokens: dict[str, str]) -> tuple[str | None, Response | None]:
    """(tenant, None) when the token is known and X-TWC-Tenant is its tenant, else (None, 401/403)."""
    token = _bearer(request)
    if token is None or token not in tokens:
        return None, _error(401, "Unauthorised", "missing or unknown bearer token")
    tenant = request.headers.get("X-TWC-Tenant")
    if not tenant:
        return None, _error(403, "Forbidden", "X-TWC-Tenant header is required")
    if tenant != tokens[token]:
        return None, _error(403, "Forbidden", "this token is not valid for that X-TWC-Tenant")
    return tenant, None


def _read_body(request: Request, update: bool, entry: bool = False) -> tuple[dict[str, Any] | None, Response | None]:
    if request.mimetype != "application/json":
        return None, _error(400, "Bad request", "Content-Type must be application/json")
    raw = request.get_data()
    try:
        data = json.loads(raw)
    except ValueError:
        return None, _error(400, "Bad request", "the body is not JSON")
    if not isinstance(data, dict):
        return None, _error(405, "Invalid input", "the body must be a JSON object", "body")
    try:
        validate_entry(raw) if entry else validate_order(raw, update=update)
    except InvalidInput as exc:
        return None, _error(405, "Invalid input", f"{exc.field}: {exc.message}", exc.field, errors=exc.errors)
    return data, None


class OmsSandbox:
    """The request handler: routes, checks and the store."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)
        self.store = OrderStore()

    def __call__(self, request: Request) -> Response:
        tenant, refused = authenticate(request, self.tokens)
        if refused is not None:
            return refused
        assert tenant is not None
        routes = {
            (ORDERS_PATH, "GET"): self.get_order,
            (ORDERS_PATH, "POST"): self.create_order,
            (ORDERS_PATH, "PUT"): self.update_order,
            (ENTRIES_PATH, "GET"): self.get_entries,
            (ENTRIES_PATH, "POST"): self.create_entry,
            (ENTRIES_PATH, "PUT"): self.update_entry,
        }
        path = request.path.rstrip("/")
        route = routes.get((path, request.method))
        if route is not None:
            return route(request, tenant)
        if path.startswith(ENTRIES_PATH + "/") and request.method == "PUT":
            return self.update_entry(request, tenant, path[len(ENTRIES_PATH) + 1 :])
        if any(known == path for known, _ in routes):
            return _error(405, "Method not allowed", f"{request.method} is not allowed on {path}")
        return _error(404, "Not found", f"no route {path}")

    def _lookup(self, request: Request, tenant: str) -> tuple[dict[str, Any] | None, Response | None]:
        order_id, order_ref = request.args.get("orderId"), request.args.get("orderRef")
        if not order_id and not order_ref:
            return None, _error(400, "Bad request", "orderId or orderRef is required")
        order = self.store.find(tenant, order_id, order_ref)
        if order is None:
            return None, _error(404, "Not found", f"no order {order_id or order_ref}")
        return order, None

    def get_order(self, request: Request, tenant: str) -> Response:
        order, refused = self._lookup(request, tenant)
        if refused is not None:
            return refused
        assert order is not None
        return json_response(order)

    def get_entries(self, request: Request, tenant: str) -> Response:
        order, refused = self._lookup(request, tenant)
        if refused is not None:
            return refused
        assert order is not None
        return json_response(order.get("orderLines") or [])

    def create_entry(self, request: Request, tenant: str) -> Response:
        line, refused = _read_body(request, update=False, entry=True)
        if refused is not None:
            return refused
        assert line is not None
        order_id, order_ref = line.pop("orderId", None), line.pop("orderRef", None)
        line.pop("id", None)
        if not order_id and not order_ref:
            return _error(400, "Bad request", "orderId or orderRef is required to add an entry", "orderRef")
        stored = self.store.add_entry(tenant, order_id, order_ref, line)
        if stored is None:
            return _error(404, "Not found", f"no order {order_id or order_ref}")
        return json_response(stored, 201)

    def update_entry(self, request: Request, tenant: str, selector: str = "") -> Response:
        """``PUT /entries`` (id, or orderRef + entryRef, in the body), ``/entries/id={id}``,
        ``/entries/{orderref}/ref={ref}``."""
        line, refused = _read_body(request, update=True, entry=True)
        if refused is not None:
            return refused
        assert line is not None
        order_ref, _, entry_ref = selector.partition("/ref=")
        if selector.startswith("id="):
            where = {"line_id": selector[3:]}
        elif entry_ref:
            where = {"order_ref": order_ref, "entry_ref": entry_ref}
        elif selector:
            return _error(404, "Not found", f"no route {ENTRIES_PATH}/{selector}")
        elif line.get("id"):
            where = {"line_id": line["id"]}
        elif line.get("orderRef") and line.get("entryRef"):
            where = {"order_ref": line["orderRef"], "entry_ref": line["entryRef"]}
        else:
            return _error(400, "Bad request", "id, or orderRef and entryRef, is required to update an entry", "id")
        stored = self.store.update_entry(tenant, line, **where)
        if stored is None:
            return _error(404, "Not found", f"no entry {selector or line.get('id') or line.get('entryRef')}")
        return json_response(stored)

    def create_order(self, request: Request, tenant: str) -> Response:
        body, refused = _read_body(request, update=False)
        if refused is not None:
            return refused
        assert body is not None
        body.pop("id", None)
        order = self.store.create(tenant, body)
        if order is None:
            return _error(
                400,
                "Bad request",
                f"an order with orderRef {body['orderRef']!r} already exists",
                "orderRef",
                code="DUPLICATE_ORDER_REF",
            )
        return json_response(order, 201)

    def update_order(self, request: Request, tenant: str) -> Response:
        body, refused = _read_body(request, update=True)
        if refused is not None:
            return refused
        assert body is not None
        order_id = body.get("id") or request.args.get("orderId")
        order_ref = request.args.get("orderRef") or body.get("orderRef")
        if not order_id and not order_ref:
            return _error(400, "Bad request", "id or orderRef is required to update an order", "orderRef")
        try:
            order = self.store.update(tenant, order_id, order_ref, body)
        except DuplicateRef as exc:
            return _error(
                400, "Bad request", f"orderRef {exc} belongs to another order", "orderRef", code="DUPLICATE_ORDER_REF"
            )
        if order is None:
            return _error(404, "Not found", f"no order {order_id or order_ref}")
        return json_response(order)


class OmsSandboxApp(SandboxApp):
    """`SandboxApp` with the extra control routes ``GET /_sandbox/orders`` and ``/_sandbox/history``."""

    def __init__(self, sandbox: OmsSandbox) -> None:
        super().__init__(
            sandbox, reset=sandbox.store.clear, views={"orders": self.orders, "history": self.history_view}
        )
        self.sandbox = sandbox

    def orders(self, request: Request) -> Response:
        orders = self.sandbox.store.all()
        return json_response({"count": len(orders), "orders": orders})

    def history_view(self, request: Request) -> Response:
        return json_response(self.history(request.args.get("orderRef")))

    def history(self, only: str | None) -> dict[str, list[dict[str, Any]]]:
        with self.state.lock:
            received = list(self.state.requests)
        kept: dict[str, list[dict[str, Any]]] = {}
        for call in received:
            if call["method"] not in ("POST", "PUT") or call["path"].rstrip("/") != ORDERS_PATH:
                continue
            try:
                body = json.loads(call["body"] or "null")
            except ValueError:
                continue
            ref = (body.get("orderRef") if isinstance(body, dict) else None) or call["query"].get("orderRef")
            if ref and (only is None or ref == only):
                kept.setdefault(ref, []).append(
                    {"method": call["method"], "status": call["status"], "at": call["at"], "body": body}
                )
        return kept


def create_app(tokens: dict[str, str]) -> SandboxApp:
    """The OMS sandbox; ``tokens`` maps each bearer token to the X-TWC-Tenant it is valid for."""
    return OmsSandboxApp(OmsSandbox(tokens))


def _token_pair(text: str) -> tuple[str, str]:
    token, sep, tenant = text.partition("=")
    if not sep or not token or not tenant:
        raise argparse.ArgumentTypeError(f"expected TOKEN=TENANTHEADER, got {text!r}")
    return token, tenant


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local OMS Order API sandbox")
    parser.add_argument("--port", type=int, default=7102)
    parser.add_argument(
        "--token",
        action="append",
        type=_token_pair,
        default=[],
        metavar="TOKEN=TENANTHEADER",
        help="a bearer token and the X-TWC-Tenant it is valid for (repeatable)",
    )
    args = parser.parse_args(argv)
    tokens = dict(args.token) or {f"local-oms-{tenant}": tenant for tenant in TENANTS}
    serve_forever(create_app(tokens), args.port, "OMS")


if __name__ == "__main__":
    main()
