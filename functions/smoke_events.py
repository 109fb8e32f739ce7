"""GET / DELETE /v1/smoke/events/{eventId}?tenant= — the smoke test's synthetic event
(`shared.services.smoke`): its status, then its removal. Any other event is 404 here."""

import azure.functions as func

from functions._http import Problem, endpoint, json_response, require_tenant
from shared.bootstrap import get_context
from shared.services.smoke import remove, synthetic_event

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("smoke_event")
@bp.route(route="v1/smoke/events/{eventId}", methods=["GET", "DELETE"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def smoke_event(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.params.get("tenant"), "tenant")
    event_id = req.route_params.get("eventId", "")
    context = get_context()
    event = synthetic_event(context.events, tenant, event_id)
    if event is None:
        raise Problem(404, "Smoke event not found", f"no smoke event {event_id!r}", "eventId")
    if req.method == "DELETE":
        if not remove(context.events, event):
            raise Problem(409, "Not finished", f"smoke event {event_id!r} is {event.status.value}", "eventId")
        return json_response({"eventId": event_id, "status": "deleted"})
    return json_response({"eventId": event_id, "status": event.status.value})
