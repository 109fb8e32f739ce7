"""The marketplace's webhook bodies and the refund request, as typed, validated models."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema

from shared.domain.statuses import ITEM_STATUSES

_DIGITS = re.compile(r"^[0-9]{1,20}$")
_SKU = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def _marketplace_id(value):
    """The marketplace sends ids as numbers or strings; keep them as digit strings."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a string of digits")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return value.strip()
    raise ValueError("must be a number or a string of digits")


def _sku(value):
    if isinstance(value, str) and _SKU.match(value) and value.strip():
        return value.strip()
    raise ValueError("must be a non-empty string of at most 128 printable characters")


MarketplaceId = Annotated[str, BeforeValidator(_marketplace_id), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 99999999999999999999},
               {"type": "string", "pattern": "^\\s*[0-9]{1,20}\\s*$"}]})]
Sku = Annotated[str, BeforeValidator(_sku), WithJsonSchema(
    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\x00-\\x1f\\x7f]*\\S[^\\x00-\\x1f\\x7f]*$"})]
ItemStatus = Literal[tuple(sorted(ITEM_STATUSES))]  # type: ignore[valid-type]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")  # the marketplace may add fields; we keep ours typed


class OrderCreatedPayload(_Payload):
    OrderId: MarketplaceId
    OrderNr: str | None = None


class ItemsStatusChangedPayload(_Payload):
    OrderId: MarketplaceId
    OrderItemIds: list[MarketplaceId] = Field(min_length=1, max_length=1000)
    NewStatus: ItemStatus


class ProductsPayload(_Payload):
    SellerSkus: list[Sku] = Field(min_length=1, max_length=5000)


class OrderCreatedWebhook(BaseModel):
    event: Literal["onOrderCreated"]
    payload: OrderCreatedPayload


class ItemsStatusChangedWebhook(BaseModel):
    event: Literal["onOrderItemsStatusChanged"]
    payload: ItemsStatusChangedPayload


class ProductsWebhook(BaseModel):
    event: Literal["onProductCreated", "onProductUpdated"]
    payload: ProductsPayload


class RefundProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=100_000)


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[RefundProduct] = Field(min_length=1, max_length=500)
    action: Literal["SAME_PRODUCT", "OTHER_PRODUCT", "REFUND"]
    value: Decimal = Field(ge=0, le=Decimal("1e12"), decimal_places=2, allow_inf_nan=False)
