"""Effects that cannot double (issue 17 item 2): a worker that stalled past its lease while the host
gave its message to another worker (same message id, a later delivery) is fenced out: its order
writes, OMS sends, marketplace writes and final status are refused, and it stops without effects.
See docs/reliability.md."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from shared.domain.events import EventStatus
from shared.domain.fencing import attempt_of, holder, later_attempt, may_take
from shared.domain.marketplace import MarketplaceItem
from shared.domain.order import Order
from shared.ports import ClaimLost, StorageUnavailable
from shared.services.claims import CLAIM_SECONDS, acting_as, order_claim
from shared.services.order_changes import change_order
from shared.services.processing import process_event
from tests.checks import present
from tests.fakes import FakeContext, fake_context
from tests.unit.test_event_pipeline import ORDER, Flaky, order_created, with_order

STALLED = holder("message-1", 1)  # the first delivery of the message, stalled past its lease
REDELIVERY = holder("message-1", 2)  # the host's redelivery of the same message to another worker


def in_another_worker(work: Callable[[], object]) -> object:
    """Runs `work` as another instance would: in a thread of its own (its own claims, fresh context)."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join()
    return result[0] if result else None


def stall_in_get_order_items(context: FakeContext, meanwhile: Callable[[], None]) -> None:
    """The first worker to read the order's items stalls there past its lease; `meanwhile` runs."""
    marketplace = context.marketplace("sope")
    original = marketplace.get_order_items
    stalled: list[bool] = []

    def get_order_items(order_id: str | int) -> list[MarketplaceItem]:
        rows = original(order_id)
        if not stalled:
            stalled.append(True)
            context.clock.advance(CLAIM_SECONDS + 1)  # SIGSTOP past the lease
            meanwhile()
        return rows

    marketplace.get_order_items = get_order_items  # type: ignore[method-assign]  # patched for this test only


def test_a_later_delivery_takes_a_stalled_delivery_s_claim_and_never_the_other_way() -> None:
    now = fake_context().clock()
    assert may_take(STALLED, now.replace(year=now.year + 1), REDELIVERY, now)
    assert not may_take(REDELIVERY, now.replace(year=now.year + 1), STALLED, now)
    assert not may_take(holder("message-2", 9), now.replace(year=now.year + 1), STALLED, now)


def test_a_stalled_worker_sends_nothing_to_the_oms_once_its_message_was_redelivered() -> None:
    """Before: the stalled worker created the order in the OMS and wrote `completed` over the
    redelivery's `retry-scheduled` (its OMS send failed), with the claims owned by the message id."""
    context = fake_context()
    with_order(context, "pending")
    event_id = order_created(context)
    oms = context.oms("sope")

    def redelivered() -> None:
        oms.fail_next(Flaky("OMS down for a moment"))
        assert in_another_worker(lambda: process_event(context, "sope", event_id, owner=REDELIVERY)) is (
            EventStatus.RETRY_SCHEDULED
        )

    stall_in_get_order_items(context, redelivered)
    assert process_event(context, "sope", event_id, owner=STALLED) is None  # woke up: fenced out
    assert oms.upserts == []  # the stalled worker sent nothing (the redelivery's send failed)
    assert [name for name, _ in oms.calls] == ["upsert_order"]
    event = context.events.get("sope", event_id)
    assert present(event).status is EventStatus.RETRY_SCHEDULED and "OMS down" in (present(event).reason or "")


def test_a_stalled_worker_does_not_overwrite_the_final_status_the_redelivery_wrote() -> None:
    """Before: the stalled worker's `completed` ("oms already up to date") replaced the outcome of the
    worker that did the work ("oms created")."""
    context = fake_context()
    with_order(context, "pending")
    event_id = order_created(context)

    def redelivered() -> None:
        in_another_worker(lambda: process_event(context, "sope", event_id, owner=REDELIVERY))

    stall_in_get_order_items(context, redelivered)
    assert process_event(context, "sope", event_id, owner=STALLED) is None
    event = context.events.get("sope", event_id)
    assert present(event).status is EventStatus.COMPLETED and "oms created" in (present(event).outcome or "")
    assert len(context.oms("sope").upserts) == 1


def test_an_order_write_under_a_claim_taken_over_is_refused() -> None:
    """Before: both writes went through (no token on the order)."""
    context = fake_context()
    with_order(context, "pending")
    settle_id = order_created(context)
    assert process_event(context, "sope", settle_id) is EventStatus.COMPLETED
    internal = f"sope-{ORDER}"

    def note(text: str) -> Callable[..., Any]:
        def mutate(order: Order) -> None:
            order.note("test", text, None, "test")

        return mutate

    with acting_as(STALLED), order_claim(context, "sope", internal):
        change_order(context.orders, "sope", internal, note("stalled worker, before its stall"))
        context.clock.advance(CLAIM_SECONDS + 1)

        def take_over() -> None:
            with acting_as(REDELIVERY), order_claim(context, "sope", internal):
                change_order(context.orders, "sope", internal, note("redelivery"))

        in_another_worker(take_over)
        with pytest.raises(ClaimLost):
            change_order(context.orders, "sope", internal, note("stalled worker, woken up"))
    order, _ = present(context.orders.get("sope", internal))
    assert [e.detail for e in order.timeline if e.what == "test"] == ["stalled worker, before its stall", "redelivery"]


# --- a failed attempt never holds its order past its event (drill seeds 1, 3, 6, 10) -------------


def test_a_later_attempt_of_the_same_event_takes_its_order_claim_over_and_nothing_else_does() -> None:
    assert later_attempt(attempt_of("e-1", 1), attempt_of("e-1", 2))
    assert not later_attempt(attempt_of("e-1", 2), attempt_of("e-1", 1))  # a stale attempt never takes it back
    assert not later_attempt(attempt_of("e-1", 1), attempt_of("e-1", 1))
    assert not later_attempt(attempt_of("e-1", 1), attempt_of("e-2", 9))  # another event of the order waits
    assert not later_attempt(None, attempt_of("e-1", 2)) and not later_attempt(attempt_of("e-1", 1), None)
    assert not later_attempt("written-before-attempts", attempt_of("e-1", 2))


def test_the_retry_of_an_attempt_whose_order_claim_landed_unanswered_is_not_held_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before: the take's write landed while storage was frozen and its answer was lost
    (StorageUnavailable), so the failed attempt never knew it held the order's claim and never
    released it; its retry, a new queue message, waited "being processed by another worker" for the
    claim's 5 minutes, and every other event of the order behind it."""
    context = fake_context()
    with_order(context, "pending")
    event_id = order_created(context)
    context.claims.lose_next_answer(StorageUnavailable("Read timed out. (read timeout=4.0)"))
    assert process_event(context, "sope", event_id, owner=holder("message-1", 1)) is EventStatus.RETRY_SCHEDULED
    name = f"order:{present(context.events.get('sope', event_id)).internal_order_id}"
    assert context.claims.held[("sope", name)][0] == holder("message-1", 1)  # left behind, unknown to its worker

    assert process_event(context, "sope", event_id, owner=holder("message-2", 1)) is EventStatus.COMPLETED
    assert len(context.oms("sope").upserts) == 1
    assert ("sope", name) not in context.claims.held  # released by the attempt that took it over


def test_another_event_of_the_order_still_waits_for_a_claim_left_behind() -> None:
    context = fake_context()
    with_order(context, "pending")
    event_id = order_created(context)
    name = f"order:{present(context.events.get('sope', event_id)).internal_order_id}"
    assert context.claims.take("sope", name, holder("message-1", 1), CLAIM_SECONDS, for_event=attempt_of("other", 1))
    assert process_event(context, "sope", event_id, owner=holder("message-2", 1)) is EventStatus.RECEIVED
    assert context.oms("sope").upserts == []


def test_a_release_that_finds_the_claim_taken_over_says_why(caplog: pytest.LogCaptureFixture) -> None:
    context = fake_context()
    with_order(context, "pending")
    name = f"order:{ORDER}"
    with acting_as(STALLED), order_claim(context, "sope", ORDER):
        assert context.claims.take("sope", name, REDELIVERY, CLAIM_SECONDS)  # the redelivery took it over
    assert context.claims.held[("sope", name)][0] == REDELIVERY  # left alone
    assert any(
        "did not release the claim on order" in r.getMessage() and "taken over" in r.getMessage()
        for r in caplog.records
    )
