"""Deterministic identifiers: a redelivered webhook always maps to the same event and order.

Marketplace order and item ids are positive integers, whatever their spelling: `8860001`,
`"8860001"` and `"008860001"` are one order. `canonical_marketplace_id` is the one place that
says so; every model, route and matcher goes through it, so one marketplace order is one Thor
order (`faco-8860001`) and one OMS order.
"""

from __future__ import annotations

import hashlib
import json
import re

from shared.tenants import is_tenant

MAX_ID_DIGITS = 20  # significant digits of a marketplace id (ids are 7-10 digits today)
MAX_ID_SPELLING = 40  # characters of a spelling, leading zeros included
ID_PATTERN = f"^0*[1-9][0-9]{{0,{MAX_ID_DIGITS - 1}}}$"
_ID_SPELLING = re.compile(ID_PATTERN)
_INTERNAL_ID = re.compile(rf"^([a-z]{{4}})-([0-9]{{1,{MAX_ID_SPELLING}}})$")
INVALID_ID = "must be a positive integer: a JSON integer or a string of digits"


def canonical_marketplace_id(value: object) -> str:
    """The canonical spelling of a marketplace id: digits, no leading zero, not 0.

    Accepts a JSON integer or a string of digits (leading zeros dropped); refuses booleans,
    floats (even `179.0`), 0, negatives, signs, spaces and anything else with `ValueError`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(INVALID_ID)
    text = str(value)
    if len(text) > MAX_ID_SPELLING or not _ID_SPELLING.match(text):
        raise ValueError("must be a positive integer, not 0" if text and not text.strip("0") else INVALID_ID)
    return text.lstrip("0")


def internal_order_id(tenant: str, marketplace_order_id: str | int) -> str:
    """Thor's order id: the tenant and the canonical marketplace order id, e.g. `faco-3272813`."""
    return f"{tenant}-{canonical_marketplace_id(marketplace_order_id)}"


def parse_internal_order_id(value: str) -> tuple[str, str] | None:
    """(tenant, canonical marketplace order id) of an internal id of a known tenant, else None.

    `faco-03272813` names `faco-3272813`; `faco-0`, `faco-abc` and unknown tenants name nothing.
    """
    match = _INTERNAL_ID.match(value or "")
    if not match or not is_tenant(match.group(1)):
        return None
    try:
        return match.group(1), canonical_marketplace_id(match.group(2))
    except ValueError:
        return None


def reference_spellings(tenant: str, reference: object) -> list[str]:
    """What a foreign reference to an order may be looked up as: itself, then its canonical forms.

    ZORT's `number` / `reference` may carry Thor's internal id or the marketplace order id in
    another spelling (`faco-03272813`, `03272813`); the exact text comes first, so an order
    number that really is `0042` still wins over marketplace order 42.
    """
    text = str(reference if reference is not None else "").strip()
    if not text:
        return []
    spellings = [text]
    parsed = parse_internal_order_id(text)
    if parsed and parsed[0] == tenant:
        spellings.append(internal_order_id(*parsed))
    elif _ID_SPELLING.match(text) and len(text) <= MAX_ID_SPELLING:
        spellings.append(canonical_marketplace_id(text))
    return list(dict.fromkeys(spellings))


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_id(kind: str, tenant: str, identity: object) -> str:
    """Idempotency key of an inbound event: a short kind prefix and a hash of what makes it unique."""
    digest = hashlib.sha256(canonical_json([kind, tenant, identity]).encode()).hexdigest()[:32]
    return f"{kind}-{digest}"
