"""One worker at a time (issue 9, part 2), against real Azurite and the sandboxes: event claims,
order claims, duplicates of a fresh event not queued again, and a message whose event is missing."""

from __future__ import annotations

import copy
import logging
import time

import pytest
import requests

from shared.domain.events import EventKind, EventStatus
from shared.ports import StorageUnavailable
from shared.services.intake import accept_event
from shared.services.processing import process_event

ORDER = 4450000


class RecordingQueue:
    """The queue port, recording what is sent (the real queue is shared by every in-process test)."""

    def __init__(self, failures: int = 0):
        self.sent: list[dict] = []
        self.failures = failures

    def send(self, tenant, event_id, delay=0, missing=0):
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("queue down")
        self.sent.append({"tenant": tenant, "event_id": event_id, "delay": delay, "missing": missing})


def with_queue(context, queue):
    """The same context with another queue (a shallow copy: every other port is shared)."""
    other = copy.copy(context)
    other.queue = queue  # an instance value wins over the cached_property
    return other


def order_created(context, queue, order_id, tenant="faco"):
    return accept_event(
        context.events,
        queue,
        tenant=tenant,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        internal_order_id=f"{tenant}-{order_id}",
    )


def marketplace_calls(stack, order_id):
    calls = requests.get(stack.servers["marketplace"].url + "/_sandbox/requests", timeout=5).json()
    return [c for c in calls if c["query"].get("OrderId") == str(order_id)]


def test_duplicates_of_a_fresh_queued_event_are_not_queued_again(context):
    queue = RecordingQueue()
    answers = [order_created(context, queue, ORDER + 1).status for _ in range(5)]
    assert answers == ["accepted"] + ["duplicate"] * 4
    assert len(queue.sent) == 1


def test_a_duplicate_queues_an_event_whose_first_enqueue_failed(context):
    queue = RecordingQueue(failures=1)
    with pytest.raises(StorageUnavailable):
        order_created(context, queue, ORDER + 2)  # recorded, not queued: the sender got a 503
    assert order_created(context, queue, ORDER + 2).status == "duplicate"
    assert len(queue.sent) == 1  # the sender's retry queued it
    assert order_created(context, queue, ORDER + 2).status == "duplicate" and len(queue.sent) == 1


def test_a_duplicate_queues_an_overdue_event_again(context):
    queue = RecordingQueue()
    event_id = order_created(context, queue, ORDER + 3).event_id
    context.events.claim("faco", event_id, "a-worker-that-died", seconds=0.5)
    assert order_created(context, queue, ORDER + 3).status == "duplicate" and len(queue.sent) == 1  # in hand
    time.sleep(0.7)
    order_created(context, queue, ORDER + 3)
    assert len(queue.sent) == 2  # its claim expired unreleased: nobody has it in hand


def test_an_event_another_worker_holds_is_not_processed_but_looked_at_again_later(context, stack):
    queue = RecordingQueue()
    event_id = order_created(context, queue, ORDER + 4).event_id
    event, claimed = context.events.claim("faco", event_id, "message-1", seconds=30)
    assert claimed
    assert process_event(with_queue(context, queue), "faco", event_id, owner="message-2") is None
    assert marketplace_calls(stack, ORDER + 4) == []  # no external call
    assert queue.sent[-1]["event_id"] == event_id and 25 <= queue.sent[-1]["delay"] <= 31
    assert context.events.claim("faco", event_id, "message-3", seconds=30) == (
        context.events.get("faco", event_id),
        False,
    )


def test_a_crashed_workers_claim_expires_and_the_work_is_resumed(context, stack):
    queue = RecordingQueue()
    event_id = order_created(context, queue, ORDER + 5).event_id
    assert context.events.claim("faco", event_id, "message-that-crashed", seconds=1)[1]
    assert context.claims.take("faco", f"order:faco-{ORDER + 5}", "message-that-crashed", 1)
    time.sleep(1.2)
    assert process_event(with_queue(context, queue), "faco", event_id, owner="message-2") is EventStatus.COMPLETED
    assert len([c for c in marketplace_calls(stack, ORDER + 5) if c["query"]["Action"] == "GetOrder"]) == 1


def test_an_order_claim_is_one_owners_at_a_time(context):
    name = f"order:faco-{ORDER + 6}"
    first = context.claims.take("faco", name, "a", 30)
    assert first and context.claims.take("faco", name, "b", 30) is None
    assert context.claims.take("faco", name, "a", 30)  # its own claim: taken again (a redelivered message)
    context.claims.release("faco", name, first)  # a stale ETag: not released
    assert context.claims.take("faco", name, "b", 30) is None
    again = context.claims.take("faco", name, "a", 30)
    context.claims.release("faco", name, again)
    assert context.claims.take("faco", name, "b", 30)


def test_an_expired_order_claim_is_taken_over_and_its_late_release_leaves_the_new_one(context):
    name = f"order:faco-{ORDER + 7}"
    stale = context.claims.take("faco", name, "a", 0.3)
    time.sleep(0.5)
    assert context.claims.take("faco", name, "b", 30)
    context.claims.release("faco", name, stale)
    assert context.claims.take("faco", name, "c", 30) is None


def test_a_message_whose_event_is_missing_is_kept_then_dropped_with_an_error(context, caplog):
    queue = RecordingQueue()
    ctx = with_queue(context, queue)
    assert process_event(ctx, "faco", "order-created-not-recorded-yet", missing_delays=(5, 30)) is None
    assert queue.sent == [{"tenant": "faco", "event_id": "order-created-not-recorded-yet", "delay": 5, "missing": 1}]
    process_event(ctx, "faco", "order-created-not-recorded-yet", missing=1, missing_delays=(5, 30))
    assert queue.sent[-1]["delay"] == 30 and queue.sent[-1]["missing"] == 2
    with caplog.at_level(logging.ERROR, logger="thor.processing"):
        process_event(ctx, "faco", "order-created-not-recorded-yet", missing=2, missing_delays=(5, 30))
    assert len(queue.sent) == 2
    assert any("still not in the event log" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_an_event_restored_late_is_still_processed(context):
    queue = RecordingQueue()
    ctx = with_queue(context, queue)
    tenant, order_id = "faco", ORDER + 8
    from shared.domain.ids import event_id as make_event_id

    missing_id = make_event_id(EventKind.ORDER_CREATED.value, tenant, order_id)
    assert process_event(ctx, tenant, missing_id, missing_delays=(5, 30)) is None  # not in the log yet
    assert queue.sent[-1]["missing"] == 1
    order_created(context, RecordingQueue(), order_id)  # the log entry comes back (restored)
    assert process_event(ctx, tenant, missing_id, missing=1, missing_delays=(5, 30)) is EventStatus.COMPLETED
