"""Marketplace item statuses and the forward-only rule.

Webhooks arrive late and out of order (the marketplace retries for 30 days), so a status may
only replace one that comes earlier in an item's life: a late `shipped` never undoes `delivered`.
"""

from __future__ import annotations

# Rank of each status in an item's life. Equal ranks are alternative endings.
RANK: dict[str, int] = {
    "pending": 0,
    "ready_to_ship": 10,
    "shipped": 20,
    "failed_delivery": 25,
    "delivered": 30,
    "return_shipped_by_customer": 40,
    "return_waiting_for_approval": 50,
    "return_rejected": 60,
    "returned": 60,
    "canceled": 100,
}
ITEM_STATUSES = frozenset(RANK)
# An item can be canceled until it is delivered.
CANCELABLE_BELOW = RANK["delivered"]


def can_move(current: str, new: str) -> bool:
    if current == new or current == "canceled" or current not in RANK:
        return current not in RANK and new in RANK
    if new == "canceled":
        return RANK[current] < CANCELABLE_BELOW
    return RANK[new] > RANK[current]


def overall_status(statuses: list[str]) -> str:
    """An order's status from its items': the least advanced active item, or partially_<…>."""
    if not statuses:
        return "pending"
    active = [s for s in statuses if s != "canceled"]
    if not active:
        return "canceled"
    ranked = sorted(active, key=lambda s: RANK.get(s, 0))
    lowest, highest = ranked[0], ranked[-1]
    if lowest == highest:
        return lowest
    if RANK.get(highest, 0) >= RANK["shipped"] > RANK.get(lowest, 0):
        return "partially_shipped"
    return lowest
