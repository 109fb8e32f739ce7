"""Bringing one order up to date: from the marketplace into Thor (`refresh_order`), then from Thor
into the OMS (`sync_to_oms`). Used by the marketplace, ZORT and refund flows alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from shared.domain.errors import ExternalSystemError
from shared.domain.events import InboundEvent
from shared.domain.ids import canonical_marketplace_id, internal_order_id
from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.ports import OmsPort
from shared.roles import OmsSyncPorts, OrderRefreshPorts
from shared.services.activity import tally
from shared.services.claims import ensure_holding, known_order, order_claim
from shared.services.order_changes import change_order

if TYPE_CHECKING:  # the marketplace's answers, as its port returns them
    from shared.models.marketplace import MarketplaceOrder, MarketplaceOrderItem


class MarketplaceAnswerRefused(ExternalSystemError):
    """The marketplace answered something Thor will not merge into an order (stated in the message)."""

    system = "marketplace"


def checked_rows(marketplace_order_id: str, rows: Sequence[MarketplaceOrderItem]) -> Sequence[MarketplaceOrderItem]:
    """GetOrderItems rows of the order asked for, in one currency; anything else is refused whole:
    rows of another order are an answer gone wrong (retried: the next answer may be right), items in
    two currencies cannot be summed into one order total (not retried: replay once understood)."""
    wanted = canonical_marketplace_id(marketplace_order_id)
    strangers = sorted({row.order_id for row in rows if _same_id(row.order_id) != wanted})
    if strangers:
        raise MarketplaceAnswerRefused(
            "UNEXPECTED_RESPONSE",
            f"GetOrderItems for order {wanted} answered rows of order(s) {', '.join(strangers)}: not merged",
            retryable=True,
            operation="GetOrderItems",
        )
    currencies = sorted({row.currency.strip().upper() for row in rows if row.currency and row.currency.strip()})
    if len(currencies) > 1:
        raise MarketplaceAnswerRefused(
            "MIXED_CURRENCIES",
            f"order {wanted} has items in {' and '.join(currencies)}: Thor keeps an order in one currency",
            operation="GetOrderItems",
        )
    return rows


def _same_id(value: str) -> str:
    try:
        return canonical_marketplace_id(value)
    except ValueError:
        return value  # not an id at all: not the order asked for


def paid_price(row: MarketplaceOrderItem) -> Decimal:
    """What the customer paid for the unit: PaidPrice (ItemPrice when absent) plus what the wallet paid
    (WalletCredits), so the lines add up to the order's total."""
    paid = row.paid_price if row.paid_price is not None else (row.item_price or Decimal("0"))
    return paid + (row.wallet_credits or Decimal("0"))


def items_from_marketplace(rows: Iterable[MarketplaceOrderItem]) -> list[OrderItem]:
    items = []
    for row in rows:
        tracking = Tracking(number=row.tracking_code, carrier=row.shipment_provider) if row.tracking_code else None
        items.append(
            OrderItem(
                item_id=row.order_item_id,
                sku=row.sku or row.shop_sku or "",
                name=row.name or "",
                status=row.status,
                unit_price=row.item_price or Decimal("0"),
                paid_price=paid_price(row),
                tracking=tracking,
                shipping_type=row.shipping_type,
                status_changed_at=row.updated_at,  # when first seen: see Order.merge_items
            )
        )
    return items


def _fill_header(order: Order, remote: MarketplaceOrder, rows: Sequence[MarketplaceOrderItem]) -> None:
    """Copies the marketplace's order header onto Thor's order (only what Thor or the OMS needs)."""
    order.order_number = remote.order_number or order.order_number
    order.created_at = remote.created_at or order.created_at
    order.promised_shipping_time = (
        remote.promised_shipping_time
        or (rows[0].promised_shipping_time if rows else None)
        or order.promised_shipping_time
    )
    order.grand_total = remote.grand_total or remote.price or order.grand_total
    order.shipping_amount = sum((row.shipping_amount or Decimal("0") for row in rows), Decimal("0"))
    order.currency = next((row.currency for row in rows if row.currency), order.currency)
    order.payment_method = remote.payment_method or order.payment_method
    order.customer = Customer(
        first_name=remote.customer_first_name,
        last_name=remote.customer_last_name,
        billing_address=remote.address_billing,
        shipping_address=remote.address_shipping,
    )


def refresh_order(
    context: OrderRefreshPorts, tenant: str, marketplace_order_id: str, event: InboundEvent | None
) -> Order:
    """Reads the order and its items from the marketplace and merges them into Thor's order."""
    marketplace = context.marketplace(tenant)
    remote = marketplace.get_order(marketplace_order_id)
    rows = checked_rows(marketplace_order_id, marketplace.get_order_items(marketplace_order_id))
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
            _fill_header(order, remote, rows)
            order.fetched = True
            order.note(
                "order created",
                f"marketplace order {remote.order_number or marketplace_order_id}",
                event_id,
                "marketplace",
            )
        order.merge_items(items_from_marketplace(rows), event_id, "marketplace")

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
