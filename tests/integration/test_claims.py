"""One worker at a time (issue 9, part 2), against real Azurite and the sandboxes: the event log's and
the order claims' ETags and expiry in Table Storage, and a crashed worker's work resumed end to end.
Intake's and processing's rules about claims (duplicates, an overdue event, another worker's event, a
missing event) are tested on fakes in tests/unit/test_claims.py."""

from __future__ import annotations

import copy
import time
from typing import Any

import requests

from localdev.stack import Stack
from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus
from shared.ports import EventQueuePort
from shared.services.intake import Acceptance, record_event
from shared.services.processing import process_event
from tests.checks import present

ORDER = 4450000


class RecordingQueue:
    """The queue port, recording what is sent (the real queue is shared by every in-process test)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None:
        self.sent.append({"tenant": tenant, "event_id": event_id, "delay": delay, "missing": missing})


def with_queue(context: Context, queue: EventQueuePort) -> Context:
    """The same context with another queue (a shallow copy: every other port is shared)."""
    other = copy.copy(context)
    other.queue = queue  # type: ignore[assignment]  # an instance value wins over the cached_property (any EventQueuePort)
    return other


def order_created(context: Context, queue: EventQueuePort, order_id: int, tenant: str = "faco") -> Acceptance:
    return record_event(
        context.events,
        queue,
        tenant=tenant,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        internal_order_id=f"{tenant}-{order_id}",
    )


def marketplace_calls(stack: Stack, order_id: int) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = requests.get(
        stack.servers["marketplace"].url + "/_sandbox/requests", timeout=5
    ).json()
    return [c for c in calls if c["query"].get("OrderId") == str(order_id)]


def test_an_event_claim_is_one_owners_until_it_ends_and_a_completed_event_is_nobodys(context: Context) -> None:
    event_id = order_created(context, RecordingQueue(), ORDER + 4).event_id
    assert context.events.claim("faco", event_id, "message-1", seconds=30)[1]
    assert context.events.claim("faco", event_id, "message-1", seconds=30)[1]  # its own: a redelivery
    held, claimed = context.events.claim("faco", event_id, "message-2", seconds=30)
    assert not claimed and present(held).claimed_by == "message-1"
    assert context.events.claim("faco", "no-such-event", "message-2", seconds=30) == (None, False)
    context.events.set_status(present(context.events.get("faco", event_id)), EventStatus.COMPLETED)
    assert context.events.claim("faco", event_id, "message-1", seconds=30)[1] is False


def test_a_crashed_workers_claim_expires_and_the_work_is_resumed(context: Context, stack: Stack) -> None:
    queue = RecordingQueue()
    event_id = order_created(context, queue, ORDER + 5).event_id
    assert context.events.claim("faco", event_id, "message-that-crashed", seconds=0.3)[1]
    assert context.claims.take("faco", f"order:faco-{ORDER + 5}", "message-that-crashed", 0.3)
    time.sleep(0.5)
    assert process_event(with_queue(context, queue), "faco", event_id, owner="message-2") is EventStatus.COMPLETED
    assert len([c for c in marketplace_calls(stack, ORDER + 5) if c["query"]["Action"] == "GetOrder"]) == 1


def test_an_order_claim_is_one_owners_at_a_time(context: Context) -> None:
    name = f"order:faco-{ORDER + 6}"
    first = context.claims.take("faco", name, "a", 30)
    assert first and context.claims.take("faco", name, "b", 30) is None
    assert context.claims.take("faco", name, "a", 30)  # its own claim: taken again (a redelivered message)
    context.claims.release("faco", name, first)  # a stale ETag: not released
    assert context.claims.take("faco", name, "b", 30) is None
    again = context.claims.take("faco", name, "a", 30)
    context.claims.release("faco", name, present(again))
    assert context.claims.take("faco", name, "b", 30)


def test_an_expired_order_claim_is_taken_over_and_its_late_release_leaves_the_new_one(context: Context) -> None:
    name = f"order:faco-{ORDER + 7}"
    stale = context.claims.take("faco", name, "a", 0.3)
    time.sleep(0.5)
    assert context.claims.take("faco", name, "b", 30)
    context.claims.release("faco", name, present(stale))
    assert context.claims.take("faco", name, "c", 30) is None


def test_fencing_tokens_in_table_storage_refuse_a_stalled_delivery(context: Context) -> None:
    """Issue 17 item 2, against Azurite: a later delivery of the same message takes the event's and
    the order's claims over with a newer token; the stalled delivery's final status is refused."""
    from shared.domain.fencing import holder
    from shared.ports import ClaimLost

    stalled, redelivery = holder("message-9", 1), holder("message-9", 2)
    event_id = order_created(context, RecordingQueue(), ORDER + 9).event_id
    mine, claimed = context.events.claim("faco", event_id, stalled, seconds=300)
    assert claimed and present(mine).fence is not None and context.events.holds(present(mine))
    theirs, claimed = context.events.claim("faco", event_id, redelivery, seconds=300)
    assert claimed and present(theirs).fence == present(present(mine).fence) + 1
    assert not context.events.claim("faco", event_id, stalled, seconds=300)[1]  # never taken back
    assert not context.events.holds(present(mine))
    try:
        context.events.set_status(present(mine), EventStatus.COMPLETED, outcome="stale")
        raise AssertionError("the stalled delivery's final status was written")
    except ClaimLost:
        pass
    context.events.set_status(present(theirs), EventStatus.COMPLETED, outcome="done")
    assert present(context.events.get("faco", event_id)).outcome == "done"

    name = f"order:faco-{ORDER + 9}"
    first = context.claims.take("faco", name, stalled, 300)
    second = context.claims.take("faco", name, redelivery, 300)
    assert first and second and second.fence == first.fence + 1
    assert context.claims.take("faco", name, stalled, 300) is None
    assert not context.claims.holds("faco", name, first) and context.claims.holds("faco", name, second)
    context.claims.release("faco", name, second)
    again = context.claims.take("faco", name, holder("message-10", 1), 300)
    assert again and again.fence == second.fence + 1  # released, the token still only moves forward
    context.claims.table.delete_entity("faco", name)  # a claim row lost: its counter with it
    lost = context.claims.take("faco", name, holder("message-11", 1), 300)
    assert lost and lost.fence > again.fence  # a new row never hands out a lower token


def test_the_retry_of_an_attempt_whose_order_claim_landed_unanswered_takes_it_over(
    context: Context, stack: Stack
) -> None:
    """Drill seeds 1, 3, 6, 10, against Azurite: an attempt's take of the order's claim landed while
    its answer was lost (StorageUnavailable from the take: the worker never knew it held it, so it
    never released it) and the attempt was retried as a new queue message (a new owner). The retry
    takes the claim over at once, being a later attempt of the same event; another event's worker
    still waits; a release that finds the claim taken over says why."""
    from shared.domain.fencing import attempt_of, holder

    queue = RecordingQueue()
    event_id = order_created(context, queue, ORDER + 12).event_id
    name = f"order:faco-{ORDER + 12}"
    failed = holder("message-12", 1)
    event, claimed = context.events.claim("faco", event_id, failed, seconds=300)
    assert claimed
    left = context.claims.take("faco", name, failed, 300, for_event=attempt_of(event_id, present(present(event).fence)))
    assert left  # (its worker never got this answer)
    context.events.set_status(
        present(event), EventStatus.RETRY_SCHEDULED, reason="StorageUnavailable", attempts=1, due_in=1
    )
    assert context.claims.take("faco", name, holder("message-99", 1), 300, for_event=attempt_of("other", 5)) is None

    retry = holder("message-13", 1)
    assert process_event(with_queue(context, queue), "faco", event_id, owner=retry) is EventStatus.COMPLETED
    assert present(context.claims.read("faco", name))["owner"] == ""  # released by the retry
    assert context.claims.release("faco", name, left) is not None  # the failed attempt's: left alone, and why
