"""The benchmark's floor: the least any durable webhook receiver must do, served by the same runner.

One HTTP function, POST `webhooks/{tenantId}/floor`: one Table insert (the event, keyed by a hash of
its body) and one queue send, with clients created once and reused. No validation, no idempotency
read, nothing else. Run: `python -m localdev.runner --app bench.floor_app:app --no-queue`.

Table and queue: BENCH_FLOOR_TABLE / BENCH_FLOOR_QUEUE (default BenchFloor / bench-floor). The
benchmark points them at Thor's own (ThorEvents / thor-events) on an Azurite of the acknowledgement
phase alone, where no processor runs, so the floor and Thor write into collections of the same size:
Azurite's insert time grows with the table (measured: 1.25 ms at 1k entities, 2.2 ms at 16k).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import datetime, timezone

import azure.functions as func
import requests
from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

FLOOR_TABLE = os.environ.get("BENCH_FLOOR_TABLE", "BenchFloor")
FLOOR_QUEUE = os.environ.get("BENCH_FLOOR_QUEUE", "bench-floor")
STORAGE_SETTING = "AzureWebJobsStorage"  # the Functions host's own (mixed-case) name for its storage
POOL_SIZE = 64  # connections kept per client: the runner's concurrency, not requests' default 10

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
_lock = threading.Lock()
_clients: tuple[TableClient, QueueClient] | None = None


def _transport() -> RequestsTransport:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
    return RequestsTransport(session=session, session_owner=True)


def clients() -> tuple[TableClient, QueueClient]:
    """The table and queue clients, created (with their table and queue) on first use, then reused."""
    global _clients
    if _clients is None:
        with _lock:
            if _clients is None:
                connection = os.environ[STORAGE_SETTING]
                table = TableClient.from_connection_string(connection, table_name=FLOOR_TABLE, transport=_transport())
                queue = QueueClient.from_connection_string(
                    connection, FLOOR_QUEUE, transport=_transport(), message_encode_policy=TextBase64EncodePolicy()
                )
                try:
                    table.create_table()
                except ResourceExistsError:
                    pass
                try:
                    queue.create_queue()
                except ResourceExistsError:
                    pass
                _clients = (table, queue)
    return _clients


@app.route(route="webhooks/{tenantId}/floor", methods=["POST"])
def floor(req: func.HttpRequest) -> func.HttpResponse:
    tenant = req.route_params.get("tenantId", "")
    body = req.get_body() or b""
    event_id = "floor-" + hashlib.sha256(tenant.encode() + b"\n" + body).hexdigest()[:32]
    table, queue = clients()
    table.create_entity(
        {
            "PartitionKey": tenant,
            "RowKey": event_id,
            "body": body.decode("utf-8", "replace"),
            "receivedAt": datetime.now(timezone.utc),
        }
    )
    queue.send_message(json.dumps({"tenant": tenant, "eventId": event_id}))
    return func.HttpResponse(json.dumps({"status": "accepted", "eventId": event_id}), mimetype="application/json")
