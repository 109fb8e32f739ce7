"""GET /health — is Thor able to reach its storage? Answers that and nothing else.

200 {"status": "ok", "storage": "reachable"}, or 503 {"status": "degraded", "storage":
"unreachable"} with Retry-After. No versions, settings, names or error details: the reason is
logged, never answered.
"""

import logging

import azure.functions as func

from functions._http import RETRY_AFTER_SECONDS, json_response
from shared.bootstrap import get_context, storage_deadline

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.health")
HEALTH_BOUND_SECONDS = 2.0  # a probe waits seconds: storage that does not answer by then is "unreachable"
NO_STORE = {"Cache-Control": "no-store"}


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def health(req: func.HttpRequest) -> func.HttpResponse:
    try:
        with storage_deadline(HEALTH_BOUND_SECONDS):
            get_context().storage.ping()
    except Exception as error:
        log.warning(
            "health: storage unreachable: %s: %s",
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )
        return json_response(
            {"status": "degraded", "storage": "unreachable"},
            503,
            headers={"Retry-After": RETRY_AFTER_SECONDS, **NO_STORE},
        )
    return json_response({"status": "ok", "storage": "reachable"}, headers=NO_STORE)
