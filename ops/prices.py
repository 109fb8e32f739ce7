"""`prices`: per tenant the price sync state (marked / in-flight / in-feed / held / refused SKUs, last
flush and feed); flush now, full resync, kill switch; confirm a held price; a sale for a list of SKUs;
a SKU's price journey (what ZORT said, what was sent, what the marketplace confirmed)."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from ops.arguments import FAILED, OK, Commands, UsageError, build_context
from ops.feed_sync import add_sync_arguments, check_switches, kill_switch, print_flushes
from ops.render import as_json, clip, table, when
from shared.domain.prices import parse_local
from shared.domain.times import zone
from shared.services import price_sync
from shared.tenants import TENANT_TIMEZONES


def add_parser(commands: Commands) -> None:
    p = commands.add_parser(
        "prices",
        help="price sync per tenant: marked / held / refused SKUs, last feed; flush, resync, pause, confirm, sale",
    )
    add_sync_arguments(
        p,
        "price",
        flush="flush now (skips refusal back-offs, never the feed budget)",
        resync="send every SKU the tenant sells again (needs --tenant)",
    )
    p.add_argument("--confirm", metavar="SKU", action="append", help="confirm the held price of SKU (repeatable)")
    p.add_argument("--by", default="", help="who confirms or sets a sale (default: this machine's user, @ops)")
    p.add_argument("--sku", metavar="SKU", help="a SKU's price journey (needs --tenant)")
    p.add_argument("--sale", metavar="PRICE", help="a sale price for the --skus, from --start to --end")
    p.add_argument("--end-sale", action="store_true", help="end the --skus' sale now (the normal price goes again)")
    p.add_argument("--skus", help="comma-separated SKUs for --sale / --end-sale")
    p.add_argument("--start", help="sale start, the storefront's local time (YYYY-MM-DD HH:MM[:SS])")
    p.add_argument("--end", help="sale end, the storefront's local time (YYYY-MM-DD HH:MM[:SS])")
    p.set_defaults(run=run)


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return f"{getpass.getuser()}@ops"
    except (KeyError, OSError):
        return "ops"


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    needs_tenant = args.resync or args.pause is not None or args.resume or args.confirm or args.sku
    needs_tenant = needs_tenant or args.sale or args.end_sale
    if needs_tenant and not args.tenant:
        raise UsageError("--resync, --pause, --resume, --confirm, --sku, --sale and --end-sale need --tenant")
    check_switches(args)
    if (args.sale or args.end_sale) and not args.skus:
        raise UsageError("--sale and --end-sale need --skus")
    context = build_context(env)
    status = OK
    kill_switch(args, "price", lambda tenant, on, reason: price_sync.set_paused(context, tenant, on, reason))
    for sku in args.confirm or []:
        try:
            record = price_sync.confirm_price(context, args.tenant, sku, _who(args))
            print(f"{args.tenant}: {sku} price {record.approved_price} confirmed by {record.approved_by}")
        except price_sync.PriceActionError as error:
            print(f"{args.tenant}: {error}")
            status = FAILED
    if args.sale or args.end_sale:
        skus = [s.strip() for s in args.skus.split(",") if s.strip()]
        if args.end_sale:
            ended = price_sync.end_sale(context, args.tenant, skus, _who(args))
            print(f"{args.tenant}: sale ended for {ended} SKU(s)")
        else:
            if not (args.start and args.end):
                raise UsageError("--sale needs --start and --end")
            try:
                price = Decimal(args.sale)
                local = zone(TENANT_TIMEZONES[args.tenant])
                start, end = parse_local(args.start, local), parse_local(args.end, local)
            except (InvalidOperation, ValueError) as error:
                raise UsageError(f"--sale / --start / --end: {error}") from None
            try:
                count = price_sync.set_sale(context, args.tenant, skus, price, start, end, _who(args))
                print(f"{args.tenant}: sale of {price} from {args.start} to {args.end} set for {count} SKU(s)")
            except price_sync.PriceActionError as error:
                print(f"{args.tenant}: {error}")
                status = FAILED
    if args.resync:
        marked = price_sync.resync_tenant(context, args.tenant)
        print(f"{args.tenant}: {marked} SKU(s) marked to be sent again")
    if args.flush:
        tenants = [args.tenant] if args.tenant else None
        reports = (
            [price_sync.flush_tenant(context, args.tenant, force=True)]
            if tenants
            else price_sync.flush_all(context, force=True)
        )
        status = print_flushes(reports, status)
    if args.sku:
        journey = price_sync.price_journey(context, args.tenant, args.sku)
        if journey is None:
            print(f"{args.tenant}: no price record for {args.sku}")
            return FAILED
        if args.json:
            print(as_json(journey))
            return status
        print(
            f"{args.tenant} {args.sku}: {journey['state']}; ZORT said {journey['zortSaid'] or '-'}, "
            f"ZORT's API {journey['zortPrice'] or '-'}; sent {journey['sent'] or '-'} ({when(journey['sentAt'])}); "
            f"confirmed {journey['confirmed'] or '-'} ({when(journey['confirmedAt'])})"
            + (f"; held {journey['held']}" if journey["held"] else "")
            + (f"; {journey['reason']}" if journey["reason"] else "")
        )
        print(
            table(
                ("AT", "WHAT", "DETAIL"),
                [[step.get("at", ""), step.get("what", ""), clip(_details(step), 90)] for step in journey["history"]],
            )
        )
        return status
    states = price_sync.price_sync_state(context, [args.tenant] if args.tenant else _all())
    if args.json:
        print(as_json([asdict(state) for state in states]))
        return status
    rows = [
        [
            s.tenant,
            ("on" if s.enabled else "off") + (" PAUSED" if s.paused else ""),
            s.currency,
            f"{s.markup_percent}% {s.adjustment}" if s.enabled else "-",
            s.counts.get("marked", 0),
            s.counts.get("in-flight", 0),
            s.counts.get("in-feed", 0),
            s.counts.get("held", 0),
            s.counts.get("refused", 0),
            s.last_feed_id or "-",
            when(s.last_flush_at),
            s.last_result or "-",
            clip(s.paused_reason if s.paused else (s.last_detail or ""), 60),
        ]
        for s in states
    ]
    headers = (
        "TENANT",
        "SYNC",
        "CURRENCY",
        "MARKUP",
        "MARKED",
        "IN FLIGHT",
        "IN FEED",
        "HELD",
        "REFUSED",
        "LAST FEED",
        "LAST FLUSH",
        "RESULT",
        "DETAIL",
    )
    print(table(headers, rows))
    attention = [(s.tenant, r) for s in states for r in s.attention]
    if attention:
        print()
        print(
            table(
                ("TENANT", "SKU", "STATE", "ZORT", "SENT", "CONFIRMED", "HELD PRICE", "FAILURES", "NEXT TRY", "REASON"),
                [
                    [
                        t,
                        r.sku,
                        r.state,
                        r.zort_price or "-",
                        r.sent or "-",
                        r.confirmed or "-",
                        r.held_price or "-",
                        r.failures,
                        when(r.next_attempt_at),
                        clip(r.reason, 60),
                    ]
                    for t, r in attention
                ],
            )
        )
    return status


def _all() -> list[str]:
    from shared.tenants import TENANTS

    return list(TENANTS)


def _details(step: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in step.items() if k not in ("at", "what"))
