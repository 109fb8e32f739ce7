"""The webtracking view never carries personal data, whatever the order holds."""

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.domain.refunds import Refund, RefundLine
from shared.services.status_view import order_status_view

MARK = "PII-"
personal = st.text(min_size=1, max_size=20).map(lambda s: MARK + s)


@given(first=personal, last=personal, email=personal, phone=personal, street=personal)
def test_no_customer_field_reaches_the_view(first: str, last: str, email: str, phone: str, street: str) -> None:
    address = {"FirstName": first, "LastName": last, "Address1": street, "Phone": phone, "City": street}
    order = Order(
        tenant="faco",
        marketplace_order_id="1",
        internal_order_id="faco-1",
        customer=Customer(
            first_name=first, last_name=last, email=email, billing_address=address, shipping_address=address
        ),
        items=[
            OrderItem(
                item_id="10",
                sku="S",
                name="Lamp",
                paid_price=Decimal("5"),
                tracking=Tracking(number="T1", carrier="Blue", url="https://t/1"),
            )
        ],
    )
    order.note("order created", "marketplace order 1")
    view = json.dumps(order_status_view(order), default=str)
    assert MARK not in view
    assert "Lamp" in view and "T1" in view and "https://t/1" in view  # what the customer needs is there


def test_view_has_the_documented_fields_only() -> None:
    order = Order(
        tenant="faco", marketplace_order_id="1", internal_order_id="faco-1", items=[OrderItem(item_id="10", sku="S")]
    )
    view = order_status_view(order)
    assert set(view) == {
        "internalOrderId",
        "tenant",
        "marketplaceOrderId",
        "orderNumber",
        "status",
        "paymentStatus",
        "promisedShippingTime",
        "items",
        "timeline",
        "updatedAt",
        "documents",  # issue 19: tax documents (no PDF), empty until one is given
    }
    assert set(view["items"][0]) == {
        "itemId",
        "sku",
        "name",
        "quantity",
        "refundedQuantity",
        "status",
        "trackingNumber",
        "carrier",
        "trackingUrl",
    }


def test_each_item_shows_its_refunded_quantity() -> None:
    order = Order(
        tenant="faco",
        marketplace_order_id="1",
        internal_order_id="faco-1",
        items=[OrderItem(item_id=str(i), sku="S", paid_price=Decimal("38990")) for i in (10, 11)]
        + [OrderItem(item_id="12", sku="T", paid_price=Decimal("100"))],
    )
    order.add_refund(
        Refund(
            refund_id="r1",
            action="REFUND",
            value=Decimal("38990"),
            created_at=order.updated_at,
            products=[RefundLine(sku="S", quantity=1)],
        )
    )
    order.add_refund(
        Refund(
            refund_id="r2",
            action="SAME_PRODUCT",
            value=Decimal("100"),
            created_at=order.updated_at,
            products=[RefundLine(sku="T", quantity=1)],
        )
    )
    view = order_status_view(order)
    assert [(i["itemId"], i["refundedQuantity"]) for i in view["items"]] == [("10", 1), ("11", 0), ("12", 0)]
