"""Refunds and exchanges asked for by customer service: checked, recorded, then sent to the OMS."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.domain.errors import Conflict, NotFound, RuleBroken
from shared.domain.ids import canonical_json, parse_internal_order_id
from shared.domain.ids import internal_order_id as make_internal_order_id
from shared.domain.order import Order
from shared.domain.refunds import Refund, RefundLine
from shared.domain.times import rfc3339
from shared.models.internal_events import RefundEvent
from shared.models.webhooks import RefundRequest
from shared.ports import JsonObject
from shared.roles import RefundsPorts
from shared.services.intake import accept_event
from shared.services.order_changes import change_order

CENT = Decimal("0.01")


@dataclass
class RefundAnswer:
    status: int
    body: JsonObject


def _refund_id(tenant: str, idempotency_key: str | None) -> str:
    if idempotency_key:
        return "rf-" + hashlib.sha256(f"{tenant}\n{idempotency_key}".encode()).hexdigest()[:24]
    return "rf-" + uuid.uuid4().hex[:24]


def amount_text(amount: Decimal) -> str:
    """Money as Thor answers it: two decimals, rounded half up (`1.5` → `"1.50"`)."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def _answer(order: Order, refund: Refund) -> JsonObject:
    return {
        "refund": {
            "refundId": refund.refund_id,
            "action": refund.action,
            "products": [{"sku": line.sku, "quantity": line.quantity} for line in refund.products],
            "value": amount_text(refund.value),
            "createdAt": rfc3339(refund.created_at),
        },
        "order": {
            "internalOrderId": order.internal_order_id,
            "paidTotal": amount_text(order.paid_total()),
            "refundedTotal": amount_text(order.refunded_total()),
            "refundedQuantities": {sku: order.refunded_quantity(sku) for sku in sorted({i.sku for i in order.items})},
        },
    }


def request_refund(
    context: RefundsPorts,
    tenant: str,
    internal_order_id: str,
    request: RefundRequest,
    raw_body: JsonObject,
    idempotency_key: str,
) -> RefundAnswer:
    """Records a refund once per `Idempotency-Key` (required: a retry without one would pay twice)."""
    parsed = parse_internal_order_id(internal_order_id)
    if parsed is None:
        raise NotFound("id", f"no order {internal_order_id!r}")
    internal_order_id = make_internal_order_id(*parsed)  # faco-03272813 names faco-3272813
    if parsed[0] != tenant:
        raise RuleBroken("tenant", f"order {internal_order_id!r} does not belong to tenant {tenant!r}")

    body_hash = hashlib.sha256(canonical_json(raw_body).encode()).hexdigest()
    if idempotency_key and not context.idempotency.add(
        tenant, idempotency_key, {"bodyHash": body_hash, "status": None}
    ):
        remembered = context.idempotency.get(tenant, idempotency_key) or {}
        if remembered.get("bodyHash") != body_hash:
            raise RuleBroken("Idempotency-Key", "this key was already used with a different body")
        status = remembered.get("status")
        if status is None:
            raise Conflict("Idempotency-Key", "a request with this key is still being processed")
        return RefundAnswer(status, remembered["body"])
    try:
        answer = _record_refund(context, tenant, internal_order_id, request, idempotency_key)
    except BaseException:
        if idempotency_key:  # let the caller's retry run again (the refund id makes it idempotent)
            context.idempotency.delete(tenant, idempotency_key)
        raise
    if idempotency_key:
        context.idempotency.replace(
            tenant, idempotency_key, {"bodyHash": body_hash, "status": answer.status, "body": answer.body}
        )
    return answer


def _record_refund(
    context: RefundsPorts, tenant: str, internal_order_id: str, request: RefundRequest, idempotency_key: str | None
) -> RefundAnswer:
    refund = Refund(
        refund_id=_refund_id(tenant, idempotency_key),
        action=request.action,
        products=[RefundLine(sku=p.sku, quantity=p.quantity) for p in request.products],
        value=request.value,
        created_at=context.clock(),
    )

    def add(order: Order) -> Refund:
        existing = next((r for r in order.refunds if r.refund_id == refund.refund_id), None)
        if existing:
            return existing
        return order.add_refund(refund)

    order, recorded = change_order(context.orders, tenant, internal_order_id, add, sleep=context.sleep)
    accept_event(
        context.events,
        context.queue,
        tenant=tenant,
        message=RefundEvent(internalOrderId=internal_order_id, refundId=recorded.refund_id),
        internal_order_id=internal_order_id,
        clock=context.clock,
    )
    return RefundAnswer(201, _answer(order, recorded))
