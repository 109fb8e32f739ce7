"""Who holds a claim, and when another worker may take it over (shared.services.claims).

A worker is one *delivery* of a queue message: `{message id}#{dequeue count}`. The host hands a
message whose worker stalled past its lease (or crashed) to another worker with the same message id
and a higher dequeue count, so a redelivery takes its own message's claims back at once, while the
stalled worker (a lower dequeue count) can never take them back from it. Each take of a claim also
moves its fencing token (`fence`, a counter kept on the claimed row) forward; the worker keeps the
token it got, and its writes are refused once the token is no longer the current one.
"""

from __future__ import annotations

from datetime import datetime


def holder(message_id: str, dequeue_count: int | None) -> str:
    """The identity of one delivery of a queue message."""
    return f"{message_id}#{dequeue_count or 1}"


def _split(owner: str) -> tuple[str, int]:
    message, _, delivery = owner.rpartition("#")
    if not message or not delivery.isdigit():
        return owner, 0  # an owner written before deliveries were told apart
    return message, int(delivery)


def may_take(current_owner: str | None, until: datetime | None, owner: str, now: datetime) -> bool:
    """Whether `owner` may take a claim `current_owner` holds until `until`: nobody holds it, it
    expired, it is `owner`'s own, or `owner` is a later delivery of the same message."""
    if not current_owner or until is None or until <= now or current_owner == owner:
        return True
    message, delivery = _split(current_owner)
    my_message, my_delivery = _split(owner)
    return message == my_message and my_delivery > delivery
