"""The console's price sync table and its confirmation of a held price, through real HTTP against a
runner with price sync on for one tenant (its own runner, the session's Azurite and sandboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
import requests
from bs4 import BeautifulSoup

from localdev.stack import Stack
from tests.checks import present

pytestmark = pytest.mark.e2e

TENANT = "fape"


@pytest.fixture()
def pricing(stack: Stack) -> Iterator[Stack]:
    values = {
        **stack.values,
        f"MARKETPLACE_PRICE_SYNC_{TENANT.upper()}": "true",
        f"MARKETPLACE_PRICE_ZORT_CURRENCY_{TENANT.upper()}": "PEN",
    }
    runner = Stack(values=values, servers=stack.servers, thor_port=0)
    runner.start_runner(["--no-timers"])
    yield runner
    runner.stop_runner()


def test_a_held_price_is_shown_and_confirmed_from_the_console_with_who_did_it(pricing: Stack) -> None:
    from shared.adapters.price_repo import PriceRepository
    from shared.adapters.storage import Storage
    from shared.domain.prices import PriceRecord, PriceResult
    from shared.settings import read_storage

    repo = PriceRepository(Storage(read_storage(pricing.values)))
    sku = f"HELD/{datetime.now(timezone.utc).timestamp():.0f}"  # a slash: quoted in the path
    now = datetime.now(timezone.utc)
    repo.mark(TENANT, [sku], now)
    [record] = [r for r in repo.dirty(TENANT) if r.sku == sku]
    record.result, record.held_price, record.held_mark = PriceResult.HELD, "160.00", record.mark
    record.zort_price, record.reason = "160.00", "held for confirmation: +60.0% at once"
    repo.save([record])
    assert isinstance(record, PriceRecord)
    base = pricing.thor_url
    html = BeautifulSoup(requests.get(f"{base}/console/tenants/{TENANT}", timeout=10).text, "html5lib")
    assert (
        "on" in present(html.select_one("#price-sync")).text and "PEN" in present(html.select_one("#price-sync")).text
    )
    row = next(r for r in html.select("#prices-held tr") if sku in r.text)
    link = present(row.select_one("a"))["href"]
    assert link in (
        f"/console/tenants/{TENANT}/prices/confirm?sku={quote(sku, safe='')}",
        f"/console/tenants/{TENANT}/prices/confirm?sku={quote(sku)}",
    )
    form = BeautifulSoup(requests.get(base + link, timeout=10).text, "html5lib").select_one("form#confirm")
    assert present(repo.get(TENANT, sku)).held  # a GET changes nothing
    answer = requests.post(
        base + str(present(form)["action"]),
        data={"csrf": present(present(form).select_one('input[name="csrf"]'))["value"]},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["Location"] == f"/console/tenants/{TENANT}?done=price-confirmed"
    stored = repo.get(TENANT, sku)
    assert not present(stored).held and present(stored).approved_price == "160.00"
    assert present(stored).approved_by.startswith("local.operator@thor.local")
    assert present(stored).history[-1]["what"] == "confirmed by a person"
    again = requests.get(base + link, timeout=10)
    assert again.status_code == 404  # nothing held any more
