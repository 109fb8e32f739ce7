"""One worker at a time, on in-memory fakes (tests/fakes.py): duplicates of an event a worker has
in hand not queued again, of one nobody took yet queued again, an enqueue that failed, an overdue
event, an event another worker holds, a message whose event is missing. Moved from tests/integration/test_claims.py, which keeps the claims' storage (ETags and
expiry in Azurite) and a crashed worker's recovery end to end."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared.domain.events import EventKind, EventStatus
from shared.domain.ids import event_id as make_event_id
from shared.ports import StorageUnavailable
from tests.fakes import FakeContext, FakeQueue, count_storage, fake_context
from tests.unit.test_event_pipeline import ORDER, order_created, with_order


class FailingQueue(FakeQueue):
    """The queue port failing its first `failures` sends with StorageUnavailable."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("queue down")
        super().send(tenant, event_id, delay, missing)


def deliver(context: FakeContext, queue: FakeQueue | None = None) -> str:
    """The marketplace delivers onOrderCreated (again): the answer intake gives, accepted or duplicate.
    `queue`: the queue as another instance's client sees it (`another_instance`)."""
    from shared.services.intake import record_event

    return record_event(
        context.events,
        queue or context.queue,
        tenant="sope",
        kind=EventKind.ORDER_CREATED,
        identity=ORDER,
        body={"event": "onOrderCreated", "payload": {"OrderId": ORDER}},
        internal_order_id=f"sope-{ORDER}",
        clock=context.clock,
    ).status


def take(context: FakeContext, owner: str = "a-worker") -> None:
    """A worker takes the event up (its queue message's claim), as processing does first."""
    assert context.events.claim("sope", order_created_id(), owner, seconds=30)[1]


def test_duplicates_of_an_event_a_worker_has_in_hand_are_not_queued_again() -> None:
    context = fake_context()
    assert deliver(context) == "accepted"
    take(context)
    assert [deliver(context) for _ in range(4)] == ["duplicate"] * 4
    assert len(context.queue.sent) == 1


def another_instance(context: FakeContext) -> FakeQueue:
    """The same queue through another instance's client (its own memory of what it queued)."""
    queue = FakeQueue()
    queue.sent = context.queue.sent
    return queue


def test_a_duplicate_queues_an_event_no_worker_has_taken_yet_unless_its_instance_just_did() -> None:
    """No "queued" mark after the enqueue (issue 17, the ack's cost): until a worker claims it, an
    event may have been queued or not, so a duplicate queues it again (a second message, harmless),
    unless the instance it reaches queued it itself within the grace."""
    context = fake_context()
    assert [deliver(context) for _ in range(3)] == ["accepted", "duplicate", "duplicate"]
    assert len(context.queue.sent) == 1  # this instance queued it moments ago
    other = another_instance(context)
    assert [deliver(context, other) for _ in range(2)] == ["duplicate", "duplicate"]
    assert len(context.queue.sent) == 2  # another instance does not know: queued again, once
    context.clock.advance(61)
    deliver(context)
    assert len(context.queue.sent) == 3  # no worker took it within the grace: queued again
    take(context)
    deliver(context, another_instance(context))
    assert len(context.queue.sent) == 3  # in a worker's hand


def test_a_duplicate_of_a_completed_event_is_answered_without_a_queue_write() -> None:
    context = fake_context()
    with_order(context)
    event_id = order_created(context)
    assert process(context, event_id) is EventStatus.COMPLETED
    sent = len(context.queue.sent)
    calls = count_storage(context)
    assert deliver(context) == "duplicate"
    assert dict(calls) == {"events.add": 1, "events.get": 1} and len(context.queue.sent) == sent


def test_a_duplicate_queues_an_event_whose_first_enqueue_failed() -> None:
    context = fake_context()
    context.queue = FailingQueue(failures=1)
    with pytest.raises(StorageUnavailable):
        deliver(context)  # recorded, not queued: the sender got a 503
    assert context.events.get("sope", order_created_id()) is not None
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # the sender's retry queued it


class KilledQueue(FakeQueue):
    """The instance dies (or stalls for good) as it is about to enqueue: the insert landed, nothing else."""

    class Killed(BaseException):
        pass

    def __init__(self) -> None:
        super().__init__()
        self.killed = False

    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None:
        if not self.killed:
            self.killed = True
            raise KilledQueue.Killed()
        super().send(tenant, event_id, delay, missing)


def test_a_duplicate_queues_an_event_whose_first_delivery_died_between_insert_and_enqueue() -> None:
    """Issue 17 item 3: the resend within the grace used to be answered 200 without queueing."""
    context = fake_context()
    context.queue = KilledQueue()
    with pytest.raises(KilledQueue.Killed):
        deliver(context)
    assert context.events.get("sope", order_created_id()) is not None and context.queue.sent == []
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # queued by the resend
    take(context)
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # in a worker's hand


def test_a_duplicate_whose_own_enqueue_fails_answers_503_and_the_next_resend_queues_it() -> None:
    """Storage frozen through the first delivery and the first resend: neither is acknowledged, and
    the event is still queued by the resend that gets its 200."""
    context = fake_context()
    context.queue = FailingQueue(failures=2)
    with pytest.raises(StorageUnavailable):
        deliver(context)
    with pytest.raises(StorageUnavailable):
        deliver(context)
    assert context.queue.sent == []
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1


def test_a_failed_enqueue_writes_nothing_more_so_the_503_keeps_the_requests_bound() -> None:
    """Issue 17 item 3: marking the event unqueued got a fresh 1 s storage bound past the request's 4 s."""
    context = fake_context()
    context.queue = FailingQueue(failures=1)
    calls = count_storage(context)
    with pytest.raises(StorageUnavailable):
        deliver(context)
    assert dict(calls) == {"events.add": 1, "queue.send": 1}


def order_created_id() -> str:
    return make_event_id(EventKind.ORDER_CREATED.value, "sope", ORDER)


def test_a_duplicate_queues_an_overdue_event_again() -> None:
    context = fake_context()
    deliver(context)
    context.events.claim("sope", order_created_id(), "a-worker-that-died", seconds=30)
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # in someone's hand
    context.clock.advance(31)
    deliver(context)
    assert len(context.queue.sent) == 2  # its claim expired unreleased: nobody has it in hand


def test_an_event_another_worker_holds_is_not_processed_but_looked_at_again_later() -> None:
    context = fake_context()
    with_order(context)
    event_id = order_created(context)
    assert context.events.claim("sope", event_id, "message-1", seconds=30)[1]
    assert process(context, event_id, owner="message-2") is None
    assert context.marketplace("sope").calls == []  # no external call
    last = context.queue.sent[-1]
    assert last.event_id == event_id and 25 <= last.delay <= 31
    assert context.events.claim("sope", event_id, "message-3", seconds=30) == (
        context.events.get("sope", event_id),
        False,
    )


def process(context: FakeContext, event_id: str, **options: Any) -> EventStatus | None:
    from shared.services.processing import process_event

    return process_event(context, "sope", event_id, **options)


def test_a_message_whose_event_is_missing_is_kept_then_dropped_with_an_error(caplog: pytest.LogCaptureFixture) -> None:
    context = fake_context()
    missing = "order-created-not-recorded-yet"
    assert process(context, missing, missing_delays=(5, 30)) is None
    assert [(s.event_id, s.delay, s.missing) for s in context.queue.sent] == [(missing, 5, 1)]
    process(context, missing, missing=1, missing_delays=(5, 30))
    assert (context.queue.sent[-1].delay, context.queue.sent[-1].missing) == (30, 2)
    with caplog.at_level(logging.ERROR, logger="thor.processing"):
        process(context, missing, missing=2, missing_delays=(5, 30))
    assert len(context.queue.sent) == 2
    assert any("still not in the event log" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_an_event_restored_late_is_still_processed() -> None:
    context = fake_context()
    with_order(context)
    missing_id = order_created_id()
    assert process(context, missing_id, missing_delays=(5, 30)) is None  # not in the log yet
    assert context.queue.sent[-1].missing == 1
    assert order_created(context) == missing_id  # the log entry comes back (restored)
    assert process(context, missing_id, missing=1, missing_delays=(5, 30)) is EventStatus.COMPLETED


@pytest.mark.parametrize("instances", [1, 3, 200])
def test_a_storm_of_duplicates_before_any_worker_costs_a_message_per_instance_and_one_deliverys_effects(
    instances: int,
) -> None:
    """The price of dropping the "queued" mark (docs/reliability.md, "A duplicate queues what nobody
    has in hand"): 200 copies that all arrive before a worker takes the event queue it once per
    instance they reach (200 instances: the worst case, a message per copy); the extra messages
    find the event completed and do nothing: one OMS create, and a duplicate of the completed event
    queues nothing."""
    context = fake_context()
    with_order(context)
    queues = [context.queue] + [another_instance(context) for _ in range(instances - 1)]
    answers = [deliver(context, queues[n % instances]) for n in range(200)]
    assert answers.count("accepted") == 1 and len(context.queue.sent) == instances
    calls = count_storage(context)
    statuses = [process(context, m.event_id, owner=f"message-{n}#1") for n, m in enumerate(context.queue.take_all())]
    assert statuses.count(EventStatus.COMPLETED) == instances and context.queue.sent == []
    assert len(context.oms("sope").upserts) == 1
    assert calls["events.claim"] == instances and calls["queue.send"] == 0  # one read for each extra
    deliver(context)
    assert context.queue.sent == []  # final: answered without a queue write


def test_a_queue_that_cannot_be_remembered_still_queues_every_duplicate_nobody_has_in_hand() -> None:
    """A stand-in queue without weak references (a SimpleNamespace): no memory, so no skipped enqueue."""
    from types import SimpleNamespace

    context = fake_context()
    sent: list[str] = []
    stand_in = SimpleNamespace(send=lambda tenant, event_id, delay=0, missing=0: sent.append(event_id))
    assert [deliver(context, stand_in) for _ in range(2)] == ["accepted", "duplicate"]  # type: ignore[arg-type]
    assert sent == [order_created_id()] * 2
