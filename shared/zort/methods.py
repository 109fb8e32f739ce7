"""ZORT's method table: every webhook event ZORT sends, in one place.

Each row says the ``method`` ZORT sends, the model its payload is typed with, whether (and how) the
event may move stock, the UPDATEWEBHOOK body field that registers its URL (None when ZORT's API
has no field for it), and whether it may move a price. Everything that depends on a method reads this table:

- intake (functions/zort.py) and processing type the payload with ``METHODS[name].model``;
- stock sync (shared.services.stock_sync) marks the SKUs of the methods whose ``stock`` is not NONE;
- price sync (shared.services.price_sync) marks the SKU of the methods whose ``moves_price`` is true
  (``PRICE_METHODS``): the product webhooks, whose payload carries the product's ``sellprice``;
- webhook registration (shared.adapters.zort.webhooks.WEBHOOK_URL_FIELDS) is built from ``url_field``;
- the flows (shared.services.zort_flows.HANDLERS) map each name to its handler; a unit test checks
  that every method has one (the handlers live in services, the vocabulary here: dependencies
  point inward).

Adding a method: a row here, its model (shared.zort.models) if new, its handler in zort_flows, a
test (docs/architecture.md, "How to add an event kind").
"""

from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from shared.zort.models import (
    Order,
    OrderRef,
    OrderTrackingList,
    Product,
    ProductQuantity,
    ProductRef,
    PurchaseOrder,
    ReturnOrder,
    ReturnPurchaseOrder,
    Transfer,
)


class StockEffect(Enum):
    """Whether an event may change the available stock of some SKUs, and which."""

    NONE = "none"
    PRODUCT = "product"  # the product's own SKU (``sku``)
    LINES = "lines"  # the SKUs of the document's lines (``list``): documents that move or reserve stock


@dataclass(frozen=True)
class ZortMethod:
    name: str
    model: type[BaseModel]
    stock: StockEffect
    url_field: str | None
    """The UPDATEWEBHOOK/GETWEBHOOK body field of its URL; None when the API has none (the deletions
    of documents: presumably a URL set in the ZORT portal, unconfirmed)."""
    moves_price: bool = False
    """Whether the event may change the product's selling price: its payload is a Product, which
    carries ``sellprice`` (ADDPRODUCT, UPDATEPRODUCT; seed 001 and ZORT's v3 reference). A document's
    line prices (``pricepernumber`` of an order) are that sale's, not the product's: they move none."""


_NONE, _PRODUCT, _LINES = StockEffect.NONE, StockEffect.PRODUCT, StockEffect.LINES

# In the v3 reference's order (the order of UPDATEWEBHOOK's fields, then the four deletions without one).
METHODS: dict[str, ZortMethod] = {
    method.name: method
    for method in (
        ZortMethod("ADDPRODUCT", Product, _PRODUCT, "addproducturl", moves_price=True),
        ZortMethod("UPDATEPRODUCT", Product, _PRODUCT, "updateproducturl", moves_price=True),
        ZortMethod("DELETEPRODUCT", ProductRef, _NONE, "deleteproducturl"),
        ZortMethod("UPDATEPRODUCTQUANTITY", ProductQuantity, _PRODUCT, "updatequantityurl"),
        ZortMethod("ADDORDER", Order, _LINES, "addorderurl"),
        ZortMethod("UPDATEORDER", Order, _LINES, "updateorderurl"),
        ZortMethod("UPDATEORDERTRACKING", OrderTrackingList, _NONE, "updateordertrackingurl"),
        ZortMethod("UPDATEORDERPAYMENT", Order, _NONE, "updateorderpaymenturl"),
        ZortMethod("ADDPURCHASEORDER", PurchaseOrder, _LINES, "addpurchaseurl"),
        ZortMethod("UPDATEPURCHASEORDER", PurchaseOrder, _LINES, "updatepurchaseurl"),
        ZortMethod("UPDATEPURCHASEORDERPAYMENT", PurchaseOrder, _NONE, "updatepurchasepaymenturl"),
        ZortMethod("ADDRETURNORDER", ReturnOrder, _LINES, "addreturnorderurl"),
        ZortMethod("UPDATERETURNORDER", ReturnOrder, _LINES, "updatereturnorderurl"),
        ZortMethod("UPDATERETURNORDERPAYMENT", ReturnOrder, _NONE, "updatereturnorderpaymenturl"),
        ZortMethod("ADDRETURNPURCHASEORDER", ReturnPurchaseOrder, _LINES, "addreturnpurchaseurl"),
        ZortMethod("UPDATERETURNPURCHASEORDER", ReturnPurchaseOrder, _LINES, "updatereturnpurchaseurl"),
        ZortMethod("UPDATERETURNPURCHASEORDERPAYMENT", ReturnPurchaseOrder, _NONE, "updatereturnpurchasepaymenturl"),
        ZortMethod("ADDTRANSFER", Transfer, _LINES, "addtransferurl"),
        ZortMethod("UPDATETRANSFER", Transfer, _LINES, "updatetransferurl"),
        ZortMethod("DELETEORDER", OrderRef, _LINES, None),
        ZortMethod("DELETEPURCHASEORDER", OrderRef, _NONE, None),
        ZortMethod("DELETERETURNORDER", OrderRef, _NONE, None),
        ZortMethod("DELETERETURNPURCHASEORDER", OrderRef, _NONE, None),
    )
}

PRICE_METHODS: frozenset[str] = frozenset(name for name, method in METHODS.items() if method.moves_price)
"""The methods that may move a product's price (a view of METHODS: ``moves_price``)."""

EVENT_MODELS: dict[str, type[BaseModel]] = {name: method.model for name, method in METHODS.items()}
"""Each method's payload model (a view of METHODS)."""


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
    """The webhook's ``method`` is not one of METHODS."""

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
    found = METHODS.get(key) if key else None
    if found is None:
        raise UnknownZortMethod(method)
    return found.model.model_validate(payload)
