"""A local stand-in for the three alert channels, on one port, each checking what it receives
against its published rules (localdev/sandboxes/alert_schemas.py says which and where from):

- `POST /teams/{name}`: a Teams Workflows webhook. 400 with the schema errors when the body is not a
  message holding a valid Adaptive Card (1.5 schema), else 202 (what a flow's HTTP trigger answers);
- `POST /slack/{name}`: a Slack incoming webhook. 400 `invalid_blocks` (with the errors on further
  lines) when Block Kit's limits are broken, 400 `invalid_payload` when the body is not JSON, else
  200 `ok`;
- `POST /acs/emails:send?api-version=2023-03-31`: Azure Communication Services e-mail. 401 when the
  HMAC-SHA256 headers do not verify with the sandbox's access key, 400 (ACS's error shape) when a
  required field is missing, else 202 with `Operation-Location` and `{id, status: "Running"}`.

`GET /_sandbox/received` lists what was accepted: `[{"channel", "name", "body", "at"}]` (tests and
`make demo` read it); `POST /_sandbox/reset` forgets it. Fault injection as every sandbox
(`/_sandbox/fail`). Run alone: `python -m localdev.sandboxes.alerts --port 7104`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from localdev.sandboxes._server import SandboxApp, json_response, serve_forever
from localdev.sandboxes.alert_schemas import acs_auth_errors, acs_body_errors, slack_errors, teams_errors

# A base64 key like an ACS resource's (local only; local.settings.example.json has the same).
LOCAL_ACS_KEY = "bG9jYWwtYWNzLWFjY2Vzcy1rZXktZm9yLXRoZS1hbGVydC1zYW5kYm94"


class AlertsSandbox:
    def __init__(self, access_key: str = LOCAL_ACS_KEY) -> None:
        self.access_key = access_key
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.received.clear()

    def keep(self, channel: str, name: str, body: object) -> None:
        with self.lock:
            self.received.append({"channel": channel, "name": name, "body": body, "at": time.time()})

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response({"error": "method not allowed"}, 405)
        raw = request.get_data()
        parts = request.path.strip("/").split("/")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if parts[0] == "teams" and len(parts) == 2:
            if body is None:
                return json_response({"error": {"code": "InvalidRequestContent", "message": "not JSON"}}, 400)
            errors = teams_errors(body)
            if errors:
                return json_response({"error": {"code": "InvalidAdaptiveCard", "errors": errors}}, 400)
            self.keep("teams", parts[1], body)
            return Response("", status=202)
        if parts[0] == "slack" and len(parts) == 2:
            if body is None:
                return Response("invalid_payload", status=400, content_type="text/plain")
            errors = slack_errors(body)
            if errors:
                return Response("invalid_blocks\n" + "\n".join(errors), status=400, content_type="text/plain")
            self.keep("slack", parts[1], body)
            return Response("ok", status=200, content_type="text/plain")
        if request.path == "/acs/emails:send":
            if request.args.get("api-version") != "2023-03-31":
                return _acs_error(400, "InvalidApiVersion", "api-version 2023-03-31 is the one this sandbox serves")
            headers = {k.lower(): v for k, v in request.headers.items()}
            path_and_query = request.full_path.rstrip("?")
            errors = acs_auth_errors(
                "POST", path_and_query, request.host, headers, raw, self.access_key, datetime.now(timezone.utc)
            )
            if errors:
                return _acs_error(401, "Denied", "; ".join(errors))
            errors = acs_body_errors(body)
            if errors:
                return _acs_error(400, "BadRequest", "; ".join(errors))
            operation = str(uuid.uuid4())
            self.keep("email", str(body["recipients"]["to"][0]["address"]), body)
            location = f"{request.host_url.rstrip('/')}/acs/emails/operations/{operation}?api-version=2023-03-31"
            return json_response({"id": operation, "status": "Running"}, 202, {"Operation-Location": location})
        return json_response({"error": "no such channel path"}, 404)


def _acs_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status, {"x-ms-error-code": code})


class AlertsSandboxApp(SandboxApp):
    def __init__(self, sandbox: AlertsSandbox) -> None:
        super().__init__(sandbox.handle, reset=sandbox.reset, views={"received": self.received})
        self.sandbox = sandbox

    def received(self, request: Request) -> Response:
        with self.sandbox.lock:
            return json_response(list(self.sandbox.received))


def create_app(access_key: str = LOCAL_ACS_KEY) -> AlertsSandboxApp:
    return AlertsSandboxApp(AlertsSandbox(access_key))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Teams / Slack / ACS e-mail sandbox")
    parser.add_argument("--port", type=int, default=7104)
    parser.add_argument("--access-key", default=LOCAL_ACS_KEY)
    args = parser.parse_args(argv)
    serve_forever(create_app(args.access_key), args.port, "alerts")


if __name__ == "__main__":
    main()
