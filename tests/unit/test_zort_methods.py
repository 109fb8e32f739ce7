"""ZORT's method table (shared.zort.methods.METHODS) is the one list every reader follows."""

from __future__ import annotations

from localdev.sandboxes.zort import SEED_EXAMPLES
from shared.adapters.zort.webhooks import UNREGISTRABLE_EVENTS, WEBHOOK_URL_FIELDS
from shared.services import stock_sync, zort_flows
from shared.zort.methods import EVENT_MODELS, METHODS, RECORDED_ONLY_EVENTS


def test_every_method_has_a_handler_and_every_handler_a_method() -> None:
    assert set(zort_flows.HANDLERS) == set(METHODS)


def test_every_method_has_its_documented_example_and_it_fits_the_model() -> None:
    assert set(SEED_EXAMPLES) == set(METHODS)  # tests/fixtures/zort/<METHOD>.json
    for name, method in METHODS.items():
        method.model.model_validate(SEED_EXAMPLES[name])
    assert not RECORDED_ONLY_EVENTS & set(METHODS)


def test_registration_reads_the_table() -> None:
    # the UPDATEWEBHOOK body fields, in the reference's order, as they were listed by hand before the table
    assert list(WEBHOOK_URL_FIELDS.items()) == [
        ("addproducturl", "ADDPRODUCT"),
        ("updateproducturl", "UPDATEPRODUCT"),
        ("deleteproducturl", "DELETEPRODUCT"),
        ("updatequantityurl", "UPDATEPRODUCTQUANTITY"),
        ("addorderurl", "ADDORDER"),
        ("updateorderurl", "UPDATEORDER"),
        ("updateordertrackingurl", "UPDATEORDERTRACKING"),
        ("updateorderpaymenturl", "UPDATEORDERPAYMENT"),
        ("addpurchaseurl", "ADDPURCHASEORDER"),
        ("updatepurchaseurl", "UPDATEPURCHASEORDER"),
        ("updatepurchasepaymenturl", "UPDATEPURCHASEORDERPAYMENT"),
        ("addreturnorderurl", "ADDRETURNORDER"),
        ("updatereturnorderurl", "UPDATERETURNORDER"),
        ("updatereturnorderpaymenturl", "UPDATERETURNORDERPAYMENT"),
        ("addreturnpurchaseurl", "ADDRETURNPURCHASEORDER"),
        ("updatereturnpurchaseurl", "UPDATERETURNPURCHASEORDER"),
        ("updatereturnpurchasepaymenturl", "UPDATERETURNPURCHASEORDERPAYMENT"),
        ("addtransferurl", "ADDTRANSFER"),
        ("updatetransferurl", "UPDATETRANSFER"),
    ]
    assert set(UNREGISTRABLE_EVENTS) == {
        "DELETEORDER",
        "DELETEPURCHASEORDER",
        "DELETERETURNORDER",
        "DELETERETURNPURCHASEORDER",
    }


def test_stock_sync_reads_the_table() -> None:
    assert {"UPDATEPRODUCTQUANTITY", "ADDPRODUCT", "UPDATEPRODUCT"} == stock_sync.PRODUCT_STOCK_EVENTS
    assert {
        "ADDORDER",
        "UPDATEORDER",
        "DELETEORDER",
        "ADDPURCHASEORDER",
        "UPDATEPURCHASEORDER",
        "ADDRETURNORDER",
        "UPDATERETURNORDER",
        "ADDRETURNPURCHASEORDER",
        "UPDATERETURNPURCHASEORDER",
        "ADDTRANSFER",
        "UPDATETRANSFER",
    } == stock_sync.DOCUMENT_STOCK_EVENTS


def test_the_models_are_a_view_of_the_table() -> None:
    assert {name: method.model for name, method in METHODS.items()} == EVENT_MODELS
    assert len(METHODS) == 23


def test_each_handler_takes_its_methods_model() -> None:
    """The payload a handler is annotated with is the method's model (or a base of it): a method
    registered with another document's handler fails here, not at run time."""
    import typing

    for name, handler in zort_flows.HANDLERS.items():
        expected = typing.get_type_hints(handler)["payload"]
        assert issubclass(METHODS[name].model, expected), (name, handler.__name__, expected)


def test_the_methods_that_move_a_price_are_those_whose_payload_carries_sellprice_and_price_sync_reads_them() -> None:
    from shared.services import price_sync
    from shared.zort.methods import METHODS, PRICE_METHODS

    carrying = {name for name, method in METHODS.items() if "sellprice" in method.model.model_fields}
    assert carrying == {"ADDPRODUCT", "UPDATEPRODUCT"}
    assert carrying == PRICE_METHODS
    assert price_sync.PRICE_EVENTS is PRICE_METHODS
