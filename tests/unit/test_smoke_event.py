"""The smoke test's synthetic event (shared.services.smoke): only it can be read or removed by the
smoke route, and only once processed; processing it calls no external system."""

from __future__ import annotations

from typing import Any

from shared.domain.events import EventStatus
from shared.models.webhooks import OtherMarketplaceWebhook
from shared.services.intake import accept_event
from shared.services.processing import process_event
from shared.services.smoke import remove, synthetic_event
from tests.fakes import FakeContext, fake_context


def _accept(context: FakeContext, payload: dict[str, Any], event: str = "onStatisticsUpdated") -> str:
    hook = OtherMarketplaceWebhook.model_validate({"event": event, "payload": payload})
    return accept_event(context.events, context.queue, tenant="faco", message=hook).event_id


def test_the_smoke_event_is_processed_to_ignored_without_calls_and_then_removed() -> None:
    context = fake_context("faco")
    event_id = _accept(context, {"thorSmoke": "run-1"})
    found = synthetic_event(context.events, "faco", event_id)
    assert found is not None and found.status is not EventStatus.IGNORED
    assert remove(context.events, found) is False  # not processed yet: left alone
    assert process_event(context, "faco", event_id) is EventStatus.IGNORED
    external = [*context.marketplaces.values(), *context.omses.values(), *context.zorts.values()]
    assert [system.calls for system in external] == [[], [], []]  # nothing sent anywhere
    processed = synthetic_event(context.events, "faco", event_id)
    assert processed is not None and processed.status is EventStatus.IGNORED
    assert remove(context.events, processed) is True
    assert context.events.get("faco", event_id) is None


def test_a_real_event_is_invisible_to_the_smoke_route_and_never_removed() -> None:
    context = fake_context("faco")
    real = _accept(context, {"Sku": "ABC"})
    other_name = _accept(context, {"thorSmoke": "run-2"}, event="onMetricsUpdated")
    for event_id in (real, other_name):
        assert synthetic_event(context.events, "faco", event_id) is None
        process_event(context, "faco", event_id)
        event = context.events.get("faco", event_id)
        assert event is not None and event.status is EventStatus.IGNORED
        assert remove(context.events, event) is False
        assert context.events.get("faco", event_id) is not None
    assert synthetic_event(context.events, "faco", "no-such-event") is None
