"""One worker at a time, on in-memory fakes (tests/fakes.py): duplicates of a fresh event not queued
again, an enqueue that failed, an overdue event, an event another worker holds, a message whose event
is missing. Moved from tests/integration/test_claims.py, which keeps the claims' storage (ETags and
expiry in Azurite) and a crashed worker's recovery end to end."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared.domain.events import EventKind, EventStatus, InboundEvent
from shared.domain.ids import event_id as make_event_id
from shared.ports import StorageUnavailable
from tests.fakes import FakeContext, FakeQueue, fake_context
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


def deliver(context: FakeContext) -> str:
    """The marketplace delivers onOrderCreated (again): the answer intake gives, accepted or duplicate."""
    from shared.services.intake import record_event

    return record_event(
        context.events,
        context.queue,
        tenant="sope",
        kind=EventKind.ORDER_CREATED,
        identity=ORDER,
        body={"event": "onOrderCreated", "payload": {"OrderId": ORDER}},
        internal_order_id=f"sope-{ORDER}",
        clock=context.clock,
    ).status


def test_duplicates_of_a_fresh_queued_event_are_not_queued_again() -> None:
    context = fake_context()
    assert [deliver(context) for _ in range(5)] == ["accepted"] + ["duplicate"] * 4
    assert len(context.queue.sent) == 1


def test_a_duplicate_queues_an_event_whose_first_enqueue_failed() -> None:
    context = fake_context()
    context.queue = FailingQueue(failures=1)
    with pytest.raises(StorageUnavailable):
        deliver(context)  # recorded, not queued: the sender got a 503
    assert context.events.get("sope", order_created_id()) is not None
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # the sender's retry queued it
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1


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
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1  # now known queued


def test_a_duplicate_queues_an_event_whose_enqueue_failed_while_storage_was_frozen() -> None:
    """The enqueue and every later write fail (storage frozen): the event must still be queued by a resend."""
    context = fake_context()
    context.queue = FailingQueue(failures=1)

    def frozen(event: InboundEvent) -> None:
        raise StorageUnavailable("frozen")

    context.events.mark_queued = frozen  # type: ignore[method-assign]  # patched for this test only
    with pytest.raises(StorageUnavailable):
        deliver(context)
    assert deliver(context) == "duplicate" and len(context.queue.sent) == 1


def test_a_failed_enqueue_writes_nothing_more_so_the_503_keeps_the_requests_bound() -> None:
    """Issue 17 item 3: marking the event unqueued got a fresh 1 s storage bound past the request's 4 s."""
    context = fake_context()
    context.queue = FailingQueue(failures=1)
    with pytest.raises(StorageUnavailable):
        deliver(context)
    assert context.events.marks == []


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
