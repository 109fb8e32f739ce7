"""Tax documents (issue 19): POST /v1/orders/{id}/documents with 1 MB PDFs (`--only documents`).

1. Acknowledgement: `documents` requests of one 1 MB PDF each (1.33 MB of base64 in a JSON body) at
   `concurrency`, to a runner serving HTTP only (`--no-queue`, as the ack phase measures), beside the
   ack floor (bench.floor_app: one Table insert and one enqueue of a small webhook) at the same
   concurrency on the same Azurite. A document's acknowledgement does more than the floor by nature:
   it receives 1.33 MB, decodes it, writes the PDF to Blob Storage, then the floor's insert + enqueue
   (and the order's read and write, the Idempotency-Key's insert and update).
2. In flight: `in_flight` documents sent at once to a runner with its queue worker on (a fresh
   Azurite), the runner's RSS sampled every 20 ms from before the burst until the marketplace sandbox
   has taken every one (SetInvoicePDF): peak less baseline, and per document.

3. Per document (in process, tracemalloc): the peak a document's request allocates beyond its body
   (functions/documents.py: the PDF held once), the peak of reading the PDF back from Blob Storage
   (Azurite) and of building its SetInvoicePDF body; from them the bound stated for `in_flight`
   documents at once: each in-flight request holds its body and the PDF, each upload the PDF read back
   and its body (`per_document_bound_mib`, `bound_in_flight_mib`).

The orders are written straight into each Azurite (items ready to ship, as the sandbox has them),
so nothing but documents runs during the measurements.
"""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import requests

from bench.load import percentile
from bench.soak import rss_kib
from localdev.stack import Stack
from shared.adapters.storage import EVENTS_QUEUE, EVENTS_TABLE

TENANT = "facl"


@dataclass
class DocumentsConfig:
    documents: int = 160
    concurrency: int = 16
    in_flight: int = 50
    pdf_bytes: int = 1_000_000
    settle_seconds: float = 240.0


QUICK = DocumentsConfig(documents=48, in_flight=20)


def pdf(size: int, seed: int) -> bytes:
    return b"%PDF-1.7\n" + random.Random(seed).randbytes(size) + b"\n%%EOF\n"


def seed_orders(values: dict[str, Any], order_ids: list[int]) -> None:
    """Orders with one item ready to ship (the sandbox's item id scheme: order id * 10), straight into
    the Azurite of `values`."""
    from shared.adapters.order_repo import OrderRepository
    from shared.adapters.storage import Storage
    from shared.domain.order import Order, OrderItem
    from shared.settings import read_storage

    repo = OrderRepository(Storage(read_storage(values)))
    for order_id in order_ids:
        item = OrderItem(item_id=str(order_id * 10), sku="BENCH-1", status="ready_to_ship", paid_price=Decimal("10"))
        repo.add(
            Order(
                tenant=TENANT,
                marketplace_order_id=str(order_id),
                internal_order_id=f"{TENANT}-{order_id}",
                items=[item],
                fetched=True,
            )
        )


def _bodies(order_ids: list[int], size: int) -> list[tuple[int, bytes]]:
    encoded = base64.b64encode(pdf(size, 19)).decode()  # one PDF, shared: the client's memory stays small
    return [
        (
            order_id,
            json.dumps(
                {
                    "type": "FACTURA",
                    "number": f"F{order_id}",
                    "date": "2026-12-04",
                    "itemIds": [str(order_id * 10)],
                    "pdf": encoded,
                }
            ).encode(),
        )
        for order_id in order_ids
    ]


def _send(
    base: str, key: str, calls: list[tuple[int, bytes]], concurrency: int, retried: list[int] | None = None
) -> tuple[list[int], list[float], float]:
    """Each call's final status and latency (503s sent again included), and the whole time."""
    retried = retried if retried is not None else [0]
    lock = threading.Lock()
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))

    def send(call: tuple[int, bytes]) -> tuple[int, float]:
        """One document as its sender sends it: after a 503 (its Retry-After), a 409 or no answer, the same
        request again (counted)."""
        order_id, body = call
        began = time.perf_counter()
        for _ in range(40):
            try:
                answer = session.post(
                    f"{base}/v1/orders/{TENANT}-{order_id}/documents",
                    params={"tenant": TENANT, "code": key},
                    headers={"Content-Type": "application/json", "Idempotency-Key": f"bench-{order_id}"},
                    data=body,
                    timeout=60,
                )
                status = answer.status_code
            except requests.RequestException:
                status = 0
            if status not in (0, 409, 503):
                break
            with lock:
                retried[0] += 1
            # 503: after its Retry-After; 409 (the key still in flight, or left so by a 503): a little later
            time.sleep(float(answer.headers.get("Retry-After", "1")) if status == 503 else 2.0 if status else 1.0)
        return status, (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(send, calls))
    return [s for s, _ in answers], [ms for _, ms in answers], time.perf_counter() - began


def _floor(base: str, key: str, count: int, concurrency: int) -> list[float]:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))

    def send(n: int) -> float:
        began = time.perf_counter()
        body = json.dumps({"event": "onOrderCreated", "payload": {"OrderId": 90_000_000 + n}}).encode()
        session.post(f"{base}/webhooks/{TENANT}/floor", params={"code": key}, data=body, timeout=30).raise_for_status()
        return (time.perf_counter() - began) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(send, range(count)))


def _summary(latencies: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "n": len(latencies),
    }


def measure(
    stack: Stack,
    config: DocumentsConfig,
    progress: Callable[..., None] = print,
    log: IO[Any] | None = None,
) -> dict[str, Any]:
    key = stack.values["LOCAL_FUNCTION_KEY"]
    on = {f"MARKETPLACE_DOCUMENTS_{TENANT.upper()}": "true"}
    base_id = random.randrange(60_000_000, 69_000_000) // 3 * 3  # one item per sandbox order
    ack_ids = [base_id + 3 * n for n in range(config.documents)]
    flight_ids = [base_id + 3 * (config.documents + n) for n in range(config.in_flight)]
    result: dict[str, Any] = {"pdf_bytes": len(pdf(config.pdf_bytes, 19)), "concurrency": config.concurrency}
    result["load_average_before"] = [round(x, 1) for x in os.getloadavg()]
    result["allocation"] = allocations(config.pdf_bytes)

    # 1. acknowledgement beside the floor, HTTP only
    thor = Stack(values={**stack.values, **on}, servers=stack.servers)
    floor = Stack()
    try:
        thor.start_storage()
        read_back = blob_read_peak(thor.values, config.pdf_bytes)
        result["allocation"]["read_peak_mib"] = round(read_back / 1024 / 1024, 2)
        upload = max(read_back, (len(pdf(config.pdf_bytes, 19)) + result["allocation"]["upload_body_bytes"]))
        per_document = max(result["allocation"]["request_bytes"], upload) / 1024 / 1024
        result["allocation"]["per_document_bound_mib"] = round(per_document, 2)
        result["allocation"]["bound_in_flight_mib"] = round(per_document * config.in_flight, 1)
        progress(f"  documents: per document {result['allocation']}")
        seed_orders(thor.values, ack_ids)
        floor.values = {**thor.values, "BENCH_FLOOR_TABLE": EVENTS_TABLE, "BENCH_FLOOR_QUEUE": EVENTS_QUEUE}
        floor.start_runner(["--app", "bench.floor_app:app", "--no-queue"], stdout=log)
        thor.start_runner(["--no-queue", "--no-timers"], stdout=log)
        progress(f"  documents: {len(ack_ids)} acknowledgements of 1 MB PDFs at c={config.concurrency}")
        warm = _bodies(ack_ids[: config.concurrency], config.pdf_bytes)
        _send(thor.thor_url, key, warm, config.concurrency)  # warm-up (first use of each client), not counted
        retried = [0]
        statuses, latencies, seconds = _send(
            thor.thor_url, key, _bodies(ack_ids[config.concurrency :], config.pdf_bytes), config.concurrency, retried
        )
        floor_latencies = _floor(floor.thor_url, key, len(latencies), config.concurrency)
        result["ack"] = {
            **_summary(latencies),
            "rps": round(len(latencies) / seconds, 1),
            "answers_202": statuses.count(202),
            "sent_again": retried[0],
        }
        result["floor"] = _summary(floor_latencies)
    finally:
        floor.stop_runner()
        _stop(thor)

    # 2. memory while `in_flight` documents are in flight (received, stored, uploaded)
    thor = Stack(values={**stack.values, **on}, servers=stack.servers)
    try:
        thor.start_storage()
        seed_orders(thor.values, flight_ids)
        thor.start_runner(["--no-timers", "--max-poll", "0.2"], stdout=log)
        market = stack.servers["marketplace"].url
        items = [str(order_id * 10) for order_id in flight_ids]
        requests.post(
            f"{market}/_sandbox/items/status", json={"order_item_ids": items, "status": "ready_to_ship"}, timeout=10
        )
        user = stack.values[f"MARKETPLACE_USER_ID_{TENANT.upper()}"]
        bodies = _bodies(flight_ids, config.pdf_bytes)
        assert thor.runner is not None
        pid = thor.runner.pid
        time.sleep(1.0)
        baseline = rss_kib(pid)
        samples: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(rss_kib(pid))
                time.sleep(0.02)

        def taken() -> int:
            shown = requests.get(f"{market}/_sandbox/invoices", timeout=10).json().get(user, [])
            wanted = set(items)
            return sum(1 for d in shown if set(d["orderItemIds"]) <= wanted)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        progress(f"  documents: {config.in_flight} in flight at once, RSS sampled until all are uploaded")
        began = time.perf_counter()
        retried = [0]
        statuses, _, _ = _send(thor.thor_url, key, bodies, config.in_flight, retried)
        del bodies
        uploaded = 0
        while time.perf_counter() - began < config.settle_seconds:
            uploaded = taken()
            if uploaded >= config.in_flight:
                break
            time.sleep(0.5)
        settled = time.perf_counter() - began
        done.set()
        sampler.join()
        peak = max(samples or [baseline])
        events = _event_statuses(thor.values)
        result["in_flight"] = {
            "documents": config.in_flight,
            "answers_202": statuses.count(202),
            "uploaded": uploaded,
            "settled_seconds": round(settled, 1),
            "rss_baseline_mib": round(baseline / 1024, 1),
            "rss_peak_mib": round(peak / 1024, 1),
            "rss_growth_mib": round((peak - baseline) / 1024, 1),
            "growth_per_document_mib": round((peak - baseline) / 1024 / config.in_flight, 2),
            "sent_again": retried[0],
            "events": events,
        }
    finally:
        _stop(thor)
    result["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    return result


def allocations(size: int) -> dict[str, Any]:
    """Peak allocation (tracemalloc) of reading one document's request (beyond its body) and of building
    its upload body, in process; and the bound they give per document in flight."""
    import tracemalloc

    import azure.functions as func

    from functions.documents import read_document_body
    from shared.adapters.seller_center.client import base64_json_body

    (_, raw), *_ = _bodies([1], size)
    request = func.HttpRequest(
        method="POST", url="http://localhost/v1/orders/facl-1/documents", headers={}, params={}, body=raw
    )
    read_document_body(request)  # first use: imports

    def peak(work: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            kept = work()
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            del kept
            tracemalloc.stop()

    document = pdf(size, 19)
    received = peak(lambda: read_document_body(request))
    upload = peak(lambda: base64_json_body(b'{"invoiceDocument":"', document, b'"}'))
    mib = 1024 * 1024
    return {
        "pdf_mib": round(len(document) / mib, 2),
        "body_mib": round(len(raw) / mib, 2),
        "request_peak_mib": round(received / mib, 2),
        "upload_peak_mib": round(upload / mib, 2),
        # a request in flight: its body (the host's) + what it allocates; an upload: the PDF read back
        # (blob_read_peak, with Azurite) + its body
        "request_bytes": len(raw) + received,
        "upload_body_bytes": upload,
    }


def blob_read_peak(values: dict[str, Any], size: int) -> int:
    """Peak allocation (tracemalloc) of reading one PDF back from Blob Storage, as the upload does."""
    import tracemalloc

    from shared.adapters.document_store import DocumentStore
    from shared.adapters.storage import Storage
    from shared.settings import read_storage

    store = DocumentStore(Storage(read_storage(values)))
    store.put("bench/read-back.pdf", pdf(size, 19))
    store.get("bench/read-back.pdf")  # first use
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        store.get("bench/read-back.pdf")
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _event_statuses(values: dict[str, Any]) -> dict[str, Any]:
    """The tax-document events' statuses, and the first reasons of those not completed."""
    from shared.adapters.event_log import EventLog
    from shared.adapters.storage import Storage
    from shared.domain.events import EventKind
    from shared.settings import read_storage

    found = [e for e in EventLog(Storage(read_storage(values))).list(tenant=TENANT) if e.kind is EventKind.TAX_DOCUMENT]
    counts: dict[str, Any] = {}
    for event in found:
        counts[event.status.value] = counts.get(event.status.value, 0) + 1
    reasons = sorted({(e.reason or "")[:160] for e in found if e.reason})[:3]
    return {"statuses": counts, "reasons": reasons}


def _stop(thor: Stack) -> None:
    """The runner and its own Azurite; the sandboxes are the bench's (shared), left running."""
    thor.stop_runner()
    if thor.azurite:
        thor.azurite.stop()
