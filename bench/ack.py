"""Phase 1: webhook acknowledgement, Thor's four webhook endpoints beside the floor, same runner.

Beside latency and throughput, the serving process's CPU time per request (from /proc) tells how
much work each endpoint costs the runner, with far less noise than the tail latencies.

Both runners serve HTTP only (`--no-queue`), so the acknowledgement path alone is compared; they
run side by side, on a fresh Azurite for each concurrency (its insert time grows with the table),
and are measured in turns, in `rounds` rounds whose order alternates (floor first, then floor
last), so drift hits both alike. Rounds are pooled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.load import Clients, LoadResult, run_load
from bench.payloads import Webhooks


@dataclass
class AckConfig:
    concurrencies: tuple[int, ...] = (1, 16, 64)
    seconds: float = 4.0  # per round
    warmup_seconds: float = 1.0
    rounds: int = 3


def sender(base_url: str, webhooks: Webhooks, kind: str) -> Callable[[Clients], tuple[int, bytes]]:
    def send(clients: Clients) -> tuple[int, bytes]:
        call = webhooks.make(kind)
        return clients.get(base_url).request(call.method, call.path, call.params, call.body, call.headers)

    return send


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_load(
    send: Callable[[Clients], tuple[int, bytes]], concurrency: int, config: AckConfig, pid: int
) -> tuple[LoadResult, float]:
    """The load's result and the serving process's CPU seconds spent meanwhile."""
    before = cpu_seconds(pid)
    result = run_load(send, concurrency, config.seconds, config.warmup_seconds)
    return result, cpu_seconds(pid) - before


def pooled(results: list[LoadResult]) -> LoadResult:
    total = LoadResult(results[0].concurrency, sum(r.seconds for r in results))
    for r in results:
        total.latencies_ms += r.latencies_ms
        total.completed_in_window += r.completed_in_window
        total.sent += r.sent
        total.errors += r.errors
        total.first_error = total.first_error or r.first_error
    return total


def measure_level(
    thor: tuple[str, int],
    floor: tuple[str, int],
    webhooks: Webhooks,
    config: AckConfig,
    concurrency: int,
    progress: Callable[..., None] = print,
) -> dict[str, Any]:
    """{kind: summary} at one concurrency for "floor" and each webhook kind; thor and floor are (url, pid)."""
    targets = {"floor": floor, **{kind: thor for kind in Webhooks.KINDS}}
    runs: dict[str, list[LoadResult]] = {kind: [] for kind in targets}
    cpu: dict[str, float] = {kind: 0.0 for kind in targets}
    for round_ in range(config.rounds):
        order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
        for kind in order:
            url, pid = targets[kind]
            result, seconds = timed_load(sender(url, webhooks, kind), concurrency, config, pid)
            runs[kind].append(result)
            cpu[kind] += seconds
    results = {}
    for kind in targets:
        total = pooled(runs[kind])
        summary = results[kind] = total.summary()
        summary["cpu_ms_per_request"] = round(cpu[kind] * 1000 / total.sent, 2) if total.sent else float("nan")
        progress(
            f"  ack {kind:<14} c={concurrency:<3} {summary['rps']:>7.1f} req/s  "
            f"p50 {summary['p50_ms']:.1f} ms  p99 {summary['p99_ms']:.1f} ms  "
            f"cpu {summary['cpu_ms_per_request']} ms/req  errors {summary['errors']}"
        )
    return results
