"""`reconcile`: run the reconciliation with the marketplace now (optionally processing its repairs), or show the last runs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from ops.arguments import FAILED, OK, Commands, build_context, tenant_arg
from ops.render import as_json, clip, table
from shared.services.operations import reconcile_now, reconciliation_runs


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("reconcile", help="reconcile with the marketplace now, or show the last runs")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--process", action="store_true", help="also process the repair events here, now")
    p.add_argument("--last", action="store_true", help="show the checkpoints and last runs instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    context = build_context(env)
    if args.last:
        return _show_last_runs(reconciliation_runs(context, args.tenant), args.json)
    results, failures = reconcile_now(context, args.tenant, process=args.process)
    if args.json:
        print(as_json(results))
        return FAILED if failures else OK
    for result in results:
        tenant = result["tenant"]
        if "skipped" in result:
            print(f"{tenant}: skipped, {result['skipped']}")
        elif "error" in result:
            print(f"{tenant}: FAILED, {result['error']}")
        else:
            print(
                f"{tenant}: {result['checked']} order(s) checked since {result['since']}, "
                f"{len(result['repaired'])} repaired, {len(result['already_queued'])} already queued; "
                f"checkpoint {result['checkpoint']}"
            )
            for entry in result["repaired"] + result["already_queued"]:
                processed = result.get("processed", {}).get(entry["event_id"])
                print(
                    f"  {entry['internal_order_id']}: {entry['reason']} -> {entry['event_id']}"
                    + (f" ({processed})" if processed else "")
                )
    return FAILED if failures else OK


def _show_last_runs(runs: list[dict[str, Any]], json_output: bool) -> int:
    if json_output:
        print(as_json(runs))
        return OK
    if not runs:
        print("no reconciliation has run yet")
        return OK
    print(
        table(
            ("TENANT", "CHECKPOINT", "LAST RUN", "CHECKED", "REPAIRED", "ORDERS"),
            (
                [
                    r["tenant"],
                    r.get("checkpoint") or "-",
                    r.get("at", "-"),
                    r.get("checked", "-"),
                    r.get("repaired_count", len(r.get("repaired", []))),
                    clip(", ".join(x["internal_order_id"] for x in r.get("repaired", [])), 60) or "-",
                ]
                for r in runs
            ),
        )
    )
    return OK
