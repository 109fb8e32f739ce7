"""The marketplace's answers in Thor's words: an order as the marketplace has it now, its items (one per
unit sold) and its products. `MarketplacePort` (shared/ports.py) returns these; the Seller Center
adapter builds them from its rows (`shared/adapters/seller_center/translate.py`, the only place that
knows Seller Center's field names), so the services never see one.

Every time here is aware and in UTC (the adapter read each in the zone the marketplace writes it in),
every amount a Decimal, every absent value None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.domain.product import Product


class _Answer(BaseModel):
    # Frozen: an answer is what the marketplace said; built on first use (a cold start pays for what it uses).
    model_config = ConfigDict(frozen=True, defer_build=True)


class MarketplaceOrder(_Answer):
    """An order's header (GetOrder, or one GetOrders row)."""

    order_id: str
    order_number: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    promised_shipping_time: datetime | None = None
    grand_total: Decimal | None = None
    payment_method: str | None = None
    """As the marketplace names it (``CashOnDelivery_Payment``): `shared.domain.order.is_cash_on_delivery`."""
    customer: Customer = Field(default_factory=Customer)
    statuses: list[str] = []
    """The statuses its items are in now (one each, as listed)."""


class MarketplaceItem(_Answer):
    """One order item as the marketplace has it now (GetOrderItems): one per unit sold. The adapter
    gives only the items of the order asked for, all in one currency (it refuses any other answer)."""

    item_id: str
    order_id: str
    status: str
    sku: str = ""
    name: str = ""
    unit_price: Decimal = Decimal("0")
    paid_price: Decimal = Decimal("0")
    """What the customer paid for the unit, whatever paid it (card, wallet credits)."""
    currency: str | None = None
    shipping_amount: Decimal = Decimal("0")
    tracking: Tracking | None = None
    shipping_type: str | None = None
    """Who delivers: ``Dropshipping`` (the seller) or ``Fulfillment`` (the marketplace)."""
    package_id: str | None = None
    """The package the marketplace put the item in (set ready to ship by package)."""
    promised_shipping_time: datetime | None = None
    updated_at: datetime | None = None

    def as_order_item(self) -> OrderItem:
        """The item as Thor's order keeps it; its status time is when the marketplace last changed it
        (when first seen: see Order.merge_items)."""
        return OrderItem(**self.model_dump(include=_ORDER_ITEM_FIELDS), status_changed_at=self.updated_at)


_ORDER_ITEM_FIELDS = {"item_id", "sku", "name", "status", "unit_price", "paid_price", "tracking", "shipping_type"}


class MarketplaceProduct(_Answer):
    """A product as the tenant's storefront lists it (its own business unit's price, stock, status)."""

    sku: str
    name: str | None = None
    status: str | None = None
    price: Decimal | None = None
    special_price: Decimal | None = None
    stock: int | None = None

    def as_product(self, tenant: str) -> Product:
        """The product as Thor keeps it for `tenant`, listed by its storefront."""
        listed = self.model_dump(include={"sku", "name", "status", "price", "special_price"})
        return Product(tenant=tenant, marketplace_stock=self.stock, marketplace_listed=True, **listed)


def order_items(items: Iterable[MarketplaceItem]) -> list[OrderItem]:
    """The items as Thor's order keeps them."""
    return [item.as_order_item() for item in items]


def fill_header(order: Order, remote: MarketplaceOrder, items: Sequence[MarketplaceItem]) -> None:
    """Copies the marketplace's order header onto Thor's order (only what Thor or the OMS needs)."""
    order.order_number = remote.order_number or order.order_number
    order.created_at = remote.created_at or order.created_at
    order.promised_shipping_time = (
        remote.promised_shipping_time
        or (items[0].promised_shipping_time if items else None)
        or order.promised_shipping_time
    )
    order.grand_total = remote.grand_total or order.grand_total
    order.shipping_amount = sum((item.shipping_amount for item in items), Decimal("0"))
    order.currency = next((item.currency for item in items if item.currency), order.currency)
    order.payment_method = remote.payment_method or order.payment_method
    order.customer = remote.customer.model_copy(deep=True)
