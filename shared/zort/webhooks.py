"""The webhooks ZORT (zortout.com) sends to Thor, by concern (this module re-exports them all):

- ``shared.zort.methods``: the method table (method → model, stock effect, UPDATEWEBHOOK URL field),
  ``parse_event``, ``UnknownZortMethod``, the recorded-only v4 events;
- ``shared.zort.models``: the typed payloads (``Order``, ``ProductQuantity``, ``OrderTrackingList``…);
- ``shared.zort.fields``: how ZORT writes values (``/Date(ms)/``, numbers as strings…) read into fields;
- ``shared.zort.statuses``: payment and order statuses and their numeric codes;
- ``shared.zort.calls``: the webhook's query (``ZortQuery``) and the call as recorded (``ZortCall``).

    event = parse_event("ADDORDER", json.loads(body["payload"]))

The documentation's example payloads are test fixtures (tests/fixtures/zort/*.json), which the ZORT
sandbox (localdev/sandboxes/zort.py) sends too.
"""

from shared.zort.calls import ZortCall, ZortQuery
from shared.zort.methods import (
    EVENT_MODELS,
    METHODS,
    RECORDED_ONLY_EVENTS,
    StockEffect,
    UnknownZortMethod,
    ZortMethod,
    parse_event,
)
from shared.zort.models import (
    LineItem,
    Order,
    OrderRef,
    OrderTracking,
    OrderTrackingList,
    Product,
    ProductQuantity,
    ProductRef,
    PurchaseOrder,
    ReturnOrder,
    ReturnPurchaseOrder,
    Transfer,
    TransferLine,
    ZortDocument,
    ZortModel,
)
from shared.zort.statuses import (
    ORDER_STATUS_CODES,
    PAYMENT_STATUS_CODES,
    PaymentStatus,
    describe_order_status,
    describe_payment_status,
    normalize_payment_status,
)

__all__ = [
    "EVENT_MODELS",
    "METHODS",
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
    "StockEffect",
    "Transfer",
    "TransferLine",
    "UnknownZortMethod",
    "ZortDocument",
    "ZortMethod",
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
