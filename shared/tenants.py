"""The nine marketplace storefronts Thor serves."""
from __future__ import annotations

TENANTS: tuple[str, ...] = ("faar", "faco", "facl", "fape", "soar", "soco", "socl", "sope", "somx")
TENANT_NAMES = {
    "faar": "Falabella Argentina", "faco": "Falabella Colombia", "facl": "Falabella Chile",
    "fape": "Falabella Peru", "soar": "Sodimac Argentina", "soco": "Sodimac Colombia",
    "socl": "Sodimac Chile", "sope": "Sodimac Peru", "somx": "Sodimac Mexico",
}


def is_tenant(value: str | None) -> bool:
    return value in TENANT_NAMES
