"""Thor's local Functions host: serves `function_app.app` the way the Azure Functions host does.

Core Tools can't be installed everywhere and does not check keys locally, so this runner:
- serves every HTTP function on its route (route prefix from host.json), concurrently;
- checks function keys (`?code=` or `x-functions-key`) against `LOCAL_FUNCTION_KEY` in constant time,
  before anything else about the request (a 405 without a key would tell a stranger a route exists);
- answers a method a route does not serve with 405 and `Allow`, and refuses a body over Thor's 1 MiB
  limit with 413 from its Content-Length before reading it (a chunked body is read up to 1 MiB + 1);
  with `Expect: 100-continue`, `100 Continue` is sent only when the function starts reading the body,
  so a 413 (or a 401, 404, 405) is answered before the client uploads anything;
- logs each request on one line: CR, LF and other control characters a caller sent are escaped;
- stands in for App Service authentication on the console's routes when `CONSOLE_AUTH=platform` and
  the console's token issuer is the local one (localdev/local_auth.py): a key pair made at start, its
  JWKS served at `/.auth/local/keys`, an ID token signed for a fixed local operator on each request
  that brings none, verified by Thor like Entra ID's; otherwise headers pass as sent;
- runs queue triggers against the storage queue with the host's semantics (visibility timeout,
  dequeue count, `<queue>-poison` after `maxDequeueCount`, a batch of `batchSize` and the next once
  no more than `newBatchThreshold` still run), and timer triggers on their schedule.

Usage: python -m localdev.runner [--port 7071] [--settings local.settings.json]
                                [--timer-interval SECONDS | --no-timers]
"""

from __future__ import annotations

import argparse
import faulthandler
import hmac
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import azure.functions as func
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from functions._http import ROUTE_BODY_LIMITS
from localdev.local_auth import JWKS_PATH, LOCAL_OPERATOR, LocalSignIn

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from azure.storage.queue import QueueClient
    from azure.storage.queue import QueueMessage as StoredMessage

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("thor.runner")
MAX_REQUEST_BYTES = 1024 * 1024  # Thor's own limit (functions/_http.py); the Azure host's is 100 MB
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}


def one_line(text: object) -> str:
    """`text` with CR, LF and other control characters escaped, so a caller can't forge log lines."""
    return str(text).translate(_CONTROL)


class OneLineLogs(logging.Filter):
    """Escapes control characters in every message (tracebacks, added by the formatter, keep theirs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = one_line(message)
        if escaped != message:
            record.msg, record.args = escaped, ()
        return True


def host_config() -> dict[str, Any]:
    return json.loads((ROOT / "host.json").read_text())


def _timespan_seconds(text: str, default: float) -> float:
    if not text:
        return default
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _problem(
    status: int, title: str, detail: str, field: str | None = None, headers: dict[str, Any] | None = None
) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if field:
        body["field"] = field
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/problem+json")


class _ContinueOnRead:
    """The request body of an `Expect: 100-continue` request: `100 Continue` is sent on the first read."""

    def __init__(self, raw: Any, send_continue: Callable[[], None]) -> None:
        self.raw, self._send_continue, self.started = raw, send_continue, False

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self._send_continue()

    def read(self, *args: Any) -> bytes:
        self._start()
        return bytes(self.raw.read(*args))

    def readline(self, *args: Any) -> bytes:
        self._start()
        return bytes(self.raw.readline(*args))

    def readlines(self, *args: Any) -> list[bytes]:
        self._start()
        return list(self.raw.readlines(*args))

    def __iter__(self) -> Any:
        self._start()
        return iter(self.raw)


class ContinueWhenReadHandler(WSGIRequestHandler):
    """werkzeug's handler, but `100 Continue` only once the app reads the body (werkzeug sends it
    before the app runs, so a client uploads a body Thor then refuses). A request whose body was not
    read (413, 401, …) closes the connection: the client may still send it."""

    def handle_expect_100(self) -> bool:
        return True  # nothing sent yet: see make_environ

    def run_wsgi(self) -> None:
        self._expects_continue = self.headers.get("Expect", "").lower().strip(" \t") == "100-continue"
        if self._expects_continue:
            del self.headers["Expect"]  # werkzeug would answer 100 Continue at once
        super().run_wsgi()
        body = getattr(self, "_continue_body", None)
        if body is not None and not body.started:
            self.close_connection = True

    def make_environ(self) -> Any:
        environ = super().make_environ()
        if getattr(self, "_expects_continue", False):

            def send_continue() -> None:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()

            self._continue_body = _ContinueOnRead(environ["wsgi.input"], send_continue)
            environ["wsgi.input"] = self._continue_body
        return environ


def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (RequestEntityTooLarge) from its Content-Length before any of it is read, or,
    chunked, as soon as more than `limit` bytes arrived: never more than `limit` + 1 bytes in memory."""
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


CONSOLE_URL = "/console"


class HttpHost:
    """WSGI app routing requests to the app's HTTP functions."""

    def __init__(
        self, functions: list[Any], function_key: str, route_prefix: str, sign_in: LocalSignIn | None = None
    ) -> None:
        self.sign_in = sign_in
        self.function_key = function_key.encode()
        self.functions = {}
        rules = []
        for function in functions:
            trigger = function.get_trigger().get_dict_repr()
            if trigger.get("type") != "httpTrigger":
                continue
            route = "/".join(part for part in (route_prefix.strip("/"), trigger["route"].strip("/")) if part)
            template = "/" + route.replace("{", "<").replace("}", ">")
            methods = [str(getattr(m, "value", m)).upper() for m in trigger.get("methods") or ["GET", "POST"]]
            auth = str(getattr(trigger.get("authLevel"), "value", trigger.get("authLevel") or "function")).lower()
            name = function.get_function_name()
            self.functions[name] = (function.get_user_function(), auth, "/" + route)
            rules.append(Rule(template, endpoint=name, methods=methods))
        self.url_map = Map(rules, strict_slashes=False)

    def routes(self) -> list[tuple[str, str, str]]:
        return [
            (name, " ".join(sorted((r.methods or set()) - {"HEAD", "OPTIONS"})), r.rule)
            for r in self.url_map.iter_rules()
            for name in [r.endpoint]
        ]

    def authorised(self, request: Request) -> bool:
        sent = request.headers.get("x-functions-key") or request.args.get("code") or ""
        return hmac.compare_digest(sent.encode(), self.function_key)

    def admits(self, name: str, request: Request) -> bool:
        return self.functions[name][1] == "anonymous" or self.authorised(request)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if self.sign_in and request.path == JWKS_PATH and request.method == "GET":
            return Response(json.dumps(self.sign_in.jwks()), content_type="application/json")
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            name, route_params = adapter.match()
        except MethodNotAllowed as error:
            allowed = sorted(error.valid_methods or ())
            served_by = adapter.match(method=allowed[0])[0] if allowed else None
            if served_by and not self.admits(served_by, request):
                return Response(status=401)  # the key first: a stranger learns nothing about the route
            return _problem(
                405,
                "Method not allowed",
                f"{one_line(request.method)} is not allowed here; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        except NotFound:
            return _problem(404, "Not found", f"no function serves {request.path}")
        except HTTPException as error:
            return _problem(error.code or 400, "Bad request", error.description or "")
        user_function = self.functions[name][0]
        if not self.admits(name, request):
            return Response(status=401)  # what the Functions host answers: 401, empty body
        limit = ROUTE_BODY_LIMITS.get(name, MAX_REQUEST_BYTES)  # a tax document carries its PDF
        try:
            body = read_body(request, limit)
        except RequestEntityTooLarge:
            return _problem(413, "Body too large", f"the body is over {limit} bytes", "body")
        except HTTPException as error:
            return _problem(error.code or 400, "Bad request", error.description or "")
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=self.sign_in.headers(dict(request.headers)) if self.sign_in else dict(request.headers),
            params={k: v for k, v in request.args.items(multi=True)},
            route_params=dict(route_params),
            body=body,
        )
        started = time.perf_counter()
        try:
            result = user_function(http_request)
        except Exception:  # what the host does with an unhandled exception: 500, nothing leaked
            log.exception("function %s raised", name)
            return Response(status=500)
        log.info(
            "%s %s -> %s (%s, %.1f ms)",
            one_line(request.method),
            one_line(request.path),
            result.status_code,
            name,
            (time.perf_counter() - started) * 1000,
        )
        headers = dict(result.headers)
        headers.pop("Content-Type", None)
        return Response(
            result.get_body(),
            status=result.status_code,
            headers=headers,
            content_type=result.mimetype + (f"; charset={result.charset}" if result.charset else ""),
        )


class QueueWorker:
    """Polls a queue like the Functions host and runs the queue-triggered function.

    As the host's queue listener does (host.json `extensions.queues`), it takes a batch of up to
    `batchSize` messages and takes the next one as soon as no more than `newBatchThreshold` are
    still running: a slow function holds its own message, never the listener (it used to wait for
    the whole batch, so one function that hung stopped the instance taking any message). A function
    still running after `SLOW_SECONDS` is logged with where it waits, once a minute."""

    SLOW_SECONDS = 60.0

    def __init__(
        self,
        user_function: Callable[..., Any],
        queue_client: QueueClient,
        poison_client: QueueClient,
        settings: dict[str, Any],
        lease: int = 300,
    ) -> None:
        self.user_function = user_function
        self.queue = queue_client
        self.poison = poison_client
        self.batch_size = int(settings.get("batchSize", 16))
        self.new_batch_threshold = int(settings.get("newBatchThreshold", self.batch_size // 2))
        self.max_dequeue = int(settings.get("maxDequeueCount", 5))
        self.visibility = _timespan_seconds(settings.get("visibilityTimeout", ""), 0)
        self.max_poll = _timespan_seconds(settings.get("maxPollingInterval", ""), 2.0)
        self.lease = lease  # seconds a message stays hidden while its function runs (or if settling it fails)
        self.stopped = threading.Event()
        self.pool = ThreadPoolExecutor(
            max_workers=self.batch_size + self.new_batch_threshold, thread_name_prefix="queue"
        )
        self.running = 0  # messages whose function runs now
        self._changed = threading.Condition()

    def run(self) -> None:
        idle = 0.05
        while not self.stopped.is_set():
            with self._changed:  # the next batch once no more than newBatchThreshold still run
                while self.running > self.new_batch_threshold and not self.stopped.is_set():
                    self._changed.wait(0.5)
            try:
                messages = list(
                    self.queue.receive_messages(max_messages=min(self.batch_size, 32), visibility_timeout=self.lease)
                )
            except Exception as error:  # storage down: keep polling, like the host
                log.warning("queue poll failed: %s", str(error).splitlines()[0])
                messages = []
            if not messages:
                self.stopped.wait(idle)
                idle = min(idle * 2, self.max_poll)
                continue
            idle = 0.05
            for message in messages:
                with self._changed:
                    self.running += 1
                try:
                    self.pool.submit(self._run_counted, message)
                except RuntimeError:  # stopping: the message is delivered again after its lease
                    self._finished()

    def _run_counted(self, message: StoredMessage) -> None:
        try:
            self.run_one(message)
        except Exception:  # never lose the count, whatever happens settling a message
            log.exception("queue message %s could not be run", getattr(message, "id", "?"))
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._changed:
            self.running -= 1
            self._changed.notify_all()

    def run_one(self, message: StoredMessage) -> None:
        body = message.content.encode("utf-8") if isinstance(message.content, str) else message.content
        trigger_message = QueueMessage(  # type: ignore[no-untyped-call]  # azure.functions' constructor is not typed
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            pop_receipt=message.pop_receipt,
        )
        done = threading.Event()
        renewer = threading.Thread(target=self._keep_hidden, args=(message, done, threading.get_ident()), daemon=True)
        renewer.start()
        try:
            self.user_function(trigger_message)
        except Exception:
            done.set()
            renewer.join()
            log.exception("queue function failed (dequeue count %s)", message.dequeue_count)
            try:
                if (message.dequeue_count or 0) >= self.max_dequeue:
                    self.poison.send_message(message.content)
                    self.queue.delete_message(message)
                else:
                    self.queue.update_message(message, visibility_timeout=int(self.visibility))
            except Exception as error:
                log.warning("could not settle failed message: %s", str(error).splitlines()[0])
            return
        done.set()
        renewer.join()
        try:
            self.queue.delete_message(message)
        except Exception as error:
            log.warning("could not delete message: %s", str(error).splitlines()[0])

    def _keep_hidden(self, message: StoredMessage, done: threading.Event, worker: int | None = None) -> None:
        """While the function runs, the message's lease is renewed every half lease, as the host's queue
        listener does (azure-webjobs-sdk, Queues/Listeners/UpdateQueueMessageVisibilityCommand): a
        message is delivered again only when its worker is gone, never while it still works (renewed at
        least once a minute). A function running past SLOW_SECONDS is logged with its stack (thread
        `worker`), once a minute."""
        started, reported = time.monotonic(), 0.0
        while not done.wait(min(self.lease / 2, self.SLOW_SECONDS)):
            running = time.monotonic() - started
            if running >= self.SLOW_SECONDS and running - reported >= self.SLOW_SECONDS:
                reported = running
                frame = sys._current_frames().get(worker) if worker is not None else None
                where = "".join(traceback.format_stack(frame)[-6:]) if frame is not None else "(no stack)\n"
                log.warning(
                    "queue message %s: its function is still running after %.0f s, at:\n%s", message.id, running, where
                )
            try:
                renewed = self.queue.update_message(message, visibility_timeout=self.lease)
                message.pop_receipt = renewed.pop_receipt  # the next update or the delete needs the new one
            except Exception as error:  # storage down: try again at the next half lease
                log.warning("could not renew a message's lease: %s", str(error).splitlines()[0])

    def stop(self) -> None:
        self.stopped.set()
        self.pool.shutdown(wait=False)


def queue_workers(functions: list[Any], host: dict[str, Any], lease: int) -> list[QueueWorker]:
    from shared.adapters.storage import Storage
    from shared.settings import get_settings

    storage = Storage(get_settings().storage)
    settings = host.get("extensions", {}).get("queues", {})
    workers = []
    for function in functions:
        trigger = function.get_trigger().get_dict_repr()
        if trigger.get("type") == "queueTrigger":
            name = trigger["queueName"]
            workers.append(
                QueueWorker(
                    function.get_user_function(), storage.queue(name), storage.queue(f"{name}-poison"), settings, lease
                )
            )
    return workers


def queue_workers_when_storage_answers(
    functions: list[Any], host: dict[str, Any], lease: int, wait: float = 120.0
) -> list[QueueWorker]:
    """`queue_workers`, tried again every second while storage does not answer (an instance started
    while storage is down waits for it, as the host's queue listener does, instead of exiting)."""
    from shared.ports import StorageUnavailable

    deadline = time.monotonic() + wait
    while True:
        try:
            return queue_workers(functions, host, lease)
        except StorageUnavailable as error:
            if time.monotonic() > deadline:
                raise
            log.warning("storage unavailable while starting the queue listeners, trying again: %s", error)
            time.sleep(1.0)


# --- timer triggers ---------------------------------------------------------------------------

_NAMES = {
    4: {
        name: i
        for i, name in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
        )
    },
    5: {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_BOUNDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))  # sec min hour day month day-of-week


def _cron_value(text: str, position: int) -> int:
    value = _NAMES.get(position, {}).get(text.lower())
    if value is None:
        if not text.isdigit():
            raise ValueError(f"{text!r} is not a number")
        value = int(text)
    if position == 5 and value == 7:
        value = 0  # Sunday, either way
    low, high = _BOUNDS[position]
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _cron_field(text: str, position: int) -> frozenset[int]:
    """One field: `*`, `n`, `a-b`, with an optional `/step`, comma-separated."""
    low, high = _BOUNDS[position]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step in {part!r}")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _cron_value(a, position), _cron_value(b, position)
            if first > last:
                raise ValueError(f"empty range {base!r}")
        else:
            first = _cron_value(base, position)
            last = high if step else first
        values.update(range(first, last + 1, step or 1))
    return frozenset(values)


class CronSchedule:
    """A 6-field NCRONTAB schedule, `{second} {minute} {hour} {day} {month} {day-of-week}`, in UTC.

    Fields take `*`, numbers, ranges `a-b`, steps `*/n` or `a-b/n`, lists `a,b`, and month and day
    names (`jan`, `mon`). Day and day-of-week must both match (NCRONTAB's rule, unlike Unix cron).
    """

    def __init__(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) != 6:
            raise ValueError(f"NCRONTAB needs 6 fields (second minute hour day month day-of-week): {expression!r}")
        self.expression = expression
        self.seconds, self.minutes, self.hours, self.days, self.months, self.weekdays = (
            _cron_field(part, i) for i, part in enumerate(parts)
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after `moment` that the schedule fires."""
        t = moment.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
            elif t.day not in self.days or (t.weekday() + 1) % 7 not in self.weekdays:
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
            elif t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
            elif t.second not in self.seconds:
                t += timedelta(seconds=1)
            else:
                return t
        raise ValueError(f"{self.expression!r} never fires")


class IntervalSchedule:
    """Every `seconds` (`--timer-interval`, and NCRONTAB's TimeSpan form `hh:mm:ss`)."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("the interval must be positive")
        self.seconds = seconds
        self.expression = f"every {seconds:g}s"

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)


def parse_schedule(text: str) -> IntervalSchedule | CronSchedule:
    text = text.strip()
    if ":" in text and len(text.split()) == 1:
        return IntervalSchedule(_timespan_seconds(text, 0))
    return CronSchedule(text)


class TimerWorker:
    """Runs a timer-triggered function on its schedule, one run at a time, like the host."""

    def __init__(
        self,
        name: str,
        user_function: Callable[..., Any],
        schedule: IntervalSchedule | CronSchedule,
        run_on_startup: bool = False,
    ) -> None:
        self.name = name
        self.user_function = user_function
        self.schedule = schedule
        self.run_on_startup = run_on_startup
        self.stopped = threading.Event()

    def run(self) -> None:
        if self.run_on_startup:
            self.run_once()
        while not self.stopped.is_set():
            due = self.schedule.next_after(datetime.now(timezone.utc))
            delay = (due - datetime.now(timezone.utc)).total_seconds()
            if self.stopped.wait(max(delay, 0)):
                return
            self.run_once()

    def run_once(self) -> None:
        try:
            self.user_function(TimerRequest(past_due=False))
        except Exception:
            log.exception("timer function %s failed", self.name)

    def stop(self) -> None:
        self.stopped.set()


def timer_workers(
    functions: list[Any], interval: float | None = None, only: frozenset[str] | None = None
) -> list[TimerWorker]:
    workers = []
    for function in functions:
        trigger = function.get_trigger().get_dict_repr()
        if trigger.get("type") == "timerTrigger" and (only is None or function.get_function_name() in only):
            schedule = IntervalSchedule(interval) if interval else parse_schedule(trigger["schedule"])
            workers.append(
                TimerWorker(
                    function.get_function_name(),
                    function.get_user_function(),
                    schedule,
                    bool(trigger.get("runOnStartup")),
                )
            )
    return workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--settings", default=str(ROOT / "local.settings.json"))
    parser.add_argument("--no-queue", action="store_true", help="serve HTTP only (benchmark floor)")
    parser.add_argument(
        "--lease",
        type=int,
        default=300,
        help="seconds a message being processed stays invisible (the host uses 10 minutes)",
    )
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument(
        "--timer-interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="run every timer trigger every SECONDS instead of on its schedule (tests)",
    )
    parser.add_argument("--no-timers", action="store_true", help="do not run timer triggers")
    parser.add_argument(
        "--timers",
        type=lambda text: frozenset(name.strip() for name in text.split(",") if name.strip()),
        default=None,
        metavar="NAME[,NAME]",
        help="run only these timer triggers (e.g. stock_flush; the benchmark)",
    )
    parser.add_argument(
        "--max-poll",
        type=float,
        default=None,
        metavar="SECONDS",
        help="poll an idle queue at least every SECONDS instead of host.json's maxPollingInterval (tests)",
    )
    args = parser.parse_args(argv)
    if args.timer_interval is not None and args.timer_interval <= 0:
        parser.error("--timer-interval must be positive")
    if args.max_poll is not None and args.max_poll <= 0:
        parser.error("--max-poll must be positive")
    logging.basicConfig(
        level=os.environ.get("THOR_LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # werkzeug's access log would print every URL with its ?code= key: log our own line instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from shared import observability

    observability.install()
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLineLogs())
    sys.path.insert(0, str(ROOT))

    from shared.settings import LocalSettingsError, SettingsError, load_settings, local_settings_environment

    try:
        os.environ.update(local_settings_environment(Path(args.settings)))  # existing variables win
        observability.install()  # again: the secrets of the settings file are masked too
        observability.register_secrets([os.environ.get("LOCAL_FUNCTION_KEY", "")])
        load_settings(strict=True)  # locally, a tenant configured by halves is an error at start-up
    except SettingsError as error:
        print(f"error: {error} (set them in {args.settings} or the environment)", file=sys.stderr)
        return 2
    except LocalSettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    key = os.environ.get("LOCAL_FUNCTION_KEY", "")
    if not key:
        print("error: Thor is missing settings: LOCAL_FUNCTION_KEY (the local runner's function key)", file=sys.stderr)
        return 2

    module_name, _, attribute = args.app.partition(":")
    app = getattr(__import__(module_name, fromlist=[attribute]), attribute)
    host = host_config()
    functions = app.get_functions()  # (calling it twice trips its duplicate-name check)
    sign_in = LocalSignIn.from_environment()
    http = HttpHost(functions, key, host.get("extensions", {}).get("http", {}).get("routePrefix", "api"), sign_in)
    # Bound before any worker starts: the console's JWKS URL names the port, and Thor reads its settings once.
    server = make_server("127.0.0.1", args.port, http, threaded=True, request_handler=ContinueWhenReadHandler)
    server.socket.listen(1024)
    if sign_in:
        os.environ["CONSOLE_JWKS_URL"] = f"http://127.0.0.1:{server.server_port}{JWKS_PATH}"
        from shared.bootstrap import reset_context
        from shared.settings import get_settings

        get_settings.cache_clear()
        reset_context()
    # The queue listeners start beside the HTTP server, not before it (as the host's do): an instance
    # started while storage is frozen answers its requests (503 within their bound) while its
    # listeners wait for storage, instead of leaving them in the socket's backlog.
    workers: list[QueueWorker] = []

    def start_queue_workers() -> None:
        try:
            started = queue_workers_when_storage_answers(functions, host, args.lease)
        except Exception:  # storage never answered: the instance stops, as it did when this ran first
            log.exception("the queue listeners could not start: stopping")
            stop()
            return
        for worker in started:
            if args.max_poll:
                worker.max_poll = args.max_poll
            workers.append(worker)
            threading.Thread(target=worker.run, daemon=True, name="queue-poll").start()
            print(f"  queue trigger on '{worker.queue.queue_name}' (poison: '{worker.poison.queue_name}')", flush=True)

    threads = [] if args.no_queue else [threading.Thread(target=start_queue_workers, daemon=True, name="queue-start")]
    timers = [] if args.no_queue or args.no_timers else timer_workers(functions, args.timer_interval, args.timers)
    threads += [threading.Thread(target=t.run, daemon=True, name=f"timer-{t.name}") for t in timers]

    print(f"Thor is running on http://127.0.0.1:{server.server_port}\n\nFunctions:\n", flush=True)
    for name, methods, rule in sorted(http.routes()):
        url_rule = rule.replace("<", "{").replace(">", "}")
        print(f"  {name}: [{methods}] http://localhost:{server.server_port}{url_rule}?code={key}", flush=True)
    if sign_in:
        print(
            f"\nConsole: http://localhost:{server.server_port}{CONSOLE_URL}  (signed in as the fixed local operator "
            f"{LOCAL_OPERATOR['preferred_username']}: the runner stands in for App Service authentication, signing "
            f"its ID token with a key made at start; JWKS at {JWKS_PATH})\n",
            flush=True,
        )
    else:
        print(
            "\nConsole: no local sign-in (CONSOLE_AUTH is not `platform`, or CONSOLE_TOKEN_ISSUER is not local)\n",
            flush=True,
        )
    for timer in timers:
        print(f"  {timer.name}: timer trigger ({timer.schedule.expression})", flush=True)
    print("", flush=True)

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # `kill -USR1 <pid>` prints every thread's stack to stderr (the drill does it to a runner that
    # did not settle: where its queue listener waits).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    for thread in threads:
        thread.start()
    try:
        server.serve_forever()
    finally:
        for worker in workers:
            worker.stop()
        for timer in timers:
            timer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
