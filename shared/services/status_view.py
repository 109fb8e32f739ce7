"""The webtracking view of an order: status, items, tracking, timeline — never personal data.

Built field by field from an allow-list, so whatever the order holds (names, addresses, e-mails,
phones in the customer record) cannot leak into the answer.
"""

from __future__ import annotations

from shared.domain.at_risk import local_time, returns_waiting
from shared.domain.marketplace_loop import return_deadline
from shared.domain.order import Order
from shared.ports import JsonObject

# Timeline entries shown to customers: what happened to the order, not Thor's internal chatter.
PUBLIC_TIMELINE = {
    "items",
    "item status",
    "tracking",
    "payment",
    "refund",
    "order status",
    "tax document uploaded",
    "canceled in marketplace",
}


def order_status_view(order: Order, returns_desk: bool = False) -> JsonObject:
    """The order's public view; with the tenant's returns desk on (MARKETPLACE_RETURNS_DESK_<T>), each
    item waiting for the seller's approval of its return, with its deadline (72 h, accepted by itself
    then), ZORT's return orders and Thor's refunds beside it."""
    view = _view(order)
    view["documents"] = [
        {
            "documentId": document.document_id,
            "type": document.type,
            "number": document.number,
            "date": document.date,
            "itemIds": document.item_ids,
            "status": document.status,
            "uploadedAt": document.uploaded_at,
        }
        for document in order.documents
    ]
    if returns_desk:
        view["returns"] = [
            {
                "itemId": item_id,
                "waitingSince": since,
                "deadline": return_deadline(since),
                "deadlineLocal": local_time(return_deadline(since), order.tenant),
            }
            for item_id, since in returns_waiting(order)
        ]
        view["zortReturns"] = [{"number": number, "status": status} for number, status in order.zort_returns.items()]
        view["refunds"] = [
            {
                "refundId": refund.refund_id,
                "action": refund.action,
                "value": str(refund.value),
                "createdAt": refund.created_at,
            }
            for refund in order.refunds
        ]
    return view


def _view(order: Order) -> JsonObject:
    refunded = order.refunded_quantities_by_item()
    return {
        "internalOrderId": order.internal_order_id,
        "tenant": order.tenant,
        "marketplaceOrderId": order.marketplace_order_id,
        "orderNumber": order.order_number,
        "status": order.status,
        "paymentStatus": order.payment_status,
        "promisedShippingTime": order.promised_shipping_time,
        "items": [
            {
                "itemId": item.item_id,
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "refundedQuantity": refunded.get(item.item_id, 0),
                "status": item.status,
                "trackingNumber": item.tracking.number if item.tracking else None,
                "carrier": item.tracking.carrier if item.tracking else None,
                "trackingUrl": item.tracking.url if item.tracking else None,
            }
            for item in order.items
        ],
        "timeline": [
            {"at": entry.at, "what": entry.what, "detail": entry.detail if entry.what != "refund" else ""}
            for entry in order.timeline
            if entry.what in PUBLIC_TIMELINE
        ],
        "updatedAt": order.updated_at,
    }
