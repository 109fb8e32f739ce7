"""Phase 10 (`--only processing`): storage requests per processed event, by kind, beside each kind's
minimum; and processing throughput with the processor on (one runner) beside the same run's floor.

Requests: Thor in-process (bench.storage_work.InProcessThor), each event processed once and its Table
and queue requests counted at the SDK transport, after a warm-up of the same kind. The minimum of each
kind (MINIMUM) is what its processing must do with the Table adapters (shared/adapters), why each:
the same list tests/unit/test_storage_calls.py pins on the fakes, port call by port call.

Throughput: `orders` onOrderCreated webhooks sent to one runner with its queue trigger on (closed
loop, `concurrency` in flight), timed from the first POST until the last event is completed in the
log. The floor: the same number of events, each making only the order-created minimum's Table
requests (a claim read and merge, the claim insert, the order read, insert and write, the two fence
reads, the release, the final status' read and merge) straight on a table of the same
Azurite, at the runner's queue concurrency (its batchSize, 16): what any processor with these
guarantees spends on storage, without the marketplace and OMS calls.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from azure.data.tables import TableClient

from bench import stock
from bench.payloads import FORM, JSON, TENANT, Call, Ids, items_status, order_created
from bench.storage_work import InProcessThor, RequestCounter, service_ports
from localdev.stack import Stack
from shared.domain.events import EventStatus

# Table requests of each port call, as the Table adapters make them.
_EVENT_CLAIM = ("event claim: read, then a merge conditional on its ETag (its fencing token)", 2)
_STATUS = ("the final status: a read showing the fence, a merge conditional on its ETag", 2)
# The console's counts (activity) cost no request per event: the adapter adds them up in memory and
# writes them every THOR_ACTIVITY_FLUSH_SECONDS (shared/adapters/activity_counts.py).
_FENCE = ("fence checks before the OMS call: the event's row and the order's claim", 2)
_RELEASE = ("the order's claim released", 1)
_SYNCED = ("the order marked synced (write conditional on the ETag)", 1)
MINIMUM: dict[str, list[tuple[str, int]]] = {
    "order created": [
        _EVENT_CLAIM,
        ("order claim: insert of a new row", 1),
        ("the order read once (not found: a new one)", 1),
        ("the order inserted before the OMS hears of it", 1),
        _FENCE,
        _SYNCED,
        _RELEASE,
        _STATUS,
    ],
    "status changed": [
        _EVENT_CLAIM,
        ("order claim on a kept row: insert refused, read, conditional update", 3),
        ("the order read once", 1),
        ("the order's changes written (conditional on the ETag)", 1),
        _FENCE,
        _SYNCED,
        _RELEASE,
        _STATUS,
    ],
    "ZORT tracking": [
        _EVENT_CLAIM,
        ("the order found by reference: one query, which reads it", 1),
        ("order claim on a kept row: insert refused, read, conditional update", 3),
        ("the tracking written (conditional on the ETag)", 1),
        _FENCE,
        _SYNCED,
        _RELEASE,
        _STATUS,
    ],
    "stock": [
        _EVENT_CLAIM,
        ("is the SKU listed: the product's row read", 1),
        ("the SKU marked dirty (one batch)", 1),
        ("ZORT's stock kept on the product (a merge)", 1),
        _STATUS,
    ],
}


def minimum(kind: str) -> int:
    return sum(n for _, n in MINIMUM[kind])


@dataclass
class ProcessingConfig:
    orders: int = 120
    concurrency: int = 8
    floor_concurrency: int = 16  # the runner's queue batchSize (host.json)
    timeout_seconds: float = 180.0


QUICK = ProcessingConfig(orders=40)


def zort_tracking(key: str, key1: str, order_number: int) -> Call:
    internal = f"{TENANT}-{order_number}"
    payload = [{"trackingno": f"TR{order_number}", "trackingurl": "", "shippingdate": None}]
    return Call(
        "POST",
        f"/webhooks/{TENANT}/zort",
        {"code": key, "method": "UPDATEORDERTRACKING", "number": internal, "id": str(order_number)},
        {**FORM, "Authorization": f"Basic {key1}"},
        urlencode({"payload": json.dumps(payload)}).encode(),
    )


def count_kinds(stack: Stack, ids: Ids) -> dict[str, Any]:
    """Table and queue requests of one event of each kind, processed in-process (after a warm-up)."""
    values = stack.values
    key, key1 = values["LOCAL_FUNCTION_KEY"], values[f"ZORT_KEY1_{TENANT.upper()}"]
    thor = InProcessThor(stack)
    counter = RequestCounter(service_ports(stack))

    def measured(kind: str, call: Call, tenant: str = TENANT) -> dict[str, Any]:
        event_id = thor.call(kind, call)["eventId"]
        with counter.active():
            status = _process(tenant, event_id)
        counts = counter.snapshot()
        return {
            "table": counts["table"],
            "queue": counts["queue"],
            "calls": counts["calls"],
            "status": getattr(status, "value", str(status)),
        }

    def status_change(number: int) -> Call:
        """The marketplace sandbox moves the order's first item to shipped; the webhook names it."""
        from shared.bootstrap import get_context

        found = get_context().orders.get(TENANT, f"{TENANT}-{number}")
        item_id = found[0].items[0].item_id if found else str(number * 10)
        requests.post(
            stack.servers["marketplace"].url + "/_sandbox/items/status",
            json={"order_item_ids": [item_id], "status": "shipped"},
            timeout=10,
        ).raise_for_status()
        return items_status(key, number) if not found else _status_call(key, number, item_id)

    def stock_change() -> Call:
        from shared.bootstrap import get_context
        from shared.domain.product import Product

        sku = f"BENCH-PROCESSING-{uuid.uuid4().hex[:8]}"
        get_context().products.upsert_many([Product(tenant=stock.TENANT, sku=sku, marketplace_listed=True)])
        return Call("POST", *stock._call(key, values[f"ZORT_KEY1_{stock.TENANT.upper()}"], sku, 1))

    results: dict[str, Any] = {}
    for round_ in ("warm-up", "counted"):
        number = ids.next()
        found = {"order created": measured("orders", order_created(key, number))}
        found["status changed"] = measured("orders/status", status_change(number))
        found["ZORT tracking"] = measured("zort", zort_tracking(key, key1, number))
        found["stock"] = measured("zort", stock_change(), stock.TENANT)
        if round_ == "counted":
            results = found
    for kind, counts in results.items():
        counts["minimum"] = minimum(kind)
    return results


def _process(tenant: str, event_id: str) -> EventStatus | None:
    from shared.bootstrap import get_context
    from shared.services.processing import process_event

    context = get_context()
    return process_event(context, tenant, event_id, context.settings.retry_delays)


def _status_call(key: str, number: int, item_id: str) -> Call:
    body = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": str(number), "OrderItemIds": [item_id], "NewStatus": "shipped"},
    }
    return Call("POST", f"/webhooks/{TENANT}/orders/status", {"code": key}, JSON, json.dumps(body).encode())


def _completed(table: TableClient, event_ids: list[str], deadline: float) -> bool:
    for event_id in event_ids:
        while True:
            entity = table.get_entity(TENANT, event_id)
            if entity.get("status") == "completed":
                break
            if time.perf_counter() > deadline:
                return False
            time.sleep(0.05)
    return True


def throughput(stack: Stack, ids: Ids, config: ProcessingConfig) -> dict[str, Any]:
    """onOrderCreated events per second through one runner with its processor on."""
    from azure.data.tables import TableClient

    from shared.adapters.storage import EVENTS_TABLE

    key = stack.values["LOCAL_FUNCTION_KEY"]
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=config.concurrency))

    def send(number: int) -> str:
        call = order_created(key, number)
        answer = session.post(stack.thor_url + call.path, params=call.params, headers=call.headers, data=call.body)
        answer.raise_for_status()
        return str(answer.json()["eventId"])

    numbers = [ids.next() for _ in range(config.orders)]
    table = TableClient.from_connection_string(stack.values["AzureWebJobsStorage"], EVENTS_TABLE)
    began = time.perf_counter()
    with ThreadPoolExecutor(config.concurrency) as pool:
        event_ids = list(pool.map(send, numbers))
    done = _completed(table, event_ids, began + config.timeout_seconds)
    seconds = time.perf_counter() - began
    return {"events": config.orders, "seconds": round(seconds, 2), "per_second": config.orders / seconds, "done": done}


def floor(stack: Stack, config: ProcessingConfig) -> dict[str, Any]:
    """The order-created minimum's Table requests per event, straight on Azurite: events per second."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.data.tables import TableServiceClient, UpdateMode

    service = TableServiceClient.from_connection_string(stack.values["AzureWebJobsStorage"])
    table = service.create_table_if_not_exists("BenchProcessingFloor")
    run = uuid.uuid4().hex[:8]
    document = "x" * 2000  # about an order's JSON

    def recorded(n: int) -> None:  # intake's insert, before the clock starts
        table.create_entity({"PartitionKey": TENANT, "RowKey": f"e{run}-{n}", "status": "received"})

    def event(n: int) -> None:
        key = f"{run}-{n}"
        table.get_entity(TENANT, f"e{key}")  # the event's claim
        table.update_entity({"PartitionKey": TENANT, "RowKey": f"e{key}", "claimFence": 1}, mode=UpdateMode.MERGE)
        table.create_entity({"PartitionKey": TENANT, "RowKey": f"c{key}", "owner": "w"})  # the order's claim
        try:
            table.get_entity(TENANT, f"o{key}")  # the order read (not there yet)
        except ResourceNotFoundError:
            pass
        table.create_entity({"PartitionKey": TENANT, "RowKey": f"o{key}", "doc": document})  # the order
        table.get_entity(TENANT, f"e{key}")  # the fence checks
        table.get_entity(TENANT, f"c{key}")
        table.upsert_entity({"PartitionKey": TENANT, "RowKey": f"o{key}", "doc": document, "synced": True})
        table.upsert_entity({"PartitionKey": TENANT, "RowKey": f"c{key}", "owner": ""})  # released
        table.get_entity(TENANT, f"e{key}")  # the final status: read, then merge
        table.update_entity({"PartitionKey": TENANT, "RowKey": f"e{key}", "status": "completed"}, mode=UpdateMode.MERGE)

    with ThreadPoolExecutor(config.floor_concurrency) as pool:
        list(pool.map(recorded, range(config.orders)))
        began = time.perf_counter()
        list(pool.map(event, range(config.orders)))
        wall = time.perf_counter() - began
    per_second = config.orders / wall
    return {
        "events": config.orders,
        "requests_per_event": minimum("order created"),
        "seconds": round(wall, 2),
        "per_second": per_second,
    }


def measure(
    stack: Stack,
    ids: Ids,
    config: ProcessingConfig,
    progress: Callable[..., None] = print,
    start_runner: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Counts per kind in-process (no runner yet: its queue trigger would take the events), then starts
    the runner (`start_runner`) and measures its throughput and the floor."""
    kinds = count_kinds(stack, ids)
    progress(
        "  processing: table requests per event "
        + ", ".join(f"{kind} {c['table']} (min {c['minimum']})" for kind, c in kinds.items())
    )
    if start_runner is not None:
        start_runner()
    measured = throughput(stack, ids, config)
    base = floor(stack, config)
    progress(f"  processing: {measured['per_second']:.1f} events/s; storage floor {base['per_second']:.1f} events/s")
    return {"kinds": kinds, "throughput": measured, "floor": base}
