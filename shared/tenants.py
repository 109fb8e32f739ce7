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
"""IANA zone of each storefront's country: where its people read times (console, promised dates)."""

MARKETPLACE_TIMEZONE = "America/Santiago"
"""The zone Seller Center writes its zone-less times in (CreatedAt, UpdatedAt, PromisedShippingTime),
for every storefront unless `MARKETPLACE_TIMEZONE_<T>` says otherwise. Why (docs/api.md "Marketplace
times"): Falabella's API is one host for every country; its documented answers for Colombian data
(a COP GetOrderItems, GetWarehouse for Colombian warehouses, developers.falabella.com v500) carry
`Head.Timestamp` at -03:00, Santiago's offset, not Bogotá's -05:00; and in the SDK fixtures
(LinioIT/seller-center-sdk `gsc-master`, tests/_schemas/Order/OrderResponse.xml) the zone-less times
follow the offset of the answer's own Head. So the platform writes in its own (Chilean) zone, not the
storefront's. Thor compares each answer's Head offset with this zone and logs when they disagree."""


def is_tenant(value: str | None) -> bool:
    return value in TENANT_NAMES
