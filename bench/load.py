"""The load generator: a thread pool, one keep-alive HTTP connection per thread, timed requests.

`run_load` warms up (same threads, same connections, not recorded), then records every request
started inside the measuring window: its latency, and whether it was answered 200.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlparse

import requests


class HttpClient:
    """One keep-alive connection to one server; reconnects once when the server had closed it."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parsed = urlparse(base_url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        url = path + ("?" + urlencode(params) if params else "")
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host or "127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.connection.request(method, url, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed the idle keep-alive connection: one retry, new connection
                if attempt == 2:
                    raise
            except (http.client.HTTPException, OSError):  # timeouts included: never sent twice
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Clients:
    """One HttpClient per thread and server."""

    def __init__(self) -> None:
        self.local = threading.local()

    def get(self, base_url: str) -> HttpClient:
        clients = getattr(self.local, "clients", None)
        if clients is None:
            clients = self.local.clients = {}
        if base_url not in clients:
            clients[base_url] = HttpClient(base_url)
        return clients[base_url]

    def close(self) -> None:
        """Closes this thread's connections."""
        for client in getattr(self.local, "clients", {}).values():
            client.close()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    completed_in_window: int = 0
    sent: int = 0  # every request, warm-up included
    errors: int = 0
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.completed_in_window / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requests": len(self.latencies_ms),
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "first_error": self.first_error,
        }


# A request: called with the thread's Clients, answers (status, body).
Send = Callable[[Clients], tuple[int, bytes]]


def run_load(send: Send, concurrency: int, seconds: float, warmup_seconds: float) -> LoadResult:
    """`concurrency` threads call `send` back to back: `warmup_seconds` unrecorded, then `seconds` recorded."""
    clients = Clients()
    result = LoadResult(concurrency, seconds)
    lock = threading.Lock()
    start = time.perf_counter() + 0.2  # every thread starts at once
    window_start = start + warmup_seconds
    window_end = window_start + seconds

    def worker() -> None:
        while time.perf_counter() < start:
            time.sleep(0.001)
        latencies, completed, sent, errors, first_error = [], 0, 0, 0, ""
        while True:
            began = time.perf_counter()
            if began >= window_end:
                break
            sent += 1
            try:
                status, body = send(clients)
                ok, problem = status == 200, f"HTTP {status}: {body[:200]!r}"
            except Exception as error:
                ok, problem = False, f"{type(error).__name__}: {error}"
            ended = time.perf_counter()
            if began < window_start:
                continue
            if ok:
                latencies.append((ended - began) * 1000)
                completed += ended <= window_end
            else:
                errors += 1
                first_error = first_error or problem
        clients.close()
        with lock:
            result.latencies_ms.extend(latencies)
            result.completed_in_window += completed
            result.sent += sent
            result.errors += errors
            result.first_error = result.first_error or first_error

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return result


def send_all(base: str, calls: list[Any], concurrency: int) -> tuple[list[int], list[float], float]:
    """POSTs each (path, params, headers, body) at `concurrency`: (statuses, latencies in ms, seconds);
    status 0 where no answer came."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
    session.mount("http://", adapter)

    def send(call: tuple[str, dict[str, Any], dict[str, Any], bytes]) -> tuple[int, float]:
        path, params, headers, body = call
        began = time.perf_counter()
        try:
            status = session.post(base + path, params=params, headers=headers, data=body, timeout=30).status_code
        except requests.RequestException:
            status = 0
        return status, (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(send, calls))
    return [s for s, _ in answers], [ms for _, ms in answers], time.perf_counter() - began
