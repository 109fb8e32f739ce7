"""The table of the marketplace's webhook events (shared.models.marketplace_events): every documented
event has a row, the ones Thor does not act on are kept `ignored` (final, counted, never retried),
and `NewStatus` is a hint of any spelling whose processing re-reads the items."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared.bootstrap import build_handlers
from shared.domain.events import EventKind, EventStatus
from shared.domain.marketplace import MarketplaceProduct
from shared.models.marketplace_events import MARKETPLACE_EVENTS, MARKETPLACE_ROUTES
from shared.models.webhooks import ItemsStatusChangedWebhook
from shared.ports import model_for
from shared.services import intake
from shared.services.processing import COUNTED_OUTCOMES, process_event
from tests.checks import present
from tests.fakes import FakeContext, fake_context, marketplace_item

# developers.falabella.com entities-payload-definition, CreateWebhook / GetWebhookEntities
# (shared/reference/seller-center.md, "Added 2026-12-04").
DOCUMENTED = {
    "onOrderCreated",
    "onOrderItemsStatusChanged",
    "onProductCreated",
    "onProductUpdated",
    "onProductQcStatusChanged",
    "onFeedCreated",
    "onFeedCompleted",
    "onStatisticsUpdated",
    "onMetricsUpdated",
    "onReturnStatusChanged",
}
ACTED_ON = {
    "onOrderCreated",
    "onOrderItemsStatusChanged",
    "onProductCreated",
    "onProductUpdated",
    "onProductQcStatusChanged",
    "onFeedCompleted",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "onOrderCreated": {"OrderId": 3010001},
    "onOrderItemsStatusChanged": {"OrderId": "3010001", "OrderItemIds": ["30100010"], "NewStatus": "shipped"},
    "onProductCreated": {"SellerSkus": ["SKU-1"]},
    "onProductUpdated": {"SellerSkus": ["SKU-1"]},
    "onProductQcStatusChanged": {"SellerSkus": ["SKU-1"]},
    "onFeedCreated": {"Feed": "6d1f2a9e-8c2b-4b0e-9d63-5f3e7a1c0b42"},
    "onFeedCompleted": {"Feed": "6d1f2a9e-8c2b-4b0e-9d63-5f3e7a1c0b42"},
    "onStatisticsUpdated": {},
    "onMetricsUpdated": {"anything": [1, 2]},
    "onReturnStatusChanged": {"OrderId": "3010001", "Status": "return_accepted"},
}


def test_the_table_has_every_documented_event_and_each_row_fits_its_model_and_a_registered_kind() -> None:
    assert set(MARKETPLACE_EVENTS) == DOCUMENTED
    assert {name for name, entry in MARKETPLACE_EVENTS.items() if entry.acted_on} == ACTED_ON
    handlers = build_handlers()
    for name, entry in MARKETPLACE_EVENTS.items():
        assert name in typing.get_args(entry.model.model_fields["event"].annotation), name
        assert model_for(handlers, entry.kind) is not None, name
        assert entry.route in MARKETPLACE_ROUTES
        assert entry.confirmed
        entry.model.model_validate({"event": name, "payload": EXAMPLES[name]})


def record(context: FakeContext, name: str, payload: dict[str, Any], tenant: str = "sope") -> str:
    """As functions/_webhooks.py records a body: by the table's row for its name."""
    entry = MARKETPLACE_EVENTS[name]
    hook = entry.model.model_validate({"event": name, "payload": payload})
    body = {"event": name, "payload": hook.payload.model_dump(mode="json", exclude_unset=True)}
    return intake.accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=hook,
        body=body,
        internal_order_id=entry.internal_order_id(tenant, hook),
        refresh_completed=entry.refresh_completed,
        clock=context.clock,
    ).event_id


@pytest.mark.parametrize("name", sorted(DOCUMENTED - ACTED_ON))
def test_an_event_thor_does_not_act_on_is_kept_ignored_with_its_name_counted_and_never_again(name: str) -> None:
    context = fake_context()
    event_id = record(context, name, EXAMPLES[name])
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.IGNORED
    event = context.events.get("sope", event_id)
    assert present(event).status is EventStatus.IGNORED and present(event).kind is EventKind.MARKETPLACE_IGNORED
    assert name in (present(event).outcome or "") and present(event).body["event"] == name
    assert EventStatus.IGNORED in COUNTED_OUTCOMES
    assert context.marketplace("sope").calls == []  # nothing asked of the marketplace
    sent = len(context.queue.sent)
    again = record(context, name, EXAMPLES[name])  # the marketplace's retry: a duplicate, not queued
    assert again == event_id and len(context.queue.sent) == sent
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.IGNORED
    assert present(context.events.get("sope", event_id)).attempts == 1


def test_a_qc_status_change_refreshes_the_products_as_an_update_does() -> None:
    context = fake_context()
    context.marketplace("sope").products = {"SKU-1": MarketplaceProduct(sku="SKU-1", name="a", price=Decimal(5))}
    event_id = record(context, "onProductQcStatusChanged", {"SellerSkus": ["SKU-1"]})
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.COMPLETED
    assert context.marketplace("sope").calls == [("get_products", ["SKU-1"])]
    assert present(context.products.get("sope", "SKU-1")).price == Decimal(5)


@pytest.mark.parametrize(
    "hint", ["failed", "ready_To_Ship", "return_delivered_to_seller", "return_accepted", "Shipped"]
)
def test_new_status_of_any_spelling_is_recorded_as_sent_and_the_items_are_re_read(hint: str) -> None:
    context = fake_context()
    market = context.marketplace("sope")
    market.add_order("3010001", marketplace_item("30100010", order_id="3010001", status="shipped"))
    payload = {"OrderId": "3010001", "OrderItemIds": ["30100010"], "NewStatus": hint}
    event_id = record(context, "onOrderItemsStatusChanged", payload)
    assert present(context.events.get("sope", event_id)).body["payload"]["NewStatus"] == hint
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.COMPLETED
    assert ("get_order_items", "3010001") in market.calls
    order, _ = present(context.orders.get("sope", "sope-3010001"))
    assert [item.status for item in order.items] == ["shipped"]  # what the marketplace says, not the hint


@pytest.mark.parametrize("hint", ["", "canceled|ready_to_ship", "x" * 65, "1shipped", 7, None])
def test_new_status_that_is_no_status_name_at_all_is_refused(hint: object) -> None:
    payload = {"OrderId": "1", "OrderItemIds": ["2"], "NewStatus": hint}
    with pytest.raises(ValidationError) as refused:
        ItemsStatusChangedWebhook.model_validate({"event": "onOrderItemsStatusChanged", "payload": payload})
    assert refused.value.errors()[0]["loc"] == ("payload", "NewStatus")


def test_on_feed_completed_is_acted_on_by_the_feed_tracker() -> None:
    """A feed Thor did not create is recorded and completed without asking the marketplace (the feed
    tracker itself: tests/unit/test_feeds.py)."""
    context = fake_context()
    event_id = record(context, "onFeedCompleted", EXAMPLES["onFeedCompleted"])
    assert process_event(context, "sope", event_id, context.settings.retry_delays) is EventStatus.COMPLETED
    event = context.events.get("sope", event_id)
    assert present(event).kind is EventKind.FEED_COMPLETED and "not one Thor created" in (present(event).outcome or "")
