"""POST /webhooks/{tenantId}/orders/status — the marketplace's onOrderItemsStatusChanged."""

import azure.functions as func

from functions._http import endpoint
from functions._webhooks import receive
from shared.domain.ids import internal_order_id
from shared.models.webhooks import ItemsStatusChangedWebhook

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated


@bp.function_name("order_status")
@bp.route(route="webhooks/{tenantId}/orders/status", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@endpoint
def order_status(req: func.HttpRequest) -> func.HttpResponse:
    return receive(
        req,
        ItemsStatusChangedWebhook,
        internal_order_id=lambda tenant, hook: internal_order_id(tenant, hook.payload.OrderId),
    )
