"""The forward-only rule for item statuses and the order's overall status."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.order import Order, OrderItem
from shared.domain.statuses import ITEM_STATUSES, can_move, overall_status


@pytest.mark.parametrize(
    "current,new,allowed",
    [
        ("pending", "ready_to_ship", True),
        ("pending", "shipped", True),
        ("shipped", "delivered", True),
        ("delivered", "shipped", False),  # a late shipped never undoes delivered
        ("delivered", "canceled", False),  # delivered items are returned, not canceled
        ("ready_to_ship", "canceled", True),
        ("canceled", "shipped", False),  # canceled is final
        ("shipped", "shipped", False),  # the same status is not a move
        ("failed_delivery", "delivered", True),
        ("delivered", "return_shipped_by_customer", True),
        ("returned", "return_rejected", False),
        ("something_new", "pending", True),  # unknown current status: any known one replaces it
    ],
)
def test_can_move(current: str, new: str, allowed: bool) -> None:
    assert can_move(current, new) is allowed


# An item's life as the marketplace documents its statuses (reference/seller-center.md, "Item
# statuses"), written here independently of shared.domain.statuses.RANK: a stage per status; the two
# endings of a return share a stage; canceled is final and reachable only before delivery.
REFERENCE_STATUSES = [
    "pending",
    "ready_to_ship",
    "shipped",
    "delivered",
    "canceled",
    "failed_delivery",
    "return_shipped_by_customer",
    "return_waiting_for_approval",
    "return_rejected",
    "returned",
]
STAGE = {
    "pending": 0,
    "ready_to_ship": 1,
    "shipped": 2,
    "failed_delivery": 3,
    "delivered": 4,
    "return_shipped_by_customer": 5,
    "return_waiting_for_approval": 6,
    "return_rejected": 7,
    "returned": 7,
}


def test_thor_knows_exactly_the_documented_item_statuses() -> None:
    assert ITEM_STATUSES == set(REFERENCE_STATUSES) == set(STAGE) | {"canceled"}


def expected_move(current: str, new: str) -> bool:
    if current == "canceled":
        return False
    if new == "canceled":
        return STAGE[current] < STAGE["delivered"]
    return STAGE[new] > STAGE[current]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(REFERENCE_STATUSES), min_size=1, max_size=12))
def test_late_webhooks_applied_to_an_order_never_move_an_item_back(deliveries: list[str]) -> None:
    """Any sequence of status webhooks, through the order's real apply: a status earlier in the item's
    life never overwrites a later one, canceled is final, and every ignored one is on the timeline."""
    item = OrderItem(item_id="1", sku="S", status="pending")
    order = Order(tenant="facl", marketplace_order_id="1", internal_order_id="facl-1", items=[item])
    for n, status in enumerate(deliveries):
        before = order.items[0].status
        changed, ignored = order.apply_item_status(["1"], status, event_id=f"e{n}")
        after = order.items[0].status
        if expected_move(before, status):
            assert (changed, ignored, after) == (["1"], [], status), (before, status)
        else:
            assert (changed, ignored, after) == ([], ["1"], before), (before, status)
            assert any(e.what == "status ignored" and e.event_id == f"e{n}" for e in order.timeline)


@pytest.mark.parametrize(
    "statuses,expected",
    [
        ([], "pending"),
        (["canceled", "canceled"], "canceled"),
        (["shipped", "canceled"], "shipped"),
        (["pending", "shipped"], "partially_shipped"),
        (["delivered", "delivered"], "delivered"),
        (["pending", "ready_to_ship"], "pending"),
    ],
)
def test_overall_status(statuses: list[str], expected: str) -> None:
    assert overall_status(statuses) == expected
