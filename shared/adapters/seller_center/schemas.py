"""Seller Center's answers as rows, normalised from the API's JSON (``translate.py`` turns them into
Thor's domain types, `shared.domain.marketplace`: nothing outside this package reads these).

The Seller Center JSON is an XML document converted to JSON, and it shows:

- a collection of one element arrives as an object, not a list (``{"OrderItem": {...}}``),
  and an empty collection as ``""``, ``[]`` or ``{}``;
- every scalar is a string (``"12990.00"``, ``"3"``), and totals may carry thousands
  separators (``"69,190.00"``);
- dates are ``YYYY-MM-DD HH:MM:SS`` without a zone (``CreatedAt``, ``UpdatedAt``,
  ``PromisedShippingTime``), written in the marketplace's zone (``MARKETPLACE_TIMEZONE_<T>``, default
  America/Santiago: docs/api.md "Marketplace times"): they are read in it and kept in UTC. ``AddressUpdatedAt`` is the exception: it is written in UTC (see
  ``shared/adapters/seller_center/client.py`` for the evidence);
- absent values are empty strings: they become ``None``.

Each model has ``from_api(dict, zone=...)`` taking one element of the API's body (PascalCase keys)
and, for orders and items, the ``ZoneInfo`` their local times are written in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic.alias_generators import to_pascal

from shared.domain.times import UTC, local_to_utc

_API_DATETIME = "%Y-%m-%d %H:%M:%S"
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


# --- normalisation helpers ------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A collection as a list: ``None``/``""``/``{}`` → ``[]``, one object → ``[object]``."""
    if value is None or value == "" or value == {}:
        return []
    if isinstance(value, list):
        return value
    return [value]


def unwrap(container: Any, key: str) -> list[Any]:
    """The elements of a wrapped collection such as ``{"OrderItems": {"OrderItem": ...}}``.

    ``unwrap(body["OrderItems"], "OrderItem")`` accepts the wrapper as an object holding ``key``,
    directly as a list, or empty.
    """
    if isinstance(container, dict):
        return as_list(container.get(key))
    return as_list(container)


def blank_to_none(value: Any) -> Any:
    """Empty or whitespace-only strings mean "absent"; numbers used as ids become strings."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


def parse_decimal(value: Any) -> Decimal | None:
    """A money amount: ``"12990.00"``, ``"69,190.00"``, numbers; blanks → ``None``."""
    value = blank_to_none(value)
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def parse_int(value: Any) -> int | None:
    value = blank_to_none(value)
    if value is None or isinstance(value, int):
        return value
    amount = parse_decimal(value)
    if amount is None or amount != amount.to_integral_value():
        raise ValueError(f"not an integer: {value!r}")
    return int(amount)


def parse_datetime(value: Any, in_zone: ZoneInfo | timezone = UTC) -> datetime | None:
    """An aware datetime in UTC; the API's zone-less ``YYYY-MM-DD HH:MM:SS`` is read in ``in_zone``.

    A value with an offset keeps its own. ``0000-00-00 00:00:00`` (an unset date in the API's
    database) is ``None``.
    """
    value = blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, str):
        if value.startswith("0000-00-00"):
            return None
        try:
            value = datetime.strptime(value, _API_DATETIME)
        except ValueError:
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"not a datetime: {value!r}")
    return local_to_utc(value, in_zone)


def _local_datetime(value: Any, info: ValidationInfo) -> datetime | None:
    """A storefront-local time: the zone comes from the validation context (``from_api(zone=...)``)."""
    in_zone = (info.context or {}).get("zone")
    if in_zone is None:
        raise ValueError("the storefront's time zone is needed to read a local time")
    return parse_datetime(value, in_zone)


def _clean_mapping(value: Any) -> dict[str, Any] | None:
    """An address-like object with blank values as ``None``; an empty one is ``None``."""
    if not isinstance(value, dict) or not value:
        return None
    return {key: blank_to_none(item) for key, item in value.items()}


def _strings(values: Iterable[Any]) -> list[str]:
    return [text for text in (blank_to_none(v) for v in values) if text is not None]


OptStr = Annotated[str | None, BeforeValidator(blank_to_none)]
ReqStr = Annotated[str, BeforeValidator(blank_to_none)]
Money = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
OptInt = Annotated[int | None, BeforeValidator(parse_int)]
UtcDateTime = Annotated[datetime | None, BeforeValidator(parse_datetime)]
LocalDateTime = Annotated[datetime | None, BeforeValidator(_local_datetime)]
Address = Annotated[dict[str, Any] | None, BeforeValidator(_clean_mapping)]


class _ApiModel(BaseModel):
    """Fields are read from the API's PascalCase keys (``order_id`` ← ``OrderId``)."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_alias=True,
        validate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class _ZonedApiModel(_ApiModel):
    """A model with storefront-local times: read with the storefront's zone."""

    @classmethod
    def from_api(cls, data: dict[str, Any], *, zone: ZoneInfo) -> Self:
        """One element of the API's body; ``zone`` is the storefront's, its local times are read in it."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_api expects an object, got {type(data).__name__}")
        return cls.model_validate(data, context={"zone": zone})


# --- models ---------------------------------------------------------------------------------


class OrderRow(_ZonedApiModel):
    """An order as GetOrder / GetOrders (v2) describe it. GetOrder has no currency: it is on items."""

    order_id: ReqStr
    order_number: OptStr = None
    created_at: LocalDateTime = None
    updated_at: LocalDateTime = None
    address_updated_at: UtcDateTime = None
    price: Money = None
    grand_total: Money = None
    product_total: Money = None
    currency: OptStr = None
    items_count: OptInt = None
    statuses: list[str] = []
    promised_shipping_time: LocalDateTime = None
    shipping_type: OptStr = None
    customer_first_name: OptStr = None
    customer_last_name: OptStr = None
    address_billing: Address = None
    address_shipping: Address = None
    national_registration_number: OptStr = None
    payment_method: OptStr = None
    """As GetOrder writes it, e.g. ``CashOnDelivery_Payment`` (LinioIT/seller-center-sdk ``gsc-master``
    ``tests/_schemas/Order/OrderResponse.xml``; the v600 GetOrders page lists PaymentMethod)."""

    @field_validator("statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> list[str]:
        """``{"Status": "pending"}``, ``{"Status": [..]}``, ``[..]`` or ``"pending"``."""
        return _strings(unwrap(value, "Status"))


class OrderItemRow(_ZonedApiModel):
    """One order item (GetOrderItems); the marketplace has one row per unit sold."""

    order_item_id: ReqStr
    order_id: ReqStr
    name: OptStr = None
    sku: OptStr = None
    shop_sku: OptStr = None
    status: ReqStr
    shipment_provider: OptStr = None
    tracking_code: OptStr = None
    package_id: OptStr = None
    shipping_type: OptStr = None
    """``Dropshipping`` (fulfilment by the seller) or ``Fulfillment`` (by Falabella), v600 GetOrderItems."""
    currency: OptStr = None
    item_price: Money = None
    paid_price: Money = None
    tax_amount: Money = None
    shipping_amount: Money = None
    voucher_amount: Money = None
    wallet_credits: Money = None
    """Paid with the customer's wallet (store credit), on top of ``PaidPrice`` (LinioIT/seller-center-sdk
    ``gsc-master`` ``tests/_schemas/Order/OrderItemsResponse.xml``: ``<WalletCredits>0.00</WalletCredits>``)."""
    promised_shipping_time: LocalDateTime = None
    updated_at: LocalDateTime = None  # in the SDK's fixtures and the sandbox; not in the documented field list


class ProductRow(_ApiModel):
    """A product (GetProducts). Price, stock and status live per business unit in the API.

    ``from_api(data, operator_code="faco")`` takes them from the business unit whose
    OperatorCode matches (case-insensitive) and leaves them ``None`` when none matches, so
    another country's price is never mistaken for ours. Without ``operator_code`` the first
    business unit is used. Product-level fields (older responses) are the fallback.
    ``business_units`` keeps every unit as given.
    """

    seller_sku: ReqStr
    name: OptStr = None
    brand: OptStr = None
    status: OptStr = None
    price: Money = None
    special_price: Money = None
    stock: OptInt = None
    business_units: list[dict[str, Any]] = []
    primary_category: OptStr = None

    @field_validator("business_units", mode="before")
    @classmethod
    def _business_units(cls, value: Any) -> list[dict[str, Any]]:
        return [unit for unit in unwrap(value, "BusinessUnit") if isinstance(unit, dict)]

    @field_validator("primary_category", mode="before")
    @classmethod
    def _primary_category(cls, value: Any) -> Any:
        """Usually a name; tolerate the ``{"Id": .., "Name": ..}`` form some payloads use."""
        if isinstance(value, dict):
            return value.get("Name") or value.get("Id")
        return value

    @classmethod
    def from_api(cls, data: dict[str, Any], operator_code: str | None = None) -> Self:
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_api expects an object, got {type(data).__name__}")
        units = [unit for unit in unwrap(data.get("BusinessUnits"), "BusinessUnit") if isinstance(unit, dict)]
        unit = _pick_business_unit(units, operator_code)
        merged = dict(data)
        if unit is not None:
            for key in ("Price", "SpecialPrice", "Stock", "Status"):
                if key in unit:
                    merged[key] = unit[key]
        if "Stock" not in merged and "Quantity" in data:
            merged["Stock"] = data["Quantity"]
        return cls.model_validate(merged)


def _pick_business_unit(units: list[dict[str, Any]], operator_code: str | None) -> dict[str, Any] | None:
    if not operator_code:
        return units[0] if units else None
    wanted = operator_code.strip().lower()
    return next((unit for unit in units if str(unit.get("OperatorCode", "")).strip().lower() == wanted), None)


__all__ = [
    "OrderItemRow",
    "OrderRow",
    "ProductRow",
    "as_list",
    "unwrap",
    "blank_to_none",
    "parse_decimal",
    "parse_int",
    "parse_datetime",
]
