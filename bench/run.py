"""Thor's benchmark: `make bench`, or `.venv/bin/python -m bench.run [--quick] [--soak-seconds N]`.

On one local stack (Azurite in memory, the three sandboxes, Thor's local runner; localdev.stack):

1. webhook acknowledgement of each endpoint at concurrency 1/16/64 beside a floor app (bench.ack);
2. end to end, onOrderCreated → visible on the status endpoint and in the OMS (bench.e2e);
3. Storage requests per webhook and for a 1,000-SKU products event (bench.storage_work);
4. cold start: importing function_app vs its dependencies, and no network at import (bench.coldstart);
5. a soak: memory and acknowledged-vs-completed events under a steady mix (bench.soak).

Prints a table, each figure beside its goal, and writes the same figures to bench/results.json.
Runner logs go to a temporary folder (printed). The stack is always stopped, whatever fails.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from azure.storage.queue import QueueClient

from bench import ack, coldstart, e2e, report, soak, storage_work
from bench.payloads import TENANT, Ids, Webhooks
from localdev.stack import Stack
from shared.adapters.storage import EVENTS_QUEUE, POISON_QUEUE

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Config:
    mode: str = "full"
    ack: ack.AckConfig = field(default_factory=ack.AckConfig)
    e2e: e2e.E2EConfig = field(default_factory=e2e.E2EConfig)
    soak: soak.SoakConfig = field(default_factory=soak.SoakConfig)
    import_runs: int = 5

    @classmethod
    def quick(cls) -> "Config":
        return cls(mode="quick", ack=ack.AckConfig(seconds=1.5, warmup_seconds=0.5),
                   e2e=e2e.E2EConfig(orders=40), import_runs=3,
                   soak=soak.SoakConfig(seconds=20, warmup_seconds=5, samples=4, drain_timeout=45))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Thor's benchmark (see bench/run.py)")
    parser.add_argument("--quick", action="store_true", help="short durations and fewer orders, for a fast check")
    parser.add_argument("--soak-seconds", type=float, default=None, help="soak duration (default 180, quick 20)")
    parser.add_argument("--only", nargs="*", choices=["coldstart", "storage", "ack", "e2e", "soak"],
                        help="run only these phases")
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, config: Config, phases: set[str]):
        self.config, self.phases = config, phases
        self.stack = Stack()
        self.floor = Stack(values=self.stack.values)  # a second runner on the same Azurite and settings
        self.ids = Ids()
        self.logs = Path(tempfile.mkdtemp(prefix="thor-bench-"))
        self.results: dict = {"errors": {}}

    @property
    def webhooks(self) -> Webhooks:
        values = self.stack.values
        return Webhooks(values["LOCAL_FUNCTION_KEY"], values[f"ZORT_KEY1_{TENANT.upper()}"], self.ids)

    def log(self, name: str):
        return open(self.logs / f"{name}.log", "a")

    def phase(self, name: str, run) -> None:
        if name not in self.phases:
            return
        progress(f"[{time.strftime('%H:%M:%S')}] {name}")
        try:
            self.results[name] = run()
        except Exception as error:  # noqa: BLE001 - one failed phase must not lose the others
            self.results["errors"][name] = f"{type(error).__name__}: {error}"
            progress(traceback.format_exc())

    def clear_thor_queues(self) -> None:
        """Drops the acknowledgement phase's messages, so the processor starts from an empty queue."""
        for name in (EVENTS_QUEUE, POISON_QUEUE):
            with QueueClient.from_connection_string(self.stack.values["AzureWebJobsStorage"], name) as queue:
                try:
                    queue.clear_messages()
                except Exception:  # noqa: BLE001 - the queue may not exist yet
                    pass

    def ack_phase(self) -> dict:
        self.floor.start_runner(["--app", "bench.floor_app:app", "--no-queue"], stdout=self.log("floor"))
        self.stack.start_runner(["--no-queue"], stdout=self.log("thor-no-queue"))
        try:
            return ack.measure(self.stack.thor_url, self.floor.thor_url, self.webhooks, self.config.ack, progress)
        finally:
            self.floor.stop_runner()
            self.stack.stop_runner()
            self.clear_thor_queues()

    def run(self) -> dict:
        began = time.perf_counter()
        self.results["meta"] = {"mode": self.config.mode, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                "cpus": os.cpu_count(), "python": platform.python_version(), "logs": str(self.logs),
                                "retry_delays": self.stack.values.get("THOR_RETRY_DELAYS")}
        try:
            self.stack.start_storage().start_sandboxes()
            self.results["meta"]["ports"] = {**{k: v for k, v in self.stack.azurite.ports.items()},
                                             **{k: s.port for k, s in self.stack.servers.items()}}
            self.phase("coldstart", lambda: coldstart.measure(self.stack.environment(), self.config.import_runs,
                                                              progress))
            self.phase("storage", lambda: storage_work.measure(self.stack, self.webhooks, progress))
            self.phase("ack", self.ack_phase)
            if self.phases & {"e2e", "soak"}:
                self.stack.start_runner(stdout=self.log("thor"))
                self.phase("e2e", lambda: e2e.measure(self.stack, self.ids, self.config.e2e, progress))
                self.phase("soak", lambda: soak.measure(self.stack, self.ids, self.config.soak, progress))
        finally:
            self.floor.stop_runner()
            self.stack.stop()
        self.results["meta"]["seconds"] = time.perf_counter() - began
        return self.results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Config.quick() if args.quick else Config()
    if args.soak_seconds is not None:
        config.soak.seconds = args.soak_seconds
    phases = set(args.only or ["coldstart", "storage", "ack", "e2e", "soak"])
    results = Bench(config, phases).run()
    print(report.render(results))
    report.write(results, RESULTS)
    print(f"\nfigures: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}; "
          f"runner logs: {results['meta']['logs']}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
