"""Seller Center request signing: an HMAC-SHA256 of the sorted, RFC 3986-encoded parameters.

The query string is built here with exactly that encoding rather than by ``requests`` (which would
encode spaces as ``+``): what is sent is what was signed. The API key is the HMAC secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote

_RFC3986_SAFE = "-_.~"


def _encode(text: str) -> str:
    return quote(str(text), safe=_RFC3986_SAFE)


def canonical_query(params: Mapping[str, str]) -> str:
    """``name=value`` pairs sorted by name, RFC 3986-encoded (space → %20), joined with ``&``."""
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(params.items()))


def sign(params: Mapping[str, str], api_key: str) -> str:
    """Seller Center signature of ``params`` (which must not contain ``Signature``): lowercase hex."""
    message = canonical_query(params).encode("utf-8")
    return hmac.new(api_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset and seconds precision: ``2024-05-01T12:00:00+00:00``."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
