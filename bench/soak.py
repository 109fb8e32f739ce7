"""Phase 5: a soak. A steady, paced mix of every endpoint against Thor with its queue processor on;
the serving process's memory (VmRSS) sampled along the way; at the end, every acknowledged event
looked up in the event log (Table `ThorEvents`) until all are completed or the drain times out.

Acknowledged events are the event ids Thor answered (webhooks: `eventId`; refunds: the refund
event, whose id Thor derives from the answered `refundId` exactly as shared.domain.ids does).
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.data.tables import TableClient

from bench.load import Clients, percentile
from bench.payloads import TENANT, Call, Ids, Webhooks, items_status, order_status, refund
from localdev.stack import Stack
from shared.adapters.storage import EVENTS_TABLE
from shared.domain.ids import event_id as thor_event_id

MIX = {"orders": 3, "orders/status": 2, "products": 2, "zort": 2, "status": 3, "refund": 1}
ITEM_STATUSES = ("ready_to_ship", "shipped", "delivered")
SLOW_MS = 2000
EXPECTED = {"status": {200, 404}, "refund": {201}}  # 404: the order is not processed yet


@dataclass
class SoakConfig:
    seconds: float = 180.0
    warmup_seconds: float = 15.0
    rate: float = 30.0  # operations per second, all kinds together
    workers: int = 8
    samples: int = 6
    drain_timeout: float = 120.0


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Soak:
    def __init__(self, stack: Stack, ids: Ids, config: SoakConfig) -> None:
        self.url, self.key = stack.thor_url, stack.values["LOCAL_FUNCTION_KEY"]
        self.webhooks = Webhooks(self.key, stack.values[f"ZORT_KEY1_{TENANT.upper()}"], ids)
        self.config, self.clients = config, Clients()
        self.lock = threading.Lock()
        self.rng = random.Random(7)
        self.orders: list[int] = []  # marketplace order ids Thor acknowledged
        self.refundable: list[tuple[str, str]] = []  # (internal order id, sku) seen on the status view
        self.refunded: set[tuple[str, str]] = set()
        self.acknowledged: dict[str, str] = {}  # event id -> kind
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.unexpected: list[str] = []
        self.slow: list[str] = []  # requests over SLOW_MS, with their wall-clock start

    # --- one operation -----------------------------------------------------------------------

    def pick_kind(self) -> str:
        with self.lock:
            return self.rng.choices(list(MIX), weights=list(MIX.values()))[0]

    def known_order(self) -> int | None:
        with self.lock:
            return self.rng.choice(self.orders) if self.orders else None

    def refund_target(self) -> tuple[str, str] | None:
        with self.lock:
            while self.refundable:
                target = self.refundable.pop(self.rng.randrange(len(self.refundable)))
                if target not in self.refunded:
                    self.refunded.add(target)
                    return target
        return None

    def call_for(self, kind: str) -> tuple[str, Call]:
        order = self.known_order()
        if kind == "orders/status" and order is not None:
            return kind, items_status(self.key, order, self.rng.choice(ITEM_STATUSES))
        if kind == "status" and order is not None:
            return kind, order_status(self.key, f"{TENANT}-{order}")
        if kind == "refund":
            target = self.refund_target()
            if target:
                return kind, refund(self.key, *target)
            if order is not None:
                return "status", order_status(self.key, f"{TENANT}-{order}")
        if kind in ("status", "refund"):
            kind = "orders"
        return kind, self.webhooks.make(kind)

    def run_one(self) -> None:
        kind, call = self.call_for(self.pick_kind())
        began, wall = time.perf_counter(), datetime.now(timezone.utc)
        try:
            status, body = self.clients.get(self.url).request(
                call.method, call.path, call.params, call.body, call.headers
            )
        except Exception as error:
            status, body = 0, f"{type(error).__name__}: {error}".encode()
        elapsed = (time.perf_counter() - began) * 1000
        with self.lock:
            self.statuses[kind][status] += 1
            self.latencies[kind].append(elapsed)
            if elapsed > SLOW_MS:
                self.slow.append(f"{wall:%H:%M:%S.%f} {kind} {call.path} {elapsed:.0f} ms -> {status}")
            if status not in EXPECTED.get(kind, {200}):
                self.unexpected.append(f"{kind} {call.path} -> {status}: {body[:200]!r}")
        if status in (200, 201):
            self.remember(kind, call, json.loads(body))

    def remember(self, kind: str, call: Call, answer: dict[str, Any]) -> None:
        with self.lock:
            if kind == "status":
                internal_id = answer["internalOrderId"]
                self.refundable += [
                    (internal_id, item["sku"])
                    for item in answer.get("items", [])
                    if (internal_id, item["sku"]) not in self.refunded
                ]
                del self.refundable[:-200]  # keep the newest
            elif kind == "refund":
                refund_id = answer["refund"]["refundId"]
                self.acknowledged[thor_event_id("refund", TENANT, refund_id)] = kind
            else:
                self.acknowledged[answer["eventId"]] = kind
                if kind == "orders":
                    self.orders.append(int(answer["internalOrderId"].split("-", 1)[1]))

    # --- the paced run -----------------------------------------------------------------------

    def run(self, pid: int, progress: Callable[..., None] = print) -> dict[str, Any]:
        config = self.config
        began = time.perf_counter() + 0.2
        measured_from = began + config.warmup_seconds
        ends = measured_from + config.seconds
        ticket = itertools.count()
        memory: list[tuple[float, int]] = []

        def worker() -> None:
            while True:
                due = began + next(ticket) / config.rate
                if due >= ends:
                    break
                time.sleep(max(0.0, due - time.perf_counter()))
                self.run_one()
            self.clients.close()

        def sampler() -> None:
            time.sleep(max(0.0, measured_from - time.perf_counter()))
            for i in range(config.samples + 1):
                memory.append((round(time.perf_counter() - measured_from, 1), rss_kib(pid)))
                if i < config.samples:
                    time.sleep(
                        max(0.0, measured_from + (i + 1) * config.seconds / config.samples - time.perf_counter())
                    )

        sampling = threading.Thread(target=sampler, daemon=True)
        sampling.start()
        with ThreadPoolExecutor(max_workers=config.workers) as pool:
            for future in [pool.submit(worker) for _ in range(config.workers)]:
                future.result()
        sampling.join()
        load_seconds = time.perf_counter() - began
        progress(
            f"  soak: {sum(sum(c.values()) for c in self.statuses.values())} requests in "
            f"{load_seconds:.0f} s, {len(self.acknowledged)} events acknowledged; draining"
        )
        return {"memory_kib": memory, "load_seconds": round(load_seconds, 1)}


def event_statuses(connection: str, since: datetime) -> dict[str, str]:
    table = TableClient.from_connection_string(connection, table_name=EVENTS_TABLE)
    with table:
        rows = table.query_entities(
            "PartitionKey eq @t and receivedAt ge @since",
            parameters={"t": TENANT, "since": since},
            select=["RowKey", "status"],
        )
        return {row["RowKey"]: row.get("status", "") for row in rows}


def drain(connection: str, acknowledged: dict[str, str], since: datetime, timeout: float) -> dict[str, Any]:
    """Waits until every acknowledged event is completed (or the timeout); their statuses at the end."""
    began = time.perf_counter()
    while True:
        stored = event_statuses(connection, since)
        pending = [e for e in acknowledged if stored.get(e) != "completed"]
        if not pending or time.perf_counter() - began > timeout:
            break
        time.sleep(1.0)
    by_status = Counter(stored.get(e, "missing from the log") for e in acknowledged)
    return {
        "drain_seconds": round(time.perf_counter() - began, 1),
        "by_status": dict(by_status),
        "not_completed_examples": [(e, acknowledged[e], stored.get(e, "missing")) for e in pending[:5]],
    }


def measure(stack: Stack, ids: Ids, config: SoakConfig, progress: Callable[..., None] = print) -> dict[str, Any]:
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    soak = Soak(stack, ids, config)
    assert stack.runner is not None
    pid = stack.runner.pid
    run = soak.run(pid, progress)
    drained = drain(stack.values["AzureWebJobsStorage"], soak.acknowledged, since, config.drain_timeout)
    memory = run["memory_kib"]
    requests_by_kind = {
        kind: {
            "answers": {str(k): v for k, v in sorted(c.items())},
            "p50_ms": round(percentile(soak.latencies[kind], 50), 1),
            "p99_ms": round(percentile(soak.latencies[kind], 99), 1),
        }
        for kind, c in sorted(soak.statuses.items())
    }
    acknowledged = len(soak.acknowledged)
    completed = drained["by_status"].get("completed", 0)
    result = {
        "seconds": config.seconds,
        "warmup_seconds": config.warmup_seconds,
        "rate": config.rate,
        "load_seconds": run["load_seconds"],
        "requests": requests_by_kind,
        "unexpected_answers": len(soak.unexpected),
        "unexpected_examples": soak.unexpected[:5],
        "slow_requests": len(soak.slow),
        "slow_examples": soak.slow[:20],
        "memory_kib": memory,
        "rss_start_kib": memory[0][1],
        "rss_end_kib": memory[-1][1],
        "rss_after_drain_kib": rss_kib(pid),
        "acknowledged": acknowledged,
        "completed": completed,
        "lost": acknowledged - completed,
        **drained,
    }
    result["rss_ratio"] = round(result["rss_end_kib"] / result["rss_start_kib"], 3)
    progress(
        f"  soak: RSS {result['rss_start_kib'] // 1024} → {result['rss_end_kib'] // 1024} MiB, "
        f"{completed}/{acknowledged} acknowledged events completed after {drained['drain_seconds']} s"
    )
    return result
