"""Typed models for the webhooks ZORT (zortout.com) sends to Thor.

ZORT POSTs ``?method=<EVENT>`` with the event's JSON in a ``payload`` field.  This
module only turns that *already JSON-decoded* payload into pydantic models; it knows
nothing about HTTP or Azure.

    event = parse_event("ADDORDER", json.loads(body["payload"]))

Conventions, all following ZORT's v3 webhook documentation ("Ex. Payload JSON"):

* Attribute names are ZORT's own (``orderdateString``, ``isCOD``, ``list`` ...), so
  ``model_dump(mode="json")`` gives back ZORT's keys.
* Unknown keys are accepted and kept (``extra="allow"``): ZORT adds fields over time.
* Required: ``id`` everywhere except the tracking list, ``sku`` for product payloads
  (and for line items), ``number`` for orders, purchases, returns and transfers.
  Everything else is optional and nullable, because ZORT sends ``null`` freely.
* ``"/Date(1644944400000)/"`` (epoch milliseconds, .NET style; negative values and a
  ``+0700`` style suffix accepted) -> timezone-aware UTC ``datetime``.  The suffix only
  says which zone the sender displayed; as in .NET, the milliseconds are already UTC,
  so it does not shift the instant.  ISO-8601 strings *with* an offset are accepted
  too; naive datetimes are rejected.  JSON dumps write ``"/Date(<ms>)/"`` back.
* ``...String`` dates and ``transferdate`` are ``yyyy-MM-dd`` -> ``date``.  Whitespace
  inside is dropped first, because the documented transfer example really is
  ``"2021-01- 25"``.
* Money *and quantities* (line ``number``, ``stock``, ``weight`` ...) are ``Decimal``
  (never ``float``): ZORT sends them as JSON numbers or as strings ("20.00", "5") and
  stock may be fractional.  A JSON float is converted through its shortest repr;
  decode with ``json.loads(..., parse_float=Decimal)`` to avoid floats altogether.
  JSON dumps write Decimals as strings.
* ``discount`` stays a string: ZORT documents it as String (it may be "10%").
* Ids are ``int``; numeric strings ("1234") are accepted, booleans are not.
* A blank string in an optional date/number/id field is read as ``null``.
"""

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    field_validator,
)

__all__ = [
    "EVENT_MODELS",
    "LineItem",
    "Order",
    "OrderRef",
    "OrderTracking",
    "OrderTrackingList",
    "PaymentStatus",
    "Product",
    "ProductQuantity",
    "ProductRef",
    "PurchaseOrder",
    "ReturnOrder",
    "ReturnPurchaseOrder",
    "Transfer",
    "TransferLine",
    "UnknownZortMethod",
    "ZortDocument",
    "ZortModel",
    "ZortCall",
    "ZortQuery",
    "ORDER_STATUS_CODES",
    "PAYMENT_STATUS_CODES",
    "RECORDED_ONLY_EVENTS",
    "describe_order_status",
    "describe_payment_status",
    "normalize_payment_status",
    "parse_event",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)

# "/Date(1644944400000)/", "/Date(-1000)/", "/Date(1644944400000+0700)/"; the JSON
# escaped form "\/Date(...)\/" is tolerated in case a payload was decoded only once.
_NET_DATE = re.compile(r"\\?/Date\(([+-]?[0-9]{1,20})(?:[+-][0-9]{4})?\)\\?/", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?", re.ASCII)


# --------------------------------------------------------------------------- coercion


def _parse_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _NET_DATE.fullmatch(text)
        try:
            if match:
                return _EPOCH + int(match.group(1)) * _MS
            aware = datetime.fromisoformat(text)
        except (OverflowError, ValueError):
            raise ValueError(f'expected "/Date(<epoch ms>)/", got {value!r}') from None
    else:
        raise ValueError('expected a "/Date(<epoch ms>)/" string')
    if aware.tzinfo is None or aware.utcoffset() is None:
        raise ValueError("datetime without a timezone offset")
    try:
        return aware.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("datetime out of range") from None


def _parse_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a 'yyyy-MM-dd' string")
    text = "".join(value.split())  # "2021-01- 25" -> "2021-01-25"
    if not text:
        return None
    match = _ISO_DATE.fullmatch(text)
    if not match:
        raise ValueError(f"expected 'yyyy-MM-dd', got {value!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)  # ValueError for 2022-02-30 etc.


def _parse_date_or_datetime(value: Any) -> date | datetime | None:
    """For fields whose format the documentation never shows (``shippingdate``)."""
    if isinstance(value, str) and _ISO_DATE.fullmatch("".join(value.split())):
        return _parse_date(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _parse_datetime(value)


def _parse_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _DECIMAL.fullmatch(text):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError("expected a number or a numeric string")
    if not result.is_finite():
        raise ValueError("expected a finite number")
    return result


def _parse_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
    raise ValueError(f"expected an integer, got {value!r}")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _none_to_empty(value: Any) -> Any:
    return [] if value is None else value


def _dump_datetime(value: datetime) -> str:
    return f"/Date({(value - _EPOCH) // _MS})/"


def _dump_date_or_datetime(value: date | datetime) -> str:
    return _dump_datetime(value) if isinstance(value, datetime) else value.isoformat()


ZortId = Annotated[int, BeforeValidator(_parse_int)]
OptInt = Annotated[int | None, BeforeValidator(_parse_int)]
RequiredStr = Annotated[str, AfterValidator(_not_blank)]
Money = Annotated[Decimal | None, BeforeValidator(_parse_decimal)]
Quantity = Money  # Decimal as well: stock comes as "20.00"; see module docstring
ZortDateTime = Annotated[
    datetime | None,
    BeforeValidator(_parse_datetime),
    PlainSerializer(_dump_datetime, when_used="json-unless-none"),
]
ZortDate = Annotated[date | None, BeforeValidator(_parse_date)]
ZortDateOrDateTime = Annotated[
    datetime | date | None,
    BeforeValidator(_parse_date_or_datetime),
    PlainSerializer(_dump_date_or_datetime, when_used="json-unless-none"),
]


# --------------------------------------------------------------------------- models


class ZortModel(BaseModel):
    """Base of every ZORT payload object: unknown keys allowed and kept."""

    # defer_build: the 17 payload schemas are built on first use, not at import (cold start).
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, defer_build=True)


class ProductRef(ZortModel):
    """DELETEPRODUCT."""

    id: ZortId
    sku: RequiredStr


class Product(ProductRef):
    """ADDPRODUCT, UPDATEPRODUCT."""

    name: str | None = None
    sellprice: Money = None
    purchaseprice: Money = None
    unittext: str | None = None
    weight: Quantity = None
    barcode: str | None = None
    category: str | None = None


class ProductQuantity(ProductRef):
    """UPDATEPRODUCTQUANTITY."""

    name: str | None = None
    stock: Quantity = None
    availablestock: Quantity = None


class LineItem(ZortModel):
    """An item of ``list`` in orders, purchases and returns."""

    productid: OptInt = None
    sku: RequiredStr
    name: str | None = None
    number: Quantity = None
    pricepernumber: Money = None
    discount: str | None = None
    totalprice: Money = None


class TransferLine(ZortModel):
    """An item of a transfer's ``list``."""

    sku: RequiredStr
    name: str | None = None
    number: Quantity = None


# Module-level aliases: inside the classes the field called ``list`` shadows the builtin.
LineItems = Annotated[list[LineItem], BeforeValidator(_none_to_empty)]
TransferLines = Annotated[list[TransferLine], BeforeValidator(_none_to_empty)]


class OrderRef(ZortModel):
    """DELETEORDER, DELETEPURCHASEORDER, DELETERETURNORDER, DELETERETURNPURCHASEORDER."""

    id: ZortId
    number: RequiredStr


class ZortDocument(OrderRef):
    """Fields shared by orders, purchase orders, return orders and return purchases."""

    customerid: OptInt = None
    customername: str | None = None
    customeridnumber: str | None = None
    customerphone: str | None = None
    customeremail: str | None = None
    customeraddress: str | None = None
    description: str | None = None
    reference: str | None = None
    vattype: OptInt = None
    list: LineItems = Field(default_factory=list)
    discount: str | None = None
    vatamount: Money = None
    amount: Money = None
    paymentamount: Money = None
    paymentstatus: str | None = None
    status: str | None = None


class Order(ZortDocument):
    """ADDORDER, UPDATEORDER, UPDATEORDERPAYMENT.

    ``reference`` is the seller's own reference (Thor's order id when Thor created the
    order); ``number`` is ZORT's document number ("SO-0001").
    """

    orderdate: ZortDateTime = None
    orderdateString: ZortDate = None
    customerbranchname: str | None = None
    customerbranchno: str | None = None
    shippingdate: ZortDateOrDateTime = None
    shippingchannel: str | None = None
    shippingamount: Money = None
    shippingvat: Money = None
    shippingname: str | None = None
    shippingaddress: str | None = None
    shippingphone: str | None = None
    shippingemail: str | None = None
    trackingno: str | None = None
    saleschannel: str | None = None
    isCOD: bool | None = None


class PurchaseOrder(ZortDocument):
    """ADDPURCHASEORDER, UPDATEPURCHASEORDER, UPDATEPURCHASEORDERPAYMENT."""

    purchaseorderdate: ZortDateTime = None
    purchaseorderdateString: ZortDate = None


class ReturnOrder(ZortDocument):
    """ADDRETURNORDER, UPDATERETURNORDER, UPDATERETURNORDERPAYMENT."""

    returnorderdate: ZortDateTime = None
    returnorderdateString: ZortDate = None
    referenceid: OptInt = None


class ReturnPurchaseOrder(ZortDocument):
    """ADDRETURNPURCHASEORDER, UPDATERETURNPURCHASEORDER, UPDATERETURNPURCHASEORDERPAYMENT."""

    returnpurchaseorderdate: ZortDateTime = None
    returnpurchaseorderdateString: ZortDate = None
    referenceid: OptInt = None


class Transfer(ZortModel):
    """ADDTRANSFER, UPDATETRANSFER."""

    id: ZortId
    number: RequiredStr
    status: str | None = None
    transferdate: ZortDate = None
    fromwarehousecode: str | None = None
    towarehousecode: str | None = None
    list: TransferLines = Field(default_factory=list)


class OrderTracking(ZortModel):
    """One entry of UPDATEORDERTRACKING's array; ``trackingno`` must be present (may be null)."""

    trackingno: str | None
    trackingurl: str | None = None
    shippingdate: ZortDateOrDateTime = None


class OrderTrackingList(RootModel[Annotated[list[OrderTracking], Field(min_length=1)]]):
    """UPDATEORDERTRACKING: a non-empty JSON array of tracking entries.

    The order it belongs to is only named by the query (``id``, ``number``): see ZortQuery.
    """

    def latest(self) -> OrderTracking | None:
        """The last entry with a non-blank ``trackingno``, or None."""
        for entry in reversed(self.root):
            if entry.trackingno and entry.trackingno.strip():
                return entry
        return None

    def __iter__(self) -> Iterator[OrderTracking]:  # type: ignore[override]
        """Iterate the entries (BaseModel would iterate ``("root", [...])``)."""
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __getitem__(self, index: int) -> OrderTracking:
        return self.root[index]


# --------------------------------------------------------------------------- registry

EVENT_MODELS: dict[str, type[BaseModel]] = {
    "ADDPRODUCT": Product,
    "UPDATEPRODUCT": Product,
    "UPDATEPRODUCTQUANTITY": ProductQuantity,
    "DELETEPRODUCT": ProductRef,
    "ADDORDER": Order,
    "UPDATEORDER": Order,
    "UPDATEORDERPAYMENT": Order,
    "UPDATEORDERTRACKING": OrderTrackingList,
    "DELETEORDER": OrderRef,
    "ADDPURCHASEORDER": PurchaseOrder,
    "UPDATEPURCHASEORDER": PurchaseOrder,
    "UPDATEPURCHASEORDERPAYMENT": PurchaseOrder,
    "DELETEPURCHASEORDER": OrderRef,
    "ADDRETURNORDER": ReturnOrder,
    "UPDATERETURNORDER": ReturnOrder,
    "UPDATERETURNORDERPAYMENT": ReturnOrder,
    "DELETERETURNORDER": OrderRef,
    "ADDRETURNPURCHASEORDER": ReturnPurchaseOrder,
    "UPDATERETURNPURCHASEORDER": ReturnPurchaseOrder,
    "UPDATERETURNPURCHASEORDERPAYMENT": ReturnPurchaseOrder,
    "DELETERETURNPURCHASEORDER": OrderRef,
    "ADDTRANSFER": Transfer,
    "UPDATETRANSFER": Transfer,
}


RECORDED_ONLY_EVENTS = frozenset(
    {
        "ADDCONTACT",
        "UPDATECONTACT",
        "DELETECONTACT",
        "ADDWAREHOUSE",
        "UPDATEWAREHOUSE",
        "DELETEWAREHOUSE",
    }
)
"""Webhook events ZORT's v4 documentation added (announcement "[1 Nov 2023] Update": contact and
warehouse webhooks) that concern nothing Thor keeps: accepted and recorded as sent, never applied."""


class UnknownZortMethod(ValueError):
    """The webhook's ``method`` is not one of EVENT_MODELS."""

    def __init__(self, method: object) -> None:
        self.method = method
        super().__init__(f"unknown ZORT webhook method: {method!r}")


def parse_event(method: str, payload: object) -> BaseModel:
    """Validate an already JSON-decoded ``payload`` as the model for ``method``.

    ``method`` is stripped and upper-cased.  Returns a model instance (an
    OrderTrackingList, a RootModel, for UPDATEORDERTRACKING).  Raises UnknownZortMethod
    for an unknown method and pydantic.ValidationError for a payload that does not fit.
    """
    key = method.strip().upper() if isinstance(method, str) else None
    model = EVENT_MODELS.get(key) if key else None
    if model is None:
        raise UnknownZortMethod(method)
    return model.model_validate(payload)


# --------------------------------------------------------------------------- query & status

PaymentStatus = Literal["Pending", "Paid", "Voided", "Partial Payment", "Excess Payment"]

_PAYMENT_STATUSES: dict[str, PaymentStatus] = {
    "pending": "Pending",
    "paid": "Paid",
    "voided": "Voided",
    "partial payment": "Partial Payment",
    "partial": "Partial Payment",
    "excess payment": "Excess Payment",
    "overpaid": "Excess Payment",
}


# ZORT's numeric codes, as its API documents them for the GetOrders filters (developers.zortout.com,
# api-reference/order, "paymentstatus" and "status"; v3 lists order statuses 0-3, v4 adds 4-7).
# Webhooks are documented with names ("Paid", "Success"); public receivers have seen digits too.
PAYMENT_STATUS_CODES: dict[str, PaymentStatus] = {
    "0": "Pending",
    "1": "Paid",
    "2": "Voided",
    "3": "Partial Payment",
    "4": "Excess Payment",
}
ORDER_STATUS_CODES: dict[str, str] = {
    "0": "Pending",
    "1": "Success",
    "2": "Voided",
    "3": "Waiting",
    "4": "Returned",
    "5": "Packed",
    "6": "Shipping",
    "7": "Failed Shipment",
}


def normalize_payment_status(status: str) -> PaymentStatus:
    """Map ZORT's payment status spellings (any case, any spacing) and numeric codes
    ("0".."4") to the canonical ones.

    Pending, Paid, Voided, Partial Payment (also "Partial"), Excess Payment (also
    "Overpaid").  Anything else raises ValueError: see describe_payment_status for a
    reader that never fails.
    """
    if isinstance(status, str):
        text = " ".join(status.split())
        canonical = PAYMENT_STATUS_CODES.get(text) or _PAYMENT_STATUSES.get(text.casefold())
        if canonical is not None:
            return canonical
    raise ValueError(f"unknown ZORT payment status: {status!r}")


def _described(raw: str, canonical: str | None, what: str) -> tuple[str, str]:
    text = " ".join(str(raw).split())
    if canonical is None:
        return text, f"{text} (not a {what} ZORT documents: kept as sent)"
    if canonical != text:
        return canonical, f"{canonical} (ZORT sent {text!r})"
    return canonical, canonical


def describe_payment_status(raw: str) -> tuple[str, str]:
    """``(value to keep, timeline text)`` for any payment status ZORT sends; never raises.

    A known spelling or code gives the canonical name (the raw value stays in the text when it
    differs); an unknown one is kept exactly as sent, so nothing ZORT says is lost or refused."""
    try:
        canonical: str | None = normalize_payment_status(raw)
    except ValueError:
        canonical = None
    return _described(raw, canonical, "payment status")


def describe_order_status(raw: str) -> tuple[str, str]:
    """``(value to keep, timeline text)`` for ZORT's order ``status``: names as sent, digits
    mapped through ORDER_STATUS_CODES, anything else kept as sent; never raises."""
    text = " ".join(str(raw).split())
    return _described(raw, ORDER_STATUS_CODES.get(text, text if not text.isdigit() else None), "order status")


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class ZortQuery(BaseModel):
    """The webhook's query string (``method``; ``id``, ``number`` for order-payment and
    tracking events; ``paymentstatus`` for payment events).  Other keys are kept."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    method: RequiredStr
    id: OptInt = None
    number: str | None = None
    paymentstatus: str | None = None

    @field_validator("method")
    @classmethod
    def _normalize_method(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("number", "paymentstatus", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @property
    def canonical_paymentstatus(self) -> PaymentStatus | None:
        """``paymentstatus`` through normalize_payment_status (ValueError if unknown)."""
        return None if self.paymentstatus is None else normalize_payment_status(self.paymentstatus)


# --------------------------------------------------------------------------- the recorded call


class ZortCall(BaseModel):
    """One ZORT webhook call as Thor records it (functions/zort.py): the method, the query as sent,
    the payload as decoded, and ``shape`` when a form had no ``payload`` field.

    The payload is typed on demand (``event()``): a call Thor only records (no method, v4's contact
    and warehouse events) has nothing to type, and a form recorded as sent is typed when applied."""

    model_config = ConfigDict(extra="allow")

    method: str = ""
    query: dict[str, Any] = Field(default_factory=dict)
    payload: Any = None
    shape: str | None = None

    @property
    def applicable(self) -> bool:
        """Whether Thor has a model for this method (anything else is recorded as sent)."""
        return self.method in EVENT_MODELS

    def typed_query(self) -> ZortQuery:
        return ZortQuery.model_validate({**self.query, "method": self.method})

    def event(self) -> BaseModel:
        """The payload as the method's model (UnknownZortMethod, ValidationError)."""
        return parse_event(self.method, self.payload)
