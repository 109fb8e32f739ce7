"""Reconciliation against Azurite and the sandboxes: orders whose webhooks never came are repaired.
(Skipping unconfigured tenants is tested on fakes: tests/unit/test_reconciliation.py.)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from localdev.stack import Stack
from shared.bootstrap import Context
from shared.domain.events import EventStatus
from shared.services.processing import process_event
from shared.services.reconciliation import CHECKPOINT_NAME, reconcile_tenant
from tests.checks import present
from tests.conftest import eventually

TENANT = "faco"
ORDERS = [7311001, 7311002, 7311003]


def seed(stack: Stack, order_ids: Iterable[int], updated_at: datetime | None = None) -> None:
    body: dict[str, Any] = {"order_ids": list(order_ids)}
    if updated_at:
        body["updated_at"] = updated_at.isoformat()
    answer = requests.post(stack.servers["marketplace"].url + "/_sandbox/orders", json=body, timeout=5)
    answer.raise_for_status()


def oms_refs(stack: Stack) -> set[str]:
    orders = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    return {o["order"].get("orderRef") for o in orders}


def settle(context: Context, event_id: str) -> EventStatus:
    """Processes the event like the queue would, again after a failure: the session's runner may be
    processing the same event at the same time (its queue worker shares this Azurite)."""
    status = None
    for _ in range(5):
        status = process_event(context, TENANT, event_id, retry_delays=(0, 0, 0, 0, 0))
        if not present(status).pending:
            break
    return present(status)


def checkpoint(context: Context) -> datetime | None:
    found = context.checkpoints.get(CHECKPOINT_NAME, TENANT)
    return found.position if found else None


def test_orders_without_webhooks_are_repaired_once_and_the_checkpoint_only_moves_forward(
    context: Context, stack: Stack
) -> None:
    before = checkpoint(context)
    updated = datetime.now(timezone.utc).replace(microsecond=0)
    seed(stack, ORDERS, updated)
    expected = {f"{TENANT}-{order_id}" for order_id in ORDERS}

    first = reconcile_tenant(context, TENANT, page_size=2)  # two pages: 2 + 1
    assert first["checked"] == len(ORDERS)
    assert {r["internal_order_id"] for r in first["repaired"] + first["already_queued"]} == expected
    assert all(r["reason"] == "missing in Thor" for r in first["repaired"])
    for event_id in first["event_ids"]:
        assert settle(context, event_id) is EventStatus.COMPLETED

    for internal_id in expected:
        order, _ = present(context.orders.get(TENANT, internal_id))
        assert order.fetched and order.items and order.oms_synced
    assert expected <= eventually(lambda: oms_refs(stack) if expected <= oms_refs(stack) else None)

    moved = checkpoint(context)
    assert moved == max(updated, before or updated)  # forward to the latest update seen, never back
    stored = context.checkpoints.get(CHECKPOINT_NAME, TENANT)
    assert present(stored).summary["checked"] == 3 and present(stored).summary["repaired_count"] == len(
        first["repaired"]
    )

    second = reconcile_tenant(context, TENANT)  # the same orders are seen again (overlap), all in sync
    assert second["repaired"] == [] and second["already_queued"] == []
    assert checkpoint(context) == moved

    # an older position never moves the checkpoint back
    context.checkpoints.save(
        CHECKPOINT_NAME, TENANT, moved - timedelta(days=3), {"test": 1}, datetime.now(timezone.utc)
    )
    assert checkpoint(context) == moved


def test_an_order_changed_in_the_marketplace_is_repaired_and_the_same_state_only_once(
    context: Context, stack: Stack
) -> None:
    order_id = 7311011
    internal_id = f"{TENANT}-{order_id}"
    seed(stack, [order_id])
    first = reconcile_tenant(context, TENANT)
    for event_id in first["event_ids"]:
        settle(context, event_id)
    assert present(context.orders.get(TENANT, internal_id))[0].status == "pending"

    item_id = f"{order_id}0"
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/items/status",
        json={"order_item_ids": [item_id], "status": "shipped"},
        timeout=5,
    ).raise_for_status()
    changed = reconcile_tenant(context, TENANT)
    repaired = [r for r in changed["repaired"] if r["internal_order_id"] == internal_id]
    assert len(repaired) == 1 and "statuses differ" in repaired[0]["reason"]
    for event_id in changed["event_ids"]:
        assert settle(context, event_id) is EventStatus.COMPLETED
    order, _ = present(context.orders.get(TENANT, internal_id))
    assert order.items_by_id()[item_id].status == "shipped" and order.oms_synced

    again = reconcile_tenant(context, TENANT)
    assert [r for r in again["repaired"] if r["internal_order_id"] == internal_id] == []
