"""Phase 2: end to end, onOrderCreated → the order with its items on Thor's status endpoint and in the OMS.

`concurrency` workers each send an order, then wait for it (closed loop: that many orders in flight).
A worker polls the OMS sandbox's order API until the order is there, then Thor's status endpoint
until it shows the items (Thor saves the order before sending it to the OMS, so that is one GET).
The latency runs from just before the POST to the moment both were seen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.load import Clients, percentile
from bench.payloads import TENANT, Ids, order_created, order_status
from localdev.stack import Stack


@dataclass
class E2EConfig:
    orders: int = 200
    concurrency: int = 8
    poll_seconds: float = 0.05  # the latency is over-estimated by at most this much
    timeout_seconds: float = 60.0


class Visibility:
    def __init__(self, stack: Stack, clients: Clients, config: E2EConfig) -> None:
        self.thor, self.oms = stack.thor_url, stack.servers["oms"].url
        self.key = stack.values["LOCAL_FUNCTION_KEY"]
        self.oms_headers = {
            "Authorization": f"Bearer {stack.values[f'OMS_TOKEN_{TENANT.upper()}']}",
            "X-TWC-Tenant": stack.values[f"OMS_TENANT_{TENANT.upper()}"],
        }
        self.clients, self.config = clients, config

    def in_oms(self, internal_id: str) -> bool:
        status, _ = self.clients.get(self.oms).request(
            "GET", "/api/v1/orders", {"orderRef": internal_id}, headers=self.oms_headers
        )
        return status == 200

    def on_status(self, internal_id: str) -> bool:
        call = order_status(self.key, internal_id)
        status, body = self.clients.get(self.thor).request(call.method, call.path, call.params, None, call.headers)
        return status == 200 and bool(json.loads(body).get("items"))

    def wait(self, check: Callable[[str], bool], internal_id: str, deadline: float) -> bool:
        while time.perf_counter() < deadline:
            if check(internal_id):
                return True
            time.sleep(self.config.poll_seconds)
        return False

    def one(self, order_id: int) -> dict[str, Any]:
        call = order_created(self.key, order_id)
        began = time.perf_counter()
        status, body = self.clients.get(self.thor).request(call.method, call.path, call.params, call.body, call.headers)
        acked = time.perf_counter()
        if status != 200:
            return {"order": order_id, "error": f"HTTP {status}: {body[:200]!r}"}
        internal_id = json.loads(body)["internalOrderId"]
        deadline = began + self.config.timeout_seconds
        if not self.wait(self.in_oms, internal_id, deadline):
            return {"order": order_id, "error": "not in the OMS in time"}
        in_oms = time.perf_counter()
        if not self.wait(self.on_status, internal_id, deadline):
            return {"order": order_id, "error": "no items on the status endpoint in time"}
        return {
            "order": order_id,
            "ack_s": acked - began,
            "oms_s": in_oms - began,
            "visible_s": time.perf_counter() - began,
        }


def measure(stack: Stack, ids: Ids, config: E2EConfig, progress: Callable[..., None] = print) -> dict[str, Any]:
    visibility = Visibility(stack, Clients(), config)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        outcomes = list(pool.map(visibility.one, [ids.next() for _ in range(config.orders)]))
    wall = time.perf_counter() - began
    seen = [o["visible_s"] for o in outcomes if "visible_s" in o]
    errors = [o for o in outcomes if "error" in o]
    result = {
        "orders": config.orders,
        "concurrency": config.concurrency,
        "poll_ms": round(config.poll_seconds * 1000),
        "visible": len(seen),
        "errors": len(errors),
        "first_error": errors[0]["error"] if errors else "",
        "wall_s": round(wall, 2),
        "orders_per_s": round(len(seen) / wall, 2) if wall else 0.0,
        "p50_s": round(percentile(seen, 50), 3),
        "p95_s": round(percentile(seen, 95), 3),
        "max_s": round(max(seen), 3) if seen else float("nan"),
        "ack_p50_ms": round(percentile([o["ack_s"] * 1000 for o in outcomes if "ack_s" in o], 50), 1),
    }
    progress(
        f"  e2e {result['visible']}/{config.orders} orders visible, p50 {result['p50_s']} s, "
        f"p95 {result['p95_s']} s, errors {result['errors']}"
    )
    return result
