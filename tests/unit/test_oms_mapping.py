"""Thor `Order` → OMS body: statuses, cents, shipments, counters, refunds; each body checked against
the OMS sandbox's schema (the sandbox's own checks are tested in test_sandbox_oms_schema.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from localdev.sandboxes.oms import validate_order
from shared.adapters.oms.mapping import cents, money, order_to_oms, order_update_to_oms, split
from shared.domain.order import Customer, Order, OrderItem, Tracking
from shared.domain.refunds import Refund, RefundLine
from shared.domain.statuses import ITEM_STATUSES
from tests.checks import present

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
T1 = datetime(2024, 5, 3, 9, 30, tzinfo=timezone.utc)


def item(
    item_id: str,
    status: str = "pending",
    sku: str = "SKU-1",
    quantity: int = 1,
    unit_price: str = "100",
    paid_price: str = "90",
    tracking: Tracking | None = None,
    changed: datetime | None = None,
) -> OrderItem:
    return OrderItem(
        item_id=item_id,
        sku=sku,
        quantity=quantity,
        status=status,
        unit_price=Decimal(unit_price),
        paid_price=Decimal(paid_price),
        tracking=tracking,
        status_changed_at=changed,
    )


def make_order(*items: OrderItem, tenant: str = "faco", **fields: Any) -> Order:
    base = dict(
        tenant=tenant,
        marketplace_order_id="MP-1",
        internal_order_id="THOR-faco-1",
        order_number="N-1",
        currency="COP",
        created_at=T0,
        shipping_amount=Decimal("10"),
        items=list(items),
    )
    return Order(**{**base, **fields})


def refund(value: str, *lines: tuple[str, int], action: str = "REFUND", refund_id: str = "R1") -> Refund:
    return Refund(
        refund_id=refund_id,
        action=action,
        value=Decimal(value),
        created_at=T1,
        products=[RefundLine(sku=sku, quantity=q) for sku, q in lines],
    )


def valid(body: dict[str, Any], update: bool = False) -> dict[str, Any]:
    """The body as JSON, accepted by the sandbox's schema (raises InvalidInput otherwise)."""
    raw = json.dumps(body)
    validate_order(raw, update=update)
    return json.loads(raw)


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("234.125", 23413),
        ("234.124", 23412),
        ("0.005", 1),
        ("0.004", 0),
        ("1.005", 101),
        ("19990", 1999000),
        ("0", 0),
        ("-2.345", -235),
        ("12.3", 1230),
    ],
)
def test_cents_round_half_up(amount: str, expected: int) -> None:
    assert cents(Decimal(amount)) == expected
    assert money(Decimal(amount)) * 100 == expected


def test_order_money_twice_decimal_and_cents() -> None:
    order = make_order(item("1", paid_price="78.375", unit_price="80", quantity=3), shipping_amount=Decimal("0"))
    body = order_to_oms(order, "faco")
    assert body["totalAmount"] == 235.13 and body["totalAmountInCent"] == 23513  # 235.125
    assert body["totalAmountIncTax"] == 235.13 and body["totalAmountIncTaxInCent"] == 23513
    assert body["totalAmountBeforeDiscount"] == 240.0 and body["totalAmountBeforeDiscountInCent"] == 24000
    assert body["totalDiscountsInCent"] == 487 and body["totalDiscounts"] == 4.87
    line = body["orderLines"][0]
    assert (line["basePrice"], line["basePriceInCent"]) == (80.0, 8000)
    assert (line["totalAmount"], line["totalAmountInCent"]) == (235.13, 23513)
    assert json.loads(json.dumps(body))["totalAmount"] == 235.13


def test_shipping_cost_uses_the_references_cents_name() -> None:
    body = order_to_oms(make_order(item("1"), shipping_amount=Decimal("5.555")), "faco")
    assert (body["shippingCost"], body["shippingCostInCent"]) == (5.56, 556)
    assert (body["shippingCostIncTax"], body["shippingCostIncTaxCent"]) == (5.56, 556)
    assert "shippingCostIncTaxInCent" not in body


def test_split_adds_up_exactly() -> None:
    shares = split(Decimal("100"), [Decimal(1), Decimal(1), Decimal(1)])
    assert shares == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split(Decimal("10"), [Decimal(0), Decimal(0)]) == [Decimal("5.00"), Decimal("5.00")]


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, order_status, delivery, shipping",
    [
        ("pending", "AWAITING_SHIPMENT", "IN_PROCESS", "CREATED"),
        ("ready_to_ship", "AWAITING_PICKUP", "READY_TO_SHIP", "READY_FOR_SHIPPING"),
        ("shipped", "SHIPPED", "SHIPPED", "SHIPPED"),
        ("failed_delivery", "IN_PROGRESS", "SHIPPED", "OTHER"),
        ("delivered", "COMPLETE", "DELIVERED", "DELIVERED"),
        ("return_shipped_by_customer", "IN_PROGRESS", "DELIVERED", "DELIVERED"),
        ("return_waiting_for_approval", "IN_PROGRESS", "DELIVERED", "DELIVERED"),
        ("return_rejected", "COMPLETE", "DELIVERED", "DELIVERED"),
        ("returned", "RETURNED", "DELIVERED", "DELIVERED"),
        ("canceled", "CANCELLED", None, "OTHER"),
    ],
)
def test_item_status_to_oms_enums(status: str, order_status: str, delivery: str | None, shipping: str) -> None:
    body = valid(order_to_oms(make_order(item("1", status, changed=T1)), "faco"))
    assert (body["orderStatus"], body.get("deliveryStatus"), body["shippingState"]) == (
        order_status,
        delivery,
        shipping,
    )


def test_every_thor_status_is_mapped() -> None:
    from shared.adapters.oms.mapping import DELIVERY_STATUS, ORDER_STATUS, SHIPPING_STATE

    for table in (ORDER_STATUS, DELIVERY_STATUS, SHIPPING_STATE):
        assert set(table) == set(ITEM_STATUSES) | {"partially_shipped"}


def test_partially_shipped() -> None:
    body = valid(order_to_oms(make_order(item("1", "pending"), item("2", "shipped")), "faco"))
    assert (body["orderStatus"], body["deliveryStatus"], body["shippingState"]) == (
        "PARTIALLY_SHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
    )


def test_partial_return_and_full_return() -> None:
    partial = order_to_oms(make_order(item("1", "returned", changed=T1), item("2", "delivered")), "faco")
    assert partial["orderStatus"] == "PARTIALLY_RETURNED"
    assert partial["returned"] is False and "returnedAt" not in partial
    full = order_to_oms(make_order(item("1", "returned", changed=T1), item("2", "canceled", changed=T0)), "faco")
    assert full["orderStatus"] == "RETURNED"
    assert full["returned"] is True and full["returnedAt"] == "2024-05-03T09:30:00.000Z"
    assert full["cancelled"] is False


def test_cancelled_order_flags() -> None:
    body = valid(order_to_oms(make_order(item("1", "canceled", changed=T0), item("2", "canceled", changed=T1)), "faco"))
    assert body["cancelled"] is True and body["cancelledAt"] == "2024-05-03T09:30:00.000Z"
    assert body["orderLines"][0]["cancelledAt"] == "2024-05-01T12:00:00.123Z"
    # seeds/002 allows no null in either enum: no deliveryStatus fits a canceled order (left out),
    # shippingState takes the enum's OTHER.
    assert "deliveryStatus" not in body and body["shippingState"] == "OTHER"


def _nulls(value: object, path: str = "body") -> Iterator[str]:
    if value is None:
        yield path
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _nulls(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _nulls(inner, f"{path}.{index}")


@pytest.mark.parametrize(
    "statuses", [("canceled",), ("canceled", "canceled"), ("canceled", "returned"), ("pending", "canceled")]
)
def test_no_null_anywhere_in_a_body_with_canceled_items(statuses: tuple[str] | tuple[str, str]) -> None:
    order = make_order(*(item(str(i), s, changed=T1) for i, s in enumerate(statuses)))
    body = valid(order_to_oms(order, "faco"))
    assert list(_nulls(body)) == []


def test_unknown_item_status_is_other() -> None:
    body = valid(order_to_oms(make_order(item("1", "lost_in_space")), "faco"))
    assert body["orderStatus"] == "OTHER" and body["shippingState"] == "OTHER"


@pytest.mark.parametrize(
    "thor, oms",
    [
        ("Pending", "NOT_PAID"),
        ("Paid", "PAID"),
        ("Voided", "VOIDED"),
        ("Partial Payment", "PARTIALLY_PAID"),
        ("partial_payment", "PARTIALLY_PAID"),
        ("Excess Payment", "PAID"),
        (None, "PAID"),
        ("", "PAID"),
        ("Chargeback", "OTHER"),
    ],
)
def test_payment_status(thor: str | None, oms: str) -> None:
    assert order_to_oms(make_order(item("1"), payment_status=thor), "faco")["paymentStatus"] == oms


# --- refunds ----------------------------------------------------------------------------------


def test_some_money_back_is_partially_refunded() -> None:
    order = make_order(
        item("1", "returned", sku="A", paid_price="50"),
        item("2", "delivered", sku="B", paid_price="30"),
        payment_status="Paid",
        refunds=[refund("50", ("A", 1))],
    )
    body = valid(order_to_oms(order, "faco"))
    assert body["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert (body["refundedAmount"], body["refundedAmountInCent"]) == (50.0, 5000)
    lines = {line["entryRef"]: line for line in body["orderLines"]}
    assert lines["1"]["refundAmountInCent"] == 5000 and lines["2"]["refundAmountInCent"] == 0


def test_all_money_back_is_refunded_and_lines_add_up() -> None:
    order = make_order(
        item("1", sku="A", paid_price="33.335"),
        item("2", sku="A", paid_price="33.335"),
        item("3", sku="B", paid_price="33.33"),
        shipping_amount=Decimal("0"),
        payment_status="Paid",
    )
    order.refunds = [refund(str(order.paid_total()), ("A", 2), ("B", 1))]
    body = valid(order_to_oms(order, "faco"))
    assert body["paymentStatus"] == "REFUNDED"
    assert sum(line["refundAmountInCent"] for line in body["orderLines"]) == body["refundedAmountInCent"] == 10000


def test_exchanges_are_not_money_back() -> None:
    order = make_order(
        item("1", sku="A"), payment_status="Paid", refunds=[refund("90", ("A", 1), action="SAME_PRODUCT")]
    )
    body = order_to_oms(order, "faco")
    assert body["paymentStatus"] == "PAID" and body["refundedAmountInCent"] == 0


def test_refunded_units_go_to_the_returned_item_of_the_sku() -> None:
    order = make_order(
        item("1", "delivered", sku="A"), item("2", "returned", sku="A"), refunds=[refund("90", ("A", 1))]
    )
    lines = {line["entryRef"]: line for line in order_to_oms(order, "faco")["orderLines"]}
    assert lines["2"]["refundAmountInCent"] == 9000 and lines["1"]["refundAmountInCent"] == 0


# --- lines, counters, shipments -----------------------------------------------------------------


def test_lines_and_counters() -> None:
    order = make_order(
        item("1", "delivered"),
        item("2", "shipped", quantity=2),
        item("3", "canceled"),
        item("4", "returned", changed=T1),
        item("5", "pending", quantity=3),
    )
    body = valid(order_to_oms(order, "faco"))
    assert (body["totalItems"], body["itemsShipped"], body["itemsCancelled"], body["itemsReturned"]) == (8, 4, 1, 1)
    lines = {line["entryRef"]: line for line in body["orderLines"]}
    assert [line["entryRef"] for line in body["orderLines"]] == ["1", "2", "3", "4", "5"]
    assert lines["2"]["productRef"] == "SKU-1"
    assert (lines["2"]["quantity"], lines["2"]["shippedQuantity"], lines["2"]["returnedQuantity"]) == (2, 2, 0)
    assert (lines["4"]["shippedQuantity"], lines["4"]["returnedQuantity"]) == (1, 1)
    assert lines["4"]["returnedAt"] == "2024-05-03T09:30:00.000Z"
    assert lines["5"]["shippedQuantity"] == 0 and lines["3"]["shippedQuantity"] == 0


def test_shipments_grouped_by_tracking_number() -> None:
    a = Tracking(number="TRK-A", carrier="Servientrega", url="https://t.example/A", shipped_at=T1)
    a_early = Tracking(number="TRK-A", carrier=None, url=None, shipped_at=T0)
    b = Tracking(number="TRK-B", carrier="Coordinadora")
    order = make_order(
        item("1", "shipped", tracking=a),
        item("2", "ready_to_ship", tracking=b),
        item("3", "delivered", tracking=a_early, quantity=2),
        item("4", "canceled", tracking=a),
        item("5", "pending"),
    )
    body = valid(order_to_oms(order, "faco"))
    first, second = body["shipments"]
    assert first == {
        "shipmentRef": "TRK-A",
        "trackingNumber": "TRK-A",
        "shipmentProvider": "Servientrega",
        "trackingUrl": "https://t.example/A",
        "shipmentStatus": "SHIPPED",
        "shippedDate": "2024-05-01T12:00:00.123Z",
        "shipmentLines": [{"entryRef": "1", "quantityShipped": "1"}, {"entryRef": "3", "quantityShipped": "2"}],
    }
    assert second["shipmentRef"] == "TRK-B" and second["shipmentStatus"] == "READY_FOR_SHIPPING"
    assert second["shipmentLines"] == [{"entryRef": "2", "quantityShipped": "0"}]
    assert "shippedDate" not in second and "trackingUrl" not in second


def test_delivered_shipment_has_a_delivery_date() -> None:
    tracking = Tracking(number="T", carrier="C", shipped_at=T0)
    body = order_to_oms(make_order(item("1", "delivered", tracking=tracking, changed=T1)), "faco")
    assert body["shipments"][0]["shipmentStatus"] == "DELIVERED"
    assert body["shipments"][0]["deliveryDate"] == "2024-05-03T09:30:00.000Z"


# --- identity, customer, addresses --------------------------------------------------------------


def test_identity_and_addresses() -> None:
    customer = Customer(
        first_name="Ana",
        last_name="Pérez",
        email="ana@example.com",
        billing_address={
            "FirstName": "Ana",
            "LastName": "Pérez",
            "Address1": "Cra 7 # 71-21",
            "Address2": "Apto 501",
            "Address3": "Chapinero",
            "City": "Bogotá",
            "Region": "Cundinamarca",
            "Ward": "Chapinero",
            "PostCode": "110231",
            "Country": "Colombia",
            "Phone": "3001234567",
        },
        shipping_address={
            "Address1": "Calle 1",
            "City": "Medellín",
            "Ward": "El Poblado",
            "Country": "Colombia",
            "Phone": None,
            "Phone2": "6041234",
        },
    )
    body = valid(order_to_oms(make_order(item("1"), customer=customer), "faco"))
    assert body["orderRef"] == "THOR-faco-1" and body["customerRef"] == "MP-1" and body["channel"] == "OTHER"
    assert body["email"] == "ana@example.com" and body["currencyCode"] == "COP"
    assert body["created_at"] == "2024-05-01T12:00:00.123Z"
    assert body["billingAddress"] == {
        "name": "Ana Pérez",
        "address1": "Cra 7 # 71-21",
        "address2": "Apto 501, Chapinero",
        "city": "Bogotá",
        "province": "Cundinamarca",
        "postcode": "110231",
        "country": "Colombia",
        "countryCode": "CO",
        "phone": "3001234567",
    }
    assert body["shippingAddress"] == {
        "name": "Ana Pérez",
        "address1": "Calle 1",
        "city": "Medellín",
        "province": "El Poblado",
        "country": "Colombia",
        "countryCode": "CO",
        "phone": "6041234",
    }


@pytest.mark.parametrize(
    "tenant, code, currency",
    [
        ("faar", "AR", "ARS"),
        ("soco", "CO", "COP"),
        ("facl", "CL", "CLP"),
        ("sope", "PE", "PEN"),
        ("somx", "MX", "MXN"),
    ],
)
def test_country_code_and_currency_from_tenant(tenant: str, code: str, currency: str) -> None:
    customer = Customer(shipping_address={"Address1": "x"})
    body = order_to_oms(make_order(item("1"), tenant=tenant, currency=None, customer=customer), tenant)
    assert body["shippingAddress"]["countryCode"] == code and body["currencyCode"] == currency


def test_customer_ref_falls_back_to_order_number() -> None:
    body = order_to_oms(make_order(item("1"), marketplace_order_id=""), "faco")
    assert body["customerRef"] == "N-1"


# --- agreement with the sandbox's schema --------------------------------------------------------


def test_minimal_order_fits_the_schema() -> None:
    body = valid(order_to_oms(Order(tenant="faco", marketplace_order_id="1", internal_order_id="T-1"), "faco"))
    assert body["orderLines"] == [] and body["shipments"] == [] and "billingAddress" not in body


def test_update_body_fits_the_put_schema_and_carries_the_whole_current_order_keyed_by_order_ref() -> None:
    """seeds/002: PUT takes the POST schema and finds the order by ``id`` or ``orderRef`` in the body.
    Thor sends the whole order (every update idempotent): its current state, not only what changed."""
    order = make_order(
        item("1", "shipped", tracking=Tracking(number="T1", carrier="C", shipped_at=T1)),
        item("2", "pending", sku="SKU-2"),
        payment_status="Partial Payment",
    )
    body = valid(order_update_to_oms(order, "faco"), update=True)
    assert body["orderRef"] == "THOR-faco-1" and "id" not in body
    assert (body["orderStatus"], body["paymentStatus"]) == ("PARTIALLY_SHIPPED", "PARTIALLY_PAID")
    assert [(line["entryRef"], line["productRef"]) for line in body["orderLines"]] == [("1", "SKU-1"), ("2", "SKU-2")]
    assert [(s["trackingNumber"], s["shipmentStatus"]) for s in body["shipments"]] == [("T1", "SHIPPED")]
    assert (body["customerRef"], body["currencyCode"], body["totalItems"]) == ("MP-1", "COP", 2)


# --- every OMS time field is set however Thor first learns of the state (issue 17 item 3) ---------


@pytest.mark.parametrize("statuses", [("canceled", "canceled"), ("returned", "returned"), ("delivered", "canceled")])
def test_items_first_seen_already_in_a_final_state_get_every_time_field(statuses: tuple[str, str]) -> None:
    """Before: an item Thor first saw already canceled (returned, delivered) had no status_changed_at,
    and its line's cancelledAt, the order's cancelledAt / returnedAt and the shipment's deliveryDate
    were left out of the OMS body."""
    from shared.services.processing import process_event
    from tests.fakes import fake_context, marketplace_item
    from tests.unit.test_event_pipeline import order_created

    context = fake_context()
    rows = [
        marketplace_item(f"77{n}", order_id="77", sku=f"SKU-{n}", status=status).model_copy(
            update={"tracking": Tracking(number="TR-1")} if status == "delivered" else {}
        )
        for n, status in enumerate(statuses)
    ]
    context.marketplace("sope").add_order("77", *rows)
    assert present(process_event(context, "sope", order_created(context, "77"))).value == "completed"
    sent = context.oms("sope").upserts[-1]
    body = order_to_oms(sent, "sope")
    # the fake marketplace's items carry no UpdatedAt: the time Thor learned their status
    for line, status in zip(body["orderLines"], statuses, strict=True):
        if status == "canceled":
            assert line["cancelledAt"]
        if status == "returned":
            assert line["returnedAt"]
    if set(statuses) == {"canceled"}:
        assert body["cancelled"] is True and body["cancelledAt"]
    if set(statuses) == {"returned"}:
        assert body["returned"] is True and body["returnedAt"]
    if "delivered" in statuses:
        assert body["shipments"][0]["deliveryDate"]


def test_an_items_marketplace_updated_at_is_when_it_reached_the_status_it_is_first_seen_in() -> None:
    from shared.domain.marketplace import order_items
    from tests.fakes import marketplace_item

    row = marketplace_item("1", status="canceled").model_copy(update={"updated_at": T1})
    order = make_order()
    order.merge_items(order_items([row]))
    assert order.items[0].status_changed_at == T1
    assert order_to_oms(order, "faco")["orderLines"][0]["cancelledAt"] == "2024-05-03T09:30:00.000Z"


def test_an_item_stored_without_a_status_time_falls_back_on_the_orders_last_change() -> None:
    order = make_order(item("1", "canceled"), updated_at=T1)
    body = valid(order_to_oms(order, "faco"))
    assert body["orderLines"][0]["cancelledAt"] == "2024-05-03T09:30:00.000Z" == body["cancelledAt"]


def test_amounts_in_an_oms_body_are_written_with_two_decimals() -> None:
    """Issue 17 item 4: `90.0` and `1.5` went on the wire; every amount is now `90.00`, `1.50`."""
    from shared.adapters.oms.client import body_json

    text = body_json(order_to_oms(make_order(item("1", paid_price="90", unit_price="100.5")), "faco"))
    assert '"totalAmount": 100.00' in text and '"basePrice": 100.50' in text  # 90 + 10 shipping
    assert json.loads(text)["orderLines"][0]["totalAmountInCent"] == 9000
