"""The scale-out drill (issue 17): Thor as Azure runs it when it scales out, under faults, checked by counts.

One Azurite (in memory), the three sandboxes and `runners` local runners (`localdev.runner`
processes, timers off) consuming the same queue. A seeded load (`random.Random(seed)`) of orders in
the marketplace sandbox (tenant `faco`): each order's webhook, item status changes made in the
marketplace then announced by webhooks (duplicated and reordered), and ZORT tracking for orders that
shipped. Every webhook is sent the way the marketplace sends it: resent until it gets a 200 (its
back-off compressed to 0.5, 1, 2, 4, 4… s), to a runner the load balancer believes is up. A seeded
fault schedule runs beside the load: SIGKILL of a runner and its restart, SIGSTOP of a runner past
the message lease then SIGCONT, SIGSTOP of Azurite (5-20 s) and fault windows of the OMS and the
marketplace (each answering 503 or hanging, `/_sandbox/fail` with a `window`).

After a bounded settle, invariants are checked as counts (each a violation when not 0):
- `stuck`: accepted events (the `eventId` of every 200) not final, or final but not completed
  without a reason; `lost`: accepted events missing from the event log;
- `creates`: orders not created in the OMS exactly once (201s), plus create POSTs refused as a
  duplicate (a second worker sent the order again);
- `backward`: OMS bodies (accepted by the OMS) older than one it had (`updated_at`), with an
  `orderStatus` earlier in the order's life, a line's shipped / returned quantity lower, or a line's
  `cancelledAt` / `returnedAt` dropped;
- `mismatch`: the OMS's final state differs from the marketplace's (order status, each line's
  shipped / returned quantity and `cancelledAt` / `returnedAt`, the order's `cancelledAt`, ZORT's
  tracking number on a shipment);
- `answers`: webhook answers other than 200 or 503 + `Retry-After` (a connection refused or timed
  out by a runner that was not killed or stopped meanwhile counts here too);
- `calls`: the external calls (marketplace API + OMS) over `calls_factor` x those of a fault-free
  run of the same seed (same load, no faults).
Reported, not a violation: `repeats`, a version of an order the OMS accepted again. A worker that
stalls or dies after the OMS answered and before it recorded the send leaves the order unsynced, and
the delivery that takes the work over sends that same version again: at least once, and harmless,
since a PUT of the same version is idempotent (a second create is counted in `creates`; an older
version after a newer one in `backward`).

When something is violated, `state.json` in the run's log folder keeps the events not completed,
the claims (`ThorClaims`) and the OMS's history of the orders concerned.

Timers are off: the sweeper runs every few minutes in Azure, far beyond the settle bound, so an
acknowledged event that only the sweeper would pick up counts as stuck.

Usage: python -m localdev.drill --seeds 1-10 [--orders 80] [--load-seconds 45] [--short]
(`make drill SEEDS=1-10`); exits 1 on any violation. tests/e2e/test_scale_out_drill.py runs the
short schedule; `make bench` (`--only drill`) reports the same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from localdev.azurite import ROOT, die_with_parent, free_port, wait_for_port
from localdev.stack import Stack

TENANT = "faco"
RESEND_BACKOFF = (0.5, 1.0, 2.0, 4.0)  # the marketplace's resend back-off, compressed; then every 4 s
REQUEST_TIMEOUT = 12.0  # the storage bound (4 s) + a margin for a loaded machine: more is a hung request
RETRY_DELAYS = "1,2,4,8,16"  # Thor's retries: 31 s, longer than any fault window of the drill
ZORT_MATCH_WINDOW = "1800"  # Azure's default (local.settings.example.json's 60 s is shorter than a long drill)
OMS_RANK = {
    "AWAITING_SHIPMENT": 0,
    "AWAITING_PICKUP": 10,
    "PARTIALLY_SHIPPED": 15,
    "SHIPPED": 20,
    "COMPLETE": 30,
    "PARTIALLY_RETURNED": 50,
    "RETURNED": 60,
    "CANCELLED": 100,
}
INVARIANTS = ("stuck", "lost", "creates", "backward", "mismatch", "answers", "calls")


@dataclass
class DrillConfig:
    seed: int = 1
    orders: int = 40
    runners: int = 3
    load_seconds: float = 20.0
    lease: int = 5
    kills: int = 1
    stalls: int = 1
    freezes: int = 1
    oms_windows: int = 1
    market_windows: int = 1
    freeze_seconds: tuple[float, float] = (5.0, 8.0)
    window_seconds: tuple[float, float] = (3.0, 8.0)
    settle_timeout: float = 90.0  # ZORT events waiting for their order are looked at again after 30 s, 60 s…
    resend_horizon: float = 90.0  # how long after the load a webhook is still resent
    calls_factor: float = 3.0
    first_order: int = 0  # 0: derived from the seed

    @classmethod
    def short(cls, seed: int = 1) -> DrillConfig:
        """`make test`'s schedule: 40 orders, 3 runners, one fault of each kind, ~60-90 s in all."""
        return cls(seed=seed)

    @classmethod
    def long(cls, seed: int, orders: int = 80, load_seconds: float = 45.0) -> DrillConfig:
        """`make drill`'s: more orders, two faults of each kind, Azurite stopped for 5-20 s."""
        return cls(
            seed=seed,
            orders=orders,
            load_seconds=load_seconds,
            lease=8,
            kills=2,
            stalls=2,
            freezes=2,
            oms_windows=2,
            market_windows=2,
            freeze_seconds=(5.0, 20.0),
            settle_timeout=180.0,
        )

    @property
    def base_order(self) -> int:
        return self.first_order or 7_000_000 + (self.seed % 1000) * 1000


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Webhook:
    name: str
    order_id: int
    kind: str  # orders | status | zort
    body: dict[str, Any] | list[Any]
    copies: list[float]  # when each copy is first sent (seconds from the load's start)


@dataclass
class Change:
    at: float
    order_id: int
    item_ids: list[str]
    status: str


@dataclass
class Plan:
    orders: dict[int, list[str]]  # order id → its item statuses at the end, in item order
    tracked: dict[int, str]  # order id → the tracking number ZORT sent
    changes: list[Change]
    webhooks: list[Webhook]


def item_ids(order_id: int) -> list[str]:
    return [str(order_id * 10 + i) for i in range(1 + order_id % 3)]  # the marketplace sandbox's rule


def build_plan(config: DrillConfig) -> Plan:
    rng = random.Random(config.seed)
    plan = Plan({}, {}, [], [])

    def copies(at: float) -> list[float]:
        first = at + rng.uniform(0.0, 1.5)  # delivered late: may overtake the next change's webhook
        extra = int(rng.random() < 0.3) + int(rng.random() < 0.1)
        return sorted([first] + [at + rng.uniform(0.0, 3.0) for _ in range(extra)])

    for n in range(config.orders):
        order_id = config.base_order + n
        items = item_ids(order_id)
        statuses = ["pending"] * len(items)
        start = rng.uniform(0.0, config.load_seconds * 0.55)
        shape = rng.choices(["ship", "cancel", "partial", "pending"], weights=[5, 2, 2, 1])[0]
        steps: list[tuple[list[str], str]] = []
        if shape == "ship":
            steps = [(items, "ready_to_ship"), (items, "shipped")]
            if rng.random() < 0.6:
                steps.append((items, "delivered"))
                if rng.random() < 0.4:
                    steps.append((items[:1], "returned"))
        elif shape == "cancel":
            steps = [(items, "canceled")]
        elif shape == "partial" and len(items) > 1:
            steps = [(items[:1], "canceled"), (items[1:], "ready_to_ship"), (items[1:], "shipped")]
        elif shape == "partial":
            steps = [(items, "ready_to_ship"), (items, "shipped")]
        # Sometimes the order changed before its first webhook: Thor first sees it already moved on.
        created_at = start + (1.0 if steps and rng.random() < 0.25 else 0.0)
        plan.webhooks.append(
            Webhook(
                f"{order_id}-created",
                order_id,
                "orders",
                {"event": "onOrderCreated", "payload": {"OrderId": order_id}},
                copies(created_at),
            )
        )
        at = start + 0.5
        for changed, status in steps:
            plan.changes.append(Change(at, order_id, changed, status))
            for item in changed:
                statuses[items.index(item)] = status
            body = {
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": str(order_id), "OrderItemIds": changed, "NewStatus": status},
            }
            plan.webhooks.append(Webhook(f"{order_id}-{status}", order_id, "status", body, copies(at)))
            if status == "shipped":
                number = f"TRK-{order_id}"
                plan.tracked[order_id] = number
                tracking = [{"trackingno": number, "trackingurl": "", "shippingdate": None}]
                plan.webhooks.append(
                    Webhook(f"{order_id}-tracking", order_id, "zort", tracking, copies(at + rng.uniform(0.3, 2.0)))
                )
            at += rng.uniform(1.0, 4.0)
        plan.orders[order_id] = statuses
    plan.changes.sort(key=lambda c: c.at)
    return plan


# --- the faults ----------------------------------------------------------------------------------


@dataclass
class Fault:
    at: float
    kind: str  # kill | stall | freeze | oms | marketplace
    seconds: float
    target: int = 0  # the runner (kill, stall)
    mode: str = ""  # 503 | timeout (fault windows)
    note: str = ""


def build_faults(config: DrillConfig) -> list[Fault]:
    rng = random.Random(config.seed * 7919 + 17)
    span = (2.0, max(3.0, config.load_seconds * 0.9))
    faults = []
    for _ in range(config.kills):
        faults.append(Fault(rng.uniform(*span), "kill", rng.uniform(1.0, 3.0), rng.randrange(config.runners)))
    for _ in range(config.stalls):
        stall = config.lease + rng.uniform(2.0, 5.0)
        faults.append(Fault(rng.uniform(*span), "stall", stall, rng.randrange(config.runners)))
    # Azurite's stops one after the other (an overlap would make one long stop): each in its own
    # slice of the span.
    slice_ = (span[1] - span[0]) / max(config.freezes, 1)
    for i in range(config.freezes):
        start = span[0] + i * slice_
        seconds = min(rng.uniform(*config.freeze_seconds), max(slice_ - 1.0, config.freeze_seconds[0]))
        faults.append(Fault(start + rng.uniform(0.0, max(slice_ - seconds, 0.0)), "freeze", seconds))
    for kind, count in (("oms", config.oms_windows), ("marketplace", config.market_windows)):
        for _ in range(count):
            mode = rng.choice(["503", "timeout"])
            faults.append(Fault(rng.uniform(*span), kind, rng.uniform(*config.window_seconds), mode=mode))
    return sorted(faults, key=lambda f: f.at)


class Runner:
    """One `localdev.runner` process on a fixed port (kept across restarts, like an instance's address)."""

    def __init__(self, index: int, env: dict[str, Any], args: list[str], log_dir: Path) -> None:
        self.index, self.env, self.args = index, env, args
        self.port = free_port()
        self.log = open(log_dir / f"runner-{index}.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process: subprocess.Popen[bytes] | None = None
        self.up = threading.Event()
        self.epoch = 0  # bumped by every kill, stop and restart: a request across one was not refused by Thor
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log.write(f"--- start {time.strftime('%H:%M:%S')}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localdev.runner", "--port", str(self.port), "--settings", os.devnull, *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def wait_up(self) -> None:
        wait_for_port(self.port, timeout=90)
        with self.lock:
            self.epoch += 1
            self.up.set()

    def signal(self, sig: int) -> None:
        with self.lock:
            self.epoch += 1
            if sig in (signal.SIGKILL, signal.SIGSTOP):
                self.up.clear()
            if self.process and self.process.poll() is None:
                os.kill(self.process.pid, sig)
            if sig == signal.SIGCONT:
                self.up.set()
        if sig == signal.SIGKILL and self.process:
            self.process.wait(10)
        self.log.write(f"--- {signal.Signals(sig).name} {time.strftime('%H:%M:%S')}\n".encode())
        self.log.flush()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


# --- one run -------------------------------------------------------------------------------------


@dataclass
class Answers:
    codes: dict[str, int] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # what violated "200 or 503 + Retry-After"
    accepted: dict[str, str] = field(default_factory=dict)  # event id → the webhook's name
    undelivered: list[str] = field(default_factory=list)  # webhooks that never got a 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key: str) -> None:
        with self.lock:
            self.codes[key] = self.codes.get(key, 0) + 1


class Run:
    def __init__(
        self, config: DrillConfig, faulted: bool, log_dir: Path, progress: Callable[..., None] = print
    ) -> None:
        self.config, self.faulted, self.progress = config, faulted, progress
        self.log_dir = log_dir
        self.plan = build_plan(config)
        self.faults = build_faults(config) if faulted else []
        self.stack = Stack()
        self.stack.values["THOR_RETRY_DELAYS"] = RETRY_DELAYS
        self.stack.values["THOR_ZORT_MATCH_WINDOW"] = ZORT_MATCH_WINDOW
        # Runners are (re)started from this one long-lived thread: a child gets SIGTERM when the thread
        # that started it ends (die_with_parent, PR_SET_PDEATHSIG is per thread).
        self.starter = ThreadPoolExecutor(1, thread_name_prefix="drill-starter")
        self.runners: list[Runner] = []
        self.answers = Answers()
        self.applied: list[str] = []  # the faults as they ran
        self.stop = threading.Event()

    # plumbing
    def start(self) -> None:
        self.stack.start_storage().start_sandboxes()
        env = self.stack.environment()
        args = ["--lease", str(self.config.lease), "--no-timers", "--max-poll", "0.5"]
        self.runners = [Runner(i, env, args, self.log_dir) for i in range(self.config.runners)]
        for runner in self.runners:
            self.starter.submit(runner.start).result()
        for runner in self.runners:
            runner.wait_up()

    def close(self) -> None:
        self.stop.set()
        if self.stack.azurite and self.stack.azurite.process and self.stack.azurite.process.poll() is None:
            try:
                os.killpg(os.getpgid(self.stack.azurite.process.pid), signal.SIGCONT)
            except ProcessLookupError:
                pass
        for runner in self.runners:
            runner.stop()
        self.starter.shutdown()
        self.stack.stop()

    def sandbox(self, name: str) -> str:
        return self.stack.servers[name].url

    # sending
    def post(self, runner: Runner, webhook: Webhook) -> requests.Response:
        key = self.stack.values["LOCAL_FUNCTION_KEY"]
        if webhook.kind == "zort":
            return requests.post(
                f"{runner.url}/webhooks/{TENANT}/zort",
                params={
                    "code": key,
                    "method": "UPDATEORDERTRACKING",
                    "number": f"{TENANT}-{webhook.order_id}",
                    "id": str(webhook.order_id),
                },
                data={"payload": json.dumps(webhook.body)},
                headers={"Authorization": f"Basic {self.stack.values['ZORT_KEY1_FACO']}"},
                timeout=REQUEST_TIMEOUT,
            )
        path = "orders" if webhook.kind == "orders" else "orders/status"
        return requests.post(
            f"{runner.url}/webhooks/{TENANT}/{path}", params={"code": key}, json=webhook.body, timeout=REQUEST_TIMEOUT
        )

    def deliver(self, webhook: Webhook, copy: int, deadline: float) -> None:
        """One copy, resent as the marketplace does until it gets a 200 (or the drill's horizon)."""
        attempt = 0
        while not self.stop.is_set():
            up = [r for r in self.runners if r.up.is_set()]
            if up:
                runner = up[(zlib.crc32(webhook.name.encode()) + copy + attempt) % len(up)]
                epoch = runner.epoch
                try:
                    answer = self.post(runner, webhook)
                except requests.RequestException as error:
                    if runner.epoch != epoch or not runner.up.is_set():
                        self.answers.count("no answer (runner killed or stopped)")
                    else:
                        self.answers.count("no answer (runner up)")
                        with self.answers.lock:
                            self.answers.others.append(f"{webhook.name} runner {runner.index}: {type(error).__name__}")
                else:
                    if answer.status_code == 200:
                        self.answers.count("200")
                        with self.answers.lock:
                            self.answers.accepted[answer.json()["eventId"]] = webhook.name
                        return
                    if answer.status_code == 503 and answer.headers.get("Retry-After", "").isdigit():
                        self.answers.count("503 + Retry-After")
                    else:
                        self.answers.count(str(answer.status_code))
                        with self.answers.lock:
                            self.answers.others.append(f"{webhook.name}: {answer.status_code} {answer.text[:200]}")
            if time.monotonic() > deadline:
                with self.answers.lock:
                    self.answers.undelivered.append(webhook.name)
                return
            self.stop.wait(RESEND_BACKOFF[min(attempt, len(RESEND_BACKOFF) - 1)])
            attempt += 1

    def change(self, change: Change) -> None:
        requests.post(
            self.sandbox("marketplace") + "/_sandbox/items/status",
            json={"order_item_ids": change.item_ids, "status": change.status},
            timeout=10,
        ).raise_for_status()

    # faults
    def apply_fault(self, fault: Fault) -> None:
        if fault.kind in ("kill", "stall"):
            runner = self.runners[fault.target]
            if not runner.up.is_set():  # already down: take the next one up, if any
                candidates = [r for r in self.runners if r.up.is_set()]
                if not candidates:
                    self.applied.append(f"{fault.kind} skipped (no runner up)")
                    return
                runner = candidates[0]
            if fault.kind == "kill":
                runner.signal(signal.SIGKILL)
                self.applied.append(f"t={fault.at:.0f}s kill runner {runner.index}, restart after {fault.seconds:.1f}s")
                time.sleep(fault.seconds)
                self.starter.submit(runner.start).result()
                try:
                    runner.wait_up()
                except TimeoutError:  # counted: the instance stays down, the others carry on
                    self.applied.append(f"runner {runner.index} did not come back (see its log)")
            else:
                runner.signal(signal.SIGSTOP)
                self.applied.append(f"t={fault.at:.0f}s stop runner {runner.index} {fault.seconds:.1f}s")
                time.sleep(fault.seconds)
                runner.signal(signal.SIGCONT)
        elif fault.kind == "freeze":
            azurite = self.stack.azurite
            assert azurite is not None and azurite.process is not None
            group = os.getpgid(azurite.process.pid)
            os.killpg(group, signal.SIGSTOP)
            self.applied.append(f"t={fault.at:.0f}s freeze Azurite {fault.seconds:.1f}s")
            try:
                time.sleep(fault.seconds)
            finally:
                os.killpg(group, signal.SIGCONT)
        else:
            match = "/api/v1/orders" if fault.kind == "oms" else "Action=GetOrder"
            requests.post(
                self.sandbox(fault.kind) + "/_sandbox/fail",
                json={"mode": fault.mode, "window": fault.seconds, "match": match},
                timeout=10,
            ).raise_for_status()
            self.applied.append(f"t={fault.at:.0f}s {fault.kind} {fault.mode} {fault.seconds:.1f}s")
            time.sleep(fault.seconds)

    # the run
    def execute(self) -> dict[str, Any]:
        began = time.monotonic()
        self.start()
        started = time.monotonic()
        deadline = started + self.config.load_seconds + self.config.resend_horizon
        timeline: list[tuple[float, int, Change | tuple[Webhook, int] | Fault]] = [
            (c.at, 0, c) for c in self.plan.changes
        ]
        timeline += [(at, 1, (w, i)) for w in self.plan.webhooks for i, at in enumerate(w.copies)]
        timeline += [(f.at, 2, f) for f in self.faults]
        timeline.sort(key=lambda entry: (entry[0], entry[1]))
        copies = sum(len(w.copies) for w in self.plan.webhooks)
        with ThreadPoolExecutor(copies + len(self.faults) + 1) as pool:
            sends: list[Future[None]] = []
            fault_runs: list[Future[None]] = []
            for at, _kind, item in timeline:
                delay = started + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if isinstance(item, Change):
                    self.change(item)
                elif isinstance(item, tuple):
                    webhook, copy = item
                    sends.append(pool.submit(self.deliver, webhook, copy, deadline))
                else:
                    fault_runs.append(pool.submit(self.apply_fault, item))
            for future in fault_runs + sends:
                future.result()
        loaded = time.monotonic()
        settled_at = self.settle(loaded + self.config.settle_timeout)
        if settled_at is None:
            self.dump_stacks()
        time.sleep(2.0)  # anything still running for a settled event would show now
        result = self.check()
        if any(result["violations"].values()) or settled_at is None:
            self.dump_state(result)
        result.update(
            load_seconds=round(loaded - started, 1),
            settle_seconds=round(settled_at - loaded, 1) if settled_at else None,
            total_seconds=round(time.monotonic() - began, 1),
            faults=list(self.applied),
        )
        return result

    def dump_stacks(self) -> None:
        """Every runner prints its threads' stacks into its log (faulthandler, SIGUSR1): where each
        queue listener and worker waits when events are left unsettled."""
        for runner in self.runners:
            if runner.process and runner.process.poll() is None:
                os.kill(runner.process.pid, signal.SIGCONT)
                os.kill(runner.process.pid, signal.SIGUSR1)
        time.sleep(1.0)
        self.progress(f"  not settled: thread stacks of every runner in {self.log_dir}/runner-*.log")

    # checking
    def events(self) -> dict[str, Any]:
        from shared.adapters.event_log import EventLog
        from shared.adapters.storage import Storage
        from shared.settings import load_settings

        log = EventLog(Storage(load_settings(self.stack.values).storage))
        return {event.event_id: event for event in log.list(tenant=TENANT, limit=100_000)}

    def dump_state(self, result: dict[str, Any]) -> None:
        """What a person needs to see why: events not completed, the claims, the OMS's history of the
        orders named by a violation (state.json in the log folder)."""
        from shared.adapters.storage import CLAIMS_TABLE, Storage
        from shared.settings import load_settings

        try:
            storage = Storage(load_settings(self.stack.values).storage)
            claims = [dict(entity) for entity in storage.table(CLAIMS_TABLE).list_entities()]
            events = [
                event.model_dump(mode="json", exclude={"body"})
                for event in self.events().values()
                if not event.status.finished
            ]
            named = {
                word.rstrip(":") for lines in result["violations"].values() for line in lines for word in line.split()
            }
            history = requests.get(self.sandbox("oms") + "/_sandbox/history", timeout=30).json()
            state = {
                "events_not_completed": events,
                "claims": claims,
                "oms_history": {ref: calls for ref, calls in history.items() if ref in named},
                "faults": self.applied,
            }
            (self.log_dir / "state.json").write_text(json.dumps(state, indent=1, default=str))
        except Exception as error:  # a diagnosis must not hide the result
            self.progress(f"  could not write state.json: {type(error).__name__}: {error}")

    def queued(self) -> dict[str, list[str]]:
        """The messages left in Thor's queue and its poison queue (the event ids they name)."""
        from shared.adapters.storage import EVENTS_QUEUE, Storage
        from shared.settings import load_settings

        storage = Storage(load_settings(self.stack.values).storage)
        left = {}
        for name in (EVENTS_QUEUE, f"{EVENTS_QUEUE}-poison"):
            queue = storage.queue(name)
            try:
                count = queue.get_queue_properties().approximate_message_count or 0
                peeked = [str(m.content)[:120] for m in queue.peek_messages(max_messages=32)]
            except Exception as error:  # the poison queue exists only once something was poisoned
                count, peeked = 0, [f"({type(error).__name__})"] if "NotFound" not in type(error).__name__ else []
            left[name] = [f"{count} message(s)", *peeked] if count else []
        return left

    def requests_of(self, name: str) -> list[dict[str, Any]]:
        return requests.get(self.sandbox(name) + "/_sandbox/requests", timeout=30).json()

    def oms_orders(self) -> dict[str, dict[str, Any]]:
        orders = requests.get(self.sandbox("oms") + "/_sandbox/orders", timeout=30).json()["orders"]
        return {o["order"]["orderRef"]: o["order"] for o in orders}

    def settle(self, until: float) -> float | None:
        """When every accepted event is final and the sandboxes received nothing for a second (the
        OMS's state is then compared, not waited for: a mismatch that lasts is a violation)."""
        last = None
        while time.monotonic() < until:
            try:
                events = self.events()
                pending = [e for e in self.answers.accepted if e not in events or events[e].status.pending]
                calls = (len(self.requests_of("oms")), len(self.requests_of("marketplace")))
                if not pending and calls == last:
                    return time.monotonic() - 1.0
                last = calls if not pending else None
            except Exception as error:  # storage still thawing
                self.progress(f"  settle: {type(error).__name__}: {str(error)[:100]}")
                last = None
            time.sleep(1.0)
        return None

    def mismatches(self, oms: dict[str, dict[str, Any]]) -> list[str]:
        from shared.adapters.oms.mapping import ORDER_STATUS, SHIPPED_OR_LATER
        from shared.domain.statuses import overall_status

        found = []
        for order_id, statuses in self.plan.orders.items():
            ref = f"{TENANT}-{order_id}"
            order = oms.get(ref)
            if order is None:
                found.append(f"{ref}: not in the OMS")
                continue
            active = [s for s in statuses if s != "canceled"]
            returned = [s for s in active if s == "returned"]
            expected = (  # mapping.order_status's rule, from the marketplace's statuses
                "PARTIALLY_RETURNED"
                if returned and len(returned) < len(active)
                else ORDER_STATUS[overall_status(statuses)]
            )
            if order.get("orderStatus") != expected:
                found.append(f"{ref}: orderStatus {order.get('orderStatus')} (marketplace: {expected})")
            lines = {line.get("entryRef"): line for line in order.get("orderLines") or []}
            for item, status in zip(item_ids(order_id), statuses, strict=True):
                line = lines.get(item)
                if line is None:
                    found.append(f"{ref}: line {item} missing")
                    continue
                checks = {
                    "shipped": (line.get("shippedQuantity") or 0) > 0,
                    "returned": (line.get("returnedQuantity") or 0) > 0,
                    "cancelledAt": bool(line.get("cancelledAt")),
                    "returnedAt": bool(line.get("returnedAt")),
                }
                wanted = {
                    "shipped": status in SHIPPED_OR_LATER,
                    "returned": status == "returned",
                    "cancelledAt": status == "canceled",
                    "returnedAt": status == "returned",
                }
                for name, value in checks.items():
                    if value != wanted[name]:
                        found.append(f"{ref}: line {item} ({status}) {name} {'set' if value else 'missing'}")
            if all(s == "canceled" for s in statuses) and not order.get("cancelledAt"):
                found.append(f"{ref}: canceled order without cancelledAt")
            number = self.plan.tracked.get(order_id)
            shipments = order.get("shipments") or []
            if (
                number
                and any(s != "canceled" for s in statuses)
                and not any(s.get("trackingNumber") == number for s in shipments)
            ):
                found.append(f"{ref}: tracking {number} not in the OMS")
        return found

    def check(self) -> dict[str, Any]:
        events = self.events()
        stuck, lost = [], []
        for event_id, name in sorted(self.answers.accepted.items(), key=lambda kv: kv[1]):
            event = events.get(event_id)
            if event is None:
                lost.append(f"{name} ({event_id})")
            elif event.status.pending:
                stuck.append(f"{name} ({event_id}): {event.status.value}, attempts {event.attempts}")
            elif not event.status.finished and not (event.reason or event.outcome):
                stuck.append(f"{name} ({event_id}): {event.status.value} without a reason")
        finals: dict[str, int] = {}
        for event_id in self.answers.accepted:
            if event_id in events:
                status = events[event_id].status.value
                finals[status] = finals.get(status, 0) + 1
        unmatched = [
            f"{name}: {events[e].reason or events[e].outcome}"
            for e, name in self.answers.accepted.items()
            if e in events and events[e].status.value in ("unmatched", "failed", "blocked")
        ]

        oms_calls = self.requests_of("oms")
        market_calls = self.requests_of("marketplace")
        creates: dict[str, int] = {}
        refused_creates: list[str] = []
        bodies: dict[str, list[dict[str, Any]]] = {}
        history = requests.get(self.sandbox("oms") + "/_sandbox/history", timeout=30).json()
        for ref, received in history.items():
            for call in received:
                if call["method"] == "POST" and call["status"] == 201:
                    creates[ref] = creates.get(ref, 0) + 1
                if call["method"] == "POST" and call["status"] == 400:
                    refused_creates.append(ref)
                if 200 <= call["status"] < 300:
                    bodies.setdefault(ref, []).append(call["body"])
        create_problems = [
            f"{TENANT}-{o}: created {creates.get(f'{TENANT}-{o}', 0)} times"
            for o in self.plan.orders
            if creates.get(f"{TENANT}-{o}", 0) != 1
        ] + [f"{ref}: a second create POST (refused as a duplicate)" for ref in refused_creates]
        backward, twice = [], []
        for ref, sent in bodies.items():
            seen_versions: set[str] = set()
            for i, body in enumerate(sent):
                version = body.get("updated_at") or ""
                if version in seen_versions:
                    twice.append(f"{ref}: version {version} accepted twice")
                seen_versions.add(version)
                if not i:
                    continue
                before = sent[:i]
                if version < max(b.get("updated_at") or "" for b in before):
                    backward.append(f"{ref}: body {i} older ({version}) than one already sent")
                rank = OMS_RANK.get(body.get("orderStatus") or "", 0)
                if rank < max(OMS_RANK.get(b.get("orderStatus") or "", 0) for b in before):
                    backward.append(f"{ref}: body {i} orderStatus {body.get('orderStatus')} after a later one")
                for line in body.get("orderLines") or []:
                    for b in before:
                        old = next(
                            (x for x in b.get("orderLines") or [] if x.get("entryRef") == line.get("entryRef")), None
                        )
                        if old is None:
                            continue
                        for quantity in ("shippedQuantity", "returnedQuantity"):
                            if (line.get(quantity) or 0) < (old.get(quantity) or 0):
                                backward.append(f"{ref}: line {line.get('entryRef')} {quantity} went down (body {i})")
                        for stamp in ("cancelledAt", "returnedAt"):
                            if old.get(stamp) and not line.get(stamp):
                                backward.append(f"{ref}: line {line.get('entryRef')} {stamp} dropped (body {i})")
        backward = sorted(set(backward))
        mismatch = self.mismatches(self.oms_orders())
        actions: dict[str, int] = {}
        for call in market_calls:
            action = call["query"].get("Action", "?")
            actions[action] = actions.get(action, 0) + 1
        for call in oms_calls:
            actions[f"OMS {call['method']}"] = actions.get(f"OMS {call['method']}", 0) + 1
        return {
            "seed": self.config.seed,
            "faulted": self.faulted,
            "webhooks": len(self.plan.webhooks),
            "copies": sum(len(w.copies) for w in self.plan.webhooks),
            "events": len(self.answers.accepted),
            "finals": finals,
            "answers": dict(self.answers.codes),
            "undelivered": list(self.answers.undelivered),
            "calls": len(market_calls) + len(oms_calls),
            "calls_by_kind": actions,
            "repeats": twice,
            "violations": {
                "stuck": stuck,
                "lost": lost,
                "creates": create_problems,
                "backward": backward,
                "mismatch": mismatch,
                "answers": list(self.answers.others),
            },
            "not_completed": unmatched,
            "queues": self.queued(),
        }


def run_one(config: DrillConfig, faulted: bool, log_dir: Path, progress: Callable[..., None] = print) -> dict[str, Any]:
    run = Run(config, faulted, log_dir, progress)
    try:
        return run.execute()
    finally:
        run.close()


def drill(config: DrillConfig, log_dir: Path | None = None, progress: Callable[..., None] = print) -> dict[str, Any]:
    """The fault-free run of the seed, then the faulted one; the faulted run's result, with the
    calls of both and the `calls` invariant."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix=f"thor-drill-{config.seed}-"))
    (log_dir / "clean").mkdir(parents=True, exist_ok=True)
    (log_dir / "faults").mkdir(parents=True, exist_ok=True)
    progress(f"seed {config.seed}: fault-free run ({config.orders} orders, {config.runners} runners)")
    clean = run_one(config, False, log_dir / "clean", progress)
    progress(
        f"seed {config.seed}: fault-free: {clean['events']} events, {clean['calls']} calls, "
        f"settled in {clean['settle_seconds']} s; faulted run"
    )
    result = run_one(config, True, log_dir / "faults", progress)
    result["clean"] = {k: clean[k] for k in ("calls", "calls_by_kind", "settle_seconds", "events", "violations")}
    factor = result["calls"] / max(clean["calls"], 1)
    result["calls_ratio"] = round(factor, 2)
    result["violations"]["calls"] = (
        [f"{result['calls']} calls, {factor:.2f}x the fault-free run's {clean['calls']} (limit {config.calls_factor}x)"]
        if factor > config.calls_factor
        else []
    )
    if result["settle_seconds"] is None:
        result["violations"]["stuck"].append(f"not settled within {config.settle_timeout:.0f} s")
    result["logs"] = str(log_dir)
    return result


# --- the table -----------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    head = ["seed", "faults", "events", *INVARIANTS, "repeats", "calls (fault-free)", "settle s (fault-free)"]
    rows = []
    for r in results:
        kinds: dict[str, int] = {}
        for fault in r["faults"]:
            word = fault.split()[1] if fault.startswith("t=") else fault.split()[0]
            kinds[word] = kinds.get(word, 0) + 1
        counts = [str(len(r["violations"][name])) for name in INVARIANTS]
        rows.append(
            [
                str(r["seed"]),
                " ".join(f"{k}×{v}" for k, v in sorted(kinds.items())),
                str(r["events"]),
                *counts,
                str(len(r.get("repeats", []))),
                f"{r['calls']} ({r['clean']['calls']}, {r['calls_ratio']}x)",
                f"{r['settle_seconds']} ({r['clean']['settle_seconds']})",
            ]
        )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def details(result: dict[str, Any], limit: int = 15) -> str:
    out = [
        f"seed {result['seed']}: faults {result['faults']}",
        f"  {result['events']} events; calls {result['calls']} (fault-free {result['clean']['calls']}, "
        f"{result['calls_ratio']}x); settled in {result['settle_seconds']} s (fault-free "
        f"{result['clean']['settle_seconds']} s)",
        f"  answers {result['answers']}",
    ]
    out.append(f"  events final {result['finals']}; logs {result['logs']}")
    for name in INVARIANTS:
        found = result["violations"][name]
        if found:
            out.append(f"  {name}: {len(found)}")
            out += [f"    {line}" for line in found[:limit]]
    clean = {name: found for name, found in result["clean"]["violations"].items() if found}
    if clean:  # the fault-free run's own violations (then not the faults' doing)
        out.append(f"  fault-free run: {', '.join(f'{name} {len(found)}' for name, found in clean.items())}")
        out += [f"    {line}" for found in clean.values() for line in found[:limit]]
    for queue, left in result.get("queues", {}).items():
        if left:
            out.append(f"  left in {queue}: {left[0]}")
            out += [f"    {line}" for line in left[1:limit]]
    if result.get("repeats"):
        out.append(f"  repeats (reported, idempotent): {len(result['repeats'])}")
        out += [f"    {line}" for line in result["repeats"][:limit]]
    if result["not_completed"]:
        out.append(f"  not completed (final, with a reason): {len(result['not_completed'])}")
        out += [f"    {line}" for line in result["not_completed"][:limit]]
    return "\n".join(out)


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        seeds += list(range(int(first), int(last or first) + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10", help="a range or a list: 1-10, 3,5,8")
    parser.add_argument("--short", action="store_true", help="make test's schedule (40 orders, one fault of each kind)")
    parser.add_argument("--orders", type=int, default=80)
    parser.add_argument("--load-seconds", type=float, default=45.0)
    parser.add_argument("--runners", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--table", type=Path, default=None, help="print the table of a --json file and exit")
    args = parser.parse_args(argv)
    if args.table:
        saved = json.loads(args.table.read_text())
        for result in saved:  # results written before `twice` became `repeats`
            result.setdefault("repeats", result["violations"].pop("twice", []))
        print(table(saved))
        return 0
    sys.path.insert(0, str(ROOT))
    results = []
    for seed in parse_seeds(args.seeds):
        config = DrillConfig.short(seed) if args.short else DrillConfig.long(seed, args.orders, args.load_seconds)
        config.runners = args.runners
        result = drill(config, progress=lambda m: print(m, file=sys.stderr, flush=True))
        results.append(result)
        print(details(result), file=sys.stderr, flush=True)
        if args.json:  # after every seed: a long batch cut short keeps what it measured
            args.json.write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    failed = [r["seed"] for r in results if any(r["violations"][name] for name in INVARIANTS)]
    if failed:
        print(f"violations with seeds {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
