"""Phase `alerts`: the alert timer's Table requests with 10,000 orders and 1,000 active incidents.

Seeds, in an Azurite of its own: 10,000 orders in one tenant (200 not in the OMS, a third with items
not ready to ship, promised times spread over four days), 400 events (failed and unmatched among
them), and 1,000 active incident rows: one open incident per at-risk rule of that tenant, the rest
under partitions of no tenant (an incident is one per tenant and rule, so Thor itself never keeps
more than 9 × 7 = 63; the others stand for rows the timer must read and cannot clear, the worst
case of its one query). Then runs the alert timer's work in this process (`run_alerts`, channels on
the alert sandbox) twice, counting every storage request the SDK sends, by table:

- run 1: incidents change (counts, tenants' incidents opened or resolved), so it writes;
- run 2: nothing changed, so it must only read.

Goal (shared/services/alerts.py): per run 1 query of the active incidents per 1,000 of them, 4
bounded at-risk queries per tenant (36), and 1 write per incident that changed; run 2 writes none.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from azure.core.pipeline import PipelineRequest

from localdev.stack import Stack

TENANT = "soco"
ORDERS = 10_000
INCIDENTS = 1_000
TENANTS = 9
QUERIES_PER_TENANT = 4


def _seed(values: dict[str, Any], progress: Callable[..., None]) -> None:
    from shared.adapters.event_log import _to_entity as event_entity
    from shared.adapters.incident_repo import IncidentRepository
    from shared.adapters.order_repo import _to_entity as order_entity
    from shared.adapters.storage import EVENTS_TABLE, INCIDENTS_TABLE, ORDERS_TABLE, Storage
    from shared.domain.alerts import Incident, Message
    from shared.domain.at_risk import RiskKind
    from shared.domain.events import EventKind, EventStatus, InboundEvent
    from shared.domain.order import Order, OrderItem, utcnow
    from shared.settings import load_settings

    storage = Storage(load_settings(values, strict=False).storage)
    now = utcnow()
    orders, batch = storage.table(ORDERS_TABLE), []
    for n in range(ORDERS):
        order = Order(
            tenant=TENANT,
            marketplace_order_id=str(n + 1),
            internal_order_id=f"{TENANT}-{n + 1}",
            created_at=now - timedelta(minutes=n),
            promised_shipping_time=now + timedelta(hours=(n % 96) - 24),
            oms_synced=n % 50 != 0,
            items=[OrderItem(item_id=f"{n}0", sku=f"SKU-{n % 500}", status="pending" if n % 3 else "shipped")],
        )
        batch.append(("create", order_entity(order)))
        if len(batch) == 100:
            orders.submit_transaction(batch)
            batch = []
        if n % 2500 == 0:
            progress(f"  alerts: {n} orders seeded")
    events = storage.table(EVENTS_TABLE)
    statuses = [EventStatus.COMPLETED] * 6 + [EventStatus.FAILED, EventStatus.UNMATCHED]
    for n in range(400):
        events.create_entity(
            event_entity(
                InboundEvent(
                    tenant=TENANT,
                    event_id=f"bench-alerts-{n:04d}",
                    kind=EventKind.ORDER_CREATED,
                    body={"payload": {"OrderId": n + 1}},
                    received_at=now - timedelta(minutes=n),
                    status=statuses[n % len(statuses)],
                    internal_order_id=f"{TENANT}-{n + 1}",
                )
            )
        )
    repo = IncidentRepository(storage)
    storage.table(INCIDENTS_TABLE)
    told = now - timedelta(hours=1)
    for rule in RiskKind:  # the tenant's incidents, already told an hour ago
        repo.save(Incident(TENANT, rule, told, count_text="1", last_sent_at=told, last_sent=Message.OPENED))
    rules = list(RiskKind)
    for n in range(INCIDENTS - len(rules)):  # rows under no tenant: read by the one query, never cleared
        repo.save(
            Incident(f"bench{n // len(rules):03d}", rules[n % len(rules)], told, count_text="1", last_sent_at=told)
        )


def _run_counted(sent: list[str]) -> tuple[Counter[str], float, int, int]:
    from shared.bootstrap import get_context
    from shared.services.alerts import run_alerts

    context = get_context()
    sent.clear()
    began = time.perf_counter()
    run = run_alerts(context, context.alert_ports)
    seconds = time.perf_counter() - began
    by_table: Counter[str] = Counter()
    for url in sent:
        path = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        by_table[path.split("(")[0]] += 1
    return by_table, seconds, run.writes, len(run.sent)


def measure(base: Stack, progress: Callable[..., None]) -> dict[str, Any]:
    from shared.adapters import storage as storage_module
    from shared.adapters.storage import ALL_TABLES
    from shared.bootstrap import get_context, reset_context

    stack = Stack(values=dict(base.values), servers=base.servers)
    saved = dict(os.environ)
    sent: list[str] = []
    original = storage_module.bound_request_time

    def counting(
        request: PipelineRequest[Any],
    ) -> None:  # every storage request the SDK sends (the hook of every client)
        sent.append(request.http_request.url)
        original(request)

    try:
        stack.start_storage()
        _seed(stack.values, progress)
        os.environ.update(stack.values)
        storage_module.bound_request_time = counting  # before the clients are built: they keep the hook
        reset_context()
        for table in ALL_TABLES:  # created before counting
            get_context().storage.table(table)
        runs = []
        for number in (1, 2):
            by_table, seconds, writes, messages = _run_counted(sent)
            runs.append(
                {
                    "run": number,
                    "table_requests": sum(by_table.values()),
                    "by_table": dict(by_table),
                    "incident_writes": writes,
                    "messages": messages,
                    "seconds": round(seconds, 3),
                }
            )
            progress(f"  alerts: run {number}: {sum(by_table.values())} Table requests {dict(by_table)}")
    finally:
        storage_module.bound_request_time = original
        os.environ.clear()
        os.environ.update(saved)
        reset_context()
        if stack.azurite:
            stack.azurite.stop()
    # a full last page of 1,000 may take one more request to learn it was the last
    reads_goal = math.ceil((INCIDENTS + 1) / 1000) + TENANTS * QUERIES_PER_TENANT
    return {
        "orders": ORDERS,
        "incidents": INCIDENTS,
        "runs": runs,
        "reads_goal": reads_goal,
        "goal_text": f"≤ {reads_goal} reads (1 incident query per 1,000 + {TENANTS} × {QUERIES_PER_TENANT} at-risk) "
        "+ 1 write per changed incident; run 2: 0 writes",
    }
