"""Marketplace local times read in the storefront's zone, and Thor's own times written as RFC 3339 UTC.

Fixtures reproduce real Seller Center answers, converted to the JSON the API gives with Format=JSON
(every value a string):

- ``COLOMBIA_GET_ORDER``: LinioIT/seller-center-sdk, branch gsc-master,
  ``tests/_schemas/Order/OrderResponse.xml`` (a GetOrder answer: Head Timestamp
  ``2019-02-27T12:52:46-0500``, CreatedAt ``2018-08-27 08:48:20``, AddressUpdatedAt
  ``2018-08-27 13:48:20``, PromisedShippingTime ``2018-08-28 16:00:00``), fields Thor reads only.
- ``CHILE_NEAR_DST``: the same shape with Chile values around Santiago's clock changes of 2026
  (back on 2026-04-05 03:00Z, 00:00 -03 → 23:00 -04; forward on 2026-09-06 04:00Z,
  00:00 -04 → 01:00 -03; dates checked with zoneinfo).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.adapters.oms.mapping import order_to_oms
from shared.adapters.seller_center.client import format_local_filter
from shared.adapters.seller_center.schemas import OrderItemRow, OrderRow
from shared.adapters.seller_center.translate import order_from
from shared.domain.marketplace import fill_header
from shared.domain.order import Order
from shared.domain.times import json_default, latest_reading, local_to_utc, rfc3339, tenant_zone, utc_offset_change
from shared.tenants import TENANT_TIMEZONES, TENANTS
from tests.checks import present

BOGOTA, SANTIAGO = ZoneInfo("America/Bogota"), ZoneInfo("America/Santiago")
UTC = timezone.utc

COLOMBIA_GET_ORDER: dict[str, Any] = {
    "SuccessResponse": {
        "Head": {
            "RequestId": "",
            "RequestAction": "GetOrder",
            "ResponseType": "Order",
            "Timestamp": "2019-02-27T12:52:46-0500",
        },
        "Body": {
            "Orders": {
                "Order": {
                    "OrderId": "4687503",
                    "OrderNumber": "206125233",
                    "CustomerFirstName": "first_name+4687503",
                    "CustomerLastName": "last_name+",
                    "Price": "61800.00",
                    "CreatedAt": "2018-08-27 08:48:20",
                    "UpdatedAt": "2018-08-28 17:09:47",
                    "AddressUpdatedAt": "2018-08-27 13:48:20",
                    "ItemsCount": "1",
                    "PromisedShippingTime": "2018-08-28 16:00:00",
                    "Statuses": {"Status": ["delivered", "pending"]},
                    "ShippingType": "Dropshipping",
                    "OperatorCode": "FACO",
                }
            }
        },
    }
}

CHILE_NEAR_DST = [
    {
        "OrderId": "9100001",
        "CreatedAt": "2026-04-04 22:30:00",
        "UpdatedAt": "2026-04-04 23:30:00",
        "AddressUpdatedAt": "2026-04-05 01:30:00",
        "PromisedShippingTime": "2026-04-06 12:00:00",
    },
    {
        "OrderId": "9100002",
        "CreatedAt": "2026-09-05 23:30:00",
        "UpdatedAt": "2026-09-06 01:30:00",
        "AddressUpdatedAt": "2026-09-06 03:30:00",
        "PromisedShippingTime": "2026-09-06 00:30:00",
    },
]


def colombia_order() -> OrderRow:
    return OrderRow.from_api(COLOMBIA_GET_ORDER["SuccessResponse"]["Body"]["Orders"]["Order"], zone=tenant_zone("faco"))


def test_colombia_times_are_bogota_wall_clock_and_address_updated_at_is_utc() -> None:
    order = colombia_order()
    assert order.created_at == datetime(2018, 8, 27, 13, 48, 20, tzinfo=UTC)
    assert order.created_at == order.address_updated_at  # the public sample's 5 h are Bogotá's offset
    assert order.updated_at == datetime(2018, 8, 28, 22, 9, 47, tzinfo=UTC)
    assert order.promised_shipping_time == datetime(2018, 8, 28, 21, 0, tzinfo=UTC)
    head = datetime.fromisoformat(COLOMBIA_GET_ORDER["SuccessResponse"]["Head"]["Timestamp"])
    assert head.utcoffset() == datetime(2019, 2, 27, tzinfo=BOGOTA).utcoffset()  # the Head agrees: -05:00


def test_the_oms_gets_the_real_creation_time_not_one_five_hours_early() -> None:
    """Before: CreatedAt was read as UTC and the OMS got 2018-08-27T08:48:20.000Z."""
    order = Order(tenant="faco", marketplace_order_id="4687503", internal_order_id="faco-4687503")
    fill_header(order, order_from(colombia_order()), [])
    assert order_to_oms(order, "FACO")["created_at"] == "2018-08-27T13:48:20.000Z"


def test_items_promised_shipping_time_is_local_too() -> None:
    item = OrderItemRow.from_api(
        {"OrderItemId": "1", "OrderId": "2", "Status": "pending", "PromisedShippingTime": "2018-08-28 16:00:00"},
        zone=BOGOTA,
    )
    assert item.promised_shipping_time == datetime(2018, 8, 28, 21, 0, tzinfo=UTC)


def test_a_local_time_without_a_zone_to_read_it_in_is_refused() -> None:
    with pytest.raises(Exception, match="time zone"):
        OrderRow.model_validate({"OrderId": "1", "CreatedAt": "2018-08-27 08:48:20"})


def test_chile_times_around_both_clock_changes() -> None:
    back, forward = (OrderRow.from_api(row, zone=tenant_zone("facl")) for row in CHILE_NEAR_DST)
    # before the change back: -03
    assert back.created_at == datetime(2026, 4, 5, 1, 30, tzinfo=UTC) == back.address_updated_at
    # 23:30 on 2026-04-04 happens twice: read as the first (-03), latest_reading gives the second (-04)
    assert back.updated_at == datetime(2026, 4, 5, 2, 30, tzinfo=UTC)
    assert latest_reading(back.updated_at, SANTIAGO) == datetime(2026, 4, 5, 3, 30, tzinfo=UTC)
    assert back.promised_shipping_time == datetime(2026, 4, 6, 16, 0, tzinfo=UTC)  # after: -04
    # the change forward: 23:30 -04 before, 01:30 -03 after (00:30 never happens; read as -04)
    assert forward.created_at == datetime(2026, 9, 6, 3, 30, tzinfo=UTC)
    assert (
        forward.updated_at
        == datetime(2026, 9, 6, 4, 30, tzinfo=UTC)
        == present(forward.address_updated_at) + timedelta(hours=1)
    )
    assert forward.promised_shipping_time == datetime(2026, 9, 6, 4, 30, tzinfo=UTC)
    assert latest_reading(forward.updated_at, SANTIAGO) == forward.updated_at


# Each storefront's country and its clock, as the countries keep them (not read from shared.tenants):
# UTC offset in January and in July. Chile alone changes its clocks (summer time in January);
# Mexico stopped in 2022; Argentina, Colombia and Peru have none.
STOREFRONT_CLOCKS = {
    "faar": (-3, -3),
    "soar": (-3, -3),
    "faco": (-5, -5),
    "soco": (-5, -5),
    "facl": (-3, -4),
    "socl": (-3, -4),
    "fape": (-5, -5),
    "sope": (-5, -5),
    "somx": (-6, -6),
}


def test_every_tenant_reads_its_times_on_its_countrys_clock() -> None:
    assert sorted(TENANT_TIMEZONES) == sorted(STOREFRONT_CLOCKS)
    clocks = {
        tenant: tuple(
            int(present(datetime(2026, month, 15, 12, tzinfo=tenant_zone(tenant)).utcoffset()) / timedelta(hours=1))
            for month in (1, 7)
        )
        for tenant in TENANTS
    }
    assert clocks == STOREFRONT_CLOCKS


def test_get_orders_filter_carries_the_local_offset_on_each_side_of_the_changes() -> None:
    assert (
        format_local_filter(datetime(2026, 4, 5, 2, 59, 59, 999, tzinfo=UTC), SANTIAGO) == "2026-04-04T23:59:59-03:00"
    )
    assert format_local_filter(datetime(2026, 4, 5, 3, 0, 0, tzinfo=UTC), SANTIAGO) == "2026-04-04T23:00:00-04:00"
    assert format_local_filter(datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC), SANTIAGO) == "2026-09-05T23:59:59-04:00"
    assert format_local_filter(datetime(2026, 9, 6, 4, 0, 0, tzinfo=UTC), SANTIAGO) == "2026-09-06T01:00:00-03:00"
    with pytest.raises(ValueError):
        format_local_filter(datetime(2026, 9, 6, 4), SANTIAGO)


def test_offset_change_is_the_hour_clocks_go_back_and_zero_otherwise() -> None:
    change = datetime(2026, 4, 5, 3, tzinfo=UTC)
    assert utc_offset_change(change - timedelta(minutes=1), change, SANTIAGO) == timedelta(hours=1)
    assert utc_offset_change(change, change + timedelta(hours=2), SANTIAGO) == timedelta(0)
    forward = datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert utc_offset_change(forward - timedelta(hours=1), forward + timedelta(hours=1), SANTIAGO) == timedelta(0)
    assert utc_offset_change(change - timedelta(hours=1), change + timedelta(hours=1), BOGOTA) == timedelta(0)


def test_local_to_utc_keeps_an_explicit_offset() -> None:
    assert local_to_utc(datetime.fromisoformat("2019-02-27T12:52:46-0500"), SANTIAGO) == datetime(
        2019, 2, 27, 17, 52, 46, tzinfo=UTC
    )


def test_rfc3339_is_utc_with_milliseconds_and_z() -> None:
    assert rfc3339(datetime(2026, 11, 23, 0, 34, 10, 477552, tzinfo=UTC)) == "2026-11-23T00:34:10.477Z"
    assert (
        rfc3339(datetime(2026, 11, 22, 21, 34, 10, 477552, tzinfo=ZoneInfo("America/Santiago")))
        == "2026-11-23T00:34:10.477Z"
    )
    assert rfc3339(datetime(2026, 11, 23, 0, 34, 10)) == "2026-11-23T00:34:10.000Z"
    assert rfc3339(None) is None
    assert json_default(datetime(2026, 11, 23, 0, 34, 10, 477552, tzinfo=UTC)) == "2026-11-23T00:34:10.477Z"
