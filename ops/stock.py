"""`stock`: per tenant the stock sync state (dirty SKUs, last flush, failures); flush now, full resync,
kill switch (stored in Table Storage, so no redeploy)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import asdict

from ops.arguments import FAILED, OK, Commands, UsageError, build_context
from ops.feed_sync import add_sync_arguments, check_switches, kill_switch, print_flushes
from ops.render import as_json, clip, table, when
from shared.domain.events import EventStatus
from shared.services.operations import (
    process_now,
    record_stock_resync,
    stock_flush_now,
    stock_kill_switch,
    stock_overview,
)


def add_parser(commands: Commands) -> None:
    p = commands.add_parser(
        "stock", help="stock sync per tenant: dirty SKUs, last flush, failures; flush, resync, pause"
    )
    add_sync_arguments(
        p,
        "stock",
        flush="flush now (every tenant with sync on, or --tenant), no back-off",
        resync="record a stock-resync event: every SKU the tenant sells is marked dirty (needs --tenant)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if (args.resync or args.pause is not None or args.resume) and not args.tenant:
        raise UsageError("--resync, --pause and --resume need --tenant")
    check_switches(args)
    context = build_context(env)
    status = OK
    kill_switch(args, "stock", lambda tenant, on, reason: stock_kill_switch(context, tenant, on, reason))
    if args.resync:
        # Recorded as a `stock-resync` event (visible, replayable, blocked while sync is off), then applied here.
        accepted = record_stock_resync(context, args.tenant, "ops command line", context.clock())
        resync_status, detail = process_now(context, args.tenant, accepted.event_id)
        state = resync_status.value if resync_status else "recorded"
        print(f"{args.tenant}: stock-resync event {accepted.event_id} {state}: {detail}")
        status = status if resync_status is EventStatus.COMPLETED else FAILED
    if args.flush:
        status = print_flushes(stock_flush_now(context, args.tenant), status)
    states = stock_overview(context, args.tenant)
    if args.json:
        print(as_json([asdict(state) for state in states]))
        return status
    rows = [
        [
            s.tenant,
            ("on" if s.enabled else "off") + (" PAUSED" if s.paused else ""),
            s.buffer,
            s.warehouse,
            s.dirty,
            s.in_flight,
            s.in_feed,
            len(s.open_feeds),
            len(s.failures),
            when(s.last_flush_at),
            s.last_result or "-",
            clip(s.paused_reason if s.paused else (s.last_detail or ""), 60),
        ]
        for s in states
    ]
    headers = (
        "TENANT",
        "SYNC",
        "BUFFER",
        "WAREHOUSE",
        "DIRTY",
        "IN FLIGHT",
        "IN FEED",
        "OPEN FEEDS",
        "FAILING",
        "LAST FLUSH",
        "RESULT",
        "DETAIL",
    )
    print(table(headers, rows))
    open_feeds = [(s.tenant, f) for s in states for f in s.open_feeds]
    if open_feeds:
        print()
        print(
            table(
                ("TENANT", "OPEN FEED", "ACTION", "SKUS", "AGE (MIN)", "STATUS", "POLLS", "DETAIL"),
                [
                    [
                        t,
                        f.feed_id,
                        f.action,
                        f.skus,
                        f"{f.age_minutes:g}" + (" OVERDUE" if f.overdue else ""),
                        f.status,
                        f.polls,
                        clip(f.detail, 50),
                    ]
                    for t, f in open_feeds
                ],
            )
        )
    failing = [(s.tenant, f) for s in states for f in s.failures]
    if failing:
        print()
        print(
            table(
                ("TENANT", "SKU", "RESULT", "FAILURES", "SENT", "NEXT TRY", "REASON"),
                [
                    [
                        t,
                        f.sku,
                        f.result,
                        f.failures,
                        "-" if f.sent_quantity is None else f.sent_quantity,
                        when(f.next_attempt_at),
                        clip(f.reason, 70),
                    ]
                    for t, f in failing
                ],
            )
        )
    return status
