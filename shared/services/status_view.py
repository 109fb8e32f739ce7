"""The webtracking view of an order: status, items, tracking, timeline — never personal data.

Built field by field from an allow-list, so whatever the order holds (names, addresses, e-mails,
phones in the customer record) cannot leak into the answer.
"""

from __future__ import annotations

from shared.domain.order import Order
from shared.ports import JsonObject

# Timeline entries shown to customers: what happened to the order, not Thor's internal chatter.
PUBLIC_TIMELINE = {"items", "item status", "tracking", "payment", "refund", "order status"}


def order_status_view(order: Order) -> JsonObject:
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
