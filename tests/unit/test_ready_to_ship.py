"""Ready to ship by the current documentation (shared.services.zort_flows._ready_to_ship), on fakes:
the PackageId from GetOrderItems, SetStatusToReadyToShip per package; the deprecated
SetStatusToPackedByMarketplace only for items listed without a PackageId (developers.falabella.com
v600 setstatustopackedbymarketplace: "Deprecated Endpoint. Still operational. You can retrieve the
PackageId using GetOrderItems or GetMultipleOrderItems")."""

from __future__ import annotations

import logging

import pytest

from shared.domain.events import EventKind, EventStatus
from tests.checks import present
from tests.fakes import FakeContext, fake_context, marketplace_item
from tests.unit.test_event_pipeline import ORDER, order_created, record, settle


def with_packages(context: FakeContext, *packages: str | None) -> None:
    items = [
        marketplace_item(f"{ORDER}{n}", order_id=ORDER, sku=f"SKU-{n}").model_copy(update={"package_id": package})
        for n, package in enumerate(packages)
    ]
    context.marketplace("sope").add_order(ORDER, *items)


def tracked(context: FakeContext) -> EventStatus | None:
    assert settle(context, order_created(context)) is EventStatus.COMPLETED
    body = {
        "method": "UPDATEORDERTRACKING",
        "query": {"number": f"sope-{ORDER}", "id": "5"},
        "payload": [{"trackingno": "TR-9", "trackingurl": "https://t/9"}],
    }
    return settle(context, record(context, EventKind.ZORT, body))


def test_ready_to_ship_sends_no_deprecated_call_when_get_order_items_has_the_package_id() -> None:
    context = fake_context(ready_to_ship=["sope"])
    with_packages(context, "MPDS-1-0001", "MPDS-1-0001", "MPDS-1-0002")
    assert tracked(context) is EventStatus.COMPLETED
    calls = context.marketplace("sope").calls
    assert "set_status_to_packed_by_marketplace" not in [name for name, _ in calls]
    ready = [argument for name, argument in calls if name == "set_status_to_ready_to_ship"]
    assert sorted(ready) == [([f"{ORDER}0", f"{ORDER}1"], "MPDS-1-0001"), ([f"{ORDER}2"], "MPDS-1-0002")]
    order, _ = present(context.orders.get("sope", f"sope-{ORDER}"))
    assert {item.status for item in order.items} == {"ready_to_ship"}


def test_only_items_without_a_package_id_are_packed_the_deprecated_way_and_it_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    context = fake_context(ready_to_ship=["sope"])
    with_packages(context, "MPDS-1-0001", None)
    with caplog.at_level(logging.WARNING, logger="thor.zort_flows"):
        assert tracked(context) is EventStatus.COMPLETED
    calls = context.marketplace("sope").calls
    assert [argument for name, argument in calls if name == "set_status_to_packed_by_marketplace"] == [[f"{ORDER}1"]]
    ready = [argument for name, argument in calls if name == "set_status_to_ready_to_ship"]
    assert ([f"{ORDER}0"], "MPDS-1-0001") in ready and len(ready) == 2
    assert any("deprecated" in r.getMessage() and f"{ORDER}1" in r.getMessage() for r in caplog.records)
