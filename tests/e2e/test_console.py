"""The operations console through real HTTP against the local runner, read with a real HTML parser
(html5lib, the WHATWG parsing algorithm browsers use): every page, every action (confirmation page with
its count, then the POST), CSRF and cross-site refusals (as HTML pages saying what to do, to a
browser), the CSP on every answer, and the sign-in rules: the runner stands in for App Service
authentication by signing an ID token that Thor verifies against the runner's JWKS; a forged principal
header alone, an expired or foreign-audience token are refused (401); a user outside the operators
reads but cannot act; with CONSOLE_AUTH=off everything is refused."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from functions.console import CSP
from localdev.local_auth import claims_for, new_private_key, private_key_pem, sign
from localdev.stack import Stack
from tests.checks import present
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

TENANT = "sope"
GOOD_ORDER = 7100001
FAILING_ORDER = 7100002  # the OMS refuses it (403: not retried), so its event fails at once


def page(thor: Stack, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(thor.thor_url + path, timeout=10, allow_redirects=False, **kwargs)


def soup(answer: requests.Response) -> BeautifulSoup:
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Content-Security-Policy"] == CSP
    return BeautifulSoup(answer.text, "html5lib")


def webhook(thor: Stack, key: str, order_id: int) -> dict[str, Any]:
    answer = requests.post(
        f"{thor.thor_url}/webhooks/{TENANT}/orders",
        params={"code": key},
        json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.json()


def event_status(thor: Stack, path: str) -> str:
    cells = {present(row.th).text: present(row.td).text.strip() for row in soup(page(thor, path)).select("#event tr")}
    return cells["status"]


@pytest.fixture(scope="module")
def seeded(thor: Stack) -> dict[str, dict[str, Any]]:
    """One order through to the OMS, one whose OMS send is refused (failed event, order not in the
    OMS, items pending past their promised time), one ZORT event matching no order (unmatched)."""
    oms, key = thor.servers["oms"].url, thor.values["LOCAL_FUNCTION_KEY"]
    now = datetime.now(timezone.utc)
    for order_id, created, promised in (
        (GOOD_ORDER, now - timedelta(minutes=10), now + timedelta(hours=3)),
        (FAILING_ORDER, now - timedelta(hours=2), now - timedelta(minutes=30)),
    ):  # orders of today (the sandbox's own dates are in 2024)
        requests.post(
            thor.servers["marketplace"].url + "/_sandbox/orders/dates",
            json={"order_ids": [order_id], "created_at": created.isoformat(), "promised_at": promised.isoformat()},
            timeout=5,
        ).raise_for_status()
    good = webhook(thor, key, GOOD_ORDER)
    requests.post(
        f"{oms}/_sandbox/fail", json={"mode": "403", "times": 1, "match": f"{TENANT}-{FAILING_ORDER}"}, timeout=5
    ).raise_for_status()
    failing = webhook(thor, key, FAILING_ORDER)
    zort = requests.post(
        f"{thor.thor_url}/webhooks/{TENANT}/zort",
        params={"code": key, "method": "UPDATEORDERTRACKING", "number": "sope-no-such-order"},
        data={"payload": '[{"trackingno":"X1","trackingurl":"","shippingdate":null}]'},
        headers={"Authorization": f"Basic {thor.values['ZORT_KEY1_SOPE']}"},
        timeout=10,
    )
    assert zort.status_code == 200, zort.text
    base = f"/console/tenants/{TENANT}/events/"
    eventually(lambda: event_status(thor, base + good["eventId"]) == "completed")
    eventually(lambda: event_status(thor, base + failing["eventId"]) == "failed")
    eventually(lambda: event_status(thor, base + zort.json()["eventId"]) == "unmatched")
    return {"good": good, "failing": failing, "zort": zort.json()}


def test_every_console_answer_has_the_strict_csp_and_the_static_files_are_served(thor: Stack) -> None:
    for path in ("/console", "/console/static/console.css", "/console/static/console.js", "/console/static/nope"):
        answer = page(thor, path)
        assert answer.headers["Content-Security-Policy"] == CSP, path
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert page(thor, "/console/static/console.css").headers["Content-Type"].startswith("text/css")
    assert page(thor, "/console/static/nope").status_code == 404


def test_the_overview_shows_what_is_open_now_by_severity_beside_todays_flow(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    html = soup(page(thor, "/console"))
    assert "local.operator@thor.local" in present(html.select_one("#signed-in")).text
    assert "local runner stands in" in present(html.select_one("#local-signin")).text
    assert html.select_one("#read-only") is None  # the local operator may act
    now = {row["data-tenant"]: row for row in html.select("#open-now tbody tr")}
    assert len(now) == 9
    assert "row-bad" in now[TENANT]["class"]  # a failed event, an order not in the OMS
    failed = now[TENANT].select_one('[data-open="failed"]')
    assert present(failed).text.strip() == "1" and "sev-bad" in present(failed)["class"]
    assert present(now[TENANT].select_one('[data-open="unmatched"]')).text.strip() == "1"
    assert present(now["somx"].select_one('[data-open="failed"]')).text.strip() == "0"
    flow = {row["data-tenant"]: row for row in html.select("#tenants tbody tr")}
    today = {cell["data-counter"]: int(cell.text) for cell in flow[TENANT].select("[data-counter]")}
    assert today["accepted"] >= 3
    # each event counted once, in its status now: the outcomes and what is pending add up to what was accepted
    outcomes = sum(today[name] for name in ("completed", "ignored", "failed", "blocked", "unmatched", "pending"))
    assert outcomes == today["accepted"]
    assert not html.find_all(style=True) and not html.select("script:not([src])")  # nothing inline


def test_a_tenants_overview_has_counts_charts_and_the_stock_sync_state(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    html = soup(page(thor, f"/console/tenants/{TENANT}"))
    cards = {card["data-counter"]: int(present(card.select_one(".n")).text) for card in html.select("#today .card")}
    assert cards["orders_created"] >= 2 and cards["oms_synced"] >= 1 and cards["unmatched"] >= 1
    charts = html.select("figure.chart svg")
    assert len(charts) == 5 and html.select("figure.chart rect")
    assert f"off (MARKETPLACE_STOCK_SYNC_{TENANT.upper()} is not true)" in present(html.select_one("#stock-sync")).text


def test_a_tenant_with_stock_sync_on_shows_its_state(thor: Stack, seeded: dict[str, dict[str, Any]]) -> None:
    rows = {
        present(row.th).text: present(row.td).text
        for row in soup(page(thor, "/console/tenants/faar")).select("#stock-sync tr")
    }
    assert rows["state"] == "on"  # MARKETPLACE_STOCK_SYNC_FAAR=true in the local settings
    assert rows["warehouse / buffer"] == "main / 1 units held back"
    assert rows["dirty SKUs"].isdigit() and rows["last flush"]


def test_at_risk_says_why_each_row_is_there_and_links_to_it(thor: Stack, seeded: dict[str, dict[str, Any]]) -> None:
    html = soup(page(thor, f"/console/tenants/{TENANT}/at-risk"))
    orders = {row["data-kind"]: row for row in html.select("#risk-orders tbody tr")}
    failing = f"{TENANT}-{FAILING_ORDER}"
    assert failing in orders["not-in-oms"].text and "not in the OMS" in orders["not-in-oms"].text
    assert "America/Lima" in orders["ship-late"].text  # the promised time in the tenant's zone
    assert present(orders["not-in-oms"].a)["href"] == f"/console/tenants/{TENANT}/orders/{failing}"
    events = {row["data-kind"]: row for row in html.select("#risk-events tbody tr")}
    assert seeded["failing"]["eventId"] in events["event-failed"].text
    assert "after 1 attempt:" in events["event-failed"].text
    assert "unmatched: unmatched" not in html.text
    assert seeded["zort"]["eventId"] in events["event-unmatched"].text


def test_an_orders_journey_shows_each_step_with_the_event_behind_it_and_no_personal_data(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    internal = seeded["good"]["internalOrderId"]
    html = soup(page(thor, f"/console/tenants/{TENANT}/orders/{internal}"))
    steps = [row["data-what"] for row in html.select("#timeline li")]
    assert steps[0] == "order created" and "oms synced" in steps
    created = html.select_one('#timeline li[data-what="order created"]')
    assert "The order was created in the marketplace" in present(created).text
    assert "order-created" in present(created).text and "completed" in present(created).text
    assert not re.search(r"\{'|\[\{|None\b", present(html.select_one("#timeline")).text)  # no developer output
    assert present(html.select_one("#oms")).text == "yes"
    status = requests.get(
        f"{thor.thor_url}/v1/orders/{internal}/status", params={"code": thor.values["LOCAL_FUNCTION_KEY"]}, timeout=5
    ).json()
    shown = present(html.select_one("main")).text
    for item in status["items"]:
        assert item["sku"] in shown
    # the sandbox's customer (shared.domain.order.Customer) is kept for the OMS and never shown
    assert not re.search(r"@(?!thor\.local)|Address|address", shown)


def test_an_event_page_shows_no_body(thor: Stack, seeded: dict[str, dict[str, Any]]) -> None:
    html = soup(page(thor, f"/console/tenants/{TENANT}/events/{seeded['zort']['eventId']}"))
    assert "unmatched" in present(html.select_one("#event")).text
    assert "trackingno" not in html.text
    assert "ZORT named an order Thor does not have" in present(html.select_one("#hint")).text


def test_an_event_page_shows_each_attempt_and_what_to_do(thor: Stack, seeded: dict[str, dict[str, Any]]) -> None:
    html = soup(page(thor, f"/console/tenants/{TENANT}/events/{seeded['failing']['eventId']}"))
    [attempt] = html.select("#attempts tbody tr")
    cells = [cell.text.strip() for cell in attempt.select("td")]
    assert attempt["data-outcome"] == "failed" and cells[2].startswith("oms") and cells[3] == "403"
    assert "HTTP_403" in cells[4]
    assert f"check OMS_TOKEN_{TENANT.upper()}, OMS_TENANT_{TENANT.upper()}" in present(html.select_one("#hint")).text
    assert re.search(r"\d+ (s|min) ago", present(html.select_one("#event")).text)  # ages in words


def test_search_finds_an_order_by_either_id_and_an_event_by_its_id_across_tenants(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    for query in (str(GOOD_ORDER), seeded["good"]["internalOrderId"]):
        [hit] = soup(page(thor, "/console/search", params={"q": query})).select("#results tbody tr")
        assert (hit["data-kind"], hit["data-tenant"]) == ("order", TENANT)
        assert present(hit.a)["href"] == f"/console/tenants/{TENANT}/orders/{seeded['good']['internalOrderId']}"
    [hit] = soup(page(thor, "/console/search", params={"q": seeded["failing"]["eventId"]})).select("#results tbody tr")
    assert hit["data-kind"] == "event" and "failed" in hit.text and hit.select_one('a[href$="/replay"]')
    assert soup(page(thor, "/console/search", params={"q": "no-such-thing"})).select_one("#no-results")


def test_the_sla_radar_lists_open_orders_by_urgency_and_the_cancellation_rates(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    html = soup(page(thor, "/console/radar"))
    rows = [(row["data-order"], present(row.td).text) for row in html.select("#radar tbody tr")]
    mine = [(order, left) for order, left in rows if order in (f"{TENANT}-{GOOD_ORDER}", f"{TENANT}-{FAILING_ORDER}")]
    assert [order for order, _ in mine] == [f"{TENANT}-{FAILING_ORDER}", f"{TENANT}-{GOOD_ORDER}"]  # most urgent first
    assert re.fullmatch(r"late by (29|30|31) min", mine[0][1]) and re.fullmatch(r"2 h \d+ min left", mine[1][1])
    assert "America/Lima" in present(html.select_one(f'#radar tr[data-order="{TENANT}-{FAILING_ORDER}"]')).text
    rates = {row["data-tenant"]: row for row in html.select("#cancellations tbody tr")}
    assert len(rates) == 9 and "3.0%" in present(html.select_one("#cancellations thead")).text


def _confirm(thor: Stack, path: str, action: str | None = None) -> str:
    html = soup(page(thor, path))
    form = html.select_one("form#confirm")
    assert form is not None and form["method"] == "post" and form["action"] == (action or path)
    return str(present(form.select_one('input[name="csrf"]'))["value"])


def test_replaying_the_failed_event_asks_first_then_completes_it_and_says_who_did_it(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    event_id = seeded["failing"]["eventId"]
    path = f"/console/tenants/{TENANT}/events/{event_id}/replay"
    token = _confirm(thor, path)
    assert event_status(thor, f"/console/tenants/{TENANT}/events/{event_id}") == "failed"  # a GET changes nothing
    answer = requests.post(
        thor.thor_url + path,
        data={"csrf": token},
        headers={"Origin": thor.thor_url.replace("http://", "http://"), "Sec-Fetch-Site": "same-origin"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    order = f"{TENANT}-{FAILING_ORDER}"
    assert answer.headers["Location"] == f"/console/tenants/{TENANT}/orders/{order}?done=replayed"
    eventually(lambda: event_status(thor, f"/console/tenants/{TENANT}/events/{event_id}") == "completed")
    html = soup(page(thor, answer.headers["Location"]))
    assert "replayed" in present(html.select_one("#done")).text
    replayed = html.select_one('#timeline li[data-what="replayed"]')
    assert (
        "local.operator@thor.local (thor-local-runner)" in present(replayed).text
        and "source-console" in present(replayed)["class"]
    )
    attempts = soup(page(thor, f"/console/tenants/{TENANT}/events/{event_id}")).select("#attempts tbody tr")
    assert [row["data-outcome"] for row in attempts][:2] == ["failed", "replayed"]
    assert "by local.operator@thor.local" in attempts[1].text


def test_re_syncing_an_order_queues_a_reconcile_event_noted_on_its_timeline(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    internal = seeded["good"]["internalOrderId"]
    path = f"/console/tenants/{TENANT}/orders/{internal}/resync"
    answer = requests.post(thor.thor_url + path, data={"csrf": _confirm(thor, path)}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303
    html = soup(page(thor, answer.headers["Location"]))
    assert "local.operator@thor.local" in present(html.select_one('#timeline li[data-what="re-sync asked"]')).text

    def reconciled() -> bool:
        rows = soup(page(thor, f"/console/tenants/{TENANT}/orders/{internal}")).select("#timeline li, #other-events tr")
        return any("reconcile-order" in row.text and "completed" in row.text for row in rows)

    eventually(reconciled)


def fail_once(thor: Stack, order_id: int, tenant: str = TENANT) -> str:
    """An order whose OMS send is refused once (403): its event fails at once."""
    oms, key = thor.servers["oms"].url, thor.values["LOCAL_FUNCTION_KEY"]
    requests.post(
        f"{oms}/_sandbox/fail", json={"mode": "403", "times": 1, "match": f"{tenant}-{order_id}"}, timeout=5
    ).raise_for_status()
    answer = requests.post(
        f"{thor.thor_url}/webhooks/{tenant}/orders",
        params={"code": key},
        json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        timeout=10,
    )
    event_id = answer.json()["eventId"]
    eventually(lambda: event_status(thor, f"/console/tenants/{tenant}/events/{event_id}") == "failed")
    return event_id


def test_replaying_a_tenants_failed_events_says_how_many_first_and_after(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    fail_once(thor, 7100004)
    path = f"/console/tenants/{TENANT}/replay-failed"
    html = soup(page(thor, path + "?status=failed"))
    assert present(html.select_one("#confirm-count strong")).text == "1"
    token = _confirm(thor, path + "?status=failed")
    answer = requests.post(
        thor.thor_url + path + "?status=failed", data={"csrf": token}, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert location.path == f"/console/tenants/{TENANT}"
    assert parse_qs(location.query) == {"done": ["replayed-many"], "count": ["1"], "errors": ["0"]}
    assert "1 event replayed" in present(soup(page(thor, answer.headers["Location"])).select_one("#done")).text


def test_replaying_every_tenants_failed_events_confirms_and_reports_the_count(
    thor: Stack, seeded: dict[str, dict[str, Any]]
) -> None:
    fail_once(thor, 7100005)
    fail_once(thor, 7300001, tenant="facl")
    path = "/console/replay?status=failed"
    html = soup(page(thor, path))
    assert present(html.select_one("#confirm-count strong")).text == "2"
    assert {present(li.code).text for li in html.select("ul.per-tenant li")} == {TENANT, "facl"}
    answer = requests.post(thor.thor_url + path, data={"csrf": _confirm(thor, path)}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["count"] == ["2"]
    assert "2 events replayed" in present(soup(page(thor, answer.headers["Location"])).select_one("#done")).text
    eventually(
        lambda: (
            present(
                soup(page(thor, "/console")).select_one('#open-now tr[data-tenant="facl"] [data-open="failed"]')
            ).text.strip()
            == "0"
        )
    )


@pytest.mark.parametrize(
    "form, headers, field",
    [
        ({}, {}, "csrf"),
        ({"csrf": "1.2.3"}, {}, "csrf"),
        ("valid", {"Origin": "https://evil.example"}, "origin"),
        ("valid", {"Sec-Fetch-Site": "cross-site"}, "sec-fetch-site"),
    ],
)
def test_an_action_without_a_valid_token_or_from_another_site_is_refused(
    thor: Stack, seeded: dict[str, dict[str, Any]], form: dict[str, Any] | str, headers: dict[str, Any], field: str
) -> None:
    path = f"/console/tenants/{TENANT}/orders/{seeded['good']['internalOrderId']}/resync"
    if form == "valid":
        form = {"csrf": _confirm(thor, path)}
    answer = requests.post(thor.thor_url + path, data=form, headers=headers, timeout=10, allow_redirects=False)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
    assert answer.headers["Content-Security-Policy"] == CSP


def test_a_browser_gets_an_html_page_that_says_what_to_do(thor: Stack, seeded: dict[str, dict[str, Any]]) -> None:
    path = f"/console/tenants/{TENANT}/orders/{seeded['good']['internalOrderId']}/resync"
    answer = requests.post(
        thor.thor_url + path, data={"csrf": "1.2.3"}, headers={"Accept": "text/html"}, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 403 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Content-Security-Policy"] == CSP
    html = BeautifulSoup(answer.text, "html5lib")
    assert (
        "Reload the page" in present(html.select_one("#todo")).text and "{" not in present(html.select_one("main")).text
    )
    missing = requests.get(thor.thor_url + f"/console/tenants/{TENANT}/events/nope", headers={"Accept": "text/html"})
    assert (
        missing.status_code == 404
        and "search" in present(BeautifulSoup(missing.text, "html5lib").select_one("#todo")).text
    )


def test_unknown_tenant_order_and_event_are_problems(thor: Stack) -> None:
    assert page(thor, "/console/tenants/xxxx").status_code == 404
    assert page(thor, f"/console/tenants/{TENANT}/orders/{TENANT}-1").json()["field"] == "internalOrderId"
    assert page(thor, f"/console/tenants/{TENANT}/events/nope").status_code == 404


@pytest.fixture(scope="module")
def console_off(thor: Stack) -> Iterator[Stack]:
    """A runner with CONSOLE_AUTH=off: nothing stands in for the platform, headers pass as sent."""
    runner = Stack(values=dict(thor.values) | {"CONSOLE_AUTH": "off"}, servers=thor.servers)
    runner.start_runner(["--no-queue"])
    yield runner
    runner.stop_runner()


FORGED = {
    "X-MS-CLIENT-PRINCIPAL-NAME": "forged@evil.example",
    "X-MS-CLIENT-PRINCIPAL-ID": "forged",
    "X-MS-CLIENT-PRINCIPAL": "eyJjbGFpbXMiOltdfQ==",
}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_forged_principal_headers_are_refused_when_platform_sign_in_is_off(console_off: Stack, method: str) -> None:
    answer = requests.request(
        method, console_off.thor_url + f"/console/tenants/{TENANT}/replay-failed", headers=FORGED, timeout=10
    )
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == "CONSOLE_AUTH"
    assert "forged" not in answer.text
    assert answer.headers["Content-Security-Policy"] == CSP


def test_with_platform_sign_in_the_runner_drops_a_callers_principal_headers(thor: Stack) -> None:
    html = soup(page(thor, "/console", headers=FORGED))
    assert "forged" not in html.text and "local.operator@thor.local" in present(html.select_one("#signed-in")).text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_principal_header_without_a_valid_token_gets_401(thor: Stack, method: str) -> None:
    answer = requests.request(
        method,
        thor.thor_url + f"/console/tenants/{TENANT}/replay-failed",
        headers=FORGED | {"X-Thor-Local-Sign-In": "none"},  # the runner signs nobody in: only the forged header
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 401 and answer.json()["field"] == "x-ms-token-aad-id-token"
    assert "forged" not in answer.text and answer.headers["Content-Security-Policy"] == CSP


@pytest.fixture(scope="module")
def signer(thor: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Any]]:
    """A runner whose signing key the test holds (THOR_LOCAL_AUTH_KEY): the test plays the platform and
    forwards tokens of its own making, which Thor verifies against the runner's JWKS."""
    key = new_private_key()
    pem = tmp_path_factory.mktemp("auth") / "key.pem"
    pem.write_bytes(private_key_pem(key))
    runner = Stack(values=dict(thor.values) | {"THOR_LOCAL_AUTH_KEY": str(pem)}, servers=thor.servers)
    runner.start_runner(["--no-queue"])
    yield runner, key
    runner.stop_runner()


def forwarded(key: str, **claims: Any) -> dict[str, Any]:
    made = claims_for("thor-console-local", roles=["Thor.Operator"], preferred_username="ana@seller.example")
    made.update(claims)
    return {"X-MS-TOKEN-AAD-ID-TOKEN": sign(key, made)}


@pytest.mark.parametrize(
    "claims, why",
    [
        ({"exp": int(time.time()) - 300, "iat": int(time.time()) - 3900}, "expired"),
        ({"aud": "another-application"}, "another application"),
    ],
    ids=["expired", "foreign-audience"],
)
def test_an_expired_or_foreign_audience_token_gets_401(
    signer: tuple[Stack, Any], claims: dict[str, Any], why: str
) -> None:
    runner, key = signer
    answer = requests.get(runner.thor_url + "/console", headers=forwarded(key, **claims), timeout=10)
    assert answer.status_code == 401 and why in answer.json()["detail"]
    html = requests.get(
        runner.thor_url + "/console", headers=forwarded(key, **claims) | {"Accept": "text/html"}, timeout=10
    )
    assert html.status_code == 401 and "Sign in again" in html.text


def test_a_user_outside_the_operators_reads_every_page_but_cannot_act(
    signer: tuple[Stack, Any], seeded: dict[str, dict[str, Any]]
) -> None:
    runner, key = signer
    reader = forwarded(key, roles=[], preferred_username="reader@seller.example")
    html = soup(requests.get(runner.thor_url + "/console", headers=reader, timeout=10))
    assert "reader@seller.example" in present(html.select_one("#signed-in")).text and html.select_one("#read-only")
    assert not html.select('a[href*="replay"]')  # no action offered
    order = f"/console/tenants/{TENANT}/orders/{seeded['good']['internalOrderId']}"
    assert not soup(requests.get(runner.thor_url + order, headers=reader, timeout=10)).select('a[href$="/resync"]')
    for method in ("GET", "POST"):
        refused = requests.request(method, runner.thor_url + order + "/resync", headers=reader, timeout=10)
        assert refused.status_code == 403 and refused.json()["field"] == "operator"
    operator = soup(requests.get(runner.thor_url + order + "/resync", headers=forwarded(key), timeout=10))
    assert operator.select_one("form#confirm")
