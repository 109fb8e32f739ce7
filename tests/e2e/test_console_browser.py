"""Every console page rendered in headless Chromium (Debian's `chromium` package, driven by
Playwright, which never downloads a browser here): fails on a console error (a CSP violation is one),
a page error, a broken link or resource, or a missing element; does one action through the browser's
own form (its CSRF token, Origin and Sec-Fetch-Site); takes a screenshot (written to docs/console.png
only when THOR_SCREENSHOT=1, so a test run leaves the tree clean).

Without /usr/bin/chromium the test is skipped, saying so, except in CI (`THOR_CI=1`, set by .ci/run,
which installs the package): there its absence is a failure. Run it alone:
    .venv/bin/python -m pytest tests/e2e/test_console_browser.py -q
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import eventually

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("THOR_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"
WRITE_SCREENSHOT = os.environ.get("THOR_SCREENSHOT") == "1"
TENANT = "faco"
ORDERS = (7200001, 7200002)
MAX_PAGES = 60
# What each kind of page must show (a missing one fails the test).
REQUIRED = {
    "/console": ["#signed-in", "#local-signin", "#tenants tbody tr"],
    "tenant": ["h1", "#today .card", "figure.chart svg", "#stock-sync"],
    "at-risk": ["h1", "#risk-orders, #risk-orders-none", "#risk-events, #risk-events-none"],
    "order": ["h1", "#order", "#items", "#timeline tbody tr"],
    "event": ["h1", "#event"],
    "confirm": ["form#confirm button[type=submit]", 'form#confirm input[name="csrf"]'],
}


def kind_of(path: str) -> str:
    parts = path.strip("/").split("/")
    if path == "/console":
        return "/console"
    if parts[-1] in ("replay", "resync", "replay-failed"):
        return "confirm"
    if len(parts) == 3:
        return "tenant"
    return {"at-risk": "at-risk", "orders": "order", "events": "event"}.get(parts[3], "other")


@pytest.fixture(scope="module")
def browser_context():
    if not Path(CHROMIUM).exists():
        if os.environ.get("THOR_CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium); the browser test needs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1280, "height": 900}
        )
        try:
            yield context
        finally:
            context.close()


def test_every_console_page_renders_cleanly_in_chromium(thor, browser_context):
    key = thor.values["LOCAL_FUNCTION_KEY"]
    for order_id in ORDERS:
        requests.post(
            f"{thor.thor_url}/webhooks/{TENANT}/orders",
            params={"code": key},
            json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
            timeout=10,
        ).raise_for_status()
    for order_id in ORDERS:
        eventually(
            lambda order_id=order_id: (
                requests.get(
                    f"{thor.thor_url}/v1/orders/{TENANT}-{order_id}/status", params={"code": key}, timeout=5
                ).status_code
                == 200
            )
        )

    problems: list[str] = []
    page = browser_context.new_page()
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    origin = thor.thor_url
    queue, seen, kinds = deque(["/console"]), {"/console"}, set()
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        answer = page.goto(origin + path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        kind = kind_of(urlsplit(path).path)
        kinds.add(kind)
        for selector in REQUIRED.get(kind, ["h1"]):
            assert page.locator(selector).count() > 0, f"{path}: no {selector}"
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlsplit(urljoin(origin + path, href))
            assert f"{target.scheme}://{target.netloc}" == origin, f"{path} links outside: {href}"
            link = target.path + (f"?{target.query}" if target.query else "")
            if target.path.endswith(".csv"):  # a report download, not a page (tests/e2e/test_alerts_timer.py)
                continue
            if target.path.startswith("/console") and link not in seen and kind_of(target.path) != "confirm":
                seen.add(link)
                queue.append(link)
            elif kind_of(target.path) == "confirm" and link not in seen:
                seen.add(link)
                queue.append(link)  # a confirmation page is only looked at; its form is not sent here
    assert kinds >= set(REQUIRED), f"page kinds not reached: {set(REQUIRED) - kinds}"

    # one action through the browser's own form: re-sync, then the order's journey says who asked
    order = f"/console/tenants/{TENANT}/orders/{TENANT}-{ORDERS[0]}"
    page.goto(origin + order + "/resync")
    page.click("form#confirm button[type=submit]")
    page.wait_for_url(f"**{order}?done=resync")
    assert "local.operator@thor.local" in page.inner_text('#timeline tr[data-what="re-sync asked"]')

    page.goto(origin + f"/console/tenants/{TENANT}")
    shot = page.screenshot(path=str(SCREENSHOT) if WRITE_SCREENSHOT else None, full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"  # the page rendered to an image
    assert problems == []
