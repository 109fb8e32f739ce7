"""A tenant's price sync configuration, apart from the price rules (shared.domain.prices) so that the
settings, read at every cold start, do not load the rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CURRENCIES: dict[str, str] = {"ar": "ARS", "co": "COP", "cl": "CLP", "pe": "PEN", "mx": "MXN"}
"""Each storefront country's currency (the tenant id's last two letters name the country)."""
DEFAULT_GUARD_PERCENT = Decimal(50)


def storefront_currency(tenant: str) -> str:
    """The currency the tenant's storefront sells in (ISO 4217)."""
    return CURRENCIES[tenant[2:]]


@dataclass(frozen=True)
class PriceSyncSettings:
    """A tenant's price sync configuration (settings MARKETPLACE_PRICE_*_<T>)."""

    enabled: bool = False
    currency: str = ""
    """The ZORT store's currency as stated (MARKETPLACE_PRICE_ZORT_CURRENCY_<T>); must be the storefront's."""
    markup_percent: Decimal = Decimal(0)
    """Added to ZORT's price, in percent (10 = 10 % more); may be negative."""
    adjustment: Decimal = Decimal(0)
    """Added after the markup, in the currency (may be negative)."""
    guard_percent: Decimal = DEFAULT_GUARD_PERCENT
    """A change larger than this (in percent of the last price sent) waits for a person's confirmation."""
