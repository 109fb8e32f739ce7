"""`order`: an order's full history: items, tracking, refunds, OMS sync, timeline and events (no personal data)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ops.arguments import FAILED, OK, Commands, build_context, internal_id_arg
from ops.render import as_json, clip, event_table, table, when
from shared.tenants import TENANT_NAMES

if TYPE_CHECKING:
    from shared.domain.order import Order


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("order", help="an order's full history")
    p.add_argument("internal_order_id", type=internal_id_arg, metavar="INTERNAL_ORDER_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    internal_id, tenant, _ = args.internal_order_id
    context = build_context(env)
    found = context.orders.get(tenant, internal_id)
    events = context.events.for_order(tenant, internal_id)
    if args.json:
        print(
            as_json(
                {
                    "order": found[0].model_dump(mode="json", exclude={"customer"}) if found else None,
                    "events": [e.model_dump(mode="json", exclude={"body"}) for e in events],
                }
            )
        )
        return OK if found else FAILED
    if found is None:
        print(f"Thor has no order {internal_id}")
    else:
        print_order(found[0])
    print(f"\nEvents ({len(events)})")
    print(event_table(events) if events else "  none")
    return OK if found else FAILED


def print_order(order: Order) -> None:
    synced = f"yes (version {order.oms_synced_version} of {order.version})" if order.oms_synced else "no"
    if order.oms_synced and order.oms_synced_version != order.version:
        synced += " — newer changes not yet sent"
    facts = [
        ("order", order.internal_order_id),
        ("tenant", f"{order.tenant} ({TENANT_NAMES.get(order.tenant, '?')})"),
        ("marketplace order", f"{order.marketplace_order_id} (number {order.order_number or '-'})"),
        ("status", order.status),
        ("created", when(order.created_at)),
        ("promised shipping", when(order.promised_shipping_time)),
        ("total", f"{order.grand_total} {order.currency or ''} (shipping {order.shipping_amount})".strip()),
        ("payment", order.payment_status or "-"),
        ("zort", f"{order.zort_order_id or '-'} ({order.zort_status or '-'})"),
        ("fetched from marketplace", "yes" if order.fetched else "no"),
        ("oms synced", synced),
        ("updated", when(order.updated_at)),
        ("customer", "(personal data, not shown)"),
    ]
    width = max(len(name) for name, _ in facts)
    for name, value in facts:
        print(f"{name.ljust(width)}  {value}")
    print(f"\nItems ({len(order.items)})")
    if order.items:
        print(
            table(
                ("ITEM", "SKU", "NAME", "QTY", "STATUS", "SINCE", "PAID", "TRACKING"),
                (
                    [
                        i.item_id,
                        i.sku,
                        clip(i.name, 30),
                        i.quantity,
                        i.status,
                        when(i.status_changed_at),
                        i.paid_price,
                        f"{i.tracking.carrier or ''} {i.tracking.number}".strip() if i.tracking else "-",
                    ]
                    for i in order.items
                ),
            )
        )
    print(f"\nRefunds ({len(order.refunds)})")
    if order.refunds:
        print(
            table(
                ("REFUND", "ACTION", "VALUE", "PRODUCTS", "CREATED", "OMS"),
                (
                    [
                        r.refund_id,
                        r.action,
                        r.value,
                        ", ".join(f"{p.sku} x{p.quantity}" for p in r.products),
                        when(r.created_at),
                        "synced" if r.oms_synced else "-",
                    ]
                    for r in order.refunds
                ),
            )
        )
    print_loop(order)
    print(f"\nTimeline ({len(order.timeline)})")
    if order.timeline:
        print(
            table(
                ("AT", "SOURCE", "WHAT", "DETAIL", "EVENT"),
                ([when(t.at), t.source, t.what, clip(t.detail, 60), t.event_id or "-"] for t in order.timeline),
            )
        )


def print_loop(order: Order) -> None:
    """Issue 19's flows: tax documents, items canceled in the marketplace, returns and their deadlines."""
    from shared.domain.at_risk import local_time, returns_waiting
    from shared.domain.marketplace_loop import return_deadline

    print(f"\nTax documents ({len(order.documents)})")
    if order.documents:
        print(
            table(
                ("DOCUMENT", "TYPE", "NUMBER", "DATE", "ITEMS", "STATUS", "UPLOADED", "BYTES"),
                (
                    [
                        d.document_id,
                        d.type,
                        d.number,
                        d.date,
                        ", ".join(d.item_ids),
                        d.status,
                        when(d.uploaded_at),
                        d.size,
                    ]
                    for d in order.documents
                ),
            )
        )
    if order.marketplace_cancellations:
        print("\nCanceled in the marketplace")
        print(table(("ITEM", "REASON"), ([i, r] for i, r in order.marketplace_cancellations.items())))
    waiting = returns_waiting(order)
    if waiting or order.zort_returns:
        print("\nReturns desk")
        if waiting:
            print(
                table(
                    ("ITEM", "WAITING SINCE", "ACCEPTED BY ITSELF AT"),
                    ([i, when(since), local_time(return_deadline(since), order.tenant)] for i, since in waiting),
                )
            )
        for number, status in order.zort_returns.items():
            print(f"  ZORT return {number}: {status}")
