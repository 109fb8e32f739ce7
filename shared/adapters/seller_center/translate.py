"""Seller Center rows (``schemas.py``) into Thor's domain types (`shared.domain.marketplace`): the one
place that knows which Seller Center field means what to Thor, so `MarketplacePort` answers in Thor's
words as the OMS adapter's ``mapping.py`` writes Thor's order in the OMS's.

What the translation decides (each tested in tests/unit/test_marketplace_answers.py):

- an item's paid price is ``PaidPrice`` (``ItemPrice`` when absent) plus ``WalletCredits``, what the
  customer's wallet paid (LinioIT/seller-center-sdk ``gsc-master``
  ``tests/_schemas/Order/OrderItemsResponse.xml``: ``<WalletCredits>0.00</WalletCredits>``), so the
  lines add up to the order's total;
- GetOrderItems rows of another order than the one asked for are refused whole (an answer gone wrong:
  retried, the next answer may be right), and so are items in two currencies (they cannot be summed
  into one order total: not retried, replayed once understood);
- the order's total is ``GrandTotal``, else ``Price``; the SKU ``Sku``, else ``ShopSku``; an item has
  tracking only when it has a ``TrackingCode`` (its carrier ``ShipmentProvider``);
- the local times were read in the tenant's ``MARKETPLACE_TIMEZONE_<T>`` by the rows (``schemas.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shared.adapters.seller_center.schemas import OrderItemRow, OrderRow, ProductRow
from shared.domain.errors import ExternalSystemError
from shared.domain.ids import canonical_marketplace_id
from shared.domain.marketplace import MarketplaceItem, MarketplaceOrder, MarketplaceProduct
from shared.domain.order import Customer, Tracking

ZERO = Decimal("0")


class MarketplaceAnswerRefused(ExternalSystemError):
    """The marketplace answered something Thor will not merge into an order (stated in the message)."""

    system = "marketplace"


def order_from(row: OrderRow) -> MarketplaceOrder:
    return MarketplaceOrder(
        order_id=row.order_id,
        order_number=row.order_number,
        created_at=row.created_at,
        updated_at=row.updated_at,
        promised_shipping_time=row.promised_shipping_time,
        grand_total=row.grand_total or row.price,
        payment_method=row.payment_method,
        customer=Customer(
            first_name=row.customer_first_name,
            last_name=row.customer_last_name,
            billing_address=row.address_billing,
            shipping_address=row.address_shipping,
        ),
        statuses=list(row.statuses),
    )


def paid_price(row: OrderItemRow) -> Decimal:
    """What the customer paid for the unit: PaidPrice (ItemPrice when absent) plus what the wallet paid
    (WalletCredits), so the lines add up to the order's total."""
    paid = row.paid_price if row.paid_price is not None else (row.item_price or ZERO)
    return paid + (row.wallet_credits or ZERO)


def item_from(row: OrderItemRow) -> MarketplaceItem:
    return MarketplaceItem(
        item_id=row.order_item_id,
        order_id=row.order_id,
        status=row.status,
        sku=row.sku or row.shop_sku or "",
        name=row.name or "",
        unit_price=row.item_price or ZERO,
        paid_price=paid_price(row),
        currency=row.currency,
        shipping_amount=row.shipping_amount or ZERO,
        tracking=Tracking(number=row.tracking_code, carrier=row.shipment_provider) if row.tracking_code else None,
        shipping_type=row.shipping_type,
        package_id=row.package_id,
        promised_shipping_time=row.promised_shipping_time,
        updated_at=row.updated_at,
    )


def items_from(order_id: str | int, rows: Sequence[OrderItemRow]) -> list[MarketplaceItem]:
    """GetOrderItems rows of the order asked for, in one currency, as Thor's items; anything else is
    refused whole (`MarketplaceAnswerRefused`): rows of another order are an answer gone wrong
    (retried), items in two currencies cannot be summed into one order total (not retried)."""
    wanted = canonical_marketplace_id(str(order_id))
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
    return [item_from(row) for row in rows]


def _same_id(value: str) -> str:
    try:
        return canonical_marketplace_id(value)
    except ValueError:
        return value  # not an id at all: not the order asked for


def product_from(row: ProductRow) -> MarketplaceProduct:
    """The product with the tenant's own business unit's price, stock and status (``ProductRow.from_api``)."""
    return MarketplaceProduct(
        sku=row.seller_sku, **row.model_dump(include={"name", "status", "price", "special_price", "stock"})
    )


__all__ = ["MarketplaceAnswerRefused", "item_from", "items_from", "order_from", "paid_price", "product_from"]
