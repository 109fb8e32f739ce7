"""Who holds a claim, and when another worker may take it over (shared.services.claims).

A worker is one *delivery* of a queue message: `{message id}#{dequeue count}`. The host hands a
message whose worker stalled past its lease (or crashed) to another worker with the same message id
and a higher dequeue count, so a redelivery takes its own message's claims back at once, while the
stalled worker (a lower dequeue count) can never take them back from it. Each take of a claim also
moves its fencing token (`fence`, a counter kept on the claimed row) forward; the worker keeps the
token it got, and its writes are refused once the token is no longer the current one.

An order's claim also names the attempt of the event it is taken for (`attempt_of`: the event id
and the event claim's own token). A later attempt of the same event (a retry is a new queue message,
so a new owner) takes it over at once (`later_attempt`): it holds the event's claim under a newer
token, so the attempt that left the order's claim behind (its take landed but its answer was lost,
or its release failed) is fenced out by the event's token already, and by the order's once taken.
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


def attempt_of(event_id: str, event_fence: int) -> str:
    """The attempt of an event an order's claim is taken for: the event and its claim's token."""
    return f"{event_id}@{event_fence}"


def later_attempt(current_attempt: str | None, attempt: str | None) -> bool:
    """Whether `attempt` is a later attempt of the event `current_attempt` was taken for (the same
    event, a newer token of its claim)."""
    if not current_attempt or not attempt:
        return False
    event, _, fence = current_attempt.rpartition("@")
    my_event, _, my_fence = attempt.rpartition("@")
    if not event or event != my_event or not fence.isdigit() or not my_fence.isdigit():
        return False
    return int(my_fence) > int(fence)
