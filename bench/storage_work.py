"""Phase 3: Storage requests per webhook, counted at the Azure SDK's transport, with Thor in-process.

Thor's webhook functions are called as the Functions host calls them (the decorated user function
with an `azure.functions.HttpRequest`), against the benchmark's Azurite. Every HTTP request the SDK
sends goes through `RequestsTransport.send`, where it is counted by port (Table or queue service).
Requests to the sandboxes (marketplace, OMS) are counted at `requests.Session.send`.
A warm-up request of each kind comes first, so creating tables and queues is not counted.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import azure.functions as func
import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from bench.payloads import TENANT, Call, Webhooks, products
from localdev.stack import Stack, present_azurite
from shared.domain.events import EventStatus

SKUS_IN_BIG_EVENT = 1000


class RequestCounter:
    """Counts HTTP requests by service while active: storage at the SDK transport, others at requests."""

    def __init__(self, ports: dict[int, str]) -> None:
        self.ports = ports
        self.counts: Counter[str] = Counter()
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def service(self, url: str) -> str:
        port = urlparse(url).port
        return self.ports.get(port, "other") if port is not None else "other"

    def record(self, service: str, method: str, url: str) -> None:
        with self.lock:
            self.counts[service] += 1
            self.calls.append(describe(service, method, url))

    @contextlib.contextmanager
    def active(self) -> Iterator[RequestCounter]:
        counter, transport_send, session_send = self, RequestsTransport.send, requests.Session.send

        def counted_transport_send(transport: RequestsTransport, request: HttpRequest, **kwargs: Any) -> Any:
            counter.record(counter.service(request.url), request.method, request.url)
            return transport_send(transport, request, **kwargs)

        def counted_session_send(
            session: requests.Session, request: requests.PreparedRequest, **kwargs: Any
        ) -> requests.Response:
            url, method = request.url or "", request.method or ""
            service = counter.service(url)
            if service not in ("table", "queue"):  # storage requests were counted at the transport
                counter.record(service, method, url)
            return session_send(session, request, **kwargs)

        self.counts.clear()
        self.calls.clear()
        # every client's requests counted where they leave: the classes are patched for the run, then restored
        RequestsTransport.send, requests.Session.send = counted_transport_send, counted_session_send  # type: ignore[method-assign, assignment]
        try:
            yield self
        finally:
            RequestsTransport.send, requests.Session.send = transport_send, session_send  # type: ignore[method-assign]  # restored

    def snapshot(self) -> dict[str, Any]:
        return {
            "table": self.counts["table"],
            "queue": self.counts["queue"],
            **{k: v for k, v in self.counts.items() if k not in ("table", "queue")},
            "calls": list(self.calls),
        }


def describe(service: str, method: str, url: str) -> str:
    """`table GET ThorEvents(…)`, `queue POST thor-events/messages`, `marketplace GET GetProducts`."""
    parsed = urlparse(url)
    path = re.sub(r"\(.*\)", "(…)", parsed.path.replace("/devstoreaccount1", "", 1).lstrip("/"))
    if service == "marketplace":
        path = parse_qs(parsed.query).get("Action", [path])[0]
    return f"{service} {method} {path}"


def summarise(calls: list[str]) -> str:
    """`table POST $batch ×10; …`: identical calls folded, first-seen order kept."""
    return "; ".join(f"{call} ×{n}" if n > 1 else call for call, n in Counter(calls).items())


def service_ports(stack: Stack) -> dict[int, str]:
    azurite = present_azurite(stack)
    ports = {azurite.ports["table"]: "table", azurite.ports["queue"]: "queue"}
    for name, server in stack.servers.items():
        ports[server.port] = name
    return ports


def http_request(call: Call) -> func.HttpRequest:
    tenant = call.path.split("/")[2]
    return func.HttpRequest(
        method=call.method,
        url=f"http://localhost{call.path}",
        headers=call.headers,
        params={k: v for k, v in call.params.items() if k != "code"},
        route_params={"tenantId": tenant},
        body=call.body or b"",
    )


@functools.cache
def thor_functions() -> dict[str, Any]:
    """Thor's functions by name: the app builds them once (a second `get_functions()` finds each name twice)."""
    import function_app

    return {str(f.get_function_name()): f.get_user_function() for f in function_app.app.get_functions()}


class InProcessThor:
    """Thor's functions in this process, on the benchmark's stack."""

    FUNCTION_OF_KIND = {"orders": "orders", "orders/status": "order_status", "products": "products", "zort": "zort"}

    def __init__(self, stack: Stack) -> None:
        os.environ.update(stack.values)
        from shared.bootstrap import reset_context

        reset_context()
        self.functions = thor_functions()

    def call(self, kind: str, call: Call) -> dict[str, Any]:
        response = self.functions[self.FUNCTION_OF_KIND[kind]](http_request(call))
        body = json.loads(response.get_body() or b"null")
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: HTTP {response.status_code} {body}")
        return body

    @staticmethod
    def process(event_id: str) -> EventStatus | None:
        from shared.bootstrap import get_context
        from shared.services.processing import process_event

        context = get_context()
        return process_event(context, TENANT, event_id, context.settings.retry_delays)


def count_webhooks(thor: InProcessThor, webhooks: Webhooks, counter: RequestCounter) -> dict[str, Any]:
    """{kind: {"new": counts, "duplicate": counts}}; warm-up first so no table or queue is created."""
    results = {}
    for kind in Webhooks.KINDS:
        thor.call(kind, webhooks.make(kind))  # warm-up
        call = webhooks.make(kind)
        with counter.active():
            thor.call(kind, call)
        new = counter.snapshot()
        with counter.active():
            answer = thor.call(kind, call)
        duplicate = counter.snapshot()
        duplicate["answer"] = answer["status"]
        results[kind] = {"new": new, "duplicate": duplicate}
    return results


def count_processing(thor: InProcessThor, key: str, webhooks: Webhooks, counter: RequestCounter) -> dict[str, Any]:
    """Requests to process one onProductCreated with 1,000 SKUs, and one onOrderCreated (for reference)."""
    number = webhooks.ids.next()
    skus = [f"BENCH-BIG{number}-{i:04d}" for i in range(SKUS_IN_BIG_EVENT)]
    results = {}
    for name, kind, call in (
        ("products_1000_skus", "products", products(key, skus)),
        ("order_created", "orders", webhooks.make("orders")),
    ):
        event_id = thor.call(kind, call)["eventId"]
        began = time.perf_counter()
        with counter.active():
            status = thor.process(event_id)
        results[name] = {
            **counter.snapshot(),
            "status": getattr(status, "value", str(status)),
            "seconds": round(time.perf_counter() - began, 3),
        }
    return results


def measure(stack: Stack, webhooks: Webhooks, progress: Callable[..., None] = print) -> dict[str, Any]:
    thor = InProcessThor(stack)
    counter = RequestCounter(service_ports(stack))
    thor.call("products", webhooks.make("products"))  # warm-up: creates tables and the queue
    for kind in ("orders", "products"):  # warm-up: the processing paths (and the tables they use)
        thor.process(thor.call(kind, webhooks.make(kind))["eventId"])
    result = {
        "webhooks": count_webhooks(thor, webhooks, counter),
        "processing": count_processing(thor, stack.values["LOCAL_FUNCTION_KEY"], webhooks, counter),
    }
    big = result["processing"]["products_1000_skus"]
    progress(
        f"  storage: 1,000-SKU event {big['table']} table requests, {big.get('marketplace', 0)} marketplace "
        f"requests ({big['status']})"
    )
    return result
