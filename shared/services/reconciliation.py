"""Never miss an order: bring Thor and the OMS up to date with the marketplace, whatever webhooks were lost.

Per tenant, a run asks the marketplace for the orders updated since its checkpoint (GetOrders
UpdatedAfter, paged, oldest update first) and compares each with Thor's order. An order Thor does
not have, has not fetched, has not (fully) sent to the OMS, whose item statuses differ, or that the
marketplace updated after Thor last changed it, gets a `reconcile-order` event: recorded and queued
like a webhook, so the queue processor repairs it through the same idempotent path as
onOrderCreated. The event id is derived from the order, its marketplace update time and item
statuses, and the version of Thor's order: the same pair of states is repaired at most once, however
often it is seen (a difference a repair cannot remove, such as Thor knowing a later status than the
marketplace, is not repaired over and over), while a change within the same second as the previous
one still gets its own repair.

The checkpoint (Table `ThorCheckpoints`, PartitionKey `reconcile`, RowKey the tenant) is the latest
marketplace update time seen; it never moves backwards. Each run reads from a little before it
(`OVERLAP`): orders updated within the same second as the checkpoint, or listed late by the
marketplace, are seen again instead of missed, and are not repaired twice (they compare equal, or
their event is a duplicate). The checkpoint entity also keeps the run's summary: what was checked
and what was repaired.

The marketplace writes UpdatedAt as a zone-less wall-clock time in its zone (MARKETPLACE_TIMEZONE_<T>).
Where clocks go back (Chile), one local hour happens twice, so (1) when the window spans such a
change it starts that much earlier, in case the marketplace compares wall clocks, and (2) an
UpdatedAt in the repeated hour counts as its later occurrence when compared with Thor's last change
(a repair too many is harmless, a missed one is not), while the checkpoint keeps the earlier one (it
must never run ahead of the marketplace).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shared.domain.checkpoints import Summary
from shared.domain.errors import NotConfigured
from shared.domain.events import EventStatus
from shared.domain.ids import internal_order_id
from shared.domain.order import Order
from shared.domain.times import latest_reading, rfc3339, utc_offset_change
from shared.domain.times import zone as time_zone
from shared.models.internal_events import OrderRef, ReconcileOrderEvent
from shared.roles import HasCheckpoints, ReconciliationPorts
from shared.services.intake import accept_event
from shared.tenants import TENANTS

if TYPE_CHECKING:
    from shared.domain.marketplace import MarketplaceOrder

log = logging.getLogger("thor.reconciliation")

CHECKPOINT_NAME = "reconcile"
FIRST_RUN_LOOKBACK = timedelta(days=1)
OVERLAP = timedelta(seconds=60)
MAX_PAGES = 1000  # a safety stop: 100k orders in one run
MAX_REPAIRS_KEPT = 200  # repaired orders listed on the checkpoint entity (the count is always kept)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return _utc(moment).isoformat() if moment else None


def difference(remote: MarketplaceOrder, found: tuple[Order, str] | None, zone: ZoneInfo) -> str | None:
    """Why Thor's stored order (`found` = (order, etag) or None) is behind the marketplace's, or None.
    ``zone`` is the one the marketplace writes its UpdatedAt wall-clock times in (MARKETPLACE_TIMEZONE_<T>)."""
    if found is None:
        return "missing in Thor"
    order = found[0]
    if not order.fetched:
        return "never fetched from the marketplace"
    if not order.oms_synced or order.oms_synced_version != order.version:
        return "not synced to the OMS"
    remote_statuses = set(remote.statuses)
    thor_statuses = {item.status for item in order.items}
    if remote_statuses and remote_statuses != thor_statuses:
        return f"item statuses differ (marketplace {sorted(remote_statuses)}, Thor {sorted(thor_statuses)})"
    if remote.updated_at and latest_reading(remote.updated_at, zone) > _utc(order.updated_at):
        return "updated in the marketplace after Thor's last change"
    return None


def reconcile_tenant(
    context: ReconciliationPorts, tenant: str, now: datetime | None = None, page_size: int = 100
) -> Summary:
    """Repairs the tenant's orders updated since its checkpoint; returns (and keeps) the run's summary."""
    now = _utc(now or context.clock())
    configured = context.settings.tenant(tenant).marketplace
    if configured is None:
        return {"tenant": tenant, "skipped": "not configured for the marketplace", "at": rfc3339(now)}
    checkpoints = context.checkpoints
    previous = checkpoints.get(CHECKPOINT_NAME, tenant)
    start = previous.position if previous and previous.position else now - FIRST_RUN_LOOKBACK
    start = _utc(start)
    since = start - OVERLAP if previous and previous.position else start
    # The zone the marketplace writes UpdatedAt and reads UpdatedAfter in (MARKETPLACE_TIMEZONE_<T>):
    # its clock changes, not the storefront's, decide how far back the window must reach.
    zone = time_zone(configured.time_zone)
    since -= utc_offset_change(since, now, zone)
    marketplace = context.marketplace(tenant)

    checked, settled, latest = 0, 0, start
    repaired: list[dict[str, str]] = []
    pending: list[dict[str, str]] = []
    offset = 0
    for _ in range(MAX_PAGES):
        page = marketplace.get_orders(updated_after=since, limit=page_size, offset=offset)
        for remote in page:
            checked += 1
            if remote.updated_at and _utc(remote.updated_at) > latest:
                latest = _utc(remote.updated_at)
            internal_id = internal_order_id(tenant, remote.order_id)
            found = context.orders.get(tenant, internal_id)
            reason = difference(remote, found, zone)
            if reason is None:
                continue
            acceptance = accept_event(
                context.events,
                context.queue,
                tenant=tenant,
                message=ReconcileOrderEvent(
                    payload=OrderRef(OrderId=remote.order_id),
                    reason=reason,
                    marketplaceUpdatedAt=rfc3339(remote.updated_at),
                    seen=[_iso(remote.updated_at) or "", sorted(remote.statuses), found[0].version if found else None],
                ),
                internal_order_id=internal_id,
            )
            entry = {
                "order_id": remote.order_id,
                "internal_order_id": internal_id,
                "reason": reason,
                "event_id": acceptance.event_id,
            }
            if acceptance.status == "accepted":
                repaired.append(entry)
                continue
            existing = context.events.get(tenant, acceptance.event_id)
            if existing is not None and existing.status is EventStatus.COMPLETED:
                settled += 1  # this state of the order was already repaired; what differs is Thor's own
            else:
                pending.append(dict(entry, status=existing.status.value if existing else "unknown"))
        if len(page) < page_size:
            break
        offset += len(page)
    else:
        log.warning("reconciliation of %s stopped after %d pages; the next run goes on", tenant, MAX_PAGES)

    summary: Summary = {
        "tenant": tenant,
        "at": rfc3339(now),
        "since": rfc3339(since),
        "checked": checked,
        "repaired": repaired,
        "already_queued": pending,
        "already_repaired": settled,
        "event_ids": [entry["event_id"] for entry in repaired + pending],
    }
    kept = dict(
        summary,
        repaired=repaired[:MAX_REPAIRS_KEPT],
        repaired_count=len(repaired),
        already_queued=pending[:MAX_REPAIRS_KEPT],
        already_queued_count=len(pending),
    )
    kept.pop("event_ids")
    stored = checkpoints.save(CHECKPOINT_NAME, tenant, latest, kept, now)
    summary["checkpoint"] = rfc3339(stored.position)
    if repaired:
        log.warning(
            "reconciliation of %s: %d of %d order(s) behind the marketplace, repairing: %s",
            tenant,
            len(repaired),
            checked,
            ", ".join(entry["internal_order_id"] for entry in repaired[:20]),
        )
    else:
        log.info("reconciliation of %s: %d order(s) checked, none behind", tenant, checked)
    return summary


def reconcile_all(
    context: ReconciliationPorts, now: datetime | None = None, tenants: Iterable[str] = TENANTS
) -> list[Summary]:
    """Reconciles every tenant; a tenant that fails is reported and does not stop the others."""
    from shared.observability import log_context

    results: list[Summary] = []
    for tenant in tenants:
        try:
            with log_context(
                tenant=tenant, correlation_id=f"reconcile-{tenant}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
            ):
                results.append(reconcile_tenant(context, tenant, now))
        except NotConfigured as error:
            results.append({"tenant": tenant, "skipped": str(error)})
        except Exception as error:
            log.exception("reconciliation of %s failed", tenant)
            results.append({"tenant": tenant, "error": f"{type(error).__name__}: {str(error)[:500]}"})
    return results


def last_runs(context: HasCheckpoints) -> list[Summary]:
    """Every tenant's checkpoint and the summary of its last run."""
    return [
        {"tenant": c.key, "checkpoint": rfc3339(c.position), "updated_at": rfc3339(c.updated_at), **c.summary}
        for c in context.checkpoints.list(CHECKPOINT_NAME)
    ]
