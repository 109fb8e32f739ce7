"""Thor's benchmark: `make bench`, or `.venv/bin/python -m bench.run [--quick] [--soak-seconds N]`.

On a local stack (Azurite in memory, the three sandboxes, Thor's local runner; localdev.stack), the
acknowledgement phase on Azurites of its own (see Bench.ack_runners):

1. webhook acknowledgement of each endpoint at concurrency 1/16/64 beside a floor app (bench.ack);
2. end to end, onOrderCreated → visible on the status endpoint and in the OMS (bench.e2e);
3. Storage requests per webhook and for a 1,000-SKU products event (bench.storage_work);
4. cold start: importing function_app vs its dependencies, and no network at import (bench.coldstart);
5. a soak: memory and acknowledged-vs-completed events under a steady mix (bench.soak);
7. the operations console with 10,000 orders in a tenant: each page's latency beside the status
   endpoint's and its Table requests per view (bench.console);
6. one worker at a time: a 200-copy duplicate storm's external calls, and concurrent status
   changes of one order never sending the OMS an older version (bench.storm);
8. the alert timer with 10,000 orders and 1,000 active incidents: its Table requests per run, by table
   (bench.alerts);
9. stock sync: 10,000 ZORT stock webhooks over 2,000 SKUs for one tenant through the runner and its
   flush timer: acks, final stock in the marketplace sandbox, UpdateStock calls per flush (bench.stock);
10. the scale-out drill (3 runners, seeded faults): external calls and time to settle beside the
    fault-free run of the same seed (bench.drill, localdev/drill.py);
11. processing: Table requests per processed event by kind (order created, status changed, ZORT
    tracking, stock) beside each kind's minimum, and events per second with the processor on (one
    runner) beside the same run's storage floor (bench.processing).
12. tax documents with 1 MB PDFs: acknowledgement p99 beside the ack floor, and the runner's memory
    while 50 documents are in flight until the marketplace sandbox has them all (bench.documents).
13. price sync: a new price for 20,000 SKUs of one tenant through the price flush timer and the sandbox's
    throttled ProductUpdate feeds: feeds used, time to the last confirmation beside the throttle's floor,
    429s received (bench.prices).

Prints a table, each figure beside its goal, and writes the same figures to bench/results.json.
Runner logs go to a temporary folder (printed). The stack is always stopped, whatever fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from bench import (
    ack,
    alerts,
    coldstart,
    console,
    documents,
    drill,
    e2e,
    prices,
    processing,
    report,
    soak,
    stock,
    storage_work,
    storm,
)
from bench.payloads import TENANT, Ids, Webhooks
from localdev.stack import Stack, present_azurite
from shared.adapters.storage import EVENTS_QUEUE, EVENTS_TABLE

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Config:
    mode: str = "full"
    ack: ack.AckConfig = field(default_factory=ack.AckConfig)
    e2e: e2e.E2EConfig = field(default_factory=e2e.E2EConfig)
    soak: soak.SoakConfig = field(default_factory=soak.SoakConfig)
    storm: storm.StormConfig = field(default_factory=storm.StormConfig)
    stock: stock.StockConfig = field(default_factory=stock.StockConfig)
    processing: processing.ProcessingConfig = field(default_factory=processing.ProcessingConfig)
    documents: documents.DocumentsConfig = field(default_factory=documents.DocumentsConfig)
    prices: prices.PricesConfig = field(default_factory=prices.PricesConfig)
    import_runs: int = 5

    @classmethod
    def quick(cls) -> Config:
        return cls(
            mode="quick",
            ack=ack.AckConfig(seconds=1.5, warmup_seconds=0.5, rounds=1),
            e2e=e2e.E2EConfig(orders=40),
            import_runs=3,
            soak=soak.SoakConfig(seconds=20, warmup_seconds=5, samples=4, drain_timeout=45),
            stock=stock.QUICK,
            processing=processing.QUICK,
            documents=documents.QUICK,
            prices=prices.QUICK,
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Thor's benchmark (see bench/run.py)")
    parser.add_argument("--quick", action="store_true", help="short durations and fewer orders, for a fast check")
    parser.add_argument("--soak-seconds", type=float, default=None, help="soak duration (default 180, quick 20)")
    parser.add_argument("--soak-rate", type=float, default=None, help="soak requests per second (default 30)")
    parser.add_argument(
        "--only",
        nargs="*",
        choices=[
            "coldstart",
            "storage",
            "ack",
            "e2e",
            "soak",
            "storm",
            "console",
            "stock",
            "alerts",
            "drill",
            "processing",
            "documents",
            "prices",
        ],
        help="run only these phases",
    )
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, config: Config, phases: set[str]) -> None:
        self.config, self.phases = config, phases
        self.stack = Stack()
        self.ids = Ids()
        self.logs = Path(tempfile.mkdtemp(prefix="thor-bench-"))
        self.results: dict[str, Any] = {"errors": {}}
        self.log_files = contextlib.ExitStack()

    @property
    def webhooks(self) -> Webhooks:
        values = self.stack.values
        return Webhooks(values["LOCAL_FUNCTION_KEY"], values[f"ZORT_KEY1_{TENANT.upper()}"], self.ids)

    def log(self, name: str) -> IO[Any]:
        """A runner's log file (stdout and stderr), in the temporary folder."""
        return self.log_files.enter_context(open(self.logs / f"{name}.log", "a"))

    def phase(self, name: str, run: Callable[[], object]) -> None:
        if name not in self.phases:
            return
        progress(f"[{time.strftime('%H:%M:%S')}] {name}")
        try:
            self.results[name] = run()
        except Exception as error:
            self.results["errors"][name] = f"{type(error).__name__}: {error}"
            progress(traceback.format_exc())

    @contextlib.contextmanager
    def ack_runners(self) -> Iterator[tuple[tuple[str, int], tuple[str, int]]]:
        """Thor's runner and the floor's, HTTP only, on an Azurite of their own; yields (url, pid) of each.

        Their own Azurite because the messages they leave would make Azurite's queue GC (a sweep
        every 60 s, blocking Azurite) stall later phases for tens of seconds; a fresh one per
        concurrency because Azurite's insert time grows with the table. The floor writes into
        Thor's table and queue, so both write into collections of the same size."""
        storage, floor = Stack(values=dict(self.stack.values)), Stack()
        try:
            storage.start_storage()
            floor.values = {**storage.values, "BENCH_FLOOR_TABLE": EVENTS_TABLE, "BENCH_FLOOR_QUEUE": EVENTS_QUEUE}
            floor.start_runner(["--app", "bench.floor_app:app", "--no-queue"], stdout=self.log("floor"))
            storage.start_runner(["--no-queue"], stdout=self.log("thor-no-queue"))
            assert storage.runner is not None and floor.runner is not None
            yield (storage.thor_url, storage.runner.pid), (floor.thor_url, floor.runner.pid)
        finally:
            floor.stop_runner()
            storage.stop()

    def ack_phase(self) -> dict[str, Any]:
        results: dict[str, dict[int, dict[str, Any]]] = {}
        for concurrency in self.config.ack.concurrencies:
            with self.ack_runners() as (thor, floor):
                level = ack.measure_level(thor, floor, self.webhooks, self.config.ack, concurrency, progress)
            for kind, summary in level.items():
                results.setdefault(kind, {})[concurrency] = summary
        return results

    def run(self) -> dict[str, Any]:
        began = time.perf_counter()
        self.results["meta"] = {
            "mode": self.config.mode,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "logs": str(self.logs),
            "retry_delays": self.stack.values.get("THOR_RETRY_DELAYS"),
        }
        try:
            self.stack.start_storage().start_sandboxes()
            self.results["meta"]["ports"] = {
                **present_azurite(self.stack).ports,
                **{name: server.port for name, server in self.stack.servers.items()},
            }
            self.phase(
                "coldstart", lambda: coldstart.measure(self.stack.environment(), self.config.import_runs, progress)
            )
            self.phase("storage", lambda: storage_work.measure(self.stack, self.webhooks, progress))
            self.phase("ack", self.ack_phase)
            self.phase("console", lambda: console.measure(self.stack, progress))
            self.phase("alerts", lambda: alerts.measure(self.stack, progress))
            self.phase("stock", lambda: stock.measure(self.stack, self.config.stock, progress, self.log("thor-stock")))
            self.phase(
                "documents",
                lambda: documents.measure(self.stack, self.config.documents, progress, self.log("thor-documents")),
            )
            self.phase(
                "prices", lambda: prices.measure(self.stack, self.config.prices, progress, self.log("thor-prices"))
            )
            if "stock" in self.results and "ack" in self.results:  # the ack goal's floor, same run
                self.results["stock"]["ack_floor"] = self.results["ack"]["floor"].get(self.config.stock.concurrency)
            if self.phases & {"e2e", "soak", "storm", "processing"}:

                def start() -> None:
                    self.stack.start_runner(stdout=self.log("thor"))

                self.phase(  # counts in-process first, then the runner is started for its throughput
                    "processing",
                    lambda: processing.measure(self.stack, self.ids, self.config.processing, progress, start),
                )
                if self.stack.runner is None:
                    start()
                self.phase("e2e", lambda: e2e.measure(self.stack, self.ids, self.config.e2e, progress))
                self.phase("storm", lambda: storm.measure(self.stack, self.ids, self.config.storm, progress))
                self.phase("soak", lambda: soak.measure(self.stack, self.ids, self.config.soak, progress))
                self.stack.stop_runner()
            self.phase("drill", lambda: drill.measure(self.config.mode == "quick", progress))
        finally:
            self.stack.stop()
            self.log_files.close()
        self.results["meta"]["seconds"] = time.perf_counter() - began
        return self.results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Config.quick() if args.quick else Config()
    if args.soak_seconds is not None:
        config.soak.seconds = args.soak_seconds
    if args.soak_rate is not None:
        config.soak.rate = args.soak_rate
    phases = set(
        args.only
        or [
            "coldstart",
            "storage",
            "ack",
            "console",
            "alerts",
            "processing",
            "e2e",
            "storm",
            "stock",
            "documents",
            "prices",
            "soak",
            "drill",
        ]
    )
    results = Bench(config, phases).run()
    print(report.render(results))
    report.write(results, RESULTS)
    print(
        f"\nfigures: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}; "
        f"runner logs: {results['meta']['logs']}"
    )
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
