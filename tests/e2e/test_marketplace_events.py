"""Every documented marketplace event on every marketplace route, through the real runner over HTTP:
200, recorded, and then acted on (completed) or kept `ignored` (shared.models.marketplace_events).
A seller subscribes one callback URL to a list of events (CreateWebhook), so no route refuses one."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from shared.adapters.event_log import EventLog
from shared.adapters.storage import Storage
from shared.domain.events import EventStatus, InboundEvent
from shared.models.marketplace_events import MARKETPLACE_EVENTS, MARKETPLACE_ROUTES
from shared.settings import StorageSettings
from tests.conftest import eventually

pytestmark = pytest.mark.e2e
TENANT = "soco"


@pytest.fixture(scope="module")
def events(thor: Stack) -> EventLog:
    return EventLog(Storage(StorageSettings(thor.values["AzureWebJobsStorage"], None, None, None, None)))


def payload(name: str, n: int) -> dict[str, Any]:
    order_id = 9_400_000 + n
    examples: dict[str, dict[str, Any]] = {
        "onOrderCreated": {"OrderId": order_id},
        "onOrderItemsStatusChanged": {
            "OrderId": str(order_id),
            "OrderItemIds": [f"{order_id}1"],
            "NewStatus": "failed",
        },
        "onProductCreated": {"SellerSkus": [f"E2E-EVENT-{n}"]},
        "onProductUpdated": {"SellerSkus": [f"E2E-EVENT-{n}"]},
        "onProductQcStatusChanged": {"SellerSkus": [f"E2E-EVENT-{n}"]},
        "onFeedCreated": {"Feed": f"00000000-0000-4000-8000-{n:012d}"},
        "onFeedCompleted": {"Feed": f"00000000-0000-4000-8000-{n:012d}"},
        "onStatisticsUpdated": {"n": n},
        "onMetricsUpdated": {"n": n},
        "onReturnStatusChanged": {"OrderId": str(order_id), "Status": "return_delivered_to_seller"},
    }
    return examples[name]


def test_each_documented_event_on_each_route_answers_200_and_is_recorded_acted_on_or_ignored(
    thor: Stack, events: EventLog
) -> None:
    key = thor.values["LOCAL_FUNCTION_KEY"]
    sent: list[tuple[str, str, str]] = []
    for r, route in enumerate(MARKETPLACE_ROUTES):
        for e, name in enumerate(sorted(MARKETPLACE_EVENTS)):
            body: dict[str, Any] = {"event": name, "payload": payload(name, r * 100 + e)}
            answer = requests.post(
                f"{thor.thor_url}/{route.format(tenantId=TENANT)}", params={"code": key}, json=body, timeout=10
            )
            assert answer.status_code == 200, (route, name, answer.text)
            assert answer.json()["status"] == "accepted", (route, name, answer.text)
            sent.append((route, name, answer.json()["eventId"]))

    def final(event_id: str) -> InboundEvent | None:
        event = events.get(TENANT, event_id)
        return event if event is not None and not event.status.pending else None

    for route, name, event_id in sent:
        event = eventually(functools.partial(final, event_id), timeout=60)
        expected = EventStatus.COMPLETED if MARKETPLACE_EVENTS[name].acted_on else EventStatus.IGNORED
        assert event.status is expected, (route, name, event.status, event.reason, event.outcome)
        assert event.body["event"] == name


@pytest.mark.parametrize(
    "body,field",
    [
        ({"event": "onOrderShipped", "payload": {"OrderId": 1}}, "event"),
        ({"payload": {}}, "event"),
        ({"event": "onFeedCompleted", "payload": {}}, "payload.Feed"),
        ({"event": "onStatisticsUpdated"}, "payload"),
        ({"event": "onMetricsUpdated", "payload": [1]}, "payload"),
    ],
)
@pytest.mark.parametrize("route", MARKETPLACE_ROUTES)
def test_a_body_that_is_not_a_documented_event_is_a_400_naming_the_field(
    thor: Stack, route: str, body: dict[str, Any], field: str
) -> None:
    key = thor.values["LOCAL_FUNCTION_KEY"]
    answer = requests.post(
        f"{thor.thor_url}/{route.format(tenantId=TENANT)}", params={"code": key}, json=body, timeout=10
    )
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
