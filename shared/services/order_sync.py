"""Bringing one order up to date: from the marketplace into Thor (`refresh_order`), then from Thor
into the OMS (`sync_to_oms`). Used by the marketplace, ZORT and refund flows alike."""

from __future__ import annotations

from shared.domain.events import InboundEvent
from shared.domain.ids import canonical_marketplace_id, internal_order_id
from shared.domain.marketplace import fill_header, order_items
from shared.domain.order import Order
from shared.ports import OmsPort
from shared.roles import OmsSyncPorts, OrderRefreshPorts
from shared.services.activity import tally
from shared.services.claims import ensure_holding, known_order, order_claim
from shared.services.order_changes import change_order


def refresh_order(
    context: OrderRefreshPorts, tenant: str, marketplace_order_id: str, event: InboundEvent | None
) -> Order:
    """Reads the order and its items from the marketplace and merges them into Thor's order."""
    marketplace = context.marketplace(tenant)
    remote = marketplace.get_order(marketplace_order_id)
    items = marketplace.get_order_items(marketplace_order_id)
    marketplace_order_id = canonical_marketplace_id(marketplace_order_id)
    internal_id = internal_order_id(tenant, marketplace_order_id)
    event_id = event.event_id if event else None

    def create() -> Order:
        return Order(tenant=tenant, marketplace_order_id=marketplace_order_id, internal_order_id=internal_id)

    created: list[bool] = []

    def merge(order: Order) -> None:
        first_time = not order.fetched
        created[:] = [first_time]
        if first_time:
            fill_header(order, remote, items)
            order.fetched = True
            order.note(
                "order created",
                f"marketplace order {remote.order_number or marketplace_order_id}",
                event_id,
                "marketplace",
            )
        order.merge_items(order_items(items), event_id, "marketplace")

    order, _ = change_order(context.orders, tenant, internal_id, merge, create, sleep=context.sleep)
    if created == [True]:
        tally("orders_created")
    return order


def sync_to_oms(context: OmsSyncPorts, order: Order, event_id: str | None, rounds: int = 5) -> str:
    """Creates or updates the order in the OMS until the OMS holds its latest version.

    The order is marked synced only if nobody changed it while it was being sent; otherwise the
    newer version is sent too, so a concurrent change is never marked synced without reaching the OMS.
    Sends hold the order's claim and read the order after taking it (or start from the order as this
    worker last wrote it under that claim), so the OMS never receives a version older than one it
    already received.
    """
    oms = context.oms(order.tenant)
    with order_claim(context, order.tenant, order.internal_order_id):
        found = known_order(order.tenant, order.internal_order_id) or context.orders.get(
            order.tenant, order.internal_order_id
        )
        return _send_until_synced(context, oms, found[0] if found else order, event_id, rounds)


def _send_until_synced(context: OmsSyncPorts, oms: OmsPort, order: Order, event_id: str | None, rounds: int) -> str:
    actions: list[str] = []
    for _ in range(rounds):
        if order.oms_synced and order.oms_synced_version == order.version:
            return "; ".join(actions) or "oms already up to date"
        ensure_holding(context)  # a worker whose claim was taken over sends nothing
        action, _ = oms.upsert_order(order)
        actions.append(f"oms {action}")

        first_sync: list[bool] = []

        def mark(current: Order, sent_version: int = order.version, first_sync: list[bool] = first_sync) -> bool:
            if current.version != sent_version:
                return False
            first_sync[:] = [not current.oms_synced]
            current.mark_oms_synced(event_id)
            return True

        order, marked = change_order(context.orders, order.tenant, order.internal_order_id, mark, sleep=context.sleep)
        if marked:
            if first_sync == [True]:
                tally("oms_synced")
            return "; ".join(actions)
    raise RuntimeError(f"order {order.internal_order_id} kept changing while being sent to the OMS")
