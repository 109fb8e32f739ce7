"""Processing claims (Table `ThorClaims`): PartitionKey tenant, RowKey what is claimed (`order:{id}`).

A claim says "this owner works on it until then". It is taken with a conditional write: an insert
when there is none, else a replace under the ETag just read, allowed only when the claim is the
owner's own or has expired; of two workers taking it at once, one write fails (409 or 412) and that
worker does not have it. Releasing deletes it under the ETag the taker got, so a claim someone else
took over after it expired is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

from shared.adapters.storage import CLAIMS_TABLE, storage_errors
from shared.adapters.table_repository import Entity, TableRepository, etag_of


class ClaimStore(TableRepository):
    table_name = CLAIMS_TABLE

    def take(self, tenant: str, name: str, owner: str, seconds: float) -> str | None:
        """The claim's ETag when `owner` now holds `name` for `seconds`, None when someone else does."""
        now = datetime.now(timezone.utc)
        entity: Entity = {
            "PartitionKey": tenant,
            "RowKey": name,
            "owner": owner,
            "until": now + timedelta(seconds=seconds),
        }
        etag = self.insert(entity)
        if etag is not None:
            return etag
        current = self.read(tenant, name)
        if current is None:
            return None  # released just now: the caller tries again
        if current.get("owner") != owner and current.get("until") and current["until"] > now:
            return None
        return self.update_unchanged(entity, etag_of(current))

    def release(self, tenant: str, name: str, etag: str) -> None:
        """Gives the claim up, unless it changed hands since it was taken (then it is not ours)."""
        with storage_errors():
            try:
                self.table.delete_entity(tenant, name, etag=etag, match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                pass
