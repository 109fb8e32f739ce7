"""Phase 1: webhook acknowledgement, Thor's four webhook endpoints beside the floor, same runner.

Both runners serve HTTP only (`--no-queue`), so the acknowledgement path alone is compared; they
run side by side and are measured in turns at each concurrency, so drift hits both alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.load import Clients, run_load
from bench.payloads import Webhooks


@dataclass
class AckConfig:
    concurrencies: tuple[int, ...] = (1, 16, 64)
    seconds: float = 5.0
    warmup_seconds: float = 1.5


def sender(base_url: str, webhooks: Webhooks, kind: str):
    def send(clients: Clients) -> tuple[int, bytes]:
        call = webhooks.make(kind)
        return clients.get(base_url).request(call.method, call.path, call.params, call.body, call.headers)
    return send


def measure(thor_url: str, floor_url: str, webhooks: Webhooks, config: AckConfig, progress=print) -> dict:
    """{kind: {concurrency: summary}} for "floor" and each webhook kind."""
    targets = {"floor": floor_url, **{kind: thor_url for kind in Webhooks.KINDS}}
    results: dict[str, dict[int, dict]] = {kind: {} for kind in targets}
    for concurrency in config.concurrencies:
        for kind, url in targets.items():
            outcome = run_load(sender(url, webhooks, kind), concurrency, config.seconds, config.warmup_seconds)
            results[kind][concurrency] = summary = outcome.summary()
            progress(f"  ack {kind:<14} c={concurrency:<3} {summary['rps']:>7.1f} req/s  "
                     f"p50 {summary['p50_ms']:.1f} ms  p99 {summary['p99_ms']:.1f} ms  errors {summary['errors']}")
    return results
