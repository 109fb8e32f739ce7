"""Processing claims (Table `ThorClaims`): PartitionKey tenant, RowKey what is claimed (`order:{id}`).

A claim says "this owner works on it until then". It is taken with a conditional write: an insert
when there is none, else a replace under the ETag just read, allowed only when the claim is free,
expired, the owner's own or the owner is a later delivery of the same message
(`shared.domain.fencing.may_take`), or the taker is a later attempt of the event the claim was taken
for (column `forEvent`, `shared.domain.fencing.later_attempt`: a retry is a new message); of two workers taking it at once, one write fails (409 or 412)
and that worker does not have it. Each take moves the row's fencing token (`fence`) one up: the
taker keeps the token, and `holds` says whether it is still the current one. Releasing frees the
claim under the ETag the taker got (the row stays, so its token never goes back), so a claim
someone else took over after it expired is left alone; `release` then says why it did nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.adapters.storage import CLAIMS_TABLE
from shared.adapters.table_repository import Entity, TableRepository, etag_of
from shared.domain.fencing import later_attempt, may_take
from shared.ports import Claim

FREE = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ClaimStore(TableRepository):
    table_name = CLAIMS_TABLE

    def take(self, tenant: str, name: str, owner: str, seconds: float, *, for_event: str | None = None) -> Claim | None:
        """The claim (ETag and token) when `owner` now holds `name` for `seconds`, None when someone
        else does. `for_event`: the event attempt it is taken for (`shared.domain.fencing.attempt_of`)."""
        now = datetime.now(timezone.utc)
        # A new row starts its token at the time in milliseconds, so that a row lost or deleted
        # (its counter with it) never hands out a token lower than one an order already carries.
        first = int(now.timestamp() * 1000)
        entity: Entity = {
            "PartitionKey": tenant,
            "RowKey": name,
            "owner": owner,
            "until": now + timedelta(seconds=seconds),
            "fence": str(first),  # as text: the SDK sends a plain int as Edm.Int32
            "forEvent": for_event or "",
        }
        etag = self.insert(entity)
        if etag is not None:
            return Claim(etag, first)
        current = self.read(tenant, name)
        if current is None:
            return None  # deleted just now (a claim released before tokens were kept): try again
        if not may_take(current.get("owner"), current.get("until"), owner, now) and not later_attempt(
            current.get("forEvent"), for_event
        ):
            return None
        fence = int(current.get("fence") or 0) + 1
        entity["fence"] = str(fence)
        etag = self.update_unchanged(entity, etag_of(current))
        return Claim(etag, fence) if etag is not None else None

    def holds(self, tenant: str, name: str, claim: Claim) -> bool:
        current = self.read(tenant, name)
        if current is None or int(current.get("fence") or 0) != claim.fence:
            return False
        until = current.get("until")
        return bool(current.get("owner")) and until is not None and until > datetime.now(timezone.utc)

    def release(self, tenant: str, name: str, claim: Claim) -> str | None:
        """Frees the claim, unless it changed since it was taken (then it is not ours): None when
        freed, else why nothing was done."""
        freed = {"PartitionKey": tenant, "RowKey": name, "owner": "", "until": FREE, "fence": str(claim.fence)}
        if self.update_unchanged(freed, claim.etag) is not None:
            return None
        current = self.read(tenant, name)
        if current is None:
            return "its row is gone"
        fence, owner = int(current.get("fence") or 0), current.get("owner") or ""
        if fence != claim.fence:
            return f"taken over since (token {fence}, ours {claim.fence}, owner {owner or 'none: freed'})"
        if not owner:  # freed under our token: our own release, its answer lost and its retry refused (412)
            return None
        return f"changed since it was taken (owner {owner}, token {fence})"
