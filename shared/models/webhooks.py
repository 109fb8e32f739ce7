"""The marketplace's webhook bodies and the refund request, as typed, validated models.

Which marketplace event is which model, what Thor does with it and what is confirmed about its
payload: the table in `shared/models/marketplace_events.py`."""

from __future__ import annotations

import re
from datetime import date as date_type
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema

from shared.domain.events import EventKind, Message
from shared.domain.ids import ID_PATTERN, MAX_ID_DIGITS, MAX_ID_SPELLING, canonical_marketplace_id

# One pattern for Thor and its OpenAPI description (ECMA-262 there): no control character, and at
# least one character that is not whitespace, both spelled out so the two regex dialects agree.
_SPACE = r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SKU_PATTERN = rf"[^\x00-\x1f\x7f-\x9f]*[^{_SPACE}\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*"
_SKU = re.compile(_SKU_PATTERN)
_SPACE_CHARS = " \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))
# At most the model's 1e12, so the description and Thor agree on a value sent as text (issue 17:
# schemathesis found "3640682954305" admitted by a 13-digit pattern and refused by `le=1e12`).
_MONEY_TEXT = re.compile(r"(?:[0-9]{1,12}(?:\.[0-9]{1,2})?|1000000000000(?:\.00?)?)")


def _sku(value: Any) -> str:
    if isinstance(value, str) and len(value) <= 128 and _SKU.fullmatch(value):
        return value.strip(_SPACE_CHARS)
    raise ValueError("must be a non-empty string of at most 128 printable characters")


def _money_text(value: Any) -> Any:
    """A value sent as text must be a plain decimal ("38990", "12.50"), as the description says."""
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        raise ValueError("must be a number, or a string of digits with at most 2 decimals")
    return value


# Every marketplace order / item id in every model: one canonical spelling (see shared.domain.ids).
MarketplaceId = Annotated[
    str,
    BeforeValidator(canonical_marketplace_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 10**MAX_ID_DIGITS - 1},
                {"type": "string", "pattern": ID_PATTERN, "maxLength": MAX_ID_SPELLING},
            ],
            "description": "A positive integer, as a JSON integer or a string of digits; leading zeros "
            'are dropped ("08860001" is 8860001). 0, negatives, fractions and booleans are refused.',
        }
    ),
]
Sku = Annotated[
    str,
    BeforeValidator(_sku),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 128, "pattern": f"^{_SKU_PATTERN}$"}),
]
Money = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 10**12, "multipleOf": 0.01},
                {"type": "string", "pattern": f"^{_MONEY_TEXT.pattern}$"},
            ]
        }
    ),
]
# `NewStatus` is a hint Thor records as sent and never acts on (processing re-reads the items): any
# spelling of a status name is accepted (`failed`, `ready_To_Ship`, `return_delivered_to_seller`,
# `return_accepted` are seen in the marketplace's pages and public integrations), not arbitrary text.
_STATUS_HINT_PATTERN = r"^[A-Za-z][A-Za-z0-9_ -]{0,63}$"
StatusHint = Annotated[str, Field(pattern=_STATUS_HINT_PATTERN, max_length=64)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")  # the marketplace may add fields; we keep ours typed


class OrderCreatedPayload(_Payload):
    OrderId: MarketplaceId
    OrderNr: str | None = None


class ItemsStatusChangedPayload(_Payload):
    OrderId: MarketplaceId
    OrderItemIds: list[MarketplaceId] = Field(min_length=1, max_length=1000)
    NewStatus: StatusHint


class ProductsPayload(_Payload):
    SellerSkus: list[Sku] = Field(min_length=1, max_length=5000)


class FeedPayload(_Payload):
    Feed: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9-]+$")
    """The feed's id (a UUID in the documentation's examples)."""


class MarketplaceWebhook(Message):
    """What every marketplace webhook body is: the event's name and its payload (each narrows both).
    Each event Thor acts on has a model that sets its `kind` and, when what makes it unique is
    narrower than its whole payload, its `identity()`. The base's kind is `MARKETPLACE_IGNORED`: a
    documented event Thor does not act on is recorded under it, identified by its name and payload,
    and processed (marked ignored) with this model."""

    kind: ClassVar[EventKind] = EventKind.MARKETPLACE_IGNORED

    event: str
    payload: _Payload

    def identity(self) -> object:
        """By default, the event's name and its whole payload (a repeated delivery is a duplicate)."""
        return [self.event, self.payload.model_dump(mode="json")]


class OrderCreatedWebhook(MarketplaceWebhook):
    kind: ClassVar[EventKind] = EventKind.ORDER_CREATED
    event: Literal["onOrderCreated"]
    payload: OrderCreatedPayload

    def identity(self) -> object:
        return self.payload.OrderId


class ItemsStatusChangedWebhook(MarketplaceWebhook):
    kind: ClassVar[EventKind] = EventKind.ITEMS_STATUS
    event: Literal["onOrderItemsStatusChanged"]
    payload: ItemsStatusChangedPayload

    def identity(self) -> object:
        return [self.payload.OrderId, sorted(set(self.payload.OrderItemIds)), self.payload.NewStatus]


class ProductsWebhook(MarketplaceWebhook):
    kind: ClassVar[EventKind] = EventKind.PRODUCTS
    event: Literal["onProductCreated", "onProductUpdated", "onProductQcStatusChanged"]
    payload: ProductsPayload

    def identity(self) -> object:
        return [self.event, sorted(set(self.payload.SellerSkus))]


class FeedWebhook(MarketplaceWebhook):
    """onFeedCreated: recorded and ignored (Thor records the feeds it creates itself)."""

    event: Literal["onFeedCreated"]
    payload: FeedPayload


class FeedCompletedWebhook(MarketplaceWebhook):
    """onFeedCompleted: the feed tracker (shared/services/feeds.py) asks FeedStatus and settles the feed.
    One delivery per feed; a repeated one is queued again (settling twice does nothing more)."""

    kind: ClassVar[EventKind] = EventKind.FEED_COMPLETED
    event: Literal["onFeedCompleted"]
    payload: FeedPayload

    def identity(self) -> object:
        return ["onFeedCompleted", self.payload.Feed]


class OtherMarketplaceWebhook(MarketplaceWebhook):
    """A documented event whose payload Thor neither reads nor knows field by field: any object."""

    event: Literal["onStatisticsUpdated", "onMetricsUpdated", "onReturnStatusChanged"]
    payload: _Payload


class RefundProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Sku
    quantity: StrictInt = Field(ge=1, le=100_000)


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    products: list[RefundProduct] = Field(min_length=1, max_length=500)
    action: Literal["SAME_PRODUCT", "OTHER_PRODUCT", "REFUND"]
    value: Money = Field(ge=0, le=Decimal("1e12"), decimal_places=2, allow_inf_nan=False)


BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard base64, padded: every string it admits decodes."""


class DocumentFields(BaseModel):
    """A tax document's fields but its PDF (functions/documents.py reads the PDF apart, straight from
    the body's bytes, so that it is never held as text: DocumentRequest is the whole body)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["BOLETA", "FACTURA", "NOTA_DE_CREDITO"]
    """The document type; which ones a country takes is a rule checked after (Colombia: no BOLETA)."""
    number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
    """The document number (the marketplace: equal to the NroDTE and Folio fields of the tax XML)."""
    date: date_type
    """The document's date, YYYY-MM-DD."""
    itemIds: list[MarketplaceId] = Field(min_length=1, max_length=1000)
    """The order's item ids the document covers."""


class DocumentRequest(DocumentFields):
    """A tax document for the marketplace (POST /v1/orders/{id}/documents): SetInvoicePDF's fields
    (developers.falabella.com v600 `setinvoicepdf`), the PDF base64-encoded."""

    pdf: str = Field(min_length=8, pattern=BASE64_PATTERN)
    """The PDF, base64 (standard alphabet, padded); at most 10 MiB once decoded (a 422 naming the rule),
    the whole body at most 16 MiB (413)."""
