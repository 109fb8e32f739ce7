"""Thor's order: merging items, forward-only changes, tracking, payment and refund rules."""

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared.domain.errors import RuleBroken
from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.domain.refunds import Refund, RefundLine
from tests.checks import present


def order(*statuses: str) -> Order:
    items = [
        OrderItem(item_id=str(i), sku=f"SKU{i % 2}", status=s, unit_price=Decimal("100"), paid_price=Decimal("90"))
        for i, s in enumerate(statuses)
    ]
    return Order(
        tenant="facl",
        marketplace_order_id="1",
        internal_order_id="facl-1",
        items=items,
        shipping_amount=Decimal("10"),
        customer=Customer(first_name="Ana"),
    )


def refund(value: str = "10", *lines: Any, action: str = "REFUND", refund_id: str = "r1") -> Refund:
    return Refund(
        refund_id=refund_id,
        action=action,
        value=Decimal(value),
        created_at=datetime.now(timezone.utc),
        products=[RefundLine(sku=s, quantity=q) for s, q in lines],
    )


def test_late_status_is_ignored_and_noted() -> None:
    o = order("delivered", "pending")
    changed, ignored = o.apply_item_status(["0", "1"], "shipped", event_id="e1")
    assert changed == ["1"] and ignored == ["0"]
    assert [i.status for i in o.items] == ["delivered", "shipped"]
    assert any(e.what == "status ignored" and e.event_id == "e1" for e in o.timeline)


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(RuleBroken):
        order("pending").apply_item_status(["0"], "teleported")


def test_merge_adds_new_items_and_moves_known_forward_only() -> None:
    o = order("shipped")
    version = o.version
    changed = o.merge_items(
        [OrderItem(item_id="0", sku="SKU0", status="pending"), OrderItem(item_id="9", sku="SKU9", status="pending")]
    )
    assert changed == []
    assert [i.item_id for i in o.items] == ["0", "9"] and o.items[0].status == "shipped"
    assert o.version > version


def test_merge_without_change_keeps_version() -> None:
    o = order("shipped")
    version = o.version
    o.merge_items([OrderItem(item_id="0", sku="SKU0", status="shipped")])
    assert o.version == version


def test_tracking_goes_to_active_items_once() -> None:
    o = order("pending", "canceled")
    assert o.set_tracking(Tracking(number="TH1", carrier="Chilexpress"))
    assert present(o.items[0].tracking).number == "TH1" and o.items[1].tracking is None
    assert not o.set_tracking(Tracking(number="TH1"))


def test_refund_rules() -> None:
    o = order("delivered", "delivered", "delivered")  # SKU0 x2, SKU1 x1, each paid 90; + 10 shipping
    assert o.paid_total() == Decimal("280")
    o.add_refund(refund("90", ("SKU0", 1)))
    with pytest.raises(RuleBroken) as too_many:
        o.add_refund(refund("10", ("SKU0", 3), refund_id="r2"))
    assert too_many.value.field == "products.quantity"
    with pytest.raises(RuleBroken) as unknown:
        o.add_refund(refund("10", ("NOPE", 1), refund_id="r3"))
    assert unknown.value.field == "products.sku"
    with pytest.raises(RuleBroken) as too_much:
        o.add_refund(refund("90.01", ("SKU1", 1), refund_id="r4"))
    assert too_much.value.field == "value"
    o.add_refund(refund("5", ("SKU1", 1), action="SAME_PRODUCT", refund_id="r5"))  # exchanges refund no money
    assert o.refunded_total() == Decimal("90") and o.refunded_quantity("SKU0") == 1 and o.refunded_quantity("SKU1") == 0
