"""`events`: what needs a person (failed, blocked, unmatched, stuck in received), or events by tenant, status, time."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from ops.arguments import OK, Commands, build_context, moment_arg, positive_minutes_arg, statuses_arg, tenant_arg
from ops.render import event_json, event_table
from shared.services.operations import STUCK_AFTER, EventQuery, events_needing_a_person, list_events

STUCK_AFTER_MINUTES = STUCK_AFTER.total_seconds() / 60


def add_parser(commands: Commands) -> None:
    p = commands.add_parser(
        "events",
        help="list what needs a person: failed, blocked, unmatched, and events "
        "received but not completed for over --stuck-after minutes",
    )
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument(
        "--status",
        type=statuses_arg,
        default=None,
        help="comma-separated statuses, or all: exactly those, whatever their age (default: what needs a person)",
    )
    p.add_argument(
        "--stuck-after",
        type=positive_minutes_arg,
        default=STUCK_AFTER_MINUTES,
        metavar="MINUTES",
        help=f"list a received event not completed after MINUTES (default {STUCK_AFTER_MINUTES:g})",
    )
    p.add_argument("--since", type=moment_arg, help="received at or after (ISO 8601, UTC when no offset)")
    p.add_argument("--until", type=moment_arg, help="received before")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    context = build_context(env)
    query = EventQuery(
        tenant=args.tenant, statuses=args.status or (), since=args.since, until=args.until, limit=args.limit
    )
    if args.status is None:
        events = events_needing_a_person(
            context.events, query, datetime.now(timezone.utc), timedelta(minutes=args.stuck_after)
        )
    else:
        events = list_events(context.events, query)
    if args.json:
        for event in events:
            print(event_json(event))
        return OK
    if not events:
        print("no events match")
        return OK
    print(event_table(events))
    print(f"\n{len(events)} event(s)" + (f" (limit {args.limit} reached)" if len(events) >= args.limit else ""))
    return OK
