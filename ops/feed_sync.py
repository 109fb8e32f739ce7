"""What `stock` and `prices` share: the feed-sync engine's switches on the command line (flush now, full
resync, the kill switch) and how a flush is reported (shared.services.feed_sync)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ops.arguments import FAILED, UsageError, tenant_arg
from shared.services.feed_sync import FlushReport


def add_sync_arguments(p: argparse.ArgumentParser, kind: str, flush: str, resync: str) -> None:
    """--tenant, --flush, --resync, --pause, --resume, --json (the help of the first two per kind)."""
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--flush", action="store_true", help=flush)
    p.add_argument("--resync", action="store_true", help=resync)
    p.add_argument("--pause", metavar="REASON", help=f"kill switch on: the tenant's {kind} flushes write nothing")
    p.add_argument("--resume", action="store_true", help="kill switch off (needs --tenant)")
    p.add_argument("--json", action="store_true")


def check_switches(args: argparse.Namespace) -> None:
    if args.pause is not None and args.resume:
        raise UsageError("--pause and --resume together")


def kill_switch(args: argparse.Namespace, kind: str, set_paused: Callable[[str, bool, str], None]) -> None:
    """--pause / --resume, when asked."""
    if args.pause is not None or args.resume:
        set_paused(args.tenant, args.pause is not None, args.pause or "")
        print(f"{args.tenant}: {kind} writes {'paused' if args.pause is not None else 'resumed'}")


def print_flushes(reports: list[FlushReport], status: int) -> int:
    """One line per tenant flushed; FAILED when one did not go as it should."""
    for report in reports:
        feeds = f"; feeds {', '.join(report.feeds)}" if report.feeds else ""
        polled = f"; {report.polled}" if report.polled else ""
        print(f"{report.tenant}: flush {report.result} ({report.writes} write(s)) {report.detail}{feeds}{polled}")
        status = status if report.ok else FAILED
    return status
