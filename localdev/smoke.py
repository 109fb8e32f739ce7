"""`make smoke`: checks that a deployed Thor answers each endpoint as documented and that its write path
works, leaving nothing behind.

    THOR_BASE_URL=https://thorfunctionstest.azurewebsites.net THOR_FUNCTION_KEY=… make smoke

Run it after publishing with `func azure functionapp publish <app> --python` (the flag is needed from
a clean checkout: docs/deploy.md, step 6) and after the second deployment that creates the host keys.

A smoke test against a real environment must not create orders or refunds, so apart from the health
check and the write path below, every request is one Thor MUST reject before it records anything:

- GET  /health                                  → 200 {"status": "ok", "storage": "reachable"}, nothing else
- GET  /health without a key                    → 401 (the Functions host checks keys)
- POST /webhooks/{t}/orders without a key       → 401
- POST /webhooks/xxxx/orders (unknown tenant)   → 404 problem+json naming tenantId
- POST /webhooks/{t}/orders, no OrderId         → 400 problem+json naming payload.OrderId
- POST /webhooks/{t}/orders/status, no items    → 400 problem+json naming payload.OrderItemIds
- POST /webhooks/{t}/products, no SKUs          → 400 problem+json naming payload.SellerSkus
- POST /webhooks/xxxx/zort (unknown tenant)     → 404 problem+json naming tenantId
- GET  /v1/orders/{t}-…/status (no such order)  → 404 problem+json naming internalOrderId
- POST /v1/orders/{t}-…/refund, empty body      → 400 problem+json naming products

Then the write path, end to end (`shared.services.smoke`), safe against prod:

- POST /webhooks/{t}/products {"event": "onStatisticsUpdated", "payload": {"thorSmoke": "<run id>"}}
                                                → 200 accepted: recorded in ThorEvents and queued
- GET  /v1/smoke/events/{id}?tenant={t}         → polled until "ignored": the queue-triggered
                                                  processor took it and finished it
- DELETE /v1/smoke/events/{id}?tenant={t}       → 200 deleted; then GET → 404 (cleaned up)

onStatisticsUpdated is a documented marketplace event Thor records and never acts on: nothing is
sent to the marketplace, the OMS or ZORT, and no order, product or stock row is touched. The route
reads and deletes only events carrying `thorSmoke` (any other id is 404); the hour's counters keep
the run as one accepted, ignored event.

Settings: THOR_BASE_URL (no trailing slash) or `--env test|prod` (`make smoke ENV=test`: the
environment's https://thorfunctions<env>.azurewebsites.net; THOR_BASE_URL wins when both are set),
THOR_FUNCTION_KEY (a host key), THOR_SMOKE_TENANT (a known tenant, default faco), THOR_SMOKE_WAIT
(seconds to wait for the processor, default 120). The key travels in the `x-functions-key` header and is never
printed. Prints one line per check; exits 1 if any check fails, 2 if settings are missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

TIMEOUT = (5, 30)
UNKNOWN_TENANT = "xxxx"
MISSING_ORDER = "thor-smoke-no-such-order"
PROBLEM_TYPE = "application/problem+json"
ENVIRONMENTS = {
    "test": "https://thorfunctionstest.azurewebsites.net",
    "prod": "https://thorfunctionsprod.azurewebsites.net",
}
POLL_SECONDS = 1.0


@dataclass
class Check:
    name: str
    method: str
    path: str
    status: int
    body: object | None = None
    params: dict[str, Any] = field(default_factory=dict)
    with_key: bool = True
    problem_field: str | None = None
    extra: Callable[[requests.Response], str | None] | None = None


def _health_body(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return "the body is not JSON"
    if body != {"status": "ok", "storage": "reachable"}:
        return f"expected exactly {{'status': 'ok', 'storage': 'reachable'}}, got {str(body)[:200]}"
    return None


def checks(tenant: str) -> list[Check]:
    order_created = {"event": "onOrderCreated", "payload": {"OrderId": 1}}
    missing_order = f"{tenant}-{MISSING_ORDER}"
    return [
        Check("health", "GET", "/health", 200, extra=_health_body),
        Check("health without key", "GET", "/health", 401, with_key=False),
        Check("orders without key", "POST", f"/webhooks/{tenant}/orders", 401, order_created, with_key=False),
        Check(
            "orders, unknown tenant",
            "POST",
            f"/webhooks/{UNKNOWN_TENANT}/orders",
            404,
            order_created,
            problem_field="tenantId",
        ),
        Check(
            "orders, malformed body",
            "POST",
            f"/webhooks/{tenant}/orders",
            400,
            {"event": "onOrderCreated", "payload": {}},
            problem_field="payload.OrderId",
        ),
        Check(
            "orders/status, malformed body",
            "POST",
            f"/webhooks/{tenant}/orders/status",
            400,
            {"event": "onOrderItemsStatusChanged", "payload": {"OrderId": 1, "NewStatus": "shipped"}},
            problem_field="payload.OrderItemIds",
        ),
        Check(
            "products, malformed body",
            "POST",
            f"/webhooks/{tenant}/products",
            400,
            {"event": "onProductCreated", "payload": {"SellerSkus": []}},
            problem_field="payload.SellerSkus",
        ),
        Check(
            "zort, unknown tenant",
            "POST",
            f"/webhooks/{UNKNOWN_TENANT}/zort",
            404,
            {"payload": {}},
            params={"method": "UPDATEORDER"},
            problem_field="tenantId",
        ),
        Check(
            "status of a missing order",
            "GET",
            f"/v1/orders/{missing_order}/status",
            404,
            problem_field="internalOrderId",
        ),
        Check(
            "refund, malformed body",
            "POST",
            f"/v1/orders/{missing_order}/refund",
            400,
            {},
            params={"tenant": tenant},
            problem_field="products",
        ),
    ]


def _problem_failure(response: requests.Response, expected_field: str) -> str | None:
    kind = response.headers.get("Content-Type", "")
    if not kind.startswith(PROBLEM_TYPE):
        return f"Content-Type {kind or '(none)'}, expected {PROBLEM_TYPE}"
    try:
        body = response.json()
    except ValueError:
        return "the problem body is not JSON"
    if not isinstance(body, dict) or body.get("status") != response.status_code or not body.get("title"):
        return "the problem has no matching status or no title"
    if body.get("field") != expected_field:
        return f"the problem names field {body.get('field')!r}, expected {expected_field!r}"
    text = json.dumps(body)
    if "Traceback" in text or 'File "' in text:
        return "the problem shows a stack trace"
    return None


def run_check(session: requests.Session, base_url: str, key: str, check: Check) -> tuple[bool, str]:
    headers = {"x-functions-key": key} if check.with_key else {}
    kwargs: dict[str, Any] = {"params": check.params, "headers": headers, "timeout": TIMEOUT, "allow_redirects": False}
    if check.body is not None:
        kwargs["data"] = json.dumps(check.body)
        headers["Content-Type"] = "application/json"
    try:
        response = session.request(check.method, base_url + check.path, **kwargs)
    except requests.RequestException as error:
        return False, f"no answer: {type(error).__name__}"
    if response.status_code != check.status:
        return False, f"{response.status_code}, expected {check.status}: {response.text[:200]!r}"
    failure = None
    if check.problem_field:
        failure = _problem_failure(response, check.problem_field)
    if failure is None and check.extra:
        failure = check.extra(response)
    if failure:
        return False, f"{response.status_code}, but {failure}"
    return True, str(response.status_code)


def write_path(
    session: requests.Session, base_url: str, key: str, tenant: str, wait: float, run_id: str | None = None
) -> list[tuple[str, bool, str]]:
    """Sends the synthetic event, waits until it is processed, removes it: (step, ok, detail) each."""
    headers = {"x-functions-key": key, "Content-Type": "application/json"}
    body = {"event": "onStatisticsUpdated", "payload": {"thorSmoke": run_id or f"smoke-{uuid.uuid4()}"}}
    results: list[tuple[str, bool, str]] = []
    try:
        sent = session.post(
            f"{base_url}/webhooks/{tenant}/products", data=json.dumps(body), headers=headers, timeout=TIMEOUT
        )
        event_id = sent.json().get("eventId") if sent.status_code == 200 else None
        if sent.status_code != 200 or sent.json().get("status") != "accepted" or not event_id:
            return [("synthetic event accepted", False, f"{sent.status_code}: {sent.text[:200]!r}")]
        results.append(("synthetic event accepted", True, f"200, event {event_id}"))
        url = f"{base_url}/v1/smoke/events/{event_id}"
        params = {"tenant": tenant}
        deadline = time.monotonic() + wait
        status = ""
        while True:
            read = session.get(url, params=params, headers=headers, timeout=TIMEOUT)
            status = read.json().get("status", "") if read.status_code == 200 else f"HTTP {read.status_code}"
            if status == "ignored" or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        results.append(("queued and processed", status == "ignored", f"status {status}"))
        if status != "ignored":
            return results
        removed = session.delete(url, params=params, headers=headers, timeout=TIMEOUT)
        gone = session.get(url, params=params, headers=headers, timeout=TIMEOUT)
        ok = removed.status_code == 200 and gone.status_code == 404
        results.append(("cleaned up", ok, f"DELETE {removed.status_code}, then GET {gone.status_code}"))
    except (requests.RequestException, ValueError, AttributeError) as error:
        results.append(("write path", False, f"no usable answer: {type(error).__name__}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("THOR_BASE_URL", ""))
    parser.add_argument("--env", default="", help="test or prod: the environment's base URL (THOR_BASE_URL wins)")
    parser.add_argument("--tenant", default=os.environ.get("THOR_SMOKE_TENANT", "") or "faco")
    parser.add_argument("--wait", type=float, default=float(os.environ.get("THOR_SMOKE_WAIT", "") or 120))
    args = parser.parse_args(argv)
    env = args.env.strip().lower()
    if env and env not in ENVIRONMENTS:
        print(f"error: ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}", file=sys.stderr)
        return 2
    base_url = (args.base_url.strip() or ENVIRONMENTS.get(env, "")).rstrip("/")
    key = os.environ.get("THOR_FUNCTION_KEY", "").strip()
    missing = [name for name, value in (("THOR_BASE_URL", base_url), ("THOR_FUNCTION_KEY", key)) if not value]
    if missing:
        print(f"error: set {' and '.join(missing)} (see docs/deploy.md, Smoke test)", file=sys.stderr)
        return 2
    if not base_url.startswith(("https://", "http://")):
        print("error: THOR_BASE_URL must be an http(s) URL", file=sys.stderr)
        return 2
    tenant = args.tenant.strip().lower()
    print(f"smoke test of {base_url} (tenant {tenant})")
    failures = 0
    with requests.Session() as session:
        for check in checks(tenant):
            ok, detail = run_check(session, base_url, key, check)
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'}  {check.method:4} {check.path:48} {check.name}: {detail}", flush=True)
        steps = write_path(session, base_url, key, tenant, args.wait)
        for name, ok, detail in steps:
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'}  write path: {name}: {detail}", flush=True)
    total = len(checks(tenant)) + len(steps)
    print(f"\n{total - failures} of {total} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
