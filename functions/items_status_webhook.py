"""POST /webhooks/{tenantId}/orders/status — subscribed to onOrderItemsStatusChanged (and
onReturnStatusChanged); accepts every marketplace event."""

import azure.functions as func

from functions._http import endpoint
from functions._webhooks import receive

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("order_status")
@bp.route(route="webhooks/{tenantId}/orders/status", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def order_status(req: func.HttpRequest) -> func.HttpResponse:
    return receive(req)
