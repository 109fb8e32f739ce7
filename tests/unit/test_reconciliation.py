"""Reconciling every tenant, on in-memory fakes: a tenant without marketplace settings is skipped and
named, one that fails is reported, and neither stops the others. (Moved from
tests/integration/test_reconciliation.py, which keeps the repair paths through Azurite and the sandboxes.)"""

from __future__ import annotations

from shared.services.reconciliation import reconcile_all
from tests.fakes import fake_context


def test_tenants_without_marketplace_settings_are_skipped_and_a_failing_one_stops_no_other() -> None:
    context = fake_context("sope")  # faco and somx have no settings
    context.marketplace("sope").fail_next(RuntimeError("marketplace down"))
    results = {r["tenant"]: r for r in reconcile_all(context, tenants=("sope", "faco", "somx"))}
    assert list(results) == ["sope", "faco", "somx"]
    assert results["sope"]["error"] == "RuntimeError: marketplace down"
    for tenant in ("faco", "somx"):
        assert "not configured for the marketplace" in results[tenant]["skipped"]
    again = {r["tenant"]: r for r in reconcile_all(context, tenants=("sope",))}
    assert "error" not in again["sope"] and "skipped" not in again["sope"]
