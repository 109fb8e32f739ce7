"""How the commands print: plain tables, RFC 3339 UTC times, JSON, clipped text, URLs with keys masked."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.domain.events import InboundEvent
from shared.domain.times import json_default, rfc3339

MASK = "****"
EVENT_HEADERS = ("RECEIVED", "TENANT", "STATUS", "ATT", "KIND", "EVENT ID", "ORDER", "REASON / OUTCOME")


def when(moment: datetime | None) -> str:
    return rfc3339(moment) or "-"


def clip(value: object, width: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def as_json(value: object, indent: int | None = 2) -> str:
    """JSON as the commands print it: times in RFC 3339, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=json_default)


def mask_url(url: str) -> str:
    """A URL without user info, with `code` (a function key) and similar query values masked."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = [
        (k, MASK if k.lower() in {"code", "key", "sig", "token", "apikey"} else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def event_row(event: InboundEvent) -> list[Any]:
    return [
        when(event.received_at),
        event.tenant,
        event.status.value,
        event.attempts,
        event.kind,
        event.event_id,
        event.internal_order_id or "-",
        clip(event.reason or event.outcome or "", 70),
    ]


def event_table(events: Sequence[InboundEvent]) -> str:
    return table(EVENT_HEADERS, (event_row(e) for e in events))


def event_json(event: InboundEvent) -> str:
    return as_json(event.model_dump(mode="json", exclude={"body"}), indent=None)
