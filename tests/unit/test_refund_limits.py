"""A refund's value is checked against what was paid for the refunded units (issue 9, part 4)."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from shared.domain.errors import RuleBroken
from shared.domain.order import Order, OrderItem
from shared.domain.refunds import Refund, RefundLine


def make_order(*items: tuple[str, str, str], shipping: str = "0") -> Order:
    """items: (item id, sku, paid price); one item per unit, as the marketplace sends them."""
    return Order(
        tenant="faco",
        marketplace_order_id="1",
        internal_order_id="faco-1",
        shipping_amount=Decimal(shipping),
        items=[
            OrderItem(item_id=i, sku=sku, paid_price=Decimal(p), unit_price=Decimal(p), status="delivered")
            for i, sku, p in items
        ],
    )


_ids = iter(range(10**6))


def refund(value: str, *lines: tuple[str, int], action: str = "REFUND") -> Refund:
    return Refund(
        refund_id=f"r{next(_ids)}",
        action=action,
        value=Decimal(value),
        created_at=datetime.now(timezone.utc),
        products=[RefundLine(sku=s, quantity=q) for s, q in lines],
    )


def refused(o: Order, r: Refund) -> RuleBroken:
    before = len(o.refunds)
    with pytest.raises(RuleBroken) as error:
        o.add_refund(r)
    assert len(o.refunds) == before  # nothing half-written
    return error.value


def test_the_reported_case_one_unit_of_38990_refunded_for_90000_is_refused() -> None:
    o = make_order(("1", "TV", "38990"), ("2", "SOFA", "89990"), shipping="2990")
    error = refused(o, refund("90000", ("TV", 1)))
    assert error.field == "value" and "38990" in error.detail


@pytest.mark.parametrize("action", ["REFUND", "SAME_PRODUCT", "OTHER_PRODUCT"])
def test_exactly_the_paid_amount_is_accepted_one_cent_more_is_refused(action: str) -> None:
    o = make_order(("1", "TV", "38990.00"))
    assert refused(o, refund("38990.01", ("TV", 1), action=action)).field == "value"
    o.add_refund(refund("38990.00", ("TV", 1), action=action))


def test_earlier_partial_refunds_on_the_same_item_reduce_the_limit() -> None:
    o = make_order(("1", "TV", "38990"))
    o.add_refund(refund("10000", ("TV", 1)))  # goodwill: the customer keeps the TV
    assert refused(o, refund("28990.01", ("TV", 1))).field == "value"
    assert refused(o, refund("28990.01", ("TV", 1), action="OTHER_PRODUCT")).field == "value"
    o.add_refund(refund("28990", ("TV", 1)))  # it came back after all: the rest of its price
    assert o.refunded_total() == Decimal("38990")
    assert refused(o, refund("0.01", ("TV", 1))).field == "value"
    o.add_refund(refund("0", ("TV", 1), action="SAME_PRODUCT"))  # nothing left to credit, nothing credited


def test_exchanges_do_not_use_up_the_limit() -> None:
    o = make_order(("1", "TV", "38990"))
    o.add_refund(refund("38990", ("TV", 1), action="SAME_PRODUCT"))
    o.add_refund(refund("38990", ("TV", 1), action="SAME_PRODUCT"))  # the replacement was faulty too
    o.add_refund(refund("38990", ("TV", 1)))  # then the money back
    assert o.refunded_total() == Decimal("38990") and o.refunded_quantity("TV") == 1


def test_several_skus_are_summed_and_each_keeps_its_share() -> None:
    o = make_order(("1", "TV", "38990"), ("2", "CABLE", "1990"), ("3", "CABLE", "1990"), ("4", "SOFA", "89990"))
    assert refused(o, refund("42970.01", ("TV", 1), ("CABLE", 2))).field == "value"
    recorded = o.add_refund(refund("42970", ("TV", 1), ("CABLE", 2)))
    assert {line.sku: line.value for line in recorded.products} == {"TV": Decimal("38990"), "CABLE": Decimal("3980")}
    # the sofa is untouched; nothing is left on the TV and the cables
    assert refused(o, refund("89990.01", ("SOFA", 1), ("CABLE", 1))).field == "value"
    o.add_refund(refund("89990", ("SOFA", 1), ("CABLE", 1)))


def test_a_partial_refund_of_several_skus_is_shared_by_their_limits() -> None:
    o = make_order(("1", "A", "300"), ("2", "B", "100"))
    recorded = o.add_refund(refund("200", ("A", 1), ("B", 1)))
    assert [line.value for line in recorded.products] == [Decimal("150.00"), Decimal("50.00")]
    assert refused(o, refund("50.01", ("B", 1))).field == "value"
    o.add_refund(refund("150", ("A", 1)))


def test_units_of_one_sku_at_different_prices_take_the_highest_then_what_is_left() -> None:
    o = make_order(("1", "A", "100"), ("2", "A", "80"))
    assert refused(o, refund("100.01", ("A", 1))).field == "value"
    o.add_refund(refund("100", ("A", 1)))
    assert refused(o, refund("80.01", ("A", 1))).field == "value"  # 180 paid, 100 back: 80 left
    o.add_refund(refund("80", ("A", 1)))


def test_quantity_and_sku_are_checked_and_lines_of_one_sku_merge() -> None:
    o = make_order(("1", "A", "10"), ("2", "A", "10"))
    assert refused(o, refund("1", ("A", 3))).field == "products.quantity"
    assert refused(o, refund("1", ("A", 2), ("A", 1))).field == "products.quantity"  # merged: 3 of 2
    assert refused(o, refund("1", ("B", 1))).field == "products.sku"
    recorded = o.add_refund(refund("20", ("A", 1), ("A", 1)))
    assert [(line.sku, line.quantity, line.value) for line in recorded.products] == [("A", 2, Decimal("20"))]


def test_shipping_is_not_a_units_price() -> None:
    o = make_order(("1", "A", "100"), shipping="10")
    assert o.paid_total() == Decimal("110")
    assert refused(o, refund("110", ("A", 1))).field == "value"


def test_refunds_recorded_before_line_values_were_kept_still_count() -> None:
    o = make_order(("1", "A", "300"), ("2", "B", "100"))
    o.refunds.append(refund("200", ("A", 1), ("B", 1)))  # as stored before: lines without a value
    assert refused(o, refund("50.01", ("B", 1))).field == "value"
    o.add_refund(refund("50", ("B", 1)))


def test_refunded_quantity_per_item_goes_to_returned_items_first() -> None:
    o = make_order(("1", "A", "10"), ("2", "A", "10"), ("3", "B", "5"))
    o.items[1].status = "returned"
    o.add_refund(refund("10", ("A", 1)))
    o.add_refund(refund("1", ("B", 1)))
    o.add_refund(refund("1", ("B", 1)))  # a second partial refund of the same unit: still one unit
    o.add_refund(refund("5", ("A", 1), action="SAME_PRODUCT"))
    assert o.refunded_quantities_by_item() == {"1": 0, "2": 1, "3": 1}


@pytest.mark.parametrize(
    "text", ["0", "12.5", "999999999999.99", "1000000000000", "1000000000000.00", "1000000000000.01", "3640682954305"]
)
def test_a_value_sent_as_text_is_admitted_by_the_description_exactly_when_thor_takes_it(text: str) -> None:
    """Issue 17 (schemathesis, seed 6): the description's pattern admitted 13 digits, beyond `le=1e12`."""
    import json
    import re
    from pathlib import Path

    from pydantic import ValidationError

    from shared.models.webhooks import RefundRequest

    described = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
    pattern = next(
        option["pattern"]
        for option in described["components"]["schemas"]["RefundRequest"]["properties"]["value"]["anyOf"]
        if option.get("type") == "string"
    )
    try:
        RefundRequest.model_validate({"products": [{"sku": "A", "quantity": 1}], "action": "REFUND", "value": text})
        taken = True
    except ValidationError:
        taken = False
    assert bool(re.search(pattern, text)) == taken
