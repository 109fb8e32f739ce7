"""POST /webhooks/{tenantId}/orders — the marketplace's onOrderCreated."""

import azure.functions as func

from functions._http import endpoint
from functions._webhooks import receive
from shared.domain.ids import internal_order_id
from shared.models.webhooks import OrderCreatedWebhook

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("orders")
@bp.route(route="webhooks/{tenantId}/orders", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def orders(req: func.HttpRequest) -> func.HttpResponse:
    return receive(
        req,
        OrderCreatedWebhook,
        internal_order_id=lambda tenant, hook: internal_order_id(tenant, hook.payload.OrderId),
    )
