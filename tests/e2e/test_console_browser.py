"""Every console page rendered in headless Chromium (Debian's `chromium` package, driven by
Playwright, which never downloads a browser here): fails on a console error (a CSP violation is one),
a page error, a broken link or resource, or a missing element; searches for an order with the search
box, opens a failed event's page and finds each attempt, replays every tenant's failed events through
the browser's own forms (its CSRF token, Origin and Sec-Fetch-Site) and reads the count on the
confirmation and in the result; takes screenshots of the overview, an event page and the SLA radar
(written to docs/ only when THOR_SCREENSHOT=1, so a test run leaves the tree clean).

Without /usr/bin/chromium the test is skipped, saying so, except in CI (`THOR_CI=1`, set by .ci/run,
which installs the package): there its absence is a failure. Run it alone:
    .venv/bin/python -m pytest tests/e2e/test_console_browser.py -q
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api._generated import Page

from localdev.stack import Stack
from tests.conftest import eventually

if TYPE_CHECKING:  # playwright is imported by the fixture, only when the browser test runs
    from playwright.sync_api import BrowserContext

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
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = {
    "overview": DOCS / "console-overview.png",
    "event": DOCS / "console-event.png",
    "radar": DOCS / "console-radar.png",
    "tenant": DOCS / "console.png",
}
WRITE_SCREENSHOT = os.environ.get("THOR_SCREENSHOT") == "1"
TENANT = "faco"
ORDERS = (7200001, 7200002)
FAILING = (7200003, 7200004)  # the OMS sandbox refuses them once (403): failed events, one per tenant
CANCELED = 7200005  # promised an hour ago, never shipped, canceled by the marketplace: seller-caused
OTHER_TENANT = "soco"
MAX_PAGES = 60
# What each kind of page must show (a missing one fails the test).
REQUIRED = {
    "/console": ["#signed-in", "#local-signin", "#open-now tbody tr", "#tenants tbody tr"],
    "radar": ["h1", "#radar, #radar-none", "#cancellations tbody tr"],
    "search": ["h1"],
    "tenant": ["h1", "#today .card", "figure.chart svg", "#stock-sync"],
    "at-risk": ["h1", "#risk-orders, #risk-orders-none", "#risk-events, #risk-events-none"],
    "order": ["h1", "#order", "#items", "#timeline li"],
    "event": ["h1", "#event", "#hint", "#attempts, #attempts-none"],
    "confirm": ["form#confirm button[type=submit]", 'form#confirm input[name="csrf"]'],
}


def kind_of(path: str) -> str:
    parts = path.strip("/").split("/")
    if path == "/console":
        return "/console"
    if parts[-1] in ("replay", "resync", "replay-failed"):
        return "confirm"
    if len(parts) == 2:
        return {"radar": "radar", "search": "search"}.get(parts[1], "other")
    if len(parts) == 3:
        return "tenant"
    return {"at-risk": "at-risk", "orders": "order", "events": "event"}.get(parts[3], "other")


@pytest.fixture(scope="module")
def browser_context() -> Iterator[BrowserContext]:
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


def shot(page: Page, name: str) -> None:
    image = page.screenshot(path=str(SCREENSHOTS[name]) if WRITE_SCREENSHOT else None, full_page=True)
    assert image[:8] == b"\x89PNG\r\n\x1a\n"  # the page rendered to an image


def test_every_console_page_renders_cleanly_in_chromium(thor: Stack, browser_context: BrowserContext) -> None:
    key = thor.values["LOCAL_FUNCTION_KEY"]
    now = datetime.now(timezone.utc)
    marketplace, oms = thor.servers["marketplace"].url, thor.servers["oms"].url
    dates = {  # orders of today: one due soon, one late, the failing ones late too
        ORDERS[0]: (timedelta(minutes=40), timedelta(hours=2, minutes=10)),
        ORDERS[1]: (timedelta(hours=1), timedelta(hours=26)),
        FAILING[0]: (timedelta(hours=3), timedelta(minutes=-45)),
        FAILING[1]: (timedelta(hours=2), timedelta(hours=1)),
        CANCELED: (timedelta(hours=5), timedelta(hours=-1)),
    }
    for order_id, (ago, promised_in) in dates.items():
        spec: dict[str, Any] = {
            "order_ids": [order_id],
            "created_at": (now - ago).isoformat(),
            "promised_at": (now + promised_in).isoformat(),
        }
        requests.post(f"{marketplace}/_sandbox/orders/dates", json=spec, timeout=5).raise_for_status()
    for order_id, tenant in ((FAILING[0], TENANT), (FAILING[1], OTHER_TENANT)):
        spec = {"mode": "403", "times": 1, "match": f"{tenant}-{order_id}"}
        requests.post(f"{oms}/_sandbox/fail", json=spec, timeout=5).raise_for_status()
    sent = [(TENANT, o) for o in ORDERS] + [(TENANT, FAILING[0]), (OTHER_TENANT, FAILING[1]), (TENANT, CANCELED)]
    failing_events = {}
    for tenant, order_id in sent:
        answer = requests.post(
            f"{thor.thor_url}/webhooks/{tenant}/orders",
            params={"code": key},
            json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
            timeout=10,
        )
        answer.raise_for_status()
        if order_id in FAILING:
            failing_events[tenant] = answer.json()["eventId"]
    for tenant, event_id in failing_events.items():
        event_page = f"{thor.thor_url}/console/tenants/{tenant}/events/{event_id}"
        eventually(functools.partial(lambda url: "failed" in requests.get(url, timeout=5).text, event_page))
    canceled = f"{TENANT}-{CANCELED}"
    items = eventually(
        lambda: (
            requests.get(f"{thor.thor_url}/v1/orders/{canceled}/status", params={"code": key}, timeout=5)
            .json()
            .get("items")
        )
    )
    item_ids = [item["itemId"] for item in items]
    spec = {"order_item_ids": item_ids, "status": "canceled"}
    requests.post(f"{marketplace}/_sandbox/items/status", json=spec, timeout=5).raise_for_status()
    requests.post(
        f"{thor.thor_url}/webhooks/{TENANT}/orders/status",
        params={"code": key},
        json={
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": str(CANCELED), "OrderItemIds": item_ids, "NewStatus": "canceled"},
        },
        timeout=10,
    ).raise_for_status()

    def answers(url: str) -> bool:
        return requests.get(url, params={"code": key}, timeout=5).status_code == 200

    for order_id in ORDERS:
        eventually(functools.partial(answers, f"{thor.thor_url}/v1/orders/{TENANT}-{order_id}/status"))

    problems: list[str] = []
    page = browser_context.new_page()
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    origin = thor.thor_url
    search = f"/console/search?q={TENANT}-{ORDERS[0]}"  # a form, not a link: crawled from here too
    event = f"/console/tenants/{TENANT}/events/{failing_events[TENANT]}"  # reached even when the crawl is cut short
    queue, seen, kinds = deque(["/console", search, event]), {"/console", search, event}, set()
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        visit = page.goto(origin + path)
        assert visit is not None and visit.status == 200, f"{path}: {visit and visit.status}"
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

    page.goto(origin + "/console")
    shot(page, "overview")
    page.goto(origin + "/console/radar")
    assert page.locator(f'#radar tr[data-order="{TENANT}-{FAILING[0]}"] td').first.inner_text().startswith("late by")
    eventually(lambda: page.reload() and "above" in page.inner_text(f'#cancellations tr[data-tenant="{TENANT}"]'))
    shot(page, "radar")

    # search finds an order, typed in the search box as an operator would
    page.goto(origin + "/console")
    page.fill("#search-q", str(ORDERS[1]))
    page.press("#search-q", "Enter")
    page.wait_for_url("**/console/search?q=*")
    page.click(f'#results tr[data-kind="order"] a:has-text("{TENANT}-{ORDERS[1]}")')
    page.wait_for_url(f"**/console/tenants/{TENANT}/orders/{TENANT}-{ORDERS[1]}")

    # an event page shows each attempt: the failed one, with the system called and its HTTP status
    page.goto(origin + f"/console/tenants/{TENANT}/events/{failing_events[TENANT]}")
    attempt = page.locator('#attempts tbody tr[data-outcome="failed"]')
    assert attempt.count() == 1 and "403" in attempt.inner_text() and "oms" in attempt.inner_text()
    assert f"OMS_TOKEN_{TENANT.upper()}" in page.inner_text("#hint")
    shot(page, "event")

    # one action through the browser's own form: re-sync, then the order's journey says who asked
    order = f"/console/tenants/{TENANT}/orders/{TENANT}-{ORDERS[0]}"
    page.goto(origin + order + "/resync")
    page.click("form#confirm button[type=submit]")
    page.wait_for_url(f"**{order}?done=resync")
    assert "local.operator@thor.local" in page.inner_text('#timeline li[data-what="re-sync asked"]')

    # a replay across tenants: the confirmation says how many, the result says how many were replayed
    page.goto(origin + "/console")
    page.click("#replay-all")
    page.wait_for_url("**/console/replay?status=failed")
    count = int(page.inner_text("#confirm-count strong"))
    assert count >= 2 and page.locator("ul.per-tenant li").count() >= 2  # faco's and soco's at least
    page.click("form#confirm button[type=submit]")
    page.wait_for_url("**/console?done=replayed-many*")
    assert f"{count} events replayed" in page.inner_text("#done")

    page.goto(origin + f"/console/tenants/{TENANT}")
    shot(page, "tenant")
    assert problems == []
