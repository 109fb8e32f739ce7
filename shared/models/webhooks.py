"""The marketplace's webhook bodies and the refund request, as typed, validated models."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema

from shared.domain.ids import ID_PATTERN, MAX_ID_DIGITS, MAX_ID_SPELLING, canonical_marketplace_id
from shared.domain.statuses import ITEM_STATUSES

_SKU = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def _sku(value):
    if isinstance(value, str) and _SKU.match(value) and value.strip():
        return value.strip()
    raise ValueError("must be a non-empty string of at most 128 printable characters")


# Every marketplace order / item id in every model: one canonical spelling (see shared.domain.ids).
MarketplaceId = Annotated[str, BeforeValidator(canonical_marketplace_id), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 10 ** MAX_ID_DIGITS - 1},
               {"type": "string", "pattern": ID_PATTERN, "maxLength": MAX_ID_SPELLING}],
     "description": "A positive integer, as a JSON integer or a string of digits; leading zeros "
                    "are dropped (\"08860001\" is 8860001). 0, negatives, fractions and booleans are refused."})]
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
