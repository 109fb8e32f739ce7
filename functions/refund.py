"""POST /v1/orders/{id}/refund?tenant=… — refund or exchange some of an order's products."""

import azure.functions as func
from pydantic import ValidationError

from functions._http import (
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
from shared.models.webhooks import RefundRequest

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("refund")
@bp.route(route="v1/orders/{id}/refund", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def refund(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.params.get("tenant"), "tenant")
    key = idempotency_key(req)
    body = require_object(read_json(req))
    try:
        request = RefundRequest.model_validate(body)
    except ValidationError as error:
        raise validation_problem(error) from None
    key = require_idempotency_key(  # a refund moves money: a retry without a key would pay twice
        key,
        "a unique key per refund (1-255 visible ASCII characters); "
        "a retry with the same key and body gets the first answer, never a second refund",
    )
    from shared.services.refunds import request_refund  # on first call, not at cold start

    answer = request_refund(get_context(), tenant, req.route_params.get("id", ""), request, body, key)
    return json_response(answer.body, answer.status)
