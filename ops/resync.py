"""`resync`: re-sync an order from the marketplace now (and to the OMS), printing the outcome."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timezone

from ops.arguments import FAILED, OK, Commands, build_context, internal_id_arg
from shared.domain.events import PENDING, EventStatus
from shared.services.operations import process_now, record_resync


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("resync", help="re-sync an order from the marketplace (and to the OMS) now")
    p.add_argument("internal_order_id", type=internal_id_arg, metavar="INTERNAL_ORDER_ID")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    internal_id, tenant, marketplace_id = args.internal_order_id
    context = build_context(env)
    acceptance = record_resync(context, tenant, marketplace_id, internal_id, datetime.now(timezone.utc))
    print(f"recorded {tenant}/{acceptance.event_id} (reconcile-order {internal_id}); processing it now")
    status, detail = process_now(context, tenant, acceptance.event_id)
    if status is EventStatus.COMPLETED:
        print(f"completed: {detail}")
        return OK
    if status in PENDING:
        print(f"failed this time, the queue retries it: {detail}")
    else:
        print(f"{status.value if status else 'not processed'}: {detail}")
    return FAILED
