"""An accepted event whose queue message was lost is queued again and processed."""

from datetime import datetime, timedelta, timezone

from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus, InboundEvent
from shared.services.processing import process_event
from shared.services.sweeper import requeue_stale


def test_stale_received_event_is_queued_again_and_fresh_ones_are_left(context: Context) -> None:
    old = datetime.now(timezone.utc) - timedelta(hours=1)
    lost = InboundEvent(
        tenant="fape",
        event_id="sweeper-lost",
        kind=EventKind.ORDER_CREATED,
        body={"event": "onOrderCreated", "payload": {"OrderId": 5150001}},
        received_at=old,
        updated_at=old,
    )
    fresh = InboundEvent(
        tenant="fape",
        event_id="sweeper-fresh",
        kind=EventKind.ORDER_CREATED,
        body={"event": "onOrderCreated", "payload": {"OrderId": 5150002}},
        received_at=datetime.now(timezone.utc),
    )
    assert context.events.add(lost) and context.events.add(fresh)  # recorded, never queued
    requeued = requeue_stale(context)
    assert "fape/sweeper-lost" in requeued and "fape/sweeper-fresh" not in requeued
    assert process_event(context, "fape", "sweeper-lost") is EventStatus.COMPLETED
    assert "fape/sweeper-lost" not in requeue_stale(context)
