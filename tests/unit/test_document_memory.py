"""A tax document's PDF is held once per request (issue 19): functions/documents.py finds the `pdf`
string in the body's bytes and decodes it from a view of them, so a request allocates the decoded PDF
and a constant beyond the body it was given (measured with tracemalloc; not timed)."""

from __future__ import annotations

import base64
import json
import random
import tracemalloc

import azure.functions as func
import pytest

import functions.documents as documents
from functions._http import Problem
from tests.fakes import FakeContext, fake_context
from tests.unit.test_marketplace_loop import ORDER, with_loop, with_order

MIB = 1024 * 1024


def a_pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + random.Random(size).randbytes(size) + b"\n%%EOF\n"


def body(pdf: bytes, escape_slashes: bool = False, **extra: object) -> bytes:
    encoded = base64.b64encode(pdf).decode()
    fields = {"type": "FACTURA", "number": "F-1", "date": "2026-12-04", "itemIds": [f"{ORDER}0"], **extra}
    text = json.dumps({**fields, "pdf": encoded})
    return (text.replace("/", "\\/") if escape_slashes else text).encode()


def request(raw: bytes, order_id: str, key: str) -> func.HttpRequest:
    return func.HttpRequest(
        method="POST",
        url=f"http://localhost/v1/orders/{order_id}/documents",
        headers={"content-type": "application/json", "idempotency-key": key},
        params={"tenant": "facl"},
        route_params={"id": order_id},
        body=raw,
    )


@pytest.fixture()
def context(monkeypatch: pytest.MonkeyPatch) -> FakeContext:
    context = fake_context("facl")
    with_loop(context, "facl", documents=True)
    monkeypatch.setattr(documents, "get_context", lambda: context)
    return context


def peak_of(call: func.HttpRequest) -> tuple[func.HttpResponse, int]:
    """The request's answer and the peak of what it allocated (tracemalloc), beyond what existed before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        answer = documents.documents(call)
        return answer, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("escape_slashes", [False, True], ids=["plain", "escaped-slashes"])
def test_one_request_allocates_the_decoded_pdf_and_a_constant_never_the_base64_again(
    context: FakeContext, escape_slashes: bool
) -> None:
    order_id = with_order(context, "facl", "ready_to_ship")
    small = documents.documents(request(body(a_pdf(2000)), order_id, "warm-up"))  # imports, first use
    assert small.status_code == 202, small.get_body()
    pdf = a_pdf(MIB)
    raw = body(pdf, escape_slashes)
    assert (b"\\/" in raw) is escape_slashes
    answer, peak = peak_of(request(raw, order_id, "one-mib"))
    assert answer.status_code == 202, answer.get_body()
    (stored,) = [blob for name, blob in context.document_store.blobs.items() if len(blob) == len(pdf)]
    assert stored == pdf
    # The old path held the body as text, the base64 string and the PDF: about 3.7 times the PDF.
    assert peak < 1.5 * len(pdf) + MIB, f"peak {peak / MIB:.2f} MiB for a {len(pdf) / MIB:.2f} MiB PDF"


def test_the_pdf_string_is_found_only_as_the_top_level_key() -> None:
    raw = b'{"x": {"pdf": "QUJD"}, "note": "\\"pdf\\": [{", "pdf" : "QUJDRA==", "y": ["pdf", "QUJD"]}'
    (span,) = documents.pdf_spans(raw)
    assert raw[span[0] : span[1]] == b'"QUJDRA=="'
    assert documents.pdf_spans(b'{"p\\u0064f": "QUJDRA=="}') == [(13, 23)]
    assert documents.pdf_spans(b'["pdf", "QUJDRA=="]') == []


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"pdf": "QUJDRA==", "pdf": "QUJDRA=="}', "repeated key 'pdf'"),
        (b'{"type": "FACTURA", "pdf": 12345678}', "pdf: Input should be a valid string"),
        (b'{"type": "FACTURA", "pdf": ["QUJDRA=="]}', "pdf: Input should be a valid string"),
        (b'{"type": "FACTURA", "pdf": "QUJD\\"RA=="', "not valid JSON"),
    ],
)
def test_a_pdf_that_is_not_one_string_is_a_400_naming_it(raw: bytes, detail: str) -> None:
    with pytest.raises(Problem) as refused:
        documents.split_document_body(raw)
    assert refused.value.status == 400 and detail in refused.value.detail


@pytest.mark.parametrize(
    "encoded",
    [b"QUJDRA=", b"QUJD=RA=", b"QUJDRA==QUJD", b"QUJD RA=", b"QUJD\\nRA==", b"QU\\u0041DRA==", b"QUJ"],
)
def test_a_pdf_that_is_not_strict_base64_is_a_400(encoded: bytes) -> None:
    raw = b'{"pdf": "' + encoded + b'"}'
    ((start, end),) = documents.pdf_spans(raw)
    with pytest.raises(Problem) as refused:
        documents.decode_pdf(raw, start, end)
    assert refused.value.field == "pdf"


def test_escaped_slashes_decode_across_chunks_as_the_plain_base64_does() -> None:
    pdf = a_pdf(5 * documents.CHUNK + 7)
    plain, escaped = body(pdf), body(pdf, escape_slashes=True)
    for raw in (plain, escaped):
        fields, span = documents.split_document_body(raw)
        assert span is not None and fields["number"] == "F-1"
        assert documents.decode_pdf(raw, *span) == pdf


def test_the_upload_body_holds_the_base64_once() -> None:
    from shared.adapters.seller_center.client import base64_json_body

    pdf = a_pdf(MIB)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        built = base64_json_body(b'{"invoiceDocument":"', pdf, b'"}')
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert bytes(built) == b'{"invoiceDocument":"' + base64.b64encode(pdf) + b'"}'
    assert peak < 1.34 * len(pdf) + 256 * 1024  # the body (4/3 of the PDF) and one chunk, not the base64 again
