"""Issue 19's adapters for real: the Seller Center client's order-loop calls against the marketplace
sandbox over HTTP (signed headers, refusals as the documentation gives them), and the tax documents'
PDFs in Azurite's Blob Storage."""

from __future__ import annotations

import random

import pytest

from localdev.sandboxes._server import RunningServer
from localdev.stack import Stack
from shared.adapters.document_store import DocumentNotFound, DocumentStore
from shared.adapters.seller_center import SellerCenterClient, SellerCenterError
from shared.adapters.storage import Storage
from shared.settings import read_storage
from tests.integration.test_seller_center_client import CHILE_KEY, CHILE_USER, control, make_client, shared_sandbox  # noqa: F401

PDF = b"%PDF-1.4\n" + random.Random(7).randbytes(200_000) + b"\n%%EOF"
ORDER = 4_100_003  # 3 items in the sandbox (1 + id % 3): 41000030, 41000031, 41000032


@pytest.fixture
def sandbox(shared_sandbox: RunningServer) -> RunningServer:  # noqa: F811
    control(shared_sandbox, "reset", {})
    return shared_sandbox


@pytest.fixture
def chile(sandbox: RunningServer) -> SellerCenterClient:
    return make_client(sandbox, [], user_id=CHILE_USER, api_key=CHILE_KEY, business_unit="FACL", max_attempts=1)


def test_set_invoice_pdf_is_signed_over_its_headers_and_kept_once_when_repeated(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    items = [f"{ORDER}0"]
    control(sandbox, "items/status", {"order_item_ids": items, "status": "ready_to_ship"})
    chile.set_invoice_pdf(items, "F-77", "2026-12-04", "FACTURA", "FACL", PDF)
    chile.set_invoice_pdf(items, "F-77", "2026-12-04", "FACTURA", "FACL", PDF)  # a repeat
    taken = control(sandbox, "invoices")[CHILE_USER]
    assert len(taken) == 1 and taken[0]["size"] == len(PDF) and taken[0]["invoiceType"] == "FACTURA"


def test_set_invoice_pdf_refuses_what_the_documentation_refuses(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    with pytest.raises(SellerCenterError, match="ready_to_ship"):
        chile.set_invoice_pdf([f"{ORDER}1"], "F-78", "2026-12-04", "FACTURA", "FACL", PDF)  # still pending
    control(sandbox, "items/status", {"order_item_ids": [f"{ORDER}1"], "status": "ready_to_ship"})
    with pytest.raises(SellerCenterError, match="not the seller's country"):
        chile.set_invoice_pdf([f"{ORDER}1"], "F-79", "2026-12-04", "FACTURA", "FACO", PDF)
    colombia = make_client(sandbox, [], max_attempts=1)  # faco's user
    with pytest.raises(SellerCenterError, match="BOLETA is not valid for FACO"):
        colombia.set_invoice_pdf([f"{ORDER}1"], "B-79", "2026-12-04", "BOLETA", "FACO", PDF)
    assert control(sandbox, "invoices") == {}


def test_a_lost_answer_is_a_retryable_error_and_the_repeat_succeeds(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    control(sandbox, "items/status", {"order_item_ids": [f"{ORDER}2"], "status": "shipped"})
    control(sandbox, "invoices/lose-answers", {"times": 1})
    with pytest.raises(SellerCenterError) as lost:
        chile.set_invoice_pdf([f"{ORDER}2"], "B-1", "2026-12-04", "BOLETA", "FACL", PDF)
    assert lost.value.retryable
    chile.set_invoice_pdf([f"{ORDER}2"], "B-1", "2026-12-04", "BOLETA", "FACL", PDF)
    assert len(control(sandbox, "invoices")[CHILE_USER]) == 1


def test_cancellation_takes_a_listed_reason_and_only_pending_items(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    reasons = chile.get_failure_reasons()
    assert ("canceled", "Out of stock") in reasons
    chile.set_status_to_canceled(f"{ORDER}0", "Out of stock", "voided in ZORT")
    control(sandbox, "items/status", {"order_item_ids": [f"{ORDER}1"], "status": "shipped"})
    with pytest.raises(SellerCenterError, match="E028") as after_shipping:
        chile.set_status_to_canceled(f"{ORDER}1", "Out of stock")
    assert not after_shipping.value.retryable
    with pytest.raises(SellerCenterError, match="E022"):
        chile.set_status_to_canceled(f"{ORDER}2", "Because")
    statuses = {row.item_id: row.status for row in chile.get_order_items(ORDER)}
    assert statuses == {f"{ORDER}0": "canceled", f"{ORDER}1": "shipped", f"{ORDER}2": "pending"}


def test_seller_delivery_statuses_move_forward_and_never_a_fulfillment_item(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    control(sandbox, "orders/shipping-type", {"order_ids": [ORDER], "shipping_type": "Own Delivery"})
    control(sandbox, "items/status", {"order_item_ids": [f"{ORDER}0"], "status": "ready_to_ship"})
    chile.set_seller_delivery_status("SetStatusToShipped", [f"{ORDER}0"])
    chile.set_seller_delivery_status("SetStatusToDelivered", [f"{ORDER}0"])
    with pytest.raises(SellerCenterError, match="E028"):
        chile.set_seller_delivery_status("SetStatusToShipped", [f"{ORDER}0"])  # not forward
    rows = {row.item_id: row for row in chile.get_order_items(ORDER)}
    assert rows[f"{ORDER}0"].status == "delivered" and rows[f"{ORDER}0"].shipping_type == "Own Delivery"
    control(sandbox, "orders/shipping-type", {"order_ids": [ORDER], "shipping_type": "Fulfillment"})
    with pytest.raises(SellerCenterError, match="E028"):
        chile.set_seller_delivery_status("SetStatusToShipped", [f"{ORDER}1"])


def test_a_pdf_is_kept_in_blob_storage_and_read_back(stack: Stack) -> None:
    store = DocumentStore(Storage(read_storage(stack.values)))
    store.put("facl/facl-1/doc-test.pdf", PDF)
    store.put("facl/facl-1/doc-test.pdf", PDF)  # the same name again: the same bytes
    assert store.get("facl/facl-1/doc-test.pdf") == PDF
    with pytest.raises(DocumentNotFound):
        store.get("facl/facl-1/doc-missing.pdf")


def test_set_invoice_pdf_is_refused_where_the_marketplace_invoices_for_the_seller(
    sandbox: RunningServer, chile: SellerCenterClient
) -> None:
    control(sandbox, "items/status", {"order_item_ids": [f"{ORDER}0"], "status": "ready_to_ship"})
    control(sandbox, "invoices/on-behalf", {"user_id": CHILE_USER, "on": True})
    with pytest.raises(SellerCenterError, match="on behalf of seller") as refused:
        chile.set_invoice_pdf([f"{ORDER}0"], "F-80", "2026-12-04", "FACTURA", "FACL", PDF)
    assert not refused.value.retryable
    assert control(sandbox, "invoices") == {}
    control(sandbox, "invoices/on-behalf", {"user_id": CHILE_USER, "on": False})
    chile.set_invoice_pdf([f"{ORDER}0"], "F-80", "2026-12-04", "FACTURA", "FACL", PDF)
    assert len(control(sandbox, "invoices")[CHILE_USER]) == 1


def test_a_pdf_read_back_holds_a_bounded_amount_beside_it(stack: Stack) -> None:
    """The SDK reserves 8 bytes per byte of each GET's answer (list() of a stream whose len() is its size):
    with 256 KiB per GET, reading a 1 MiB PDF back holds about 2 MiB beside it, not 8 (tracemalloc)."""
    import tracemalloc

    store = DocumentStore(Storage(read_storage(stack.values)))
    pdf = b"%PDF-1.7\n" + random.Random(11).randbytes(1024 * 1024)
    store.put("facl/facl-2/doc-big.pdf", pdf)
    store.get("facl/facl-2/doc-big.pdf")  # first use
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        read = store.get("facl/facl-2/doc-big.pdf")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert read == pdf
    assert peak < len(pdf) + 3 * 1024 * 1024, f"{peak / 2**20:.2f} MiB"
