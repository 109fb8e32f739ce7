"""Phase `console`: the operations console with 10,000 orders and 1,000 open incidents in one tenant.

Seeds 10,000 orders (in batches of 100), a week of activity counts, and 1,400 events of the tenant
(1,000 of them open: failed, blocked or unmatched) into a fresh Azurite, then measures over HTTP, one request at a time, each console page beside
the status endpoint (one order read), and counts the Table requests of one view of each page (every
request the storage SDK sends, counted in this process with the page's service functions). The goal:
every page's p99 within the status endpoint's budget, `PAGE_BUDGET_MS`, and Table requests per view
named and bounded by the page (shared/services/console.py), the same with 10 or 10,000 orders.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import requests
from azure.core.pipeline import PipelineRequest

from localdev.stack import Stack

TENANT = "soco"
ORDERS = 10_000
VIEWS = 30
PAGE_BUDGET_MS = 500.0  # p99 of one page view, sequential: the budget the status endpoint is held to here
# Ceilings per view, from shared/services/console.py: the overview reads per tenant its activity (1), its
# two order risk queries (at most 2 pages each), its two event queries (1 page each) and, with stock sync
# on (soco here and faar in the local settings), its stock state and refused SKUs (2): 9 x 7 + 2 x 2 = 67; the radar per
# tenant its awaiting-shipment query (at most 2 pages) and 30 days of activity (at most 3 pages): 45;
# a search for a marketplace order id point reads per tenant the order and the product, and the stock SKU
# where stock sync is on: 9 + 9 + 2 = 20.
EXPECTED_REQUESTS = {
    "overview": 67,
    "tenant": 4,
    "at-risk": 4,
    "radar": 45,
    "search": 20,
    "order": 2,
    "event": 1,
}
OPEN_INCIDENTS = 1_000
DIRTY_SKUS = 2_500  # the tenant's stock sync is on with this backlog: its state is read too


def _seed(values: dict[str, Any], progress: Callable[..., None]) -> tuple[str, str]:
    import os

    os.environ.update(values)
    from shared.adapters.activity_counts import ActivityCounts
    from shared.adapters.event_log import _to_entity as event_entity
    from shared.adapters.order_repo import _to_entity as order_entity
    from shared.adapters.storage import EVENTS_TABLE, ORDERS_TABLE, Storage
    from shared.domain.events import EventKind, EventStatus, InboundEvent
    from shared.domain.order import Order, OrderItem, utcnow
    from shared.settings import load_settings

    storage = Storage(load_settings(values, strict=False).storage)
    now = utcnow()
    orders = storage.table(ORDERS_TABLE)
    batch = []
    for n in range(ORDERS):
        synced = n % 50 != 0  # 200 orders not in the OMS
        order = Order(
            tenant=TENANT,
            marketplace_order_id=str(n + 1),
            internal_order_id=f"{TENANT}-{n + 1}",
            created_at=now - timedelta(minutes=n),
            promised_shipping_time=now + timedelta(hours=(n % 96) - 24),
            oms_synced=synced,
            items=[OrderItem(item_id=f"{n}0", sku=f"SKU-{n % 500}", status="pending" if n % 3 else "shipped")],
        )
        order.note("order created", f"marketplace order {n + 1}", source="marketplace")
        batch.append(("create", order_entity(order)))
        if len(batch) == 100:
            orders.submit_transaction(batch)
            batch = []
        if n % 2000 == 0:
            progress(f"  console: {n} orders seeded")
    events = storage.table(EVENTS_TABLE)
    open_statuses = [EventStatus.FAILED, EventStatus.BLOCKED, EventStatus.UNMATCHED]
    for n in range(OPEN_INCIDENTS + 400):
        status = open_statuses[n % 3] if n < OPEN_INCIDENTS else EventStatus.COMPLETED
        event = InboundEvent(
            tenant=TENANT,
            event_id=f"bench-console-{n:04d}",
            kind=EventKind.ORDER_CREATED,
            body={"payload": {"OrderId": n + 1}},
            received_at=now - timedelta(minutes=n),
            status=status,
            internal_order_id=f"{TENANT}-{n + 1}",
        )
        events.create_entity(event_entity(event))
    from shared.adapters.stock_repo import StockRepository

    StockRepository(storage).mark_dirty(TENANT, [f"BENCH-{n:05d}" for n in range(DIRTY_SKUS)], now)
    activity = ActivityCounts(storage)
    for hour in range(7 * 24):
        for shard in range(4):
            activity.add(TENANT, now - timedelta(hours=hour), {"accepted": 10, "completed": 9, "failed": 1}, shard)
    return f"{TENANT}-1", "bench-console-0000"


def _pages(order_id: str, event_id: str) -> dict[str, str]:
    return {
        "overview": "/console",
        "tenant": f"/console/tenants/{TENANT}",
        "at-risk": f"/console/tenants/{TENANT}/at-risk",
        "radar": "/console/radar",
        "search": "/console/search?q=5000",
        "order": f"/console/tenants/{TENANT}/orders/{order_id}",
        "event": f"/console/tenants/{TENANT}/events/{event_id}",
    }


def _count_requests(values: dict[str, Any], order_id: str, event_id: str) -> dict[str, int]:
    """Table requests of one view of each page, counted on every request the SDK sends."""
    from shared.adapters import storage as storage_module
    from shared.bootstrap import reset_context

    sent = []
    original = storage_module.bound_request_time

    def counting(request: PipelineRequest[Any]) -> None:
        sent.append(request.http_request.url)
        original(request)

    storage_module.bound_request_time = counting
    try:
        reset_context()
        from shared.bootstrap import get_context
        from shared.services import console

        context = get_context()
        for table in (
            "ThorEvents",
            "ThorOrders",
            "ThorActivity",
            "ThorStock",
            "ThorProducts",
        ):  # created before counting
            context.storage.table(table)
        calls: dict[str, Callable[[], object]] = {
            "overview": lambda: console.overview(context),
            "tenant": lambda: console.tenant_overview(context, TENANT),
            "at-risk": lambda: console.at_risk(context, TENANT),
            "radar": lambda: console.sla_radar(context),
            "search": lambda: console.search(context, "5000"),
            "order": lambda: console.order_journey(context, TENANT, order_id),
            "event": lambda: console.event_summary(context, TENANT, event_id),
        }
        counts: dict[str, int] = {}
        for name, call in calls.items():
            sent.clear()
            call()
            counts[name] = len(sent)
        return counts
    finally:
        storage_module.bound_request_time = original
        reset_context()


def _timed(url: str, views: int) -> dict[str, Any]:
    times = []
    for _ in range(views):
        began = time.perf_counter()
        answer = requests.get(url, timeout=30)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, f"{url}: {answer.status_code}"
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))]}


def measure(base: Stack, progress: Callable[..., None], views: int = VIEWS) -> dict[str, Any]:
    stack = Stack(values={**base.values, f"MARKETPLACE_STOCK_SYNC_{TENANT.upper()}": "true"}, servers=base.servers)
    try:
        stack.start_storage()
        order_id, event_id = _seed(stack.values, progress)
        stack.start_runner(["--no-queue"])
        key = stack.values["LOCAL_FUNCTION_KEY"]
        status = _timed(f"{stack.thor_url}/v1/orders/{order_id}/status?code={key}", views)
        pages = {name: _timed(stack.thor_url + path, views) for name, path in _pages(order_id, event_id).items()}
        requests_per_view = _count_requests(stack.values, order_id, event_id)
    finally:
        stack.stop_runner()
        if stack.azurite:
            stack.azurite.stop()
    return {
        "orders": ORDERS,
        "open_incidents": OPEN_INCIDENTS,
        "views": views,
        "status": status,
        "pages": pages,
        "table_requests": requests_per_view,
        "expected_requests": EXPECTED_REQUESTS,
        "budget_ms": PAGE_BUDGET_MS,
    }
