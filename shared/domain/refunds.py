"""Refunds and exchanges, and what their value may be: never more than was paid for the units.

The refund API names SKUs and quantities, not the marketplace's items, so the limits are kept
per SKU: a SKU's units are its items' units (the marketplace sells one item per unit), each at
its item's paid price.

- `REFUND` gives money back. Its value may not exceed what was paid for the named units (the
  highest paid prices among the SKU's units, as many as named) nor what is left unrefunded of
  the SKU (its paid total less the money earlier REFUNDs attributed to it). A partial refund
  (goodwill for a scratch) and a later refund of the same unit (it came back after all) together
  stay within its paid price.
- `SAME_PRODUCT` and `OTHER_PRODUCT` are exchanges: no money goes back. Their value is what the
  returned units are worth towards the replacement (the same product, or another whose price
  difference the store settles); it obeys the same limit, since customer service can't credit
  a customer with more than was paid for those units, less what was already paid back on them.
  Exchanges don't use up the limit: a replacement can be exchanged or refunded again.
- Each line's quantity may not exceed the units of its SKU in the order; lines naming one SKU
  twice are merged. Shipping is not a unit's price: it is not refundable through this route.

A REFUND's value is attributed to its SKUs in proportion to their limits and kept on each line,
so later limits know how much money each SKU has already given back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from shared.domain.errors import RuleBroken

ZERO = Decimal("0")
CENT = Decimal("0.01")
MONEY_BACK = "REFUND"

# Shown to API users (OpenAPI description of the refund route) and in docs/api.md.
RULES_SUMMARY = (
    "`value` may not exceed what was paid for the named units: per SKU, the paid prices of that many "
    "of its units, and never more than the SKU's paid total less the money earlier REFUNDs gave back "
    "on it; otherwise 422 naming `value`. REFUND gives that money back. SAME_PRODUCT and OTHER_PRODUCT "
    "are exchanges: their value (what the returned units are worth towards the replacement) obeys the "
    "same limit but gives no money back. A line may name at most the SKU's units in the order. "
    "Shipping is not refundable here."
)


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


class PaidUnits(Protocol):
    """What the limits read of an order's item (`shared.domain.order.OrderItem`)."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def paid_price(self) -> Decimal: ...


class RefundLine(_Model):
    sku: str
    quantity: int
    value: Decimal | None = None  # a REFUND's money attributed to this SKU (None: recorded before it was kept)


class Refund(_Model):
    refund_id: str
    action: Literal["SAME_PRODUCT", "OTHER_PRODUCT", "REFUND"]
    products: list[RefundLine]
    value: Decimal
    created_at: datetime
    oms_synced: bool = False


def unit_prices(items: Iterable[PaidUnits], sku: str) -> list[Decimal]:
    """The paid price of each unit of `sku`, highest first."""
    prices = [item.paid_price for item in items if item.sku == sku for _ in range(max(item.quantity, 0))]
    return sorted(prices, reverse=True)


def _share(value: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`value` shared in proportion to `weights`, in cents; the shares add up to `value` exactly."""
    total = sum(weights, ZERO)
    if not weights:
        return []
    if total <= 0:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [(value * weight / total).quantize(CENT, rounding=ROUND_DOWN) for weight in weights[:-1]]
    return shares + [value - sum(shares, ZERO)]


def money_back_by_sku(items: Sequence[PaidUnits], refunds: Iterable[Refund]) -> dict[str, Decimal]:
    """Money the REFUNDs gave back, per SKU (older refunds without line values: shared by paid price)."""
    back: dict[str, Decimal] = {}
    for refund in refunds:
        if refund.action != MONEY_BACK:
            continue
        kept = [line.value for line in refund.products]
        values = [value for value in kept if value is not None]
        if len(values) < len(kept):
            weights = [sum(unit_prices(items, line.sku)[: line.quantity], ZERO) for line in refund.products]
            values = _share(refund.value, weights)
        for line, value in zip(refund.products, values, strict=True):
            back[line.sku] = back.get(line.sku, ZERO) + value
    return back


def refunded_units(items: Sequence[PaidUnits], refunds: Iterable[Refund], sku: str) -> int:
    """Units of `sku` that REFUNDs named, at most the units bought (a unit refunded twice counts once)."""
    named = sum(line.quantity for r in refunds if r.action == MONEY_BACK for line in r.products if line.sku == sku)
    return min(named, len(unit_prices(items, sku)))


def merged_lines(lines: Iterable[RefundLine]) -> list[RefundLine]:
    """One line per SKU, in the order first named."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return [RefundLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items()]


def line_limits(items: Sequence[PaidUnits], refunds: list[Refund], lines: list[RefundLine]) -> list[Decimal]:
    """The most each line may be worth; refuses unknown SKUs and more units than bought."""
    back = money_back_by_sku(items, refunds)
    limits: list[Decimal] = []
    for line in lines:
        prices = unit_prices(items, line.sku)
        if not prices:
            raise RuleBroken("products.sku", f"SKU {line.sku!r} is not in this order")
        if line.quantity > len(prices):
            raise RuleBroken(
                "products.quantity",
                f"quantity {line.quantity} of {line.sku!r} is more than the {len(prices)} in this order",
            )
        left_on_sku = sum(prices, ZERO) - back.get(line.sku, ZERO)
        limits.append(max(ZERO, min(sum(prices[: line.quantity], ZERO), left_on_sku)))
    return limits


def checked_refund(items: Sequence[PaidUnits], refunds: list[Refund], refund: Refund) -> Refund:
    """`refund` with its lines merged per SKU and, for a REFUND, its money attributed to them.

    Raises `RuleBroken` naming `products.sku`, `products.quantity` or `value`.
    """
    lines = merged_lines(refund.products)
    limits = line_limits(items, refunds, lines)
    limit = sum(limits, ZERO)
    if refund.value > limit:
        raise RuleBroken(
            "value",
            f"value {refund.value} is more than the {limit} paid for these units "
            f"(less what was already refunded on them)",
        )
    if refund.action == MONEY_BACK:
        for line, value in zip(lines, _share(refund.value, limits), strict=True):
            line.value = value
    return refund.model_copy(update={"products": lines})
