"""Thor's read-modify-write of one of its orders under optimistic concurrency, retried on conflicts.

(Not to be confused with the OMS's order update, a PUT: see the OMS adapter.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.domain.at_risk import seller_canceled
from shared.domain.errors import NotFound
from shared.domain.order import Order
from shared.domain.retries import RETRY_POLICY
from shared.ports import ConcurrentUpdate, OrderRepositoryPort
from shared.services.activity import tally
from shared.services.claims import fenced

T = TypeVar("T")
MAX_CONFLICTS = RETRY_POLICY.order_write_conflicts


def change_order(
    orders: OrderRepositoryPort,
    tenant: str,
    internal_order_id: str,
    mutate: Callable[[Order], T],
    create: Callable[[], Order] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Order, T]:
    """Applies `mutate` to the stored order (or to `create()` when there is none) and saves it.

    `mutate` may run more than once (once per conflict), so it must only change the order.
    A mutate that leaves `order.version` unchanged skips the write. A worker holding the order's
    claim writes its fencing token on the order and is refused (ClaimLost) once the stored order
    carries a newer one (shared.services.claims.fenced): the write is conditional on the ETag read.
    """
    for attempt in range(MAX_CONFLICTS):
        found = orders.get(tenant, internal_order_id)
        etag: str | None = None
        if found is not None:
            order, etag = found
        elif create is not None:
            order = create()
        else:
            raise NotFound("internalOrderId", f"no order {internal_order_id!r}")
        fence = fenced(tenant, internal_order_id, order.fence)
        before, canceled_before = order.version, seller_canceled(order)
        result = mutate(order)
        if fence is not None and order.version != before:
            order.fence = fence
        try:
            if etag is None:
                orders.add(order)
            elif order.version != before:
                orders.save(order, etag)
            if not canceled_before and seller_canceled(order):
                tally("seller_canceled")  # the console's cancellation rate (shared.services.console)
            return order, result
        except ConcurrentUpdate:
            sleep(random.uniform(0, 0.02 * (attempt + 1)))
    raise ConcurrentUpdate(f"{internal_order_id}: gave up after {MAX_CONFLICTS} conflicting writes")
