"""The nine marketplace storefronts Thor serves, and the time zone each storefront writes its times in."""

from __future__ import annotations

TENANTS: tuple[str, ...] = ("faar", "faco", "facl", "fape", "soar", "soco", "socl", "sope", "somx")
TENANT_NAMES = {
    "faar": "Falabella Argentina",
    "faco": "Falabella Colombia",
    "facl": "Falabella Chile",
    "fape": "Falabella Peru",
    "soar": "Sodimac Argentina",
    "soco": "Sodimac Colombia",
    "socl": "Sodimac Chile",
    "sope": "Sodimac Peru",
    "somx": "Sodimac Mexico",
}

_COUNTRY_ZONES = {
    "ar": "America/Argentina/Buenos_Aires",
    "co": "America/Bogota",
    "cl": "America/Santiago",  # has daylight saving time
    "pe": "America/Lima",
    "mx": "America/Mexico_City",
}
TENANT_TIMEZONES: dict[str, str] = {tenant: _COUNTRY_ZONES[tenant[2:]] for tenant in TENANTS}
"""IANA zone of each storefront's country: the marketplace writes its zone-less times in it."""


def is_tenant(value: str | None) -> bool:
    return value in TENANT_NAMES
