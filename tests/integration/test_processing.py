"""Processing against real Azurite and the sandboxes: dead letter, replay, blocking, crashes between
steps, concurrent changes of one order, storage outages. A marketplace 429 backed off inside the call
is the Seller Center client's (test_seller_center_client.py::test_429_twice_then_success); the retry
schedule and its delays are tested on fakes (tests/unit/test_event_pipeline.py)."""

from __future__ import annotations

import concurrent.futures
import json
import time
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from shared.bootstrap import Context
from shared.domain.events import EventKind, EventStatus
from shared.services import marketplace_flows
from shared.services.intake import record_event
from shared.services.processing import process_event, replay
from shared.settings import load_settings
from tests.checks import present

ORDER = 4440000


def oms_orders(stack: Stack, order_ref: str) -> list[dict[str, Any]]:
    orders = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    return [o["order"] for o in orders if o["order"]["orderRef"] == order_ref]


def fail(stack: Stack, system: str, mode: str, times: int, match: str | None = None) -> None:
    requests.post(
        stack.servers[system].url + "/_sandbox/fail", json={"mode": mode, "times": times, "match": match}, timeout=5
    )


def record_order_created(context: Context, tenant: str, order_id: int) -> str:
    acceptance = record_event(
        context.events,
        context.queue,
        tenant=tenant,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
    )
    return acceptance.event_id


def test_unconfigured_tenant_blocks_until_configured(stack: Stack) -> None:
    values = {k: v for k, v in stack.values.items() if not k.startswith("OMS_") or k == "OMS_BASE_URL"}
    context = Context(load_settings(values))
    event_id = record_order_created(context, "soar", ORDER + 3)
    assert process_event(context, "soar", event_id) is EventStatus.BLOCKED
    blocked = context.events.get("soar", event_id)
    assert "OMS_TOKEN_SOAR" in present(present(blocked).reason)
    configured = Context(load_settings(stack.values))
    replay(configured, "soar", event_id)
    assert process_event(configured, "soar", event_id) is EventStatus.COMPLETED
    assert len(oms_orders(stack, f"soar-{ORDER + 3}")) == 1


def test_crash_between_keeping_the_order_and_the_oms_call_finishes_once(
    context: Context, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = record_order_created(context, "fape", ORDER + 4)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("worker died")  # not an Exception: nothing in Thor catches it

    monkeypatch.setattr(marketplace_flows, "sync_to_oms", crash)
    with pytest.raises(SystemExit):
        process_event(context, "fape", event_id, owner="message-1")
    assert context.orders.get("fape", f"fape-{ORDER + 4}") is not None  # first step done
    assert present(context.events.get("fape", event_id)).status is EventStatus.RECEIVED
    monkeypatch.undo()
    # the redelivered message (same message id) takes its own claim back at once
    assert process_event(context, "fape", event_id, owner="message-1") is EventStatus.COMPLETED
    assert process_event(context, "fape", event_id) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("fape", f"fape-{ORDER + 4}"))
    assert order.oms_synced and len(oms_orders(stack, f"fape-{ORDER + 4}")) == 1
    assert [e.what for e in order.timeline].count("order created") == 1


def oms_sends(stack: Stack, order_ref: str) -> list[dict[str, Any]]:
    """The order's bodies the OMS sandbox received (creates and updates), in the order it got them."""
    calls = requests.get(stack.servers["oms"].url + "/_sandbox/requests", timeout=5).json()
    bodies = [json.loads(c["body"]) for c in calls if c["method"] in ("POST", "PUT") and c["body"]]
    return [b for b in bodies if b.get("orderRef") == order_ref]


def process_until_settled(
    context: Context, tenant: str, event_ids: list[str], rounds: int = 30
) -> dict[str, EventStatus | None]:
    """Processes the events 16 at a time like the queue worker, again for those sent back to wait."""
    pending, results = list(event_ids), dict[str, EventStatus | None]()
    for _ in range(rounds):
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(lambda e: process_event(context, tenant, e), pending))
        results.update(zip(pending, outcomes, strict=True))
        pending = [e for e, outcome in zip(pending, outcomes, strict=True) if outcome is not None and outcome.pending]
        if not pending:
            return results
    raise AssertionError(f"{len(pending)} events still waiting")


def test_fifty_parallel_status_changes_of_one_order_lose_nothing_and_never_send_an_older_version(
    context: Context, stack: Stack
) -> None:
    order_id = ORDER + 5
    assert process_event(context, "sope", record_order_created(context, "sope", order_id)) is EventStatus.COMPLETED
    order, _ = present(context.orders.get("sope", f"sope-{order_id}"))
    item_ids = [item.item_id for item in order.items]
    sequence = ["ready_to_ship", "shipped", "delivered"]
    requests.post(
        stack.servers["marketplace"].url + "/_sandbox/items/status",
        json={"order_item_ids": item_ids, "status": "delivered"},
        timeout=5,
    )
    events = []
    for i in range(50):
        status = sequence[i % 3]
        body = {
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": str(order_id), "OrderItemIds": [item_ids[i % len(item_ids)]], "NewStatus": status},
        }
        events.append(
            record_event(
                context.events,
                context.queue,
                tenant="sope",
                kind=EventKind.ITEMS_STATUS,
                identity=[i, status],
                body=body,
            ).event_id
        )
    results = process_until_settled(context, "sope", list(reversed(events)))
    assert set(results.values()) == {EventStatus.COMPLETED}
    order, _ = present(context.orders.get("sope", f"sope-{order_id}"))
    assert {item.status for item in order.items} == {"delivered"}
    assert oms_orders(stack, f"sope-{order_id}")[0]["orderStatus"] == "COMPLETE"
    assert order.oms_synced and order.oms_synced_version == order.version
    versions = [body["updated_at"] for body in oms_sends(stack, f"sope-{order_id}")]
    assert len(versions) >= 2 and versions == sorted(versions)  # never an older version after a newer one


def test_a_slow_oms_send_is_never_overtaken_by_a_later_version_of_the_order(context: Context, stack: Stack) -> None:
    order_id = ORDER + 9
    assert process_event(context, "sope", record_order_created(context, "sope", order_id)) is EventStatus.COMPLETED
    order_ref = f"sope-{order_id}"
    item_ids = [item.item_id for item in present(context.orders.get("sope", order_ref))[0].items]

    def status_change(status: str) -> str:
        requests.post(
            stack.servers["marketplace"].url + "/_sandbox/items/status",
            json={"order_item_ids": item_ids, "status": status},
            timeout=5,
        )
        body = {
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": str(order_id), "OrderItemIds": item_ids, "NewStatus": status},
        }
        return record_event(
            context.events, context.queue, tenant="sope", kind=EventKind.ITEMS_STATUS, identity=[status], body=body
        ).event_id

    requests.post(
        stack.servers["oms"].url + "/_sandbox/fail", json={"mode": "slow", "seconds": 1.5, "times": 1}, timeout=5
    )  # the first worker's OMS call answers late
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(process_event, context, "sope", status_change("ready_to_ship"))
        time.sleep(0.5)  # while it waits on the OMS, the order moves on and a second worker takes it up
        second = pool.submit(process_event, context, "sope", status_change("shipped"))
        outcomes = [first.result(), second.result()]
    process_until_settled(
        context, "sope", [e.event_id for e in context.events.for_order("sope", order_ref) if e.status.pending]
    )
    assert EventStatus.COMPLETED in outcomes
    versions = [body["updated_at"] for body in oms_sends(stack, order_ref)]
    assert versions == sorted(versions)  # never an older version after a newer one
    assert oms_orders(stack, order_ref)[0]["orderStatus"] == "SHIPPED"


def test_storage_outage_is_storage_unavailable_and_records_nothing(stack: Stack) -> None:
    from shared.ports import StorageUnavailable

    values = dict(
        stack.values,
        AzureWebJobsStorage=stack.values["AzureWebJobsStorage"]
        .replace(str(present(stack.azurite).ports["table"]), "1")
        .replace(str(present(stack.azurite).ports["queue"]), "1"),
    )
    context = Context(load_settings(values))
    with pytest.raises(StorageUnavailable):
        record_order_created(context, "faco", ORDER + 6)


def test_correlation_id_follows_the_event_to_the_marketplace_and_the_oms(context: Context, stack: Stack) -> None:
    event_id = record_order_created(context, "soco", ORDER + 7)
    assert process_event(context, "soco", event_id) is EventStatus.COMPLETED
    for system in ("marketplace", "oms"):
        calls = requests.get(stack.servers[system].url + "/_sandbox/requests", timeout=5).json()
        assert calls and {c["headers"].get("x-correlation-id") for c in calls} == {event_id}, system


def test_an_error_that_cannot_fix_itself_fails_at_once_and_replays_after_the_fix(stack: Stack) -> None:
    wrong = Context(load_settings(dict(stack.values, OMS_TOKEN_SOMX="revoked-token")))
    event_id = record_order_created(wrong, "somx", ORDER + 8)
    assert process_event(wrong, "somx", event_id) is EventStatus.FAILED
    failed = wrong.events.get("somx", event_id)
    assert (
        present(failed).attempts == 1
        and "401" in present(present(failed).reason)
        and "revoked-token" not in present(present(failed).reason)
    )
    fixed = Context(load_settings(stack.values))
    replay(fixed, "somx", event_id)
    assert process_event(fixed, "somx", event_id) is EventStatus.COMPLETED
