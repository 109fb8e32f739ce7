"""What the three marketplace webhook functions share: validate, record, queue, acknowledge.

Every route accepts every documented marketplace event (`shared.models.marketplace_events`, the one
table): a seller subscribes one callback URL to a list of events, so the route does not decide what
an event is; its name does.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func
from pydantic import ValidationError

from functions._http import Problem, json_response, read_json, require_object, require_tenant, validation_problem
from shared.bootstrap import get_context
from shared.models.marketplace_events import MARKETPLACE_EVENTS, marketplace_event
from shared.services.intake import accept_event


def _event_problem(body: dict[str, Any]) -> Problem:
    if "event" not in body:
        return Problem(400, "Invalid request body", "event: Field required", "event")
    names = ", ".join(MARKETPLACE_EVENTS)
    return Problem(
        400,
        "Invalid request body",
        f"event: not a documented marketplace event (one of {names})",
        "event",
    )


def receive(req: func.HttpRequest) -> func.HttpResponse:
    tenant = require_tenant(req.route_params.get("tenantId"))
    body = require_object(read_json(req))
    entry = marketplace_event(body.get("event"))
    if entry is None:
        raise _event_problem(body)
    try:
        hook = entry.model.model_validate(body)
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
        internal_order_id=entry.internal_order_id(tenant, hook),
        refresh_completed=entry.refresh_completed,
    )
    return json_response(acceptance.as_body())
