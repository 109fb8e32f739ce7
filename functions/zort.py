"""/webhooks/{tenantId}/zort?method=… — every ZORT call, in every shape ZORT sends (functions/_zort_request).

- a GET, or a POST with neither ``method`` nor a body (the portal's "Verify and Save" or a health
  probe): 200 ``{"status": "ready"}``, no event;
- a POST with an event: key1 checked, recorded, queued, 200 ``{"status", "eventId"}``;
- a POST without ``method`` but with a body, a form without ``payload``, one of v4's contact /
  warehouse events: recorded as sent, so nothing ZORT says is lost (processing applies what it can);
- anything else is refused with a problem that says why (wrong key1, unknown method, malformed
  payload, unreadable body).
"""

from typing import TYPE_CHECKING

import azure.functions as func
from pydantic import ValidationError

from functions._http import Problem, endpoint, json_response, require_tenant, validation_problem
from shared.bootstrap import get_context
from shared.services.intake import accept_event

if TYPE_CHECKING:  # the request readers load with the first ZORT call, not at every cold start
    from functions._zort_request import ZortBody

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
QUERY_FIELDS = ("id", "number", "paymentstatus")
READY = {"status": "ready", "detail": "ZORT events are POSTed here with ?method=EVENT"}


def _check_key1(req: func.HttpRequest, tenant: str, required: bool) -> None:
    """ZORT sends key1 as `Authorization: Basic {key1}` and as the `key1` header. A wrong key is
    always refused; a missing one only when an event is being delivered (`required`)."""
    from functions._zort_request import key1_matches, key1_presented

    zort = get_context().settings.tenant(tenant).zort
    if zort is None:
        return  # not configured: the function key alone admits it; processing waits, blocked
    if not required and not key1_presented(req):
        return
    if not key1_matches(req, zort.key1):
        raise Problem(
            401,
            "Unauthorized",
            "send this tenant's ZORT key1 as 'Authorization: Basic {key1}' or "
            "as the key1 header (key1 itself or base64 of it)",
            "Authorization",
            headers={"WWW-Authenticate": 'Basic realm="zort"'},
        )


def _validate(method: str, body: "ZortBody", raw_query: dict[str, str | None]) -> None:
    """Refuses the call with a problem when its method, payload or query does not fit."""
    from shared.zort.webhooks import RECORDED_ONLY_EVENTS, UnknownZortMethod, ZortQuery, parse_event  # lazy: 23 models

    if method and method not in RECORDED_ONLY_EVENTS:
        try:
            parse_event(method, body.payload)
        except UnknownZortMethod:
            raise Problem(400, "Unknown method", f"{method[:64]!r} is not a ZORT event", "method") from None
        except ValidationError as error:
            if not body.whole_form:  # a form without payload is kept as sent; processing says what failed
                raise validation_problem(error, "payload.") from None
    try:
        ZortQuery.model_validate({"method": method or "-", **raw_query})
    except ValidationError as error:
        raise validation_problem(error, "query.") from None


@bp.function_name("zort")
@bp.route(route="webhooks/{tenantId}/zort", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def zort(req: func.HttpRequest) -> func.HttpResponse:
    from functions._zort_request import ZortBody, read_body
    from shared.zort.calls import ZortCall

    tenant = require_tenant(req.route_params.get("tenantId"))
    body = read_body(req) if req.method.upper() == "POST" else ZortBody({}, None, empty=True)
    method = (req.params.get("method") or body.form.get("method") or "").strip().upper()
    if not method and body.empty:
        _check_key1(req, tenant, required=False)
        return json_response(READY)
    _check_key1(req, tenant, required=True)
    raw_query = {name: (req.params.get(name) or body.form.get(name)) for name in QUERY_FIELDS}
    raw_query = {k: v for k, v in raw_query.items() if v not in (None, "")}
    _validate(method, body, raw_query)
    event = {"method": method, "query": raw_query, "payload": body.payload}
    if body.whole_form:
        event["shape"] = "form without payload"
    context = get_context()
    call = ZortCall(method=method, query=raw_query, payload=body.payload)  # the identity; `event` is recorded
    acceptance = accept_event(context.events, context.queue, tenant=tenant, message=call, body=event)
    return json_response(acceptance.as_body())
