"""Marketplace events: fetch the current order / products, keep them, bring the OMS up to date."""

from __future__ import annotations

from shared.domain.events import EventStatus, InboundEvent, Outcome
from shared.domain.ids import canonical_marketplace_id
from shared.models.internal_events import ReconcileOrderEvent
from shared.models.webhooks import ItemsStatusChangedWebhook, MarketplaceWebhook, OrderCreatedWebhook, ProductsWebhook
from shared.roles import OrderSyncPorts, ProductSyncPorts
from shared.services.order_sync import refresh_order, sync_to_oms


def handle_order_created(
    context: OrderSyncPorts, event: InboundEvent, hook: OrderCreatedWebhook | ReconcileOrderEvent
) -> Outcome:
    """onOrderCreated, and an order reconciliation finds behind the marketplace: the same repair."""
    order = refresh_order(context, event.tenant, hook.payload.OrderId, event)
    oms = sync_to_oms(context, order, event.event_id)
    return Outcome(EventStatus.COMPLETED, f"order with {len(order.items)} item(s); {oms}", order.internal_order_id)


def handle_items_status(context: OrderSyncPorts, event: InboundEvent, hook: ItemsStatusChangedWebhook) -> Outcome:
    """The webhook is a hint: read the items' current status from the marketplace and apply it."""
    order = refresh_order(context, event.tenant, hook.payload.OrderId, event)
    oms = sync_to_oms(context, order, event.event_id)
    named = {canonical_marketplace_id(item_id) for item_id in hook.payload.OrderItemIds}
    statuses = ", ".join(f"{item.item_id} {item.status}" for item in order.items if item.item_id in named)
    return Outcome(EventStatus.COMPLETED, f"items now {statuses or 'unchanged'}; {oms}", order.internal_order_id)


def handle_ignored(context: object, event: InboundEvent, hook: MarketplaceWebhook) -> Outcome:
    """A documented marketplace event Thor does not act on (shared.models.marketplace_events): kept
    with its name, `ignored` (final: never retried), counted and listed."""
    return Outcome(EventStatus.IGNORED, f"{hook.event}: a documented marketplace event Thor does not act on")


def handle_products(context: ProductSyncPorts, event: InboundEvent, hook: ProductsWebhook) -> Outcome:
    skus = list(dict.fromkeys(hook.payload.SellerSkus))
    remote = context.marketplace(event.tenant).get_products(skus)
    products = [product.as_product(event.tenant) for product in remote]
    batches = context.products.upsert_many(products) if products else 0
    missing = len(set(skus) - {p.sku for p in products})
    return Outcome(
        EventStatus.COMPLETED,
        f"{len(products)} product(s) kept in {batches} batch(es); {missing} unknown to the marketplace",
    )
