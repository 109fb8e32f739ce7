"""Plumbing every sandbox shares: a threaded WSGI server, a request log and fault injection.

A sandbox is a werkzeug WSGI app built by `SandboxApp`. Tests and `make run` talk to it through
real HTTP; its control routes live under `/_sandbox/`:

- `POST /_sandbox/fail`  `{"mode": "500"|"429"|"timeout"|"malformed", "times": 2, "match": "GetOrder"}`
  makes the next `times` requests whose path or query contains `match` (all requests if omitted) fail;
  mode `"slow"` (with `"seconds"`, default 1) answers them normally, only that much later;
  with `"window": 5` instead of `times`, every matching request fails for the next 5 seconds (a
  fault window: the scale-out drill's OMS and marketplace outages), whatever their number;
  mode `"503"` (any 5xx) answers with that status.
- `POST /_sandbox/fail/off` `{"match": "GetOrder"}` (or no body: every fault) stops the refusals still
  pending, keeping the sandbox's data and request log (answers how many it stopped);
- `POST /_sandbox/reset` clears faults, the request log and the sandbox's data.
- `GET  /_sandbox/requests` lists the requests received (method, path, query, headers, body, status,
  `at`: when, in Unix seconds).

A sandbox adds its own control routes as two tables given to `SandboxApp`: `views` (GET, given the
request) and `controls` (POST, given the JSON object sent: a body that is not one is a 400, an empty
body is `{}`; a handler raising `ControlError` answers 400 with its message).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

TIMEOUT_SLEEP_SECONDS = 3.0
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request from the sandboxes


@dataclass
class Fault:
    mode: str
    times: int
    match: str | None = None
    seconds: float = 1.0
    until: float | None = None
    """With a window: the monotonic time it ends; `times` is not counted down."""

    def active(self, now: float) -> bool:
        return now < self.until if self.until is not None else self.times > 0


@dataclass
class SandboxState:
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, request: Request) -> Fault | None:
        target = request.full_path
        now = time.monotonic()
        with self.lock:
            for fault in self.faults:
                if fault.active(now) and (not fault.match or fault.match in target):
                    if fault.until is None:
                        fault.times -= 1
                    return fault
        return None


def json_response(body: object, status: int = 200, headers: dict[str, Any] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def fault_response(fault: Fault) -> Response:
    if fault.mode == "timeout":
        time.sleep(TIMEOUT_SLEEP_SECONDS)
        return json_response({"error": "sandbox timeout"}, 504)
    if fault.mode == "429":
        return json_response({"error": "too many requests"}, 429, {"Retry-After": "1"})
    if fault.mode == "malformed":
        return Response("{not json", status=200, content_type="application/json")
    return json_response({"error": "sandbox injected failure"}, int(fault.mode) if fault.mode.isdigit() else 500)


class ControlError(Exception):
    """A control route's request is wrong: answered 400 with this message."""


View = Callable[[Request], Response]
Control = Callable[[dict[str, Any]], Response]


class SandboxApp:
    """WSGI app: control routes, fault injection and request logging around `handler`; `views` and
    `controls` are the sandbox's own control routes (GET and POST, by their path under `/_sandbox/`)."""

    def __init__(
        self,
        handler: Callable[[Request], Response],
        reset: Callable[[], None] = lambda: None,
        fault_hook: Callable[[Fault, Request], Response | None] | None = None,
        views: Mapping[str, View] | None = None,
        controls: Mapping[str, Control] | None = None,
    ) -> None:
        self.handler = handler
        self.reset_data = reset
        self.fault_hook = fault_hook
        self.views = dict(views or {})
        self.controls = dict(controls or {})
        self.state = SandboxState()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self.control(request)
        fault = self.state.take_fault(request)
        if fault is not None and fault.mode == "slow":
            time.sleep(fault.seconds)
            fault = None
        if fault is not None:
            response = (self.fault_hook and self.fault_hook(fault, request)) or fault_response(fault)
        else:
            response = self.handler(request)
        with self.state.lock:
            self.state.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.args.to_dict(flat=True),
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                    "body": request.get_data(as_text=True),
                    "status": response.status_code,
                    "at": time.time(),
                }
            )
        return response

    def control(self, request: Request) -> Response:
        action = request.path.removeprefix("/_sandbox/")
        if request.method == "GET" and action in self.views:
            return self.views[action](request)
        if request.method == "POST" and action in self.controls:
            spec = request.get_json(force=True, silent=True) if request.get_data() else {}
            if not isinstance(spec, dict):
                return json_response({"error": "expected a JSON object"}, 400)
            try:
                return self.controls[action](spec)
            except ControlError as error:
                return json_response({"error": str(error)}, 400)
        if action == "fail" and request.method == "POST":
            spec = request.get_json(force=True)
            window = spec.get("window")
            with self.state.lock:
                self.state.faults.append(
                    Fault(
                        str(spec.get("mode", "500")),
                        int(spec.get("times", 1)),
                        spec.get("match"),
                        float(spec.get("seconds", 1.0)),
                        time.monotonic() + float(window) if window is not None else None,
                    )
                )
            return json_response({"ok": True})
        if action == "fail/off" and request.method == "POST":
            spec = request.get_json(force=True, silent=True) or {}
            match = spec.get("match")
            with self.state.lock:
                kept = [f for f in self.state.faults if f.times > 0 and match is not None and f.match != match]
                stopped = sum(1 for f in self.state.faults if f.times > 0) - len(kept)
                self.state.faults[:] = kept
            return json_response({"ok": True, "stopped": stopped})
        if action == "reset" and request.method == "POST":
            with self.state.lock:
                self.state.faults.clear()
                self.state.requests.clear()
            self.reset_data()
            return json_response({"ok": True})
        if action == "requests" and request.method == "GET":
            with self.state.lock:
                return json_response(list(self.state.requests))
        return json_response({"error": "unknown control route"}, 404)


class RunningServer:
    """A WSGI app served on 127.0.0.1 in a daemon thread (port 0 picks a free port)."""

    def __init__(self, app: WSGIApplication, port: int = 0, host: str = "127.0.0.1") -> None:
        self.server = make_server(host, port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> RunningServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_forever(app: WSGIApplication, port: int, name: str) -> None:
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"{name} sandbox listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
