"""What Thor takes from the marketplace's order answers: the Seller Center adapter's translation
(shared/adapters/seller_center/translate.py) and, on fakes, what the order flow does with it: wallet
credits are part of what was paid, cash on delivery is not paid, rows of another order and items in two
currencies are refused (the first retried, the second not), never mixed in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.adapters.oms.mapping import order_to_oms, payment_status
from shared.adapters.seller_center.schemas import OrderItemRow
from shared.adapters.seller_center.translate import MarketplaceAnswerRefused, items_from
from shared.domain.events import EventKind, EventStatus
from shared.domain.marketplace import MarketplaceItem
from shared.domain.order import is_cash_on_delivery
from shared.services import intake
from shared.services.processing import process_event
from tests.fakes import ZONE, FakeContext, fake_context, marketplace_order

ORDER = "4758978"


def row(
    item_id: str, *, order_id: str = ORDER, paid: str = "100.00", wallet: str | None = None, currency: str = "COP"
) -> OrderItemRow:
    # The fields as GetOrderItems writes them (LinioIT/seller-center-sdk gsc-master,
    # tests/_schemas/Order/OrderItemsResponse.xml: PaidPrice, Currency, WalletCredits).
    fields = {
        "OrderItemId": item_id,
        "OrderId": order_id,
        "Sku": f"SKU-{item_id}",
        "Status": "pending",
        "ItemPrice": "100.00",
        "PaidPrice": paid,
        "Currency": currency,
    }
    if wallet is not None:
        fields["WalletCredits"] = wallet
    return OrderItemRow.from_api(fields, zone=ZONE)


def refusal(*rows: OrderItemRow) -> MarketplaceAnswerRefused:
    """What the adapter raises for these GetOrderItems rows of ORDER."""
    with pytest.raises(MarketplaceAnswerRefused) as caught:
        items_from(ORDER, rows)
    return caught.value


def created(context: FakeContext, order_id: str = ORDER) -> EventStatus | None:
    event_id = intake.record_event(
        context.events,
        context.queue,
        tenant="sope",
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        internal_order_id=f"sope-{order_id}",
        clock=context.clock,
    ).event_id
    status = None
    for _ in range(6):
        status = process_event(context, "sope", event_id, context.settings.retry_delays)
        if status is not EventStatus.RETRY_SCHEDULED:
            break
    return status


def with_items(context: FakeContext, *items: MarketplaceItem, total: str = "200.00", **header: Any) -> None:
    market = context.marketplace("sope")
    market.add_order(ORDER, *items)
    market.orders[ORDER] = market.orders[ORDER].model_copy(update={"grand_total": Decimal(total), **header})


def answers_refused(context: FakeContext, error: MarketplaceAnswerRefused) -> None:
    """The fake marketplace's GetOrderItems raises what the adapter raises for a bad answer."""
    market = context.marketplace("sope")

    def get_order_items(order_id: str | int) -> list[MarketplaceItem]:
        market.calls.append(("get_order_items", order_id))
        raise error

    market.get_order_items = get_order_items  # type: ignore[method-assign]


def test_wallet_credits_paid_on_an_item_are_part_of_its_paid_price_so_the_lines_add_up_to_the_total() -> None:
    items = items_from(ORDER, [row("1", paid="90.00", wallet="10.00"), row("2", paid="100.00", wallet="0.00")])
    assert [i.paid_price for i in items] == [Decimal("100.00"), Decimal("100.00")]
    context = fake_context()
    with_items(context, *items)
    assert created(context) is EventStatus.COMPLETED
    sent = context.oms("sope").upserts[-1]
    assert [i.paid_price for i in sent.items] == [Decimal("100.00"), Decimal("100.00")]
    payload = order_to_oms(sent, "T")
    lines = sum(Decimal(str(line["totalAmount"])) for line in payload["orderLines"])
    assert lines == Decimal("200.00") == sent.grand_total


@pytest.mark.parametrize("method", ["CashOnDelivery_Payment", "cash_on_delivery", "COD", "ContraEntrega"])
def test_an_order_paid_cash_on_delivery_is_not_sent_to_the_oms_as_paid(method: str) -> None:
    context = fake_context()
    with_items(context, *items_from(ORDER, [row("1"), row("2")]), payment_method=method)
    assert created(context) is EventStatus.COMPLETED
    sent = context.oms("sope").upserts[-1]
    assert sent.payment_method == method and sent.cash_on_delivery
    assert payment_status(sent) == "NOT_PAID"


@pytest.mark.parametrize("method", [None, "", "CreditCard", "Webpay_Payment", "codigo_descuento"])
def test_other_payment_methods_are_paid(method: str | None) -> None:
    assert not is_cash_on_delivery(method)


def test_rows_of_another_order_are_refused_retried_and_never_mixed_in() -> None:
    error = refusal(row("1"), row("2", order_id="999"))
    assert error.retryable and "rows of order(s) 999" in str(error)
    context = fake_context()
    with_items(context, *items_from(ORDER, [row("1")]))
    answers_refused(context, error)  # every attempt answers the wrong rows
    status = created(context)
    assert status is EventStatus.FAILED  # after its retries, with the reason
    event = next(iter(context.events.events.values()))
    assert event.attempts > 1 and "rows of order(s) 999" in (event.reason or "")
    assert context.orders.get("sope", f"sope-{ORDER}") is None
    assert context.oms("sope").upserts == []


def test_an_order_whose_items_carry_two_currencies_is_refused_clearly_not_summed() -> None:
    error = refusal(row("1", currency="COP"), row("2", currency="USD"))
    assert not error.retryable and "COP and USD" in str(error)
    context = fake_context()
    with_items(context, *items_from(ORDER, [row("1")]))
    answers_refused(context, error)
    assert created(context) is EventStatus.FAILED
    event = next(iter(context.events.events.values()))
    assert event.attempts == 1 and "COP and USD" in (event.reason or "")
    assert context.orders.get("sope", f"sope-{ORDER}") is None
    assert context.oms("sope").upserts == []


def test_one_currency_in_any_case_is_one_currency() -> None:
    items = items_from(ORDER, [row("1", currency="COP"), row("2", currency="cop")])
    context = fake_context()
    with_items(context, *items, total="200")
    assert created(context) is EventStatus.COMPLETED


def test_marketplace_order_reads_the_payment_method() -> None:
    assert marketplace_order(ORDER).payment_method is None
