"""POST /webhooks/{tenantId}/products — subscribed to the product, feed, statistics and metrics
events; accepts every marketplace event."""

import azure.functions as func

from functions._http import endpoint
from functions._webhooks import receive

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("products")
@bp.route(route="webhooks/{tenantId}/products", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def products(req: func.HttpRequest) -> func.HttpResponse:
    return receive(req)
