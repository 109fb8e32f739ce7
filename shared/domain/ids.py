"""Deterministic identifiers: a redelivered webhook always maps to the same event and order."""
from __future__ import annotations

import hashlib
import json
import re

from shared.tenants import is_tenant

_INTERNAL_ID = re.compile(r"^([a-z]{4})-([A-Za-z0-9_.-]{1,64})$")


def internal_order_id(tenant: str, marketplace_order_id: str | int) -> str:
    """Thor's order id: the tenant and the marketplace's order id, e.g. `faco-3272813`."""
    return f"{tenant}-{str(marketplace_order_id).strip()}"


def parse_internal_order_id(value: str) -> tuple[str, str] | None:
    """(tenant, marketplace order id) of a well-formed internal id of a known tenant, else None."""
    match = _INTERNAL_ID.match(value or "")
    if not match or not is_tenant(match.group(1)):
        return None
    return match.group(1), match.group(2)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_id(kind: str, tenant: str, identity) -> str:
    """Idempotency key of an inbound event: a short kind prefix and a hash of what makes it unique."""
    digest = hashlib.sha256(canonical_json([kind, tenant, identity]).encode()).hexdigest()[:32]
    return f"{kind}-{digest}"
