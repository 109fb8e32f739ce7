"""Price rules (shared/domain/prices.py), the price settings' start-up check, and the ProductUpdate body."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from shared.adapters.seller_center.client import price_request_xml
from shared.domain.price_settings import PriceSyncSettings
from shared.domain.prices import (
    FEED_SPACING,
    FREE_FEEDS,
    SPACING_MARGIN,
    FeedBudget,
    PriceToSend,
    feed_floor,
    format_price,
    guard_reason,
    local_text,
    parse_local,
    price_to_send,
)
from shared.domain.times import zone
from shared.settings import SettingsError, load_settings
from tests.checks import present

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "MARKETPLACE_BASE_URL": "http://m",
    "OMS_BASE_URL": "http://o",
    "MARKETPLACE_USER_ID_FACL": "u",
    "MARKETPLACE_API_KEY_FACL": "k",
    "MARKETPLACE_SELLER_ID_FACL": "s",
}
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("amount", "currency", "sent"),
    [
        ("59990.49", "CLP", "59990"),
        ("59990.5", "CLP", "59991"),
        ("1999.999", "COP", "2000"),
        ("12.345", "PEN", "12.35"),
        ("12", "ARS", "12.00"),
        ("0.005", "MXN", "0.01"),
    ],
)
def test_prices_are_rounded_half_up_to_the_currencys_minor_unit(amount: str, currency: str, sent: str) -> None:
    assert format_price(Decimal(amount), currency) == sent


def test_markup_then_adjustment_then_rounding() -> None:
    settings = PriceSyncSettings(enabled=True, currency="CLP", markup_percent=Decimal("19"), adjustment=Decimal("-10"))
    assert price_to_send(Decimal("1000"), settings, "facl") == Decimal("1180")


@pytest.mark.parametrize(
    ("reference", "new", "held"),
    [(None, "100", False), ("100", "150", False), ("100", "151", True), ("100", "49", True), ("100", "0", True)],
)
def test_the_guard_holds_a_move_beyond_the_percentage_or_to_zero(reference: str | None, new: str, held: bool) -> None:
    reason = guard_reason(Decimal(reference) if reference else None, Decimal(new), Decimal(50))
    assert bool(reason) is held


def test_sale_dates_are_the_storefronts_wall_clock_time() -> None:
    santiago = zone("America/Santiago")
    end = parse_local("2026-12-10 23:59:59", santiago)
    assert end.astimezone(timezone.utc) == datetime(2026, 12, 11, 2, 59, 59, tzinfo=timezone.utc)  # UTC-3 (summer)
    assert local_text(end, santiago) == "2026-12-10 23:59:59"
    winter = parse_local("2026-07-01 00:00:00", santiago)
    assert winter.astimezone(timezone.utc).hour == 4  # UTC-4 in July


def test_the_feed_budget_is_fifty_free_then_spaced() -> None:
    budget = FeedBudget("s")
    for _ in range(FREE_FEEDS):
        assert budget.next_slot(NOW) == NOW
        budget.spend(NOW)
    assert budget.next_slot(NOW) == NOW + FEED_SPACING + SPACING_MARGIN
    assert budget.free_left(NOW) == 0
    later = NOW + timedelta(hours=24, seconds=1)  # a rolling day later the free calls are back
    assert budget.next_slot(later) == later
    budget.throttled(NOW, 90)
    assert budget.next_slot(NOW) == NOW + FEED_SPACING + SPACING_MARGIN  # the later of the two
    assert feed_floor(20, 50) == timedelta(0) and feed_floor(20, 0) == FEED_SPACING * 20


def test_price_sync_on_needs_the_zort_currency_to_be_the_storefronts() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "MARKETPLACE_PRICE_SYNC_FACL": "true"})
    assert "MARKETPLACE_PRICE_ZORT_CURRENCY_FACL" in error.value.missing[0] and "CLP" in error.value.missing[0]
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "MARKETPLACE_PRICE_SYNC_FACL": "true", "MARKETPLACE_PRICE_ZORT_CURRENCY_FACL": "USD"})
    assert "'USD' is an unknown currency" in error.value.missing[0]
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "MARKETPLACE_PRICE_SYNC_FACL": "true", "MARKETPLACE_PRICE_ZORT_CURRENCY_FACL": "COP"})
    assert "not the storefront's CLP" in error.value.missing[0]
    settings = load_settings(
        {
            **BASE,
            "MARKETPLACE_PRICE_SYNC_FACL": "true",
            "MARKETPLACE_PRICE_ZORT_CURRENCY_FACL": "clp",
            "MARKETPLACE_PRICE_MARKUP_PERCENT_FACL": "12.5",
        }
    )
    assert settings.prices("facl") == PriceSyncSettings(True, "CLP", Decimal("12.5"), Decimal(0), Decimal(50))
    assert not load_settings(BASE).prices("facl").enabled  # off by default


def test_bad_price_numbers_are_named() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "MARKETPLACE_PRICE_GUARD_PERCENT_FACL": "lots"})
    assert "MARKETPLACE_PRICE_GUARD_PERCENT_FACL" in error.value.missing[0]


def test_the_product_update_body_is_the_documented_business_unit_form() -> None:
    rows = [
        PriceToSend("A&1", "59990"),
        PriceToSend("B", "59990", "35990", "2023-05-26 00:00:00", "2023-10-31 23:59:59"),
    ]
    root = ElementTree.fromstring(price_request_xml(rows, "facl"))
    products = root.findall("Product")
    assert [p.findtext("SellerSku") for p in products] == ["A&1", "B"]
    unit = products[1].find("BusinessUnits/BusinessUnit")
    assert unit is not None
    assert [(child.tag, child.text) for child in unit] == [
        ("OperatorCode", "facl"),
        ("Price", "59990"),
        ("SpecialPrice", "35990"),
        ("SpecialFromDate", "2023-05-26 00:00:00"),
        ("SpecialToDate", "2023-10-31 23:59:59"),
    ]
    assert [child.tag for child in present(products[0].find("BusinessUnits/BusinessUnit"))] == ["OperatorCode", "Price"]
