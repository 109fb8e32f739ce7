"""The forward-only rule for item statuses and the order's overall status."""

import pytest

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
def test_can_move(current, new, allowed):
    assert can_move(current, new) is allowed


def test_every_allowed_move_goes_forward():
    from shared.domain.statuses import RANK

    for current in ITEM_STATUSES:
        for new in ITEM_STATUSES:
            if can_move(current, new):
                assert new == "canceled" or RANK[new] > RANK[current], (current, new)


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
def test_overall_status(statuses, expected):
    assert overall_status(statuses) == expected
