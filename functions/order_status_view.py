"""GET /v1/orders/{internalOrderId}/status — webtracking: where is my order."""

import azure.functions as func

from functions._http import Problem, endpoint, json_response
from shared.bootstrap import get_context
from shared.domain.ids import internal_order_id, parse_internal_order_id

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("status")
@bp.route(route="v1/orders/{internalOrderId}/status", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def status(req: func.HttpRequest) -> func.HttpResponse:
    internal_id = req.route_params.get("internalOrderId", "")
    parsed = parse_internal_order_id(internal_id)  # faco-03272813 names faco-3272813
    context = get_context()
    found = parsed and context.orders.get(parsed[0], internal_order_id(*parsed))
    if not found:
        raise Problem(404, "Order not found", f"no order {internal_id!r}", "internalOrderId")
    from shared.services.status_view import order_status_view  # on first call, not at cold start

    order = found[0]
    return json_response(order_status_view(order, returns_desk=context.settings.loop(order.tenant).returns_desk))
