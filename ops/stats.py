"""`stats`: events accepted per tenant and where they stand (completed, failed, blocked, …)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from ops.arguments import OK, Commands, build_context, moment_arg, tenant_arg
from ops.render import table
from shared.domain.events import EventStatus


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("stats", help="events accepted / completed / failed / blocked per tenant")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--since", type=moment_arg)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    counts = build_context(env).events.count_by_status(tenant=args.tenant, since=args.since)
    if args.json:
        print(json.dumps(counts, sort_keys=True))
        return OK
    statuses = [status.value for status in EventStatus]
    rows = [[tenant, sum(per.values()), *(per.get(s, 0) for s in statuses)] for tenant, per in sorted(counts.items())]
    print(table(("TENANT", "ACCEPTED", *(s.upper() for s in statuses)), rows) if rows else "no events")
    return OK
