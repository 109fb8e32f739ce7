"""Marketplace events: fetch the current order / products, keep them, bring the OMS up to date."""
from __future__ import annotations

from decimal import Decimal

from shared.domain.events import EventStatus, InboundEvent
from shared.domain.ids import canonical_marketplace_id, internal_order_id
from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.domain.product import Product
from shared.services.claims import order_claim
from shared.services.order_updates import update_order
from shared.services.processing import Outcome


def items_from_marketplace(rows) -> list[OrderItem]:
    items = []
    for row in rows:
        tracking = Tracking(number=row.tracking_code, carrier=row.shipment_provider) if row.tracking_code else None
        items.append(OrderItem(item_id=row.order_item_id, sku=row.sku or row.shop_sku or "", name=row.name or "",
                               status=row.status, unit_price=row.item_price or Decimal("0"),
                               paid_price=row.paid_price if row.paid_price is not None else (row.item_price or Decimal("0")),
                               tracking=tracking))
    return items


def _fill_header(order: Order, remote, rows) -> None:
    """Copies the marketplace's order header onto Thor's order (only what Thor or the OMS needs)."""
    order.order_number = remote.order_number or order.order_number
    order.created_at = remote.created_at or order.created_at
    order.promised_shipping_time = remote.promised_shipping_time or (
        rows[0].promised_shipping_time if rows else None) or order.promised_shipping_time
    order.grand_total = remote.grand_total or remote.price or order.grand_total
    order.shipping_amount = sum((row.shipping_amount or Decimal("0") for row in rows), Decimal("0"))
    order.currency = next((row.currency for row in rows if row.currency), order.currency)
    order.customer = Customer(first_name=remote.customer_first_name, last_name=remote.customer_last_name,
                              billing_address=remote.address_billing, shipping_address=remote.address_shipping)


def refresh_order(context, tenant: str, marketplace_order_id: str, event: InboundEvent | None) -> Order:
    """Reads the order and its items from the marketplace and merges them into Thor's order."""
    marketplace = context.client("marketplace", tenant)
    remote = marketplace.get_order(marketplace_order_id)
    rows = marketplace.get_order_items(marketplace_order_id)
    marketplace_order_id = canonical_marketplace_id(marketplace_order_id)
    internal_id = internal_order_id(tenant, marketplace_order_id)
    event_id = event.event_id if event else None

    def create() -> Order:
        return Order(tenant=tenant, marketplace_order_id=marketplace_order_id, internal_order_id=internal_id)

    def merge(order: Order) -> None:
        first_time = not order.fetched
        if first_time:
            _fill_header(order, remote, rows)
            order.fetched = True
            order.note("order created", f"marketplace order {remote.order_number or marketplace_order_id}",
                       event_id, "marketplace")
        order.merge_items(items_from_marketplace(rows), event_id, "marketplace")

    order, _ = update_order(context.orders, tenant, internal_id, merge, create)
    return order


def sync_to_oms(context, order: Order, event_id: str | None, rounds: int = 5) -> str:
    """Creates or updates the order in the OMS until the OMS holds its latest version.

    The order is marked synced only if nobody changed it while it was being sent; otherwise the
    newer version is sent too, so a concurrent change is never marked synced without reaching the OMS.
    Sends hold the order's claim and read the order after taking it, so the OMS never receives a
    version older than one it already received.
    """
    oms = context.client("oms", order.tenant)
    with order_claim(context, order.tenant, order.internal_order_id):
        found = context.orders.get(order.tenant, order.internal_order_id)
        return _send_until_synced(context, oms, found[0] if found else order, event_id, rounds)


def _send_until_synced(context, oms, order: Order, event_id: str | None, rounds: int) -> str:
    actions = []
    for _ in range(rounds):
        if order.oms_synced and order.oms_synced_version == order.version:
            return "; ".join(actions) or "oms already up to date"
        action, _ = oms.upsert_order(order)
        actions.append(f"oms {action}")
        sent_version = order.version

        def mark(current: Order) -> bool:
            if current.version != sent_version:
                return False
            current.mark_oms_synced(event_id)
            return True

        order, marked = update_order(context.orders, order.tenant, order.internal_order_id, mark)
        if marked:
            return "; ".join(actions)
    raise RuntimeError(f"order {order.internal_order_id} kept changing while being sent to the OMS")


def handle_order_created(context, event: InboundEvent) -> Outcome:
    order = refresh_order(context, event.tenant, event.body["payload"]["OrderId"], event)
    oms = sync_to_oms(context, order, event.event_id)
    return Outcome(EventStatus.COMPLETED, f"order with {len(order.items)} item(s); {oms}", order.internal_order_id)


def handle_items_status(context, event: InboundEvent) -> Outcome:
    """The webhook is a hint: read the items' current status from the marketplace and apply it."""
    payload = event.body["payload"]
    order = refresh_order(context, event.tenant, payload["OrderId"], event)
    oms = sync_to_oms(context, order, event.event_id)
    named = {canonical_marketplace_id(item_id) for item_id in payload["OrderItemIds"]}
    statuses = {item.item_id: item.status for item in order.items if item.item_id in named}
    return Outcome(EventStatus.COMPLETED, f"items now {statuses}; {oms}", order.internal_order_id)


def handle_products(context, event: InboundEvent) -> Outcome:
    skus = list(dict.fromkeys(event.body["payload"]["SellerSkus"]))
    remote = context.client("marketplace", event.tenant).get_products(skus)
    products = [Product(tenant=event.tenant, sku=p.seller_sku, name=p.name, status=p.status, price=p.price,
                        special_price=p.special_price, marketplace_stock=p.stock) for p in remote]
    batches = context.products.upsert_many(products) if products else 0
    missing = len(set(skus) - {p.sku for p in products})
    return Outcome(EventStatus.COMPLETED, f"{len(products)} product(s) kept in {batches} batch(es); "
                                          f"{missing} unknown to the marketplace")


def handle_refund(context, event: InboundEvent) -> Outcome:
    tenant, internal_id = event.tenant, event.body["internalOrderId"]
    found = context.orders.get(tenant, internal_id)
    if found is None:
        return Outcome(EventStatus.COMPLETED, "order no longer exists", internal_id)
    oms = sync_to_oms(context, found[0], event.event_id)
    return Outcome(EventStatus.COMPLETED, f"refund {event.body['refundId']}: {oms}", internal_id)
