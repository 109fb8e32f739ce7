"""Unit tests for shared.zort.webhooks (ZORT webhook payload models).

The JSON constants below are the "Ex. Payload JSON" blocks of ZORT's v3 webhook
documentation, copied verbatim (seed 001_6a48a014e2f546fe).
"""

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from localdev.sandboxes.zort import FIXTURES
from shared.zort.webhooks import (
    EVENT_MODELS,
    Order,
    OrderRef,
    OrderTracking,
    OrderTrackingList,
    Product,
    ProductQuantity,
    ProductRef,
    PurchaseOrder,
    ReturnOrder,
    ReturnPurchaseOrder,
    Transfer,
    UnknownZortMethod,
    ZortQuery,
    normalize_payment_status,
    parse_event,
)
from tests.checks import present

UTC = timezone.utc

# --------------------------------------------------------------------------- seed examples

# method -> its "Ex. Payload JSON" in the seed, as text (tests/fixtures/zort/, which the sandbox sends too)
SEED_EXAMPLES: dict[str, str] = {path.stem: path.read_text() for path in sorted(FIXTURES.glob("*.json"))}


def seed(method: str) -> Any:
    return json.loads(SEED_EXAMPLES[method])


def error_locs(exc_info: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [tuple(err["loc"]) for err in exc_info.value.errors()]


# --------------------------------------------------------------------------- registry & seed


def test_registry_holds_exactly_the_documented_methods() -> None:
    # The seed documents 23 distinct trigger methods (UPDATEWEBHOOK/GETWEBHOOK are API calls).
    assert set(EVENT_MODELS) == set(SEED_EXAMPLES)
    assert len(EVENT_MODELS) == 23


@pytest.mark.parametrize("method", sorted(EVENT_MODELS))
def test_every_registered_method_parses_its_seed_example(method: str) -> None:
    payload = seed(method)  # KeyError here means a method was added without an example
    event = parse_event(method, payload)

    assert isinstance(event, EVENT_MODELS[method])
    dumped = event.model_dump(mode="json")
    # ZORT's keys come back unchanged, and the dump parses again to the same model.
    pairs = zip(payload, dumped, strict=True) if isinstance(payload, list) else [(payload, dumped)]
    for given_item, dumped_item in pairs:
        assert set(given_item) <= set(dumped_item)
    assert type(event).model_validate(dumped) == event


def test_registry_models() -> None:
    by_model = {
        Product: {"ADDPRODUCT", "UPDATEPRODUCT"},
        ProductQuantity: {"UPDATEPRODUCTQUANTITY"},
        ProductRef: {"DELETEPRODUCT"},
        Order: {"ADDORDER", "UPDATEORDER", "UPDATEORDERPAYMENT"},
        OrderTrackingList: {"UPDATEORDERTRACKING"},
        OrderRef: {
            "DELETEORDER",
            "DELETEPURCHASEORDER",
            "DELETERETURNORDER",
            "DELETERETURNPURCHASEORDER",
        },
        PurchaseOrder: {"ADDPURCHASEORDER", "UPDATEPURCHASEORDER", "UPDATEPURCHASEORDERPAYMENT"},
        ReturnOrder: {"ADDRETURNORDER", "UPDATERETURNORDER", "UPDATERETURNORDERPAYMENT"},
        ReturnPurchaseOrder: {
            "ADDRETURNPURCHASEORDER",
            "UPDATERETURNPURCHASEORDER",
            "UPDATERETURNPURCHASEORDERPAYMENT",
        },
        Transfer: {"ADDTRANSFER", "UPDATETRANSFER"},
    }
    expected = {method: model for model, methods in by_model.items() for method in methods}
    assert expected == EVENT_MODELS


def test_order_seed_values() -> None:
    order = parse_event("ADDORDER", seed("ADDORDER"))
    assert isinstance(order, Order)

    assert order.id == 1234
    assert order.number == "SO-0001"
    assert order.reference is None
    assert order.orderdate == datetime(2022, 2, 15, 17, 0, tzinfo=UTC)
    assert order.orderdate.utcoffset() == timedelta(0)
    assert order.orderdateString == date(2022, 2, 16)
    assert order.customerid == 123
    assert order.vattype == 1
    assert order.shippingdate is None and order.trackingno is None
    assert order.discount is None and order.vatamount is None
    assert order.amount == Decimal(150) and order.paymentamount == Decimal(150)
    assert order.paymentstatus == "Paid" and order.status == "Success"
    assert order.isCOD is False
    first, second = order.list
    assert (first.productid, first.sku, first.name) == (2345, "P0001", "Product 1")
    assert first.number == Decimal(1)
    assert first.pricepernumber == Decimal(100) and first.totalprice == Decimal(100)
    assert second.totalprice == Decimal(50)


def test_order_dumps_back_to_zort_shape() -> None:
    dumped = parse_event("UPDATEORDER", seed("UPDATEORDER")).model_dump(mode="json")

    assert dumped["orderdate"] == "/Date(1644944400000)/"
    assert dumped["orderdateString"] == "2022-02-16"
    assert dumped["amount"] == "150"
    assert dumped["isCOD"] is False
    assert dumped["list"][0]["number"] == "1"


def test_product_seed_values_keep_decimal_text() -> None:
    product = parse_event("ADDPRODUCT", seed("ADDPRODUCT"))
    assert isinstance(product, Product)

    assert (product.id, product.sku, product.name) == (1234, "P0001", "Product1")
    assert str(product.sellprice) == "20.00" and str(product.purchaseprice) == "10.00"
    assert product.weight == Decimal(500)
    assert product.barcode == "1234"
    assert product.model_dump(mode="json")["sellprice"] == "20.00"


def test_product_quantity_seed_values() -> None:
    quantity = parse_event("UPDATEPRODUCTQUANTITY", seed("UPDATEPRODUCTQUANTITY"))
    assert isinstance(quantity, ProductQuantity)

    assert str(quantity.stock) == "20.00"
    assert str(quantity.availablestock) == "10.00"


def test_product_ref_and_order_refs() -> None:
    assert parse_event("DELETEPRODUCT", seed("DELETEPRODUCT")) == ProductRef(id=1234, sku="P0001")
    assert parse_event("DELETEORDER", seed("DELETEORDER")) == OrderRef(id=1234, number="SO-0001")
    ref = parse_event("DELETERETURNPURCHASEORDER", seed("DELETERETURNPURCHASEORDER"))
    assert ref == OrderRef(id=1234, number="DO-0001")


def test_purchase_and_return_seed_dates_and_references() -> None:
    purchase = parse_event("ADDPURCHASEORDER", seed("ADDPURCHASEORDER"))
    assert isinstance(purchase, PurchaseOrder)
    ret = parse_event("ADDRETURNORDER", seed("ADDRETURNORDER"))
    assert isinstance(ret, ReturnOrder)
    ret_purchase = parse_event("ADDRETURNPURCHASEORDER", seed("ADDRETURNPURCHASEORDER"))
    assert isinstance(ret_purchase, ReturnPurchaseOrder)
    instant = datetime(2022, 2, 15, 17, 0, tzinfo=UTC)

    assert purchase.purchaseorderdate == instant
    assert purchase.purchaseorderdateString == date(2022, 2, 16)
    assert ret.returnorderdate == instant and ret.returnorderdateString == date(2022, 2, 16)
    assert (ret.reference, ret.referenceid) == ("SO-0001", 2345)
    assert ret_purchase.returnpurchaseorderdate == instant
    assert ret_purchase.returnpurchaseorderdateString == date(2022, 2, 16)
    assert (ret_purchase.reference, ret_purchase.referenceid) == ("PO-0001", 2345)


def test_transfer_seed_values() -> None:
    transfer = parse_event("ADDTRANSFER", seed("ADDTRANSFER"))
    assert isinstance(transfer, Transfer)

    assert transfer.transferdate == date(2021, 1, 25)  # the seed says "2021-01- 25"
    assert (transfer.fromwarehousecode, transfer.towarehousecode) == ("W0001", "W0002")
    assert [(line.sku, line.number) for line in transfer.list] == [
        ("P0001", Decimal(5)),
        ("P0002", Decimal(3)),
    ]


def test_tracking_seed_values() -> None:
    tracking = parse_event("UPDATEORDERTRACKING", seed("UPDATEORDERTRACKING"))
    assert isinstance(tracking, OrderTrackingList)

    assert len(tracking) == 1
    assert tracking[0] == OrderTracking(trackingno="THP0001", trackingurl="", shippingdate=None)
    assert present(tracking.latest()).trackingno == "THP0001"


# --------------------------------------------------------------------------- ZORT quirks


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/Date(1644944400000)/", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        ("/Date(1644944400123)/", datetime(2022, 2, 15, 17, 0, 0, 123000, tzinfo=UTC)),
        ("/Date(0)/", datetime(1970, 1, 1, tzinfo=UTC)),
        ("/Date(-1000)/", datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("/Date(-62135596800000)/", datetime(1, 1, 1, tzinfo=UTC)),  # .NET DateTime.MinValue
        ("/Date(1644944400000+0700)/", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        ("/Date(1644944400000-0500)/", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        ("\\/Date(1644944400000)\\/", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        (" /Date(1644944400000)/ ", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        ("2022-02-16T00:00:00+07:00", datetime(2022, 2, 15, 17, 0, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_zort_datetime_parsing(raw: str | None, expected: datetime | None) -> None:
    order = Order.model_validate({"id": 1, "number": "SO-1", "orderdate": raw})

    assert order.orderdate == expected
    if expected is not None:
        assert present(order.orderdate).tzinfo == UTC


@pytest.mark.parametrize(
    "raw",
    [
        "/Date(abc)/",
        "/Date(1644944400000)",
        "Date(1644944400000)",
        "/Date(1644944400000+07)/",
        "/Date(99999999999999999999)/",  # beyond year 9999
        "2022-02-16T00:00:00",  # naive
        "2022-02-16",
        1644944400000,
        True,
        ["/Date(0)/"],
    ],
)
def test_zort_datetime_rejects(raw: str | int | bool | list[str]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        Order.model_validate({"id": 1, "number": "SO-1", "orderdate": raw})
    assert error_locs(exc_info) == [("orderdate",)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2022-02-16", date(2022, 2, 16)),
        ("2021-01- 25", date(2021, 1, 25)),
        (" 2021 - 01 - 25 ", date(2021, 1, 25)),
        ("", None),
        (None, None),
    ],
)
def test_date_string_parsing(raw: str | None, expected: date | None) -> None:
    transfer = Transfer.model_validate({"id": 1, "number": "TF-1", "transferdate": raw})
    order = Order.model_validate({"id": 1, "number": "SO-1", "orderdateString": raw})

    assert transfer.transferdate == expected
    assert order.orderdateString == expected


@pytest.mark.parametrize("raw", ["16/02/2022", "2022-02-30", "20220216", "2022-2-16", 20220216, "/Date(0)/"])
def test_date_string_rejects(raw: str | int) -> None:
    with pytest.raises(ValidationError) as exc_info:
        Transfer.model_validate({"id": 1, "number": "TF-1", "transferdate": raw})
    assert error_locs(exc_info) == [("transferdate",)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20.00", "20.00"),
        ("5", "5"),
        (" 5 ", "5"),
        (150, "150"),
        (0.1, "0.1"),
        ("-1.5e2", "-1.5E+2"),
        (".5", "0.5"),
    ],
)
def test_numbers_become_exact_decimals(raw: str | float, expected: str) -> None:
    product = Product.model_validate({"id": 1, "sku": "P", "sellprice": raw})

    assert isinstance(product.sellprice, Decimal)
    assert product.sellprice == Decimal(expected)
    assert str(product.sellprice) == expected


@pytest.mark.parametrize("raw", [None, ""])
def test_blank_numbers_are_null(raw: str | None) -> None:
    assert Product.model_validate({"id": 1, "sku": "P", "sellprice": raw}).sellprice is None


@pytest.mark.parametrize(
    "raw",
    ["abc", "NaN", "Infinity", "1,000.00", "\u0e55", "1_000", True, [], {}, float("inf")],
)
def test_bad_numbers_rejected(raw: object) -> None:
    with pytest.raises(ValidationError) as exc_info:
        Product.model_validate({"id": 1, "sku": "P", "sellprice": raw})
    assert error_locs(exc_info) == [("sellprice",)]


@pytest.mark.parametrize(("raw", "expected"), [(1234, 1234), ("1234", 1234), (" 1234 ", 1234), (1234.0, 1234)])
def test_ids_accept_integers_and_numeric_strings(raw: str | float, expected: int) -> None:
    assert OrderRef.model_validate({"id": raw, "number": "SO-1"}).id == expected


@pytest.mark.parametrize("raw", ["abc", "12.5", 12.5, True, "", None, [1234]])
def test_bad_ids_rejected(raw: str | float | bool | list[int] | None) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_event("DELETEORDER", {"id": raw, "number": "SO-1"})
    assert error_locs(exc_info) == [("id",)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("true", True), (0, False), (None, None)],
)
def test_is_cod_is_bool(raw: bool | str | int | None, expected: bool | None) -> None:
    assert Order.model_validate({"id": 1, "number": "SO-1", "isCOD": raw}).isCOD is expected


def test_discount_is_kept_as_text() -> None:
    # ZORT documents discount as a String ("10%" or an amount).
    order = Order.model_validate({"id": 1, "number": "SO-1", "discount": "10%", "list": [{"sku": "P", "discount": 5}]})

    assert order.discount == "10%"
    assert order.list[0].discount == "5"


def test_unknown_fields_are_kept() -> None:
    payload = seed("ADDORDER") | {"newfield": {"nested": [1, "two"]}}
    payload["list"][0]["lotno"] = "L1"
    order = parse_event("ADDORDER", payload)
    assert isinstance(order, Order)

    assert present(order.model_extra)["newfield"] == {"nested": [1, "two"]}
    assert order.list[0].model_extra == {"lotno": "L1"}
    dumped = order.model_dump(mode="json")
    assert dumped["newfield"] == {"nested": [1, "two"]}
    assert dumped["list"][0]["lotno"] == "L1"


@pytest.mark.parametrize("lines", [None, []])
def test_missing_or_null_list_is_empty(lines: list[Any] | None) -> None:
    assert Order.model_validate({"id": 1, "number": "SO-1", "list": lines}).list == []
    assert Transfer.model_validate({"id": 1, "number": "TF-1"}).list == []


# --------------------------------------------------------------------------- rejection


EXPECTED_REQUIRED = {
    Product: {"id", "sku"},
    ProductQuantity: {"id", "sku"},
    ProductRef: {"id", "sku"},
    Order: {"id", "number"},
    OrderRef: {"id", "number"},
    PurchaseOrder: {"id", "number"},
    ReturnOrder: {"id", "number"},
    ReturnPurchaseOrder: {"id", "number"},
    Transfer: {"id", "number"},
    OrderTracking: {"trackingno"},
}


@pytest.mark.parametrize("model", list(EXPECTED_REQUIRED), ids=lambda m: m.__name__)
def test_required_fields(model: type[BaseModel]) -> None:
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == EXPECTED_REQUIRED[model]


@pytest.mark.parametrize(
    ("method", "field"),
    [
        (method, field)
        for method, model in sorted(EVENT_MODELS.items())
        if model is not OrderTrackingList
        for field in sorted(EXPECTED_REQUIRED[model])
    ],
)
def test_missing_required_field_is_named(method: str, field: str) -> None:
    payload = seed(method)
    del payload[field]

    with pytest.raises(ValidationError) as exc_info:
        parse_event(method, payload)
    assert [(err["loc"], err["type"]) for err in exc_info.value.errors()] == [((field,), "missing")]


def test_missing_nested_required_fields_are_named() -> None:
    order = seed("ADDORDER")
    del order["list"][1]["sku"]
    transfer = seed("ADDTRANSFER")
    del transfer["list"][0]["sku"]

    with pytest.raises(ValidationError) as order_error:
        parse_event("ADDORDER", order)
    with pytest.raises(ValidationError) as transfer_error:
        parse_event("ADDTRANSFER", transfer)
    with pytest.raises(ValidationError) as tracking_error:
        parse_event("UPDATEORDERTRACKING", [{"trackingurl": ""}])
    assert error_locs(order_error) == [("list", 1, "sku")]
    assert error_locs(transfer_error) == [("list", 0, "sku")]
    assert error_locs(tracking_error) == [(0, "trackingno")]


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("ADDORDER", "id", "abc"),
        ("ADDORDER", "list", "x"),
        ("ADDORDER", "list", [1]),
        ("ADDORDER", "number", ["SO-0001"]),
        ("ADDORDER", "number", "  "),
        ("ADDORDER", "amount", "lots"),
        ("ADDORDER", "isCOD", "maybe"),
        ("ADDORDER", "customerid", "C-1"),
        ("ADDPRODUCT", "sku", None),
        ("ADDPRODUCT", "sku", ""),
        ("UPDATEPRODUCTQUANTITY", "stock", "many"),
        ("ADDPURCHASEORDER", "purchaseorderdate", "2022-02-16"),
        ("ADDRETURNORDER", "referenceid", "SO-0001"),
        ("ADDTRANSFER", "transferdate", "25/01/2021"),
        ("ADDTRANSFER", "list", {"sku": "P0001"}),
    ],
)
def test_wrong_types_rejected(
    method: str, field: str, value: str | list[int] | list[str] | dict[str, Any] | None
) -> None:
    payload = seed(method)
    payload[field] = value

    with pytest.raises(ValidationError) as exc_info:
        parse_event(method, payload)
    assert {loc[0] for loc in error_locs(exc_info)} == {field}


@pytest.mark.parametrize("payload", [[], {"trackingno": "THP0001"}, "THP0001", [None], None])
def test_tracking_payload_must_be_a_non_empty_array_of_objects(payload: object) -> None:
    with pytest.raises(ValidationError):
        parse_event("UPDATEORDERTRACKING", payload)


@pytest.mark.parametrize("payload", [None, "{}", [], 1, [{"id": 1, "number": "SO-1"}]])
def test_non_object_payload_rejected(payload: object) -> None:
    with pytest.raises(ValidationError):
        parse_event("ADDORDER", payload)


@pytest.mark.parametrize("method", ["", "  ", "FOO", "GETWEBHOOK", "UPDATEWEBHOOK", "ADD ORDER", None, 1])
def test_unknown_method(method: str | int | None) -> None:
    with pytest.raises(UnknownZortMethod) as exc_info:
        parse_event(method, {"id": 1, "number": "SO-1"})  # type: ignore[arg-type]  # not a str, on purpose
    assert isinstance(exc_info.value, ValueError)
    assert exc_info.value.method == method


def test_method_is_stripped_and_upper_cased() -> None:
    assert isinstance(parse_event(" addOrder\n", {"id": 1, "number": "SO-1"}), Order)


# --------------------------------------------------------------------------- helpers


def test_tracking_latest_is_last_non_empty_trackingno() -> None:
    tracking = OrderTrackingList.model_validate(
        [
            {"trackingno": "TH1", "trackingurl": None, "shippingdate": "/Date(1644944400000)/"},
            {"trackingno": "TH2", "trackingurl": "https://track/TH2", "shippingdate": "2022-02-16"},
            {"trackingno": "  ", "trackingurl": "", "shippingdate": None},
            {"trackingno": None, "trackingurl": "", "shippingdate": None},
        ]
    )

    assert tracking.latest() is tracking[1]
    assert [entry.trackingno for entry in tracking] == ["TH1", "TH2", "  ", None]
    assert tracking[0].shippingdate == datetime(2022, 2, 15, 17, 0, tzinfo=UTC)
    assert tracking[1].shippingdate == date(2022, 2, 16)
    assert OrderTrackingList.model_validate([{"trackingno": ""}]).latest() is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Pending", "Pending"),
        ("paid", "Paid"),
        ("VOIDED", "Voided"),
        ("Partial Payment", "Partial Payment"),
        (" partial   payment ", "Partial Payment"),
        ("Partial", "Partial Payment"),
        ("Excess Payment", "Excess Payment"),
        ("overpaid", "Excess Payment"),
        ("0", "Pending"),  # ZORT's documented codes (api-reference/order, GetOrders paymentstatus)
        ("1", "Paid"),
        (" 3 ", "Partial Payment"),
        ("4", "Excess Payment"),
    ],
)
def test_normalize_payment_status(raw: str, expected: str) -> None:
    assert normalize_payment_status(raw) == expected


@pytest.mark.parametrize("raw", ["Refunded", "", "PaidX", None, 1, "5"])
def test_normalize_payment_status_rejects_unknown(raw: str | int | None) -> None:
    with pytest.raises(ValueError):
        normalize_payment_status(raw)  # type: ignore[arg-type]  # not a str, on purpose


def test_zort_query_for_a_payment_event() -> None:
    query = ZortQuery.model_validate(
        {
            "method": "updateorderpayment",
            "id": "1234",
            "number": "SO-0001",
            "paymentstatus": "partial",
            "code": "k",
        }
    )

    assert (query.method, query.id, query.number) == ("UPDATEORDERPAYMENT", 1234, "SO-0001")
    assert query.paymentstatus == "partial"
    assert query.canonical_paymentstatus == "Partial Payment"
    assert query.model_extra == {"code": "k"}


def test_zort_query_minimal_and_invalid() -> None:
    query = ZortQuery.model_validate({"method": "ADDORDER", "id": "", "number": "", "paymentstatus": " "})
    assert query.id is None and query.number is None
    assert query.paymentstatus is None and query.canonical_paymentstatus is None

    with pytest.raises(ValidationError) as bad_id:
        ZortQuery.model_validate({"method": "UPDATEORDERTRACKING", "id": "abc"})
    with pytest.raises(ValidationError) as no_method:
        ZortQuery.model_validate({"id": "1"})
    with pytest.raises(ValueError):
        _ = ZortQuery(method="UPDATEORDERPAYMENT", paymentstatus="Refunded").canonical_paymentstatus
    assert error_locs(bad_id) == [("id",)]
    assert error_locs(no_method) == [("method",)]


# --------------------------------------------------------------------------- properties


def json_values(allow_nan: bool = True) -> st.SearchStrategy[Any]:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=allow_nan, allow_infinity=allow_nan)
        | st.text(max_size=12)
        | st.integers().map(lambda ms: f"/Date({ms})/")
        | st.from_regex(r"\A[0-9]{4}-[0-9]{2}- ?[0-9]{2}\Z")
        | st.from_regex(r"\A-?[0-9]{1,6}(\.[0-9]{1,3})?\Z")
    )

    def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)

    return st.recursive(leaves, containers, max_leaves=8)


def zort_payloads(model: type[BaseModel], allow_nan: bool = True) -> st.SearchStrategy[Any]:
    """JSON values, mostly shaped like ``model`` so that the field validators are reached."""
    values = json_values(allow_nan)
    names = st.text(min_size=1, max_size=8)
    plausible = {"id": st.integers(), "number": names, "sku": names}
    line_fields = ("productid", "name", "number", "pricepernumber", "discount", "extra")
    line = st.fixed_dictionaries({"sku": names | values}, optional={name: values for name in line_fields})
    fields = (OrderTracking if model is OrderTrackingList else model).model_fields
    required = {name: plausible.get(name, st.none()) | values for name, f in fields.items() if f.is_required()}
    optional = {name: values for name, f in fields.items() if not f.is_required()}
    if "list" in optional:
        optional["list"] = values | st.lists(line, max_size=3)
    obj = st.fixed_dictionaries(required, optional=optional | {"extra": values})
    return obj | st.lists(obj, min_size=1, max_size=3) | values


def seed_variants(method: str, allow_nan: bool = True) -> st.SearchStrategy[Any]:
    """The method's seed example with up to three keys replaced or added."""
    example = json.loads(SEED_EXAMPLES[method])
    obj = example[0] if isinstance(example, list) else example
    keys = st.sampled_from(sorted(obj)) | st.text(max_size=8)
    changes = st.dictionaries(keys, json_values(allow_nan), max_size=3)
    variants = changes.map(lambda change: obj | change)
    return variants.map(lambda variant: [variant]) if isinstance(example, list) else variants


def events(allow_nan: bool = True) -> st.SearchStrategy[tuple[str, Any]]:
    """(method, payload) pairs for the registered methods."""
    strategies = {
        method: zort_payloads(model, allow_nan) | seed_variants(method, allow_nan)
        for method, model in EVENT_MODELS.items()
    }
    return st.sampled_from(sorted(strategies)).flatmap(lambda method: st.tuples(st.just(method), strategies[method]))


@settings(max_examples=250, deadline=None)
@given(st.tuples(st.text(max_size=12), json_values()) | events())
def test_parse_event_only_raises_validation_or_unknown_method(method_and_payload: tuple[str, Any]) -> None:
    method, payload = method_and_payload
    try:
        parse_event(method, payload)
    except (ValidationError, UnknownZortMethod):
        pass


@settings(max_examples=250, deadline=None)
@given(events(allow_nan=False))
def test_parsed_events_dump_to_json_that_parses_back_identically(method_and_payload: tuple[str, Any]) -> None:
    method, payload = method_and_payload
    try:
        event = parse_event(method, payload)
    except ValidationError:
        return
    dumped = event.model_dump(mode="json")
    json.dumps(dumped)  # plain JSON types only
    assert parse_event(method, dumped).model_dump(mode="json") == dumped
