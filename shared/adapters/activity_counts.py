"""Activity counts (Table `ThorActivity`): PartitionKey tenant, RowKey `<yyyymmddHH>-<shard>`, one
integer column per counter of shared.domain.activity.

An addition is a read and a write conditional on the ETag read (or an insert when the row is new),
tried again on a conflict a few times: two workers adding at once both count. Reading a tenant's
hours is one query on a RowKey range of one partition: 7 days x 24 hours x 4 shards = 672 rows,
one page (a page holds up to 1,000 entities), whatever the tenant's number of orders or events.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.adapters.storage import ACTIVITY_TABLE, Storage, storage_errors
from shared.domain.activity import COUNTERS, SHARDS, hour_from_key, hour_key

TRIES = 5
log = logging.getLogger("thor.activity")


class ActivityCounts:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @property
    def table(self) -> TableClient:
        return self.storage.table(ACTIVITY_TABLE)

    def add(self, tenant: str, hour: datetime, counts: Mapping[str, int], shard: int = 0) -> None:
        """Adds `counts` to the tenant's hour (its shard's row). Raises StorageUnavailable, or
        RuntimeError after TRIES conflicts in a row: the caller logs it and goes on (a dashboard count)."""
        counts = {name: int(value) for name, value in counts.items() if name in COUNTERS and value}
        if not counts:
            return
        row_key = f"{hour_key(hour)}-{shard}"
        with storage_errors():
            for _ in range(TRIES):
                try:
                    entity = self.table.get_entity(tenant, row_key)
                except ResourceNotFoundError:
                    try:
                        self.table.create_entity({"PartitionKey": tenant, "RowKey": row_key, **counts})
                        return
                    except ResourceExistsError:
                        continue
                patch: dict[str, str | int] = {"PartitionKey": tenant, "RowKey": row_key}
                patch.update({name: int(entity.get(name) or 0) + value for name, value in counts.items()})
                try:
                    self.table.update_entity(
                        patch,
                        mode=UpdateMode.MERGE,
                        etag=entity.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return
                except (ResourceModifiedError, ResourceNotFoundError):
                    continue
        raise RuntimeError(f"activity counts of {tenant} {row_key}: {TRIES} conflicting writers in a row")

    def hours(self, tenant: str, since: datetime, until: datetime) -> dict[datetime, dict[str, int]]:
        """{hour: {counter: n}} over [since, until), shards summed: one query."""
        found: dict[datetime, dict[str, int]] = {}
        query = "PartitionKey eq @t and RowKey ge @a and RowKey lt @b"
        with storage_errors():
            rows = self.table.query_entities(
                query,
                parameters={"t": tenant, "a": hour_key(since), "b": hour_key(until)},
                results_per_page=1000,
            )
            for row in rows:
                counts = found.setdefault(hour_from_key(row["RowKey"]), {})
                for name in COUNTERS:
                    counts[name] = counts.get(name, 0) + int(row.get(name) or 0)
        return found


class BufferedActivityCounts:
    """The processor's counts added in memory and written at most every `every` seconds, one addition
    per tenant and hour, by a background timer: processing an event costs no Table request for the
    console's counts, and the writers of one row are the app's instances, not its events (no ETag
    conflicts under load). The price: the console's counts are up to `every` seconds late, and a process
    that dies loses what it had not written (at most `every` seconds of counts; written at a normal exit).
    `every` 0 writes each addition at once (THOR_ACTIVITY_FLUSH_SECONDS=0: tests that read counts)."""

    def __init__(self, counts: ActivityCounts, every: float) -> None:
        self.counts = counts
        self.every = every
        self.shard = random.randrange(SHARDS)  # this process's row of each hour
        self._pending: dict[tuple[str, str], Counter[str]] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        if every > 0:  # what is still in memory at a normal exit is written then
            atexit.register(self.flush)

    def add(self, tenant: str, hour: datetime, counts: Mapping[str, int], shard: int = 0) -> None:
        if self.every <= 0:
            self.counts.add(tenant, hour, counts, shard)
            return
        with self._lock:
            self._pending.setdefault((tenant, hour_key(hour)), Counter()).update(counts)
            if self._timer is None:
                self._timer = threading.Timer(self.every, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Writes what was added since the last write (the timer; at exit)."""
        with self._lock:
            pending, self._pending, self._timer = self._pending, {}, None
        for (tenant, key), counts in pending.items():
            try:
                self.counts.add(tenant, hour_from_key(key), counts, self.shard)
            except Exception as error:  # a dashboard count: logged, never an event's failure
                log.warning("activity counts of %s not added (%s): %s", tenant, dict(counts), error)

    def hours(self, tenant: str, since: datetime, until: datetime) -> dict[datetime, dict[str, int]]:
        return self.counts.hours(tenant, since, until)
