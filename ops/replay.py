"""`replay`: put one event, or a tenant's / a time range's events, back on the queue with fresh attempts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from ops.arguments import FAILED, OK, Commands, UsageError, build_context, moment_arg, statuses_arg, tenant_arg
from ops.render import clip
from shared.domain.events import EventStatus
from shared.services.operations import EventQuery, replay_many, replay_one


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("replay", help="replay one event, or a tenant's / a time range's events")
    p.add_argument("event_id", nargs="?", metavar="EVENT_ID")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--status", type=statuses_arg, default=None, help="which events to replay (default failed)")
    p.add_argument("--since", type=moment_arg)
    p.add_argument("--until", type=moment_arg)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    return _replay_one(args, env) if args.event_id else _replay_many(args, env)


def _replay_one(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if not args.tenant:
        raise UsageError("replay EVENT_ID needs --tenant")
    if args.since or args.until or args.status is not None:
        raise UsageError("replay EVENT_ID takes no --status/--since/--until")
    event = replay_one(build_context(env), args.tenant, args.event_id, dry_run=args.dry_run)
    if event is None:
        print(f"no event {args.tenant}/{args.event_id}", file=sys.stderr)
        return FAILED
    if args.dry_run:
        print(f"would replay {event.tenant}/{event.event_id} ({event.kind}, {event.status.value})")
        return OK
    print(
        f"replayed {event.tenant}/{event.event_id} ({event.kind}, was {event.status.value}"
        + (f": {clip(event.reason, 100)}" if event.reason else "")
        + "); queued as received"
    )
    return OK


def _replay_many(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if not (args.tenant or args.since or args.until):
        raise UsageError("give EVENT_ID, or --tenant and/or --since/--until to replay several events")
    statuses = args.status if args.status is not None else (EventStatus.FAILED,)
    query = EventQuery(tenant=args.tenant, statuses=statuses, since=args.since, until=args.until, limit=args.limit)
    listed = failures = 0
    for replayed in replay_many(build_context(env), query, dry_run=args.dry_run):
        event = replayed.event
        listed += 1
        if args.dry_run:
            print(f"would replay {event.tenant}/{event.event_id} ({event.kind}, {event.status.value})")
        elif replayed.error is None:
            print(f"replayed {event.tenant}/{event.event_id} ({event.kind}, was {event.status.value})")
        else:
            failures += 1
            print(f"could not replay {event.tenant}/{event.event_id}: {replayed.error}", file=sys.stderr)
    if not listed:
        print("nothing to replay")
        return OK
    verb = "would replay" if args.dry_run else "replayed"
    print(f"\n{verb} {listed - failures} event(s)" + (f", {failures} failed" if failures else ""))
    return FAILED if failures else OK
