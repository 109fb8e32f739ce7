"""Phase 6: one worker at a time, measured through the runner with the queue processor on.

- Duplicate storm: `copies` copies of one onOrderCreated at `concurrency`; once it is processed,
  the external calls the sandboxes recorded for that order, beside those of one delivery
  (1 GetOrder + 1 GetOrderItems from the marketplace, 1 OMS create, no update).
- Concurrent status changes: `changes` onOrderItemsStatusChanged of one order, all sent at once
  while the marketplace moves its items from ready_to_ship to shipped; then the order's bodies the
  OMS sandbox received, in the order it received them, and how many were older (by `updated_at`,
  the version of Thor's order they carry) than one it had already received.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from bench.payloads import Ids
from localdev.sandboxes._server import RunningServer
from localdev.stack import Stack
from shared.domain.statuses import ITEM_STATUSES

TENANT = "faco"
ONE_DELIVERY = {"GetOrder": 1, "GetOrderItems": 1, "oms create": 1, "oms update": 0}


@dataclass
class StormConfig:
    copies: int = 200
    concurrency: int = 32
    changes: int = 50
    timeout_seconds: float = 60.0


def _oms_bodies(oms_url: str, order_ref: str) -> list[tuple[str, dict[str, Any]]]:
    calls = requests.get(oms_url + "/_sandbox/requests", timeout=10).json()
    sent = [(c["method"], json.loads(c["body"])) for c in calls if c["method"] in ("POST", "PUT") and c["body"]]
    return [(method, body) for method, body in sent if isinstance(body, dict) and body.get("orderRef") == order_ref]


def external_calls(servers: dict[str, RunningServer], order_id: int, tenant: str = TENANT) -> dict[str, int]:
    """What the sandboxes received for one order: marketplace reads, OMS creates and updates."""
    market = requests.get(servers["marketplace"].url + "/_sandbox/requests", timeout=10).json()
    actions = [c["query"].get("Action") for c in market if c["query"].get("OrderId") == str(order_id)]
    methods = [method for method, _ in _oms_bodies(servers["oms"].url, f"{tenant}-{order_id}")]
    return {
        "GetOrder": actions.count("GetOrder"),
        "GetOrderItems": actions.count("GetOrderItems"),
        "oms create": methods.count("POST"),
        "oms update": methods.count("PUT"),
    }


def older_than_sent(oms_url: str, order_ref: str) -> tuple[int, int]:
    """(bodies the OMS received for the order, how many were older than one received before)."""
    versions = [body.get("updated_at") or "" for _, body in _oms_bodies(oms_url, order_ref)]
    older = sum(1 for i, version in enumerate(versions) if i and version < max(versions[:i]))
    return len(versions), older


def distinct_changes(item_ids: list[str], limit: int) -> list[tuple[tuple[str, ...], str]]:
    """Up to `limit` different (items, new status) pairs: each one is its own event (the webhook is a
    hint; processing reads the marketplace's statuses)."""
    subsets = [
        tuple(item for bit, item in enumerate(item_ids) if mask >> bit & 1)
        for mask in range(1, 2 ** min(len(item_ids), 6))
    ]
    return [(subset, status) for status in sorted(ITEM_STATUSES) for subset in subsets][:limit]


def send_all(thor_url: str, key: str, path: str, bodies: list[dict[str, Any]], concurrency: int) -> list[int]:
    def send(body: dict[str, Any]) -> int:
        try:
            return requests.post(thor_url + path, params={"code": key}, json=body, timeout=30).status_code
        except requests.RequestException:
            return 0

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(send, bodies))


def _until(check: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def duplicate_storm(stack: Stack, order_id: int, config: StormConfig) -> dict[str, Any]:
    key, servers = stack.values["LOCAL_FUNCTION_KEY"], stack.servers
    body = {"event": "onOrderCreated", "payload": {"OrderId": order_id}}
    answers = send_all(stack.thor_url, key, f"/webhooks/{TENANT}/orders", [body] * config.copies, config.concurrency)
    processed = _until(lambda: external_calls(servers, order_id)["oms create"] >= 1, config.timeout_seconds)
    time.sleep(2)  # anything still queued for it would have run by now
    calls = external_calls(servers, order_id)
    return {
        "copies": config.copies,
        "concurrency": config.concurrency,
        "answers_200": answers.count(200),
        "processed": processed,
        "calls": calls,
        "one_delivery": ONE_DELIVERY,
        "met": calls == ONE_DELIVERY,
    }


def status_changes(stack: Stack, order_id: int, config: StormConfig) -> dict[str, Any]:
    key, servers = stack.values["LOCAL_FUNCTION_KEY"], stack.servers
    order_ref = f"{TENANT}-{order_id}"
    send_all(
        stack.thor_url,
        key,
        f"/webhooks/{TENANT}/orders",
        [{"event": "onOrderCreated", "payload": {"OrderId": order_id}}],
        1,
    )
    view: dict[str, Any] = {}

    def items() -> list[dict[str, Any]] | None:
        answer = requests.get(f"{stack.thor_url}/v1/orders/{order_ref}/status", params={"code": key}, timeout=10)
        view.update(answer.json() if answer.status_code == 200 else {})
        return view.get("items")

    if not _until(items, config.timeout_seconds):
        raise RuntimeError(f"order {order_ref} was not processed in time")
    item_ids = [item["itemId"] for item in view["items"]]

    def move(status: str) -> None:
        requests.post(
            servers["marketplace"].url + "/_sandbox/items/status",
            json={"order_item_ids": item_ids, "status": status},
            timeout=10,
        )

    bodies = [
        {
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": str(order_id), "OrderItemIds": list(subset), "NewStatus": status},
        }
        for subset, status in distinct_changes(item_ids, config.changes)
    ]
    move("ready_to_ship")
    half = config.changes // 2
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(send_all, stack.thor_url, key, f"/webhooks/{TENANT}/orders/status", bodies[:half], half)
        time.sleep(0.2)
        move("shipped")
        second = pool.submit(
            send_all, stack.thor_url, key, f"/webhooks/{TENANT}/orders/status", bodies[half:], config.changes - half
        )
        answers = first.result() + second.result()

    def settled() -> bool:
        oms = requests.get(servers["oms"].url + "/_sandbox/orders", timeout=10).json()["orders"]
        mine = [o["order"] for o in oms if o["order"].get("orderRef") == order_ref]
        return bool(mine) and mine[0].get("orderStatus") == "SHIPPED"

    settled_in_time = _until(settled, config.timeout_seconds)
    time.sleep(2)
    sent, older = older_than_sent(servers["oms"].url, order_ref)
    return {
        "changes": len(bodies),
        "answers_200": answers.count(200),
        "settled": settled_in_time,
        "oms_bodies": sent,
        "older_than_sent": older,
        "met": older == 0 and settled_in_time,
    }


def measure(stack: Stack, ids: Ids, config: StormConfig, progress: Callable[..., None] = print) -> dict[str, Any]:
    storm = duplicate_storm(stack, ids.next(), config)
    progress(f"  duplicate storm: {storm['calls']} (one delivery: {ONE_DELIVERY})")
    order_id = ids.next()
    while order_id % 3 != 2:  # the marketplace sandbox gives order N 1 + N % 3 items: three, for 70 distinct changes
        order_id = ids.next()
    changes = status_changes(stack, order_id, config)
    progress(
        f"  {changes['changes']} concurrent status changes: {changes['oms_bodies']} OMS bodies, "
        f"{changes['older_than_sent']} older than one already sent"
    )
    return {"duplicate_storm": storm, "status_changes": changes}
