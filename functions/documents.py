"""POST /v1/orders/{id}/documents?tenant=… — a tax document (boleta, factura, nota de crédito) for the
marketplace: checked against what SetInvoicePDF takes, its PDF kept once, recorded, 202; the upload
runs from the queue (shared/services/marketplace_loop.py)."""

import base64
import binascii
import hashlib

import azure.functions as func
from pydantic import ValidationError

from functions._http import (
    DOCUMENT_BODY_BYTES,
    Problem,
    endpoint,
    idempotency_key,
    json_response,
    read_json,
    require_idempotency_key,
    require_object,
    require_tenant,
    validation_problem,
)
from shared.bootstrap import get_context
from shared.models.webhooks import DocumentRequest

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("documents")
@bp.route(route="v1/orders/{id}/documents", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def documents(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.params.get("tenant"), "tenant")
    key = require_idempotency_key(idempotency_key(req), "a tax document is sent to the marketplace once per key")
    raw = req.get_body() or b""
    body_hash = hashlib.sha256(raw).hexdigest()
    body = require_object(read_json(req, DOCUMENT_BODY_BYTES))
    try:
        request = DocumentRequest.model_validate(body)
    except ValidationError as error:
        raise validation_problem(error) from None
    del body
    try:
        pdf = base64.b64decode(request.pdf, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(400, "Invalid request body", "pdf: not valid base64", "pdf") from None
    request.pdf = ""  # the PDF is held once from here on (decoded)
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
