"""What the three marketplace webhook functions share: validate, record, queue, acknowledge."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import azure.functions as func
from pydantic import ValidationError

from functions._http import json_response, read_json, require_object, require_tenant, validation_problem
from shared.bootstrap import get_context
from shared.models.webhooks import MarketplaceWebhook
from shared.services.intake import accept_event

W = TypeVar("W", bound=MarketplaceWebhook)


def _no_order(tenant: str, hook: MarketplaceWebhook) -> None:
    return None


def receive(
    req: func.HttpRequest,
    model: type[W],
    internal_order_id: Callable[[str, W], str | None] = _no_order,
    refresh_completed: bool = False,
) -> func.HttpResponse:
    tenant = require_tenant(req.route_params.get("tenantId"))
    body = require_object(read_json(req))
    try:
        hook = model.model_validate(body)
    except ValidationError as error:
        raise validation_problem(error) from None
    context = get_context()
    # Recorded with the validated payload, so the processor reads ids in their canonical spelling.
    recorded = {**body, "payload": hook.payload.model_dump(mode="json", exclude_unset=True)}
    acceptance = accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=hook,
        body=recorded,
        internal_order_id=internal_order_id(tenant, hook),
        refresh_completed=refresh_completed,
    )
    return json_response(acceptance.as_body())
