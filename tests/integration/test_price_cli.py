"""`python -m ops prices` in-process against the test stack: the state, a flush, a held price confirmed
by a named person, a SKU's journey, a sale, the kill switch."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests

from localdev.stack import Stack
from ops.__main__ import main
from shared.bootstrap import Context
from shared.domain.product import Product

NO_FILE = ["--settings", os.devnull]
T, USER, STORE = "socl", "socl@thor.local", "thor-socl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*NO_FILE, *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def zort_price(stack: Stack, sku: str, price: str) -> None:
    requests.post(
        stack.servers["zort"].url + "/_sandbox/prices", json={"store": STORE, "prices": {sku: price}}, timeout=5
    )


def storefront(stack: Stack) -> dict[str, Any]:
    return requests.get(stack.servers["marketplace"].url + "/_sandbox/prices", timeout=5).json()["prices"].get(USER, {})


def test_prices_flushes_holds_a_jump_until_a_person_confirms_it_and_shows_the_journey(
    context: Context, stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETPLACE_PRICE_SYNC_SOCL", "true")
    monkeypatch.setenv("MARKETPLACE_PRICE_ZORT_CURRENCY_SOCL", "CLP")
    sku = f"PCLI-{uuid.uuid4().hex[:8]}"
    context.products.upsert_many([Product(tenant=T, sku=sku, marketplace_listed=True)])
    zort_price(stack, sku, "10000")
    code, out = run(capsys, "prices", "--tenant", T, "--pause", "checking ZORT")
    assert code == 0 and "on PAUSED" in out
    code, out = run(capsys, "prices", "--tenant", T, "--resync", "--flush")
    assert code == 0 and "1 SKU(s) marked" in out and "flush paused" in out and sku not in storefront(stack)
    code, out = run(capsys, "prices", "--tenant", T, "--resume", "--flush")
    assert code == 0 and "flush sent (1 write(s))" in out and "; feeds " in out
    run(capsys, "prices", "--tenant", T, "--flush")  # FeedStatus: Finished
    assert storefront(stack)[sku]["Price"] == "10000"
    zort_price(stack, sku, "16000")  # +60 %
    run(capsys, "prices", "--tenant", T, "--resync")
    code, out = run(capsys, "prices", "--tenant", T, "--flush")
    assert code == 0 and "1 held" in out and "HELD PRICE" in out and "16000" in out
    code, out = run(capsys, "prices", "--tenant", T, "--confirm", sku, "--by", "ana@seller")
    assert code == 0 and f"{sku} price 16000 confirmed by ana@seller" in out
    run(capsys, "prices", "--tenant", T, "--flush")
    run(capsys, "prices", "--tenant", T, "--flush")
    assert storefront(stack)[sku]["Price"] == "16000"
    code, out = run(capsys, "prices", "--tenant", T, "--sku", sku)
    assert code == 0 and "synced" in out and "confirmed by a person" in out and "by=ana@seller" in out
    code, out = run(capsys, "prices", "--tenant", T, "--confirm", sku)
    assert code == 1 and "no price waiting for confirmation" in out
    code, out = run(
        capsys,
        "prices",
        "--tenant",
        T,
        "--sale",
        "12990",
        "--skus",
        sku,
        "--start",
        "2026-01-01 00:00",
        "--end",
        "2099-01-01 00:00",
    )
    assert code == 0 and "set for 1 SKU(s)" in out
    run(capsys, "prices", "--tenant", T, "--flush")
    run(capsys, "prices", "--tenant", T, "--flush")
    kept = storefront(stack)[sku]
    assert (kept["SpecialPrice"], kept["SpecialFromDate"], kept["Effective"]) == (
        "12990",
        "2026-01-01 00:00:00",
        "12990",
    )
    code, out = run(capsys, "prices", "--json")
    assert code == 0 and '"tenant": "socl"' in out
