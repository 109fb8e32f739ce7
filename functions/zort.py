"""POST /webhooks/{tenantId}/zort?method=… — every ZORT event (payload as a form field or raw JSON)."""
import hmac
from urllib.parse import parse_qs

import azure.functions as func
from pydantic import ValidationError

from functions._http import (FORM_TYPE, JSON_TYPES, Problem, body_bytes, content_type, endpoint, json_response,
                             parse_json_text, require_tenant, validation_problem)
from shared.bootstrap import get_context
from shared.services.intake import accept_event

bp = func.Blueprint()
QUERY_FIELDS = ("id", "number", "paymentstatus")


def _check_key1(req: func.HttpRequest, tenant: str) -> None:
    """ZORT sends `Authorization: Basic {key1}`; compare with the tenant's key1 in constant time."""
    zort = get_context().settings.tenant_system(tenant, "ZORT")
    if zort is None:
        return  # not configured: the function key alone admits it; processing waits, blocked
    sent = (req.headers.get("authorization") or "").strip()
    scheme, _, token = sent.partition(" ")
    expected = zort["KEY1"]
    if scheme.lower() != "basic" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Problem(401, "Unauthorized", "Authorization must be 'Basic {key1}' with this tenant's ZORT key1",
                      "Authorization", headers={"WWW-Authenticate": 'Basic realm="zort"'})


def _form_and_payload(req: func.HttpRequest) -> tuple[dict[str, str], object]:
    body = body_bytes(req)
    kind = content_type(req)
    if kind == FORM_TYPE:
        try:
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                                  strict_parsing=False, max_num_fields=1000).items()}
        except (UnicodeDecodeError, ValueError) as error:
            raise Problem(400, "Malformed form", f"the form body could not be read: {error}", "body") from None
        if "payload" not in form:
            raise Problem(400, "Missing payload", "the form field 'payload' is required", "payload")
        return form, parse_json_text(form["payload"], "payload")
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise Problem(415, "Unsupported content type",
                      f"send application/x-www-form-urlencoded or application/json, not {kind}", "content-type")
    if not body.strip():
        raise Problem(400, "Missing payload", "a payload is required", "payload")
    value = parse_json_text(body)
    if isinstance(value, dict) and set(value) == {"payload"}:  # {"payload": …} wrapper
        inner = value["payload"]
        value = parse_json_text(inner, "payload") if isinstance(inner, str) else inner
    return {}, value


@bp.function_name("zort")
@bp.route(route="webhooks/{tenantId}/zort", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def zort(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.route_params.get("tenantId"))
    _check_key1(req, tenant)
    form, payload = _form_and_payload(req)
    method = (req.params.get("method") or form.get("method") or "").strip().upper()
    if not method:
        raise Problem(400, "Missing method", "the query parameter 'method' is required", "method")
    raw_query = {name: (req.params.get(name) or form.get(name)) for name in QUERY_FIELDS}
    raw_query = {k: v for k, v in raw_query.items() if v not in (None, "")}
    from shared.zort.events import UnknownZortMethod, ZortQuery, parse_event  # 23 models: load on first use

    try:
        parse_event(method, payload)
    except UnknownZortMethod:
        raise Problem(400, "Unknown method", f"{method[:64]!r} is not a ZORT event", "method") from None
    except ValidationError as error:
        raise validation_problem(error, "payload.") from None
    try:
        query = ZortQuery.model_validate({"method": method, **raw_query})
    except ValidationError as error:
        raise validation_problem(error, "query.") from None
    body = {"method": method, "query": raw_query, "payload": payload}
    context = get_context()
    acceptance = accept_event(context.events, context.queue, tenant=tenant, kind="zort",
                              identity=[method, query.model_dump(mode="json"), payload], body=body)
    return json_response(acceptance.as_body())
