"""Reconciliation's window and checkpoint across Santiago's clock changes (in-memory fakes of the ports).

The fake marketplace writes UpdatedAt as Santiago's zone-less wall clock, as the real one does
(LinioIT/seller-center-sdk gsc-master tests/_schemas/Order/OrderResponse.xml), and filters GetOrders
``UpdatedAfter`` one of two ways, since no source says which the real API does: by the instant the
offset gives, or by the wall clock alone (ignoring the offset). Thor must be right with both.
Clock changes of 2026 (checked with zoneinfo): back on 2026-04-05 03:00Z (00:00 -03 → 23:00 -04),
forward on 2026-09-06 04:00Z (00:00 -04 → 01:00 -03).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.adapters.seller_center.schemas import OrderRow
from shared.adapters.seller_center.translate import order_from
from shared.domain.events import InboundEvent
from shared.domain.marketplace import MarketplaceOrder
from shared.domain.order import Order, OrderItem
from shared.services.reconciliation import CHECKPOINT_NAME, reconcile_tenant
from shared.settings import MarketplaceTenantSettings, TenantSettings
from tests.checks import present

UTC = timezone.utc
SANTIAGO = ZoneInfo("America/Santiago")
TENANT = "facl"
FALL_BACK = datetime(2026, 4, 5, 3, tzinfo=UTC)
SPRING_FORWARD = datetime(2026, 9, 6, 4, tzinfo=UTC)


@dataclass
class FakeMarketplace:
    compare: str  # "instant" or "wall clock"
    changes: dict[str, datetime] = field(default_factory=dict)  # order id → real instant of its last change
    sent: list[str] = field(default_factory=list)

    def get_orders(self, updated_after: datetime, limit: int = 100, offset: int = 0) -> list[MarketplaceOrder]:
        from shared.adapters.seller_center.client import format_local_filter

        text = format_local_filter(updated_after, SANTIAGO)
        self.sent.append(text)
        after = datetime.fromisoformat(text)

        def wall(moment: datetime) -> datetime:
            return moment.astimezone(SANTIAGO).replace(tzinfo=None)

        if self.compare == "instant":
            listed = [oid for oid, when in self.changes.items() if when > after]
        else:
            listed = [oid for oid, when in self.changes.items() if wall(when) > after.replace(tzinfo=None)]
        listed.sort(key=lambda oid: wall(self.changes[oid]))
        rows = [
            {
                "OrderId": oid,
                "UpdatedAt": wall(self.changes[oid]).strftime("%Y-%m-%d %H:%M:%S"),
                "Statuses": {"Status": "pending"},
            }
            for oid in listed[offset : offset + limit]
        ]
        return [order_from(OrderRow.from_api(row, zone=SANTIAGO)) for row in rows]


class FakeCheckpoints:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], SimpleNamespace] = {}

    def get(self, name: str, key: str) -> SimpleNamespace | None:
        return self.saved.get((name, key))

    def save(self, name: str, key: str, position: datetime, summary: dict[str, Any], now: datetime) -> SimpleNamespace:
        current = self.saved.get((name, key))
        if current is not None and current.position and current.position > position:
            position = current.position
        self.saved[(name, key)] = SimpleNamespace(key=key, position=position, summary=summary, updated_at=now)
        return self.saved[(name, key)]


class FakeEvents:
    def __init__(self) -> None:
        self.events: dict[str, InboundEvent] = {}

    def add(self, event: InboundEvent) -> bool:
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = event
        return True

    def get(self, tenant: str, event_id: str) -> InboundEvent | None:
        return self.events.get(event_id)

    def delete(self, tenant: str, event_id: str) -> None:
        self.events.pop(event_id, None)


def synced_order(order_id: str, last_change: datetime) -> Order:
    order = Order(
        tenant=TENANT,
        marketplace_order_id=order_id,
        internal_order_id=f"{TENANT}-{order_id}",
        items=[OrderItem(item_id=f"{order_id}0", sku="S", status="pending")],
        fetched=True,
        oms_synced=True,
        version=3,
        oms_synced_version=3,
    )
    order.updated_at = last_change
    return order


def context_for(marketplace: FakeMarketplace, orders: dict[str, Order], checkpoint: datetime) -> SimpleNamespace:
    checkpoints = FakeCheckpoints()
    checkpoints.save(CHECKPOINT_NAME, TENANT, checkpoint, {}, checkpoint)
    stored = {o.internal_order_id: (o, "etag") for o in orders.values()}
    return SimpleNamespace(
        settings=SimpleNamespace(
            tenant=lambda tenant: TenantSettings(
                marketplace=MarketplaceTenantSettings(
                    "u", "k", "s", TENANT.upper(), ready_to_ship=False, time_zone="America/Santiago"
                )
            )
        ),
        checkpoints=checkpoints,
        events=FakeEvents(),
        queue=SimpleNamespace(send=lambda *a, **k: None),
        orders=SimpleNamespace(get=lambda tenant, internal_id: stored.get(internal_id)),
        marketplace=lambda tenant: marketplace,
        clock=lambda: datetime.now(timezone.utc),
    )


@pytest.mark.parametrize("compare", ["instant", "wall clock"])
def test_a_change_in_the_hour_santiago_lives_twice_is_repaired_and_the_checkpoint_does_not_run_ahead(
    compare: str,
) -> None:
    """Before: UpdatedAfter went as UTC and UpdatedAt was read as UTC, so this change (23:10 -04, the
    second 23:10 of 2026-04-04) looked older than Thor's last change (02:40Z) and was never repaired."""
    thor_last_change = FALL_BACK - timedelta(minutes=20)  # 02:40Z = 23:40 -03 (first 23:xx)
    changed = FALL_BACK + timedelta(minutes=10)  # 03:10Z = 23:10 -04 (second 23:xx)
    checkpoint = FALL_BACK - timedelta(minutes=10)  # 02:50Z = 23:50 -03
    marketplace = FakeMarketplace(compare, {"9200001": changed})
    context = context_for(marketplace, {"9200001": synced_order("9200001", thor_last_change)}, checkpoint)

    summary = reconcile_tenant(context, TENANT, now=FALL_BACK + timedelta(minutes=20))

    assert [r["order_id"] for r in summary["repaired"]] == ["9200001"]
    assert summary["repaired"][0]["reason"] == "updated in the marketplace after Thor's last change"
    # the window starts the hour earlier: 02:49Z - 1 h, as Santiago's wall clock with its offset
    assert marketplace.sent == ["2026-04-04T22:49:00-03:00"]
    assert summary["since"] == "2026-04-05T01:49:00.000Z"
    # the ambiguous 23:10 is kept as its earlier reading: the checkpoint never passes the marketplace
    assert context.checkpoints.get(CHECKPOINT_NAME, TENANT).position == checkpoint
    assert summary["checkpoint"] == "2026-04-05T02:50:00.000Z"


@pytest.mark.parametrize("compare", ["instant", "wall clock"])
def test_a_change_after_santiago_springs_forward_is_repaired_and_moves_the_checkpoint_exactly(compare: str) -> None:
    thor_last_change = SPRING_FORWARD - timedelta(minutes=10)  # 03:50Z = 23:50 -04
    changed = SPRING_FORWARD + timedelta(minutes=5)  # 04:05Z = 01:05 -03 (00:xx never happened)
    checkpoint = SPRING_FORWARD - timedelta(minutes=5)  # 03:55Z = 23:55 -04
    marketplace = FakeMarketplace(compare, {"9200002": changed, "9200003": thor_last_change - timedelta(hours=2)})
    context = context_for(marketplace, {"9200002": synced_order("9200002", thor_last_change)}, checkpoint)

    summary = reconcile_tenant(context, TENANT, now=SPRING_FORWARD + timedelta(minutes=10))

    assert marketplace.sent == ["2026-09-05T23:54:00-04:00"]  # no clock went back: only the usual overlap
    assert [r["order_id"] for r in summary["repaired"]] == ["9200002"] and summary["checked"] == 1
    assert context.checkpoints.get(CHECKPOINT_NAME, TENANT).position == changed
    assert summary["checkpoint"] == "2026-09-06T04:05:00.000Z"
    assert summary["at"] == "2026-09-06T04:10:00.000Z"


def test_an_order_thor_changed_last_is_not_repaired_outside_the_repeated_hour() -> None:
    thor_last_change = FALL_BACK + timedelta(hours=3)
    changed = FALL_BACK + timedelta(hours=2)  # 01:00 -04 on 04-05: not ambiguous
    marketplace = FakeMarketplace("instant", {"9200004": changed})
    context = context_for(
        marketplace, {"9200004": synced_order("9200004", thor_last_change)}, changed - timedelta(minutes=5)
    )
    summary = reconcile_tenant(context, TENANT, now=FALL_BACK + timedelta(hours=4))
    assert summary["checked"] == 1 and summary["repaired"] == []


def test_a_colombian_storefront_s_window_follows_the_marketplace_s_clock_changes_not_bogota_s() -> None:
    """faco's marketplace writes in Santiago's zone (MARKETPLACE_TIMEZONE_FACO, default America/Santiago:
    docs/api.md "Marketplace times"), so Santiago's clock going back widens faco's window too, though
    Bogotá never changes its clocks. Before: the window was computed in Bogotá's zone and the change
    made in Santiago's repeated hour was missed."""
    tenant = "faco"
    thor_last_change = FALL_BACK - timedelta(minutes=20)
    changed = FALL_BACK + timedelta(minutes=10)  # the second 23:10 of Santiago's 2026-04-04
    checkpoint = FALL_BACK - timedelta(minutes=10)
    marketplace = FakeMarketplace("wall clock", {"9200005": changed})
    order = synced_order("9200005", thor_last_change).model_copy(
        update={"tenant": tenant, "internal_order_id": f"{tenant}-9200005"}
    )
    context = context_for(marketplace, {"9200005": order}, checkpoint)
    context.checkpoints.save(CHECKPOINT_NAME, tenant, checkpoint, {}, checkpoint)
    from shared.settings import load_settings

    settings = load_settings(
        {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "MARKETPLACE_BASE_URL": "http://m",
            "OMS_BASE_URL": "http://o",
            "MARKETPLACE_USER_ID_FACO": "u",
            "MARKETPLACE_API_KEY_FACO": "k",
            "MARKETPLACE_SELLER_ID_FACO": "s",
        },
    )
    assert present(settings.tenant(tenant).marketplace).time_zone == "America/Santiago"
    context.settings = settings

    summary = reconcile_tenant(context, tenant, now=FALL_BACK + timedelta(minutes=20))

    assert marketplace.sent == ["2026-04-04T22:49:00-03:00"]  # an hour earlier, in Santiago's wall clock
    assert [r["order_id"] for r in summary["repaired"]] == ["9200005"]
