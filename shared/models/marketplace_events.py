"""The marketplace's webhook events: the one table where a marketplace event is looked up.

Each documented event name maps to the model its body is validated with, the `EventKind` it is
recorded under (and so the handler `shared.bootstrap.build_handlers` registers for that kind), the
route it is subscribed to, and where the name and its payload are confirmed. The three marketplace
webhook routes (`/webhooks/{tenantId}/orders`, `/orders/status`, `/products`) all read this table
and accept every event in it: a seller subscribes one callback URL to a list of events
(CreateWebhook), so an event arriving on another route than its own is recorded and applied all
the same. An event Thor does not act on has the kind `MARKETPLACE_IGNORED`: it is recorded, and its
processing marks it `ignored` (final, never retried, counted, listed by `python -m ops events
--status ignored`). A name not in the table, or a body that is not `{"event", "payload"}`, is a 400
naming the field.

To act on one more event: give it a model in `shared/models/webhooks.py` (payload fields typed,
its `kind`: a new `shared.domain.events.EventKind`, and its `identity()` when what makes two
deliveries the same is narrower than its name and payload), a handler registered in
`shared.bootstrap.build_handlers`, then point its row below at that model (test:
tests/unit/test_marketplace_events.py). A row's kind is its model's: the base `MarketplaceWebhook`
and the ignored events' models are `MARKETPLACE_IGNORED`.

Sources ("confirmed" below):
- [ref] `shared/reference/seller-center.md`: developers.falabella.com `entities-payload-definition`,
  CreateWebhook / GetWebhookEntities (event names; one callback URL for a list of events).
- [seed] the event examples in the project's seed documents (seeds/000_…), and Falabella's published
  webhook examples for onOrderCreated / onOrderItemsStatusChanged / onProductCreated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.domain.events import EventKind
from shared.domain.ids import internal_order_id
from shared.models.webhooks import (
    FeedCompletedWebhook,
    FeedWebhook,
    ItemsStatusChangedWebhook,
    MarketplaceWebhook,
    OrderCreatedWebhook,
    OtherMarketplaceWebhook,
    ProductsWebhook,
)

ORDERS_ROUTE = "webhooks/{tenantId}/orders"
ORDER_STATUS_ROUTE = "webhooks/{tenantId}/orders/status"
PRODUCTS_ROUTE = "webhooks/{tenantId}/products"
MARKETPLACE_ROUTES = (ORDERS_ROUTE, ORDER_STATUS_ROUTE, PRODUCTS_ROUTE)


def _no_order(tenant: str, hook: Any) -> str | None:
    return None


def _order_of(tenant: str, hook: Any) -> str | None:
    return internal_order_id(tenant, hook.payload.OrderId)


@dataclass(frozen=True)
class MarketplaceEventType:
    """One documented marketplace webhook event."""

    name: str
    model: type[MarketplaceWebhook]
    route: str
    """The route to subscribe it to (docs/deploy.md); every marketplace route accepts it."""
    confirmed: str
    """What is confirmed about its name and payload, and where."""
    internal_order_id: Callable[[str, Any], str | None] = _no_order
    refresh_completed: bool = False
    """A completed duplicate is queued again (hints whose processing reads the current state)."""

    @property
    def kind(self) -> EventKind:
        """The kind it is recorded under: its model's (the model also says what makes two deliveries
        the same event, `identity()`)."""
        return self.model.kind

    @property
    def acted_on(self) -> bool:
        return self.kind is not EventKind.MARKETPLACE_IGNORED


_TABLE = (
    MarketplaceEventType(
        "onOrderCreated",
        OrderCreatedWebhook,
        ORDERS_ROUTE,
        "confirmed [ref, seed]: {OrderId, OrderNr?}; OrderId seen as a number and as a string",
        internal_order_id=_order_of,
    ),
    MarketplaceEventType(
        "onOrderItemsStatusChanged",
        ItemsStatusChangedWebhook,
        ORDER_STATUS_ROUTE,
        "confirmed [ref, seed]: {OrderId, OrderItemIds, NewStatus}; NewStatus spellings vary (failed, "
        "ready_To_Ship, return_delivered_to_seller, return_accepted): a hint, recorded as sent, the items re-read",
        internal_order_id=_order_of,
    ),
    MarketplaceEventType(
        "onProductCreated",
        ProductsWebhook,
        PRODUCTS_ROUTE,
        "confirmed [ref, seed]: {SellerSkus}",
        refresh_completed=True,
    ),
    MarketplaceEventType(
        "onProductUpdated",
        ProductsWebhook,
        PRODUCTS_ROUTE,
        "confirmed [ref]: {SellerSkus}",
        refresh_completed=True,
    ),
    MarketplaceEventType(
        "onProductQcStatusChanged",
        ProductsWebhook,
        PRODUCTS_ROUTE,
        "name confirmed [ref]; payload {SellerSkus} per [ref] (entities-payload-definition); refreshes the "
        "products as onProductUpdated does",
        refresh_completed=True,
    ),
    MarketplaceEventType(
        "onFeedCompleted",
        FeedCompletedWebhook,
        PRODUCTS_ROUTE,
        'confirmed [ref]: {"Feed": "<uuid>"}; the feed tracker (shared/services/feeds.py) asks FeedStatus and '
        "settles the feed; documented as sent for product feeds only, so stock feeds are also polled",
        refresh_completed=True,
    ),
    MarketplaceEventType(
        "onFeedCreated",
        FeedWebhook,
        PRODUCTS_ROUTE,
        'name confirmed [ref]; payload {"Feed": "<uuid>"} as onFeedCompleted (unconfirmed)',
    ),
    MarketplaceEventType(
        "onStatisticsUpdated",
        OtherMarketplaceWebhook,
        PRODUCTS_ROUTE,
        "name confirmed [ref]; payload unconfirmed (any object accepted)",
    ),
    MarketplaceEventType(
        "onMetricsUpdated",
        OtherMarketplaceWebhook,
        PRODUCTS_ROUTE,
        "name confirmed [ref]; payload unconfirmed (any object accepted)",
    ),
    MarketplaceEventType(
        "onReturnStatusChanged",
        OtherMarketplaceWebhook,
        ORDER_STATUS_ROUTE,
        "name confirmed [ref]; payload unconfirmed (any object accepted)",
    ),
)

MARKETPLACE_EVENTS: dict[str, MarketplaceEventType] = {entry.name: entry for entry in _TABLE}
"""Every documented marketplace webhook event, by its name (the body's `event`)."""

MARKETPLACE_EVENT_MODELS: tuple[type[MarketplaceWebhook], ...] = tuple(dict.fromkeys(entry.model for entry in _TABLE))
"""Each distinct body model, in table order (the OpenAPI document describes these)."""


def marketplace_event(name: object) -> MarketplaceEventType | None:
    return MARKETPLACE_EVENTS.get(name) if isinstance(name, str) else None
