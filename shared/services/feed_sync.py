"""The feed-sync engine's flush, shared by stock sync (shared.services.stock_sync) and price sync
(shared.services.price_sync); the rules in shared.domain.feed_sync, the feeds in shared.services.feeds.

One flush of one tenant and one kind (`flush`):

1. off (the kind's setting), or the kill switch on, or a wait the marketplace asked for (a 429's
   Retry-After) not over: nothing is written, but the tenant's open feeds are still asked about (a
   read), so confirmations never wait for a person;
2. under the tenant's flush claim (one flush of a kind and tenant at a time, in any number of
   instances): asks FeedStatus about *every* open feed of the tenant (shared.services.feeds) and settles
   those that closed: a SKU is clean only after the feed that carried it completed without an error for
   it; then the kind's own write (`SyncKind.write`): it takes the due marked SKUs (durable before
   anything is sent), reads ZORT, sends them in feeds of the documented size under the throttle, and
   records each feed before its SKUs name it;
3. the tenant's state (last flush, its result and counts, the feeds made, a wait) is saved, keeping a kill
   switch moved meanwhile.

What each kind writes, how it rounds or guards it, and which writes the marketplace throttles, stays
with the kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.domain.errors import NotConfigured
from shared.domain.feed_sync import IN_FLIGHT_FOR, SyncTenantState
from shared.ports import Claim, MarketplacePort, StorageUnavailable
from shared.roles import FeedSyncPorts
from shared.services import feeds as feed_tracker


@dataclass
class FlushReport:
    """What one flush of one tenant did (the timer's log line, ops, the tenant's last flush)."""

    tenant: str
    result: str  # sent, partial, nothing to send, off, paused, waiting, busy, blocked, throttled, failed
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    feeds: list[str] = field(default_factory=list)
    """The feeds this flush created (their ids)."""
    wait_until: datetime | None = None
    polled: str = ""
    """What asking about the open feeds did."""
    writes: int = 0
    """Calls made to the marketplace to create feeds (a refused or throttled one included)."""

    @property
    def ok(self) -> bool:
        return self.result in ("sent", "partial", "nothing to send", "off", "paused", "waiting", "busy")


class TenantStateStore(Protocol):
    """Where a kind keeps each tenant's state as a whole (its repository)."""

    def tenant_state(self, tenant: str) -> SyncTenantState: ...
    def save_tenant_state(self, state: SyncTenantState) -> None: ...


@dataclass(frozen=True)
class SyncKind:
    """One user of the engine: stock or price."""

    name: str  # "stock", "price": in the reports' wording
    claim: str  # the flush claim's name (one flush per tenant and kind at a time)
    setting: str  # the setting that turns it on, with `{T}` for the tenant
    enabled: Callable[[FeedSyncPorts, str], bool]
    store: Callable[[FeedSyncPorts], TenantStateStore]
    write: Callable[[FeedSyncPorts, str, MarketplacePort, bool], FlushReport]
    """The kind's own part of a flush (under the claim, after the open feeds were asked about)."""


def flush(context: FeedSyncPorts, kind: SyncKind, tenant: str, *, force: bool = False) -> FlushReport:
    """One flush of the tenant (see the module docstring). `force` (ops) skips the refusal back-offs and
    a 429's wait between flushes; never the documented feed budget."""
    if not kind.enabled(context, tenant):
        setting = kind.setting.format(T=tenant.upper())
        return FlushReport(tenant, "off", f"{kind.name} sync is off ({setting})")
    store = kind.store(context)
    now = context.clock()
    state = store.tenant_state(tenant)
    held = None
    if state.paused:
        held = FlushReport(tenant, "paused", f"kill switch on since {state.paused_at}: {state.paused_reason or ''}")
    elif state.wait_until and state.wait_until > now and not force:
        held = FlushReport(tenant, "waiting", f"the marketplace asked to wait until {state.wait_until.isoformat()}")
    if held is not None:  # nothing is written, but the open feeds are still asked about (a read)
        held.polled = _poll_only(context, kind, tenant)
        return held
    claim = context.claims.take(tenant, kind.claim, uuid.uuid4().hex, IN_FLIGHT_FOR.total_seconds())
    if claim is None:
        return FlushReport(tenant, "busy", f"another {kind.name} flush of this tenant is running")
    try:
        report = _flush(context, kind, tenant, force)
    finally:
        _release(context, kind, tenant, claim)
    latest = store.tenant_state(tenant)  # the kill switch may have moved meanwhile: keep it
    latest.last_flush_at, latest.last_result = now, report.result
    latest.last_detail = "; ".join(part for part in (report.detail, report.polled) if part)
    latest.last_counts = dict(report.counts, writes=report.writes, feeds=len(report.feeds))
    # a 429's Retry-After holds the next flushes; a kind's own wait (a feed budget's next slot) does not
    latest.wait_until = report.wait_until if report.result == "throttled" else None
    if report.feeds:
        latest.last_feed_id, latest.last_feed_at = report.feeds[-1], context.clock()
    store.save_tenant_state(latest)
    return report


def _flush(context: FeedSyncPorts, kind: SyncKind, tenant: str, force: bool) -> FlushReport:
    try:
        marketplace = context.marketplace(tenant)
        polled = feed_tracker.poll_open_feeds(context, tenant, marketplace).detail
        report = kind.write(context, tenant, marketplace, force)
    except NotConfigured as blocked:
        return FlushReport(tenant, "blocked", f"{blocked}; the marked SKUs wait until it is configured")
    report.polled = polled
    return report


def _release(context: FeedSyncPorts, kind: SyncKind, tenant: str, claim: Claim) -> None:
    """Frees the flush claim, asking twice: a claim left held costs every flush until it expires
    (`IN_FLIGHT_FOR`), and a release whose answer was lost is recognised as ours when asked again."""
    try:
        context.claims.release(tenant, kind.claim, claim)
    except StorageUnavailable:
        context.sleep(1)
        context.claims.release(tenant, kind.claim, claim)


def _poll_only(context: FeedSyncPorts, kind: SyncKind, tenant: str) -> str:
    """Asks about the tenant's open feeds under the flush's claim (a flush that writes nothing)."""
    try:
        marketplace = context.marketplace(tenant)
    except NotConfigured:
        return ""
    claim = context.claims.take(tenant, kind.claim, uuid.uuid4().hex, IN_FLIGHT_FOR.total_seconds())
    if claim is None:
        return ""
    try:
        return feed_tracker.poll_open_feeds(context, tenant, marketplace).detail
    finally:
        _release(context, kind, tenant, claim)


def set_paused(store: TenantStateStore, now: datetime, tenant: str, paused: bool, reason: str = "") -> None:
    """The tenant's kill switch for a kind, in its `store` (stored, no redeploy): on, flushes write nothing;
    SKUs keep being marked and open feeds keep being confirmed."""
    state = store.tenant_state(tenant)
    state.paused, state.paused_reason = paused, (reason or None) if paused else None
    state.paused_at = now if paused else None
    store.save_tenant_state(state)
