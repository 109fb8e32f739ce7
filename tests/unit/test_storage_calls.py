"""Storage calls per event kind, pinned (issue 18, item 6): each kind's processing makes the calls its
minimum needs and no more, the order read once.

Counted on the fakes (tests/fakes.count_storage: one count per storage port call), so the figures do
not depend on timing; `make bench` (bench/processing.py) counts the Table and queue requests the
same paths make against Azurite, beside the same minimum.

The minimum of an event about one order (docs/architecture.md, "Storage calls per event"):
- `events.claim`: the event's claim (one worker at a time, its fencing token);
- `claims.take`: the order's claim, before any external call that concerns it;
- `orders.get` once: the order as it is, read under the claim (a ZORT event finds it by reference
  instead: `orders.find_by_reference`, a query that returns it);
- `orders.add` / `orders.save`: the order's changes, written before the OMS hears of them;
- `events.holds` and `claims.holds`: the fencing check before the OMS call (issue 17);
- `orders.save` again: the order marked synced with the version the OMS received;
- `claims.release`, `events.set_status` (the final status), `activity.add` (the console's counts).
A ZORT stock change: the event's claim, `products.get` per SKU (does the marketplace list it?), one
`stock.mark_dirty` batch, `products.merge` (ZORT's stock kept on the product), the final status and
the counts. A products event: the claim, `products.upsert_many` (one call, its batches of 100), the
final status and the counts.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pytest

from shared.domain.events import EventKind, EventStatus
from shared.domain.marketplace import MarketplaceProduct
from shared.domain.order import Order
from shared.domain.product import Product
from shared.domain.stock import StockSyncSettings
from shared.services import intake
from shared.services.claims import acting_as, new_owner, order_claim
from shared.services.order_changes import change_order
from shared.services.processing import process_event
from tests.fakes import FakeContext, count_storage, fake_context, marketplace_item

T = "sope"
ORDER = "3020001"
INTERNAL = f"{T}-{ORDER}"


def _record(
    context: FakeContext, kind: EventKind, body: dict[str, Any], identity: object, order: str | None = None
) -> str:
    return intake.record_event(
        context.events,
        context.queue,
        tenant=T,
        kind=kind,
        identity=identity,
        body=body,
        internal_order_id=order,
        clock=context.clock,
    ).event_id


def _order_created(context: FakeContext) -> str:
    body = {"event": "onOrderCreated", "payload": {"OrderId": ORDER}}
    return _record(context, EventKind.ORDER_CREATED, body, ORDER, INTERNAL)


def _context_with_order(created: bool) -> FakeContext:
    context = fake_context(T)
    items = [marketplace_item(f"{ORDER}{n}", order_id=ORDER, sku=f"SKU-{n}") for n in range(2)]
    context.marketplace(T).add_order(ORDER, *items)
    if created:
        assert process_event(context, T, _order_created(context)) is EventStatus.COMPLETED
    return context


def _counted(context: FakeContext, event_id: str) -> Counter[str]:
    calls = count_storage(context)
    assert process_event(context, T, event_id) is EventStatus.COMPLETED
    return calls


def order_created() -> Counter[str]:
    context = _context_with_order(created=False)
    return _counted(context, _order_created(context))


def items_status_changed() -> Counter[str]:
    context = _context_with_order(created=True)
    context.marketplace(T).set_item_status(ORDER, [f"{ORDER}0"], "shipped")
    body = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": ORDER, "OrderItemIds": [f"{ORDER}0"], "NewStatus": "shipped"},
    }
    return _counted(context, _record(context, EventKind.ITEMS_STATUS, body, body, INTERNAL))


def zort_tracking() -> Counter[str]:
    context = _context_with_order(created=True)
    body = {
        "method": "UPDATEORDERTRACKING",
        "query": {"number": INTERNAL, "id": "5"},
        "payload": [{"trackingno": "T1"}],
    }
    return _counted(context, _record(context, EventKind.ZORT, body, body))


def zort_stock() -> Counter[str]:
    context = _context_with_order(created=False)
    context.stock_sync[T] = StockSyncSettings(enabled=True)
    context.products.merge(Product(tenant=T, sku="SKU-0", marketplace_listed=True))
    payload = {"id": 1, "sku": "SKU-0", "name": "SKU-0", "stock": "5", "availablestock": "5"}
    body = {"method": "UPDATEPRODUCTQUANTITY", "query": {}, "payload": payload}
    return _counted(context, _record(context, EventKind.ZORT, body, body))


def products() -> Counter[str]:
    context = _context_with_order(created=False)
    context.marketplace(T).products = {s: MarketplaceProduct(sku=s, name=s) for s in ("SKU-0", "SKU-1")}
    body = {"event": "onProductCreated", "payload": {"SellerSkus": ["SKU-0", "SKU-1"]}}
    return _counted(context, _record(context, EventKind.PRODUCTS, body, body))


SCENARIOS = {
    "order created": order_created,
    "items status changed": items_status_changed,
    "zort tracking": zort_tracking,
    "zort stock": zort_stock,
    "products": products,
}

_ORDER_EVENT_TAIL = {
    "events.holds": 1,
    "claims.holds": 1,
    "claims.release": 1,
    "events.set_status": 1,
    "activity.add": 1,
}

# The minimum of each kind (see the module's docstring), reached.
MINIMUM: dict[str, dict[str, int]] = {
    "order created": {
        "events.claim": 1,
        "claims.take": 1,
        "orders.get": 1,
        "orders.add": 1,
        "orders.save": 1,
        **_ORDER_EVENT_TAIL,
    },
    "items status changed": {
        "events.claim": 1,
        "claims.take": 1,
        "orders.get": 1,
        "orders.save": 2,
        **_ORDER_EVENT_TAIL,
    },
    "zort tracking": {
        "events.claim": 1,
        "orders.find_by_reference": 1,
        "claims.take": 1,
        "orders.save": 2,
        **_ORDER_EVENT_TAIL,
    },
    "zort stock": {
        "events.claim": 1,
        "products.get": 1,
        "stock.mark_dirty": 1,
        "products.merge": 1,
        "events.set_status": 1,
        "activity.add": 1,
    },
    "products": {"events.claim": 1, "products.upsert_many": 1, "events.set_status": 1, "activity.add": 1},
}


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_each_kind_makes_its_minimum_of_storage_calls(kind: str) -> None:
    assert dict(SCENARIOS[kind]()) == MINIMUM[kind]


@pytest.mark.parametrize("kind", ["order created", "items status changed", "zort tracking"])
def test_the_order_is_read_once_per_event(kind: str) -> None:
    calls = SCENARIOS[kind]()
    assert calls["orders.get"] + calls["orders.find_by_reference"] == 1


def test_a_write_refused_on_the_order_kept_under_the_claim_reads_it_again_and_keeps_both_changes() -> None:
    context = _context_with_order(created=True)
    with acting_as(new_owner()), order_claim(context, T, INTERNAL):
        change_order(context.orders, T, INTERNAL, lambda o: o.note("first", "", None, "test"))
        stored, etag = context.orders.get(T, INTERNAL) or pytest.fail("no order")
        stored.note("someone else", "", None, "test")  # a write that does not go through this worker
        context.orders.save(stored, etag)
        calls = count_storage(context)
        order, _ = change_order(context.orders, T, INTERNAL, lambda o: o.note("second", "", None, "test"))
    assert dict(calls) == {"orders.save": 2, "orders.get": 1, "claims.release": 1}  # refused, read, written
    assert [e.what for e in order.timeline][-3:] == ["first", "someone else", "second"]
    assert (context.orders.get(T, INTERNAL) or pytest.fail("no order"))[0].timeline == order.timeline


def _note(what: str, order: Order) -> None:
    order.note(what, "", None, "test")


def test_without_the_orders_claim_nothing_is_kept_and_each_change_reads_the_order() -> None:
    context = _context_with_order(created=True)
    calls = count_storage(context)
    for what in ("one", "two"):
        change_order(context.orders, T, INTERNAL, functools.partial(_note, what))
    assert calls["orders.get"] == 2


def test_a_new_webhooks_acknowledgement_makes_two_storage_calls_the_insert_and_the_enqueue() -> None:
    """Issue 17: the "queued" mark after the enqueue made it three (ack p99 1.44-1.61x the floor,
    throughput 0.61-0.67x, docs/benchmark.md); a duplicate queues what no worker has in hand instead."""
    context = _context_with_order(created=False)
    calls = count_storage(context)
    _order_created(context)
    assert dict(calls) == {"events.add": 1, "queue.send": 1}
