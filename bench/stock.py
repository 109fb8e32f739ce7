"""Stock sync: ZORT stock webhooks for one tenant through the runner, its flush timer, the marketplace.

`webhooks` UPDATEPRODUCTQUANTITY webhooks over `skus` SKUs (each SKU several times, with stale stock
hints, at `concurrency`) for a tenant with stock sync on (faar in local.settings.example.json, buffer
1), whose products Thor already keeps as listed by the marketplace. ZORT's sandbox holds each SKU's
current stock, and the marketplace sandbox refuses `refused` of them in its feeds (FeedErrors).
Measured: the acknowledgements (latency, rate, all 200); stock freshness the feed way: every SKU
*confirmed* (clean in ThorStock: the feed that carried it finished without an error for it) with the
sandbox's stock at ZORT's value less the buffer, and the time from the first webhook to the last
confirmation; every refused SKU visible in Thor (dirty, with the marketplace's message) and absent
from the sandbox's stock; the UpdateStock calls (feeds) per flush (goal ≤ 4, 500 SKUs each; calls are
grouped into flushes by the time between them) and the FeedStatus polls; and, in-process, the Table
requests of one stock webhook's acknowledgement (goal 2: record + queue) and of its processing.
No onFeedCompleted is sent (the documentation says it fires for product feeds only): every feed is
confirmed by the flush polling FeedStatus; the sandbox finishes a feed when first asked.

The acknowledgements are measured first on a runner serving HTTP only (as the ack phase measures,
so they compare with its floor), then the same webhooks are sent again to a runner with the processor
and only the flush timer on (every `timer_interval` seconds), each on an Azurite of its own. The
marketplace sandbox's throttle (the feeds' 50 calls free, then 2 minutes apart; unconfirmed for
UpdateStock) is lifted for this run, so the figure is Thor's own batching, not the throttle's.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

import requests
from azure.storage.queue import QueueClient

from bench.load import percentile, send_all
from localdev.stack import Stack, present_azurite

TENANT = "faar"
BUFFER = 1  # MARKETPLACE_STOCK_BUFFER_FAAR in local.settings.example.json


@dataclass
class StockConfig:
    webhooks: int = 10_000
    skus: int = 2_000
    concurrency: int = 16
    timer_interval: float = 5.0
    timeout_seconds: float = 3000.0  # after the webhooks are sent; the goal sets no time: the settle time is reported
    refused: int = 20  # SKUs the sandbox's feeds refuse


QUICK = StockConfig(webhooks=1_000, skus=200, refused=5)


def _call(key: str, key1: str, sku: str, hint: int) -> tuple[str, dict[str, Any], dict[str, Any], bytes]:
    payload = {
        "id": abs(hash(sku)) % 10**6,
        "sku": sku,
        "name": "bench",
        "stock": f"{hint}.00",
        "availablestock": f"{hint}.00",
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {key1}"}
    params = {"code": key, "method": "UPDATEPRODUCTQUANTITY"}
    return f"/webhooks/{TENANT}/zort", params, headers, urlencode({"payload": json.dumps(payload)}).encode()


def _queue_client(values: dict[str, Any]) -> QueueClient:
    from shared.adapters.storage import EVENTS_QUEUE

    return QueueClient.from_connection_string(values["AzureWebJobsStorage"], EVENTS_QUEUE)


def _backlog(queue: QueueClient) -> int | None:
    """The events still queued for the processor (Azurite's approximate count); None when it does not answer."""
    try:
        return int(queue.get_queue_properties(timeout=10).approximate_message_count or 0)
    except Exception:
        return None


def _load() -> str:
    """The machine's load average over 1, 5 and 15 minutes (the figures move with it on 2 CPUs)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _flushes(calls: list[dict[str, Any]], gap: float) -> list[int]:
    """UpdateStock calls per flush: calls closer than `gap` seconds belong to one flush."""
    groups: list[int] = []
    last = None
    for call in sorted(calls, key=lambda c: c["at"]):
        if last is None or call["at"] - last > gap:
            groups.append(0)
        groups[-1] += 1
        last = call["at"]
    return groups


def table_requests_per_webhook(stack: Stack, key: str, key1: str) -> dict[str, Any]:
    """In-process, counted at the SDK transport: one stock webhook's acknowledgement and its processing."""
    from bench.payloads import Call
    from bench.storage_work import InProcessThor, RequestCounter, http_request, service_ports
    from shared.bootstrap import get_context
    from shared.domain.product import Product
    from shared.services.processing import process_event

    thor = InProcessThor(stack)
    context = get_context()
    sku = f"BENCH-STOCK-COUNT-{time.time_ns()}"
    context.products.upsert_many([Product(tenant=TENANT, sku=sku, marketplace_listed=True)])
    counter = RequestCounter(service_ports(stack))
    path, params, headers, body = _call(key, key1, sku, 1)
    warm = _call(key, key1, sku, 2)
    thor.functions["zort"](http_request(Call("POST", *warm)))  # warm-up
    with counter.active():
        answer = thor.functions["zort"](http_request(Call("POST", path, params, headers, body)))
    ack = counter.snapshot()
    event_id = json.loads(answer.get_body())["eventId"]
    with counter.active():
        status = process_event(context, TENANT, event_id, context.settings.retry_delays)
    processing = counter.snapshot()
    return {
        "ack": {"table": ack["table"], "queue": ack["queue"]},
        "processing": {
            "table": processing["table"],
            "queue": processing["queue"],
            "status": getattr(status, "value", status),
        },
    }


def measure(
    stack: Stack, config: StockConfig, progress: Callable[..., None] = print, log: IO[Any] | None = None
) -> dict[str, Any]:
    values = stack.values
    key, key1 = values["LOCAL_FUNCTION_KEY"], values[f"ZORT_KEY1_{TENANT.upper()}"]
    counted = table_requests_per_webhook(stack, key, key1)
    progress(f"  one stock webhook: ack {counted['ack']}, processing {counted['processing']}")
    runner = Stack(values=dict(values), servers=stack.servers)
    runner.start_storage()
    try:
        from shared.adapters.product_repo import ProductRepository
        from shared.adapters.storage import Storage
        from shared.domain.product import Product
        from shared.settings import read_storage

        run = f"{time.time_ns() % 10**8:08d}"
        skus = [f"BENCH-STOCK-{run}-{i:05d}" for i in range(config.skus)]
        ProductRepository(Storage(read_storage(runner.values))).upsert_many(
            [Product(tenant=TENANT, sku=sku, marketplace_listed=True) for sku in skus]
        )
        rng = random.Random(11)
        final = {sku: rng.randrange(0, 60) for sku in skus}
        market, zort = stack.servers["marketplace"].url, stack.servers["zort"].url
        requests.post(market + "/_sandbox/stock/limits", json={"free_calls": 10**9, "min_interval": 0}, timeout=10)
        requests.post(market + "/_sandbox/feeds", json={"delay": 0, "webhook_url": None}, timeout=10)
        refused = skus[:: max(1, config.skus // max(1, config.refused))][: config.refused]
        refusal = "Seller SKU '%s' not found"
        requests.post(market + "/_sandbox/stock/refuse", json={"skus": refused, "message": refusal}, timeout=10)
        store = values[f"ZORT_STORENAME_{TENANT.upper()}"]
        requests.post(
            zort + "/_sandbox/stock",
            json={"store": store, "stock": {s: f"{q}.00" for s, q in final.items()}},
            timeout=30,
        )
        calls = [_call(key, key1, skus[i % config.skus], rng.randrange(0, 100)) for i in range(config.webhooks)]
        # 1. The acknowledgements as the ack phase measures them (HTTP only), on an Azurite of their own,
        #    so they compare with its floor (a 10,000-message backlog would then slow Azurite's queue,
        #    whose reads scan it, far beyond what Azure's does).
        acks = Stack(values=dict(values), servers=stack.servers)
        acks.start_storage().start_runner(["--no-queue", "--no-timers"], stdout=log)
        try:
            statuses, latencies, seconds = send_all(acks.thor_url, calls, config.concurrency)
        finally:
            acks.stop_runner()
            present_azurite(acks).stop()
        progress(f"  {len(calls)} stock webhooks acknowledged in {seconds:.1f}s (HTTP only)")
        # 2. The same webhooks again with the processor and the flush timer working as they arrive.
        started_at = time.time()
        # Only the flush timer, every few seconds (reconciliation's every 15 minutes would scan the event
        # log every few seconds here, an Azurite cost the deployed app never pays at that rate).
        runner.start_runner(["--timers", "stock_flush", "--timer-interval", str(config.timer_interval)], stdout=log)
        processed_statuses, _, processed_seconds = send_all(runner.thor_url, calls, config.concurrency)
        progress(f"  sent again with processing on in {processed_seconds:.1f}s; waiting for the flushes")
        user = values[f"MARKETPLACE_USER_ID_{TENANT.upper()}"]
        refused_set = set(refused)
        expected = {sku: max(0, q - BUFFER) for sku, q in final.items() if sku not in refused_set}
        from shared.adapters.stock_repo import StockRepository

        stock_repo = StockRepository(Storage(read_storage(runner.values)))
        mine = set(skus)

        def confirmed() -> tuple[int, int, dict[str, str]]:
            """(SKUs confirmed by a finished feed with the right stock in the sandbox, refused SKUs gone
            from the sandbox, refused SKUs Thor shows with the marketplace's reason)."""
            shown = requests.get(market + "/_sandbox/stock", timeout=30).json().get(user, {}).get("main", {})
            # the check's own reads kept small (the SKUs' names only; the failing ones in full) so that
            # it does not load the Azurite the runner works on
            unconfirmed = set(stock_repo.marked_skus(TENANT)) & mine
            failing = {r.sku: r.reason or "" for r in stock_repo.failures(TENANT, limit=1000)}
            right = sum(sku not in unconfirmed and shown.get(sku) == q for sku, q in expected.items())
            absent = sum(sku not in shown for sku in refused)
            seen = {sku: failing[sku] for sku in refused if sku in unconfirmed and "not found" in failing.get(sku, "")}
            return right, absent, seen

        from shared.ports import StorageUnavailable

        deadline = time.monotonic() + config.timeout_seconds
        right, absent, seen = 0, 0, dict[str, str]()
        last_progress, drained_after = time.monotonic(), None
        queue = _queue_client(runner.values)
        while time.monotonic() < deadline:
            checked = time.monotonic()
            try:  # the check's own query may time out on a loaded Azurite: then it asks again
                right, absent, seen = confirmed()
            except (StorageUnavailable, requests.RequestException) as error:
                progress(f"    check failed: {error!r}")
            backlog = _backlog(queue)
            if backlog == 0 and drained_after is None:
                drained_after = time.time() - started_at
            if time.monotonic() - last_progress > 30:
                last_progress = time.monotonic()
                try:
                    state = stock_repo.tenant_state(TENANT)
                    last = f"last flush {state.last_result}: {(state.last_detail or '')[:160]}"
                except StorageUnavailable:
                    last = "last flush: (storage busy)"
                progress(
                    f"    +{time.time() - started_at:.0f}s: {right}/{len(expected)} confirmed, {len(seen)} refused seen,"
                    f" {backlog} events queued (check {time.monotonic() - checked:.1f}s, load {_load()}); {last}"
                )
            if right == len(expected) and len(seen) == len(refused):
                break
            time.sleep(2)
        settled_after = time.time() - started_at
        time.sleep(config.timer_interval * 2)  # flushes still under way end
        log_calls = requests.get(market + "/_sandbox/requests", timeout=60).json()
        updates = [c for c in log_calls if c["query"].get("Action") == "UpdateStock" and c["at"] >= started_at]
        polls = [c for c in log_calls if c["query"].get("Action") == "FeedStatus" and c["at"] >= started_at]
        rows = [c["body"].count("<Stock>") for c in updates]
        per_flush = _flushes(updates, config.timer_interval / 2)
        feeds = requests.get(market + "/_sandbox/feeds", timeout=60).json()
        refused_by_sandbox = {e["SellerSku"] for f in feeds for e in f["errors"]}
    finally:
        runner.stop_runner()
        present_azurite(runner).stop()
    return {
        "webhooks": len(calls),
        "skus": config.skus,
        "concurrency": config.concurrency,
        "answers_200": statuses.count(200),
        "answers_200_processing": processed_statuses.count(200),
        "ack_p50_ms": round(percentile(latencies, 50), 1),
        "ack_p99_ms": round(percentile(latencies, 99), 1),
        "ack_rps": round(len(calls) / seconds, 1),
        "skus_correct": right,
        "skus_expected": len(expected),
        "refused": len(refused),
        "refused_seen": len(seen),
        "refused_absent_from_marketplace": absent,
        "refused_unseen": sorted(refused_by_sandbox - set(seen)),
        "settled_seconds": round(settled_after, 1),
        "queue_drained_seconds": None if drained_after is None else round(drained_after, 1),
        # the engine's own lag: from the processor's last mark to the last confirmation
        "confirmed_after_drain_seconds": None if drained_after is None else round(settled_after - drained_after, 1),
        "load_average": _load(),
        "update_stock_calls": len(updates),
        "feed_status_calls": len(polls),
        "feeds_per_flush": per_flush,
        "max_rows_per_call": max(rows, default=0),
        "flushes_writing": len(per_flush),
        "max_writes_per_flush": max(per_flush, default=0),
        "table_requests_per_webhook": counted,
        "met": right == len(expected)
        and len(seen) == len(refused) == absent
        and not (refused_by_sandbox - set(seen))
        and statuses.count(200) == len(calls) == processed_statuses.count(200)
        and max(per_flush, default=0) <= 4
        and max(rows, default=0) <= 500
        and counted["ack"]["table"] + counted["ack"]["queue"] == 2,
    }
