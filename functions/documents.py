"""POST /v1/orders/{id}/documents?tenant=… — a tax document (boleta, factura, nota de crédito) for the
marketplace: checked against what SetInvoicePDF takes, its PDF kept once, recorded, 202; the upload
runs from the queue (shared/services/marketplace_loop.py).

A PDF is never held twice (issue 19). The body (about 1.33 times the PDF: base64 in JSON) is the
host's; from it this function holds only the decoded PDF:
- the `pdf` string is found in the body's bytes (`split_document_body`: a scan of the JSON's string
  tokens, no copy) and decoded straight from a view of them (`binascii.a2b_base64` in strict mode);
  the base64 is never made a Python `str`, and `json.loads` parses the body with that string left out
  (the other fields are a few hundred bytes);
- a `pdf` whose slashes are escaped (`\\/`, as PHP's json_encode writes them) is unescaped and decoded
  64 KiB at a time into one buffer whose bytes become the PDF (`io.BytesIO.getvalue` hands them over);
  any other escape in it (`\\u0041`…, which no encoder writes for base64's characters) is refused as
  not base64;
- the body's hash is read from the same bytes; the PDF goes to Blob Storage as it is.
Peak allocation of one request, beyond the body it was given: the decoded PDF plus about 0.05 MiB
for a 1 MiB PDF (0.25 MiB with escaped slashes); `tests/unit/test_document_memory.py` asserts under
1.5 times the PDF plus 1 MiB (tracemalloc). The upload from the queue holds the PDF read back (256 KiB
per GET: shared/adapters/storage.py BLOB_GET_BYTES) and SetInvoicePDF's body built in one buffer
(shared/adapters/seller_center/client.py base64_json_body). Figures: `bench/documents.py`, docs/benchmark.md.
"""

import binascii
import hashlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import azure.functions as func
from pydantic import ValidationError

from functions._http import (
    DOCUMENT_BODY_BYTES,
    JSON_TYPES,
    Problem,
    body_bytes,
    content_type,
    endpoint,
    idempotency_key,
    json_response,
    parse_json_text,
    require_idempotency_key,
    require_object,
    require_tenant,
    validation_problem,
)
from shared.bootstrap import get_context
from shared.models.webhooks import DocumentFields

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated

_OPENERS, _CLOSERS = (b"{", b"["), (b"}", b"]")
_WHITESPACE = b" \t\r\n"
_BLANK = re.compile(rb"[ \t\r\n]*\Z")
PDF_KEY = "pdf"
CHUNK = 64 * 1024
"""Base64 characters unescaped and decoded at a time when the PDF's slashes are escaped."""
_INVALID = Problem(400, "Invalid request body", "pdf: not valid base64", "pdf")


def _before(raw: bytes, at: int) -> int:
    """The last character before `at` that is not JSON whitespace (-1: none)."""
    at -= 1
    while at >= 0 and raw[at] in _WHITESPACE:
        at -= 1
    return raw[at] if at >= 0 else -1


def _key_text(raw: bytes, start: int, end: int) -> str | None:
    if end - start > 64:  # no key Thor reads is that long: not decoded
        return None
    try:
        text = json.loads(raw[start:end])
    except ValueError:
        return None
    return text if isinstance(text, str) else None


def _strings(raw: bytes) -> Iterator[tuple[int, int]]:
    """Each JSON string token of `raw` (from its opening quote to after its closing one), found with
    bytes.find: no copy, no regular expression (whose repeat stack grows with every escape)."""
    backslash = ord("\\")
    at = raw.find(b'"')
    while at >= 0:
        end = raw.find(b'"', at + 1)
        while end >= 0:
            before = end - 1
            while raw[before] == backslash:
                before -= 1
            if (end - 1 - before) % 2 == 0:  # not escaped
                break
            end = raw.find(b'"', end + 1)
        if end < 0:
            return
        yield at, end + 1
        at = raw.find(b'"', end + 1)


def pdf_spans(raw: bytes) -> list[tuple[int, int]]:
    """Where the string values of the top-level key `pdf` are in `raw` (the token's quotes included).

    Walks the string tokens in order, keeping the nesting depth from the brackets between them (counted
    in place) and the last key seen at the top level. Brackets inside strings are never counted: every
    string is one token. A body that is not JSON is left to the parser (a wrong span only makes the
    remainder fail to parse, or a `pdf` that fails base64)."""
    spans: list[tuple[int, int]] = []
    depth, position, key = 0, 0, None
    colon, opener, comma = ord(":"), ord("{"), ord(",")
    for start, end in _strings(raw):
        depth += sum(raw.count(c, position, start) for c in _OPENERS)
        depth -= sum(raw.count(c, position, start) for c in _CLOSERS)
        position = end
        if depth != 1:
            continue
        previous = _before(raw, start)
        if previous in (opener, comma):
            key = _key_text(raw, start, end)
        elif previous == colon:
            if key == PDF_KEY:
                spans.append((start, end))
            key = None
    return spans


def _decode_escaped(raw: bytes, start: int, end: int) -> bytes:
    """Base64 with JSON escapes (only `\\/` can be base64), unescaped and decoded CHUNK at a time."""
    out = io.BytesIO()
    carry = b""
    at = start
    while at < end:
        stop = min(at + CHUNK, end)
        if raw[stop - 1] == ord("\\") and stop < end:
            stop += 1  # an escape is never cut in two
        piece = carry + raw[at:stop].replace(b"\\/", b"/")
        if b"\\" in piece:
            raise _INVALID
        usable = len(piece) if stop >= end else len(piece) - len(piece) % 4
        chunk = piece[:usable]
        if stop < end and chunk.endswith(b"="):
            raise _INVALID  # padding before the end
        try:
            out.write(binascii.a2b_base64(chunk, strict_mode=True))
        except binascii.Error:
            raise _INVALID from None
        carry, at = piece[usable:], stop
    return out.getvalue()  # the buffer's own bytes: no copy


def decode_pdf(raw: bytes, start: int, end: int) -> bytes:
    """The PDF of the string token raw[start:end], decoded from a view of the body's bytes."""
    start, end = start + 1, end - 1  # inside the quotes
    if end - start < 8:
        raise Problem(400, "Invalid request body", "pdf: String should have at least 8 characters", "pdf")
    if raw.find(b"\\", start, end) >= 0:
        return _decode_escaped(raw, start, end)
    try:
        return binascii.a2b_base64(memoryview(raw)[start:end], strict_mode=True)
    except binascii.Error:
        raise _INVALID from None


def split_document_body(raw: bytes) -> tuple[dict[str, Any], tuple[int, int] | None]:
    """The body's fields but `pdf` (parsed without the PDF's string) and where the PDF's string is."""
    spans = pdf_spans(raw)
    if len(spans) > 1:
        raise Problem(400, "Malformed JSON", "body is not valid JSON: repeated key 'pdf'", "body")
    if not spans:
        fields = require_object(parse_json_text(raw))
        if PDF_KEY in fields:
            raise Problem(400, "Invalid request body", "pdf: Input should be a valid string (base64)", "pdf")
        return fields, None
    start, end = spans[0]
    fields = require_object(parse_json_text(raw[:start] + b'""' + raw[end:]))
    if fields.get(PDF_KEY) != "":
        raise Problem(400, "Invalid request body", "pdf: Input should be a valid string (base64)", "pdf")
    del fields[PDF_KEY]
    return fields, spans[0]


def read_document_body(req: func.HttpRequest) -> tuple[DocumentFields, bytes, str]:
    """The document's fields, its PDF and the body's hash, with the checks of read_json (size, content
    type, syntax); the fields are validated before the PDF is decoded."""
    raw = body_bytes(req, DOCUMENT_BODY_BYTES)
    kind = content_type(req)
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise Problem(415, "Unsupported content type", f"send application/json, not {kind}", "content-type")
    if _BLANK.match(raw):  # (raw.strip() would copy the body)
        raise Problem(400, "Empty body", "a JSON body is required", "body")
    fields, span = split_document_body(raw)
    try:
        request = DocumentFields.model_validate(fields)
    except ValidationError as error:
        raise validation_problem(error) from None
    if span is None:
        raise Problem(400, "Invalid request body", "pdf: Field required", "pdf")
    return request, decode_pdf(raw, *span), hashlib.sha256(raw).hexdigest()


@bp.function_name("documents")
@bp.route(route="v1/orders/{id}/documents", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def documents(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.params.get("tenant"), "tenant")
    key = require_idempotency_key(idempotency_key(req), "a tax document is sent to the marketplace once per key")
    request, pdf, body_hash = read_document_body(req)
    from shared.services.marketplace_loop import request_document  # on first call, not at cold start

    answer = request_document(
        get_context(),
        tenant,
        req.route_params.get("id", ""),
        document_type=request.type,
        number=request.number,
        document_date=request.date,
        item_ids=list(request.itemIds),
        pdf=pdf,
        body_hash=body_hash,
        idempotency_key=key,
    )
    return json_response(answer.body, answer.status)
