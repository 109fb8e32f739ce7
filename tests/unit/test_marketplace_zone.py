"""The zone Seller Center writes its zone-less times in (docs/api.md "Marketplace times"), held against
the documented answers it was decided from, and the per-tenant setting that carries it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared.adapters.seller_center.client import SellerCenterClient, SellerCenterConfig, head_disagrees
from shared.adapters.seller_center.schemas import parse_datetime
from shared.domain.times import zone
from shared.settings import SettingsError, load_settings
from shared.tenants import MARKETPLACE_TIMEZONE, TENANTS
from tests.checks import present

# Source: LinioIT/seller-center-sdk, branch gsc-master, tests/_schemas/Order/OrderResponse.xml (GetOrder).
SDK_GET_ORDER: dict[str, Any] = {
    "SuccessResponse": {
        "Head": {"RequestAction": "GetOrder", "Timestamp": "2019-02-27T12:52:46-0500"},
        "Body": {
            "Orders": {
                "Order": {
                    "OrderId": "4687503",
                    "CreatedAt": "2018-08-27 08:48:20",
                    "AddressUpdatedAt": "2018-08-27 13:48:20",  # written in UTC
                }
            }
        },
    }
}
# Source: developers.falabella.com v500 GetOrderItems (a COP answer: Colombian data) and GetWarehouse
# (Colombian warehouses), as shared/reference/seller-center.md "Time zone evidence" records them: the
# Head.Timestamp is at -03:00 (an answer of Falabella's one host for every country). The date is the
# southern summer, when Santiago is at -03:00 (its winter offset is -04:00).
FALABELLA_COLOMBIAN_ANSWER: dict[str, Any] = {
    "SuccessResponse": {
        "Head": {"RequestAction": "GetOrderItems", "Timestamp": "2025-01-15T10:21:07-03:00"},
        "Body": {"OrderItems": {"OrderItem": {"Currency": "COP", "CreatedAt": "2025-01-15 10:20:00"}}},
    }
}


def test_zone_less_times_follow_the_offset_of_the_answer_s_own_head_in_the_sdk_fixture() -> None:
    head = datetime.fromisoformat(SDK_GET_ORDER["SuccessResponse"]["Head"]["Timestamp"])
    order = SDK_GET_ORDER["SuccessResponse"]["Body"]["Orders"]["Order"]
    read_in_head_zone = parse_datetime(order["CreatedAt"], timezone(present(head.utcoffset())))
    assert read_in_head_zone == parse_datetime(order["AddressUpdatedAt"], timezone.utc)


def test_falabella_s_colombian_answers_carry_santiago_s_offset_so_the_default_is_santiago_not_bogota() -> None:
    assert MARKETPLACE_TIMEZONE == "America/Santiago"
    assert head_disagrees(FALABELLA_COLOMBIAN_ANSWER, zone(MARKETPLACE_TIMEZONE)) is None
    assert "America/Bogota was at -05:00" in (head_disagrees(FALABELLA_COLOMBIAN_ANSWER, zone("America/Bogota")) or "")
    created = FALABELLA_COLOMBIAN_ANSWER["SuccessResponse"]["Body"]["OrderItems"]["OrderItem"]["CreatedAt"]
    # read in the default zone, the order was placed a minute before the answer was written, not 2 h later
    head = datetime.fromisoformat(FALABELLA_COLOMBIAN_ANSWER["SuccessResponse"]["Head"]["Timestamp"])
    assert head - present(parse_datetime(created, zone(MARKETPLACE_TIMEZONE))) == timedelta(minutes=1, seconds=7)


BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "MARKETPLACE_BASE_URL": "http://m",
    "OMS_BASE_URL": "http://o",
}


def marketplace(tenant: str, **extra: str) -> dict[str, str]:
    t = tenant.upper()
    return {
        f"MARKETPLACE_USER_ID_{t}": "u",
        f"MARKETPLACE_API_KEY_{t}": "k",
        f"MARKETPLACE_SELLER_ID_{t}": "s",
        **extra,
    }


def test_the_zone_is_a_per_tenant_setting_defaulting_to_santiago_for_every_storefront() -> None:
    env = dict(BASE)
    for tenant in TENANTS:
        env.update(marketplace(tenant))
    env["MARKETPLACE_TIMEZONE_SOMX"] = "America/Mexico_City"
    settings = load_settings(env)
    zones = {tenant: present(settings.tenant(tenant).marketplace).time_zone for tenant in TENANTS}
    assert zones.pop("somx") == "America/Mexico_City"
    assert set(zones.values()) == {"America/Santiago"}


def test_an_unknown_zone_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({**BASE, **marketplace("faco", MARKETPLACE_TIMEZONE_FACO="Mars/Olympus")})
    assert any("MARKETPLACE_TIMEZONE_FACO" in missing for missing in refused.value.missing)


def test_a_head_offset_that_disagrees_is_logged_once_per_tenant_and_day(caplog: pytest.LogCaptureFixture) -> None:
    days = iter([datetime(2025, 7, 1, 12, tzinfo=timezone.utc)] * 2 + [datetime(2025, 7, 2, 12, tzinfo=timezone.utc)])
    config = SellerCenterConfig(
        base_url="http://m", user_id="u", api_key="k", seller_id="s", business_unit="FACO", time_zone="America/Santiago"
    )
    client = SellerCenterClient(config, now=lambda: next(days))
    utc_head = {"SuccessResponse": {"Head": {"Timestamp": "2025-07-01T12:00:00+0000"}, "Body": {}}}
    with caplog.at_level(logging.WARNING, logger="thor.seller_center"):
        for _ in range(3):
            assert client.check_head(utc_head) is not None
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2 and all("FACO" in m and "+00:00" in m and "-04:00" in m for m in logged)
