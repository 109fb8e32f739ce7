"""The feeds Thor created (Table `ThorFeeds`, shared.domain.feeds): PartitionKey the tenant, RowKey the
feed id. What a feed carried (SKU → value sent) and what it refused (SKU → reason) are JSON, split
over `items_0`, `items_1`… (and `refused_0`…) columns of at most 30,000 characters each, as a
Table string property holds at most 32K characters (500 SKUs of 128 characters do not fit in one).

`open` is a column so the flush finds the open feeds with one query; a feed is saved conditional on
the version it was read at, so a webhook and a poll settling the same feed at once write it once.
"""

from __future__ import annotations

import json
from typing import Any

from azure.data.tables import TableEntity, UpdateMode

from shared.adapters.storage import FEEDS_TABLE
from shared.adapters.table_repository import Entity, TableRepository, etag_of
from shared.domain.feeds import Feed

CHUNK = 30_000
"""Characters per JSON column (a Table string property holds at most 32K UTF-16 characters)."""
MAX_CHUNKS = 20
MAX_OPEN = 1000
"""Open feeds read per query (a tenant has a few: at most 4 a flush, each settled within minutes)."""


def _split(prefix: str, value: dict[str, str]) -> dict[str, str]:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    if len(parts) > MAX_CHUNKS:
        raise ValueError(f"a feed's {prefix} does not fit in {MAX_CHUNKS} columns")
    return {f"{prefix}_{i}": part for i, part in enumerate(parts)}


def _joined(entity: Any, prefix: str) -> dict[str, str]:
    text = "".join(str(entity.get(f"{prefix}_{i}") or "") for i in range(MAX_CHUNKS))
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _entity(feed: Feed) -> Entity:
    entity: Entity = {
        "PartitionKey": feed.tenant,
        "RowKey": feed.feed_id,
        "action": feed.action,
        "created_at": feed.created_at,
        "status": feed.status,
        "open": feed.open,
        "polls": feed.polls,
        "skus": len(feed.items),
        "refused_count": len(feed.refused),
        "detail": feed.detail[:4000],
        **_split("items", feed.items),
        **_split("refused", feed.refused),
    }
    if feed.last_polled_at is not None:
        entity["last_polled_at"] = feed.last_polled_at
    if feed.closed_at is not None:
        entity["closed_at"] = feed.closed_at
    return entity


def _feed(entity: TableEntity) -> Feed:
    return Feed(
        tenant=entity["PartitionKey"],
        feed_id=entity["RowKey"],
        action=str(entity.get("action") or ""),
        items=_joined(entity, "items"),
        created_at=entity["created_at"],
        status=str(entity.get("status") or ""),
        open=bool(entity.get("open")),
        last_polled_at=entity.get("last_polled_at") or None,
        polls=int(entity.get("polls") or 0),
        closed_at=entity.get("closed_at") or None,
        refused=_joined(entity, "refused"),
        detail=str(entity.get("detail") or ""),
        etag=etag_of(entity),
    )


class FeedRepository(TableRepository):
    table_name = FEEDS_TABLE

    def add(self, feed: Feed) -> None:
        """Records a new feed (before the SKUs it carried are marked as in it); a repeat is harmless."""
        etag = self.insert(_entity(feed), once_more=True)
        feed.etag = etag

    def get(self, tenant: str, feed_id: str) -> Feed | None:
        entity = self.read(tenant, feed_id)
        return _feed(entity) if entity is not None else None

    def open_feeds(self, tenant: str, limit: int = 100) -> list[Feed]:
        """The oldest `limit` open feeds (RowKeys are random ids: up to MAX_OPEN read, then sorted)."""
        found = self.query("PartitionKey eq @t and open eq true", {"t": tenant}, limit=MAX_OPEN)
        return sorted((_feed(e) for e in found), key=lambda f: f.created_at)[:limit]

    def refused_recently(self, tenant: str, limit: int = 20) -> list[Feed]:
        """Closed feeds that refused SKUs (at most `limit`, newest first)."""
        found = self.query("PartitionKey eq @t and open eq false and refused_count gt 0", {"t": tenant}, limit=500)
        return sorted((_feed(e) for e in found), key=lambda f: f.created_at, reverse=True)[:limit]

    def save(self, feed: Feed) -> bool:
        """Writes the feed if it is unchanged since read; False when someone else saved it first."""
        if feed.etag is None:
            raise ValueError("a feed is saved as read: it has no version")
        etag = self.update_unchanged(_entity(feed), feed.etag, mode=UpdateMode.REPLACE)
        if etag is None:
            return False
        feed.etag = etag
        return True
