"""POST /webhooks/{tenantId}/orders — subscribed to onOrderCreated; accepts every marketplace event."""

import azure.functions as func

from functions._http import endpoint
from functions._webhooks import receive

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("orders")
@bp.route(route="webhooks/{tenantId}/orders", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def orders(req: func.HttpRequest) -> func.HttpResponse:
    return receive(req)
