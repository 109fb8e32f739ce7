"""The command line's parser: global options, then one sub-command per module of this package."""

from __future__ import annotations

import argparse
from pathlib import Path

import ops
from ops import check_settings, events, order, prices, reconcile, replay, resync, stats, stock, zort_webhooks
from shared.settings import LOCAL_SETTINGS

COMMANDS = (events, stats, replay, order, resync, reconcile, stock, prices, zort_webhooks, check_settings)


def build_parser() -> argparse.ArgumentParser:
    doc = ops.__doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(doc.split("\n\n")[2:]),
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=LOCAL_SETTINGS,
        help="local.settings.json to read Values from when present (the environment wins)",
    )
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level, show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser
