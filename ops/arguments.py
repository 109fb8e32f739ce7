"""What every command shares: exit codes, the usage error, the argument types, the context from settings."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeAlias

from shared.domain.events import EventStatus
from shared.domain.ids import internal_order_id, parse_internal_order_id
from shared.settings import load_settings
from shared.tenants import TENANTS, is_tenant

if TYPE_CHECKING:
    from shared.bootstrap import Context

OK, FAILED, USAGE = 0, 1, 2

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `add_subparsers` returns: each command adds its own parser to it."""


class UsageError(Exception):
    """Bad arguments found after parsing (exit code 2)."""


def build_context(env: Mapping[str, str]) -> Context:
    from shared.bootstrap import Context

    return Context(load_settings(env, strict=False))  # one tenant half-configured must not stop ops


def tenant_arg(text: str) -> str:
    value = text.strip().lower()
    if not is_tenant(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a tenant (one of {', '.join(TENANTS)})")
    return value


def moment_arg(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def statuses_arg(text: str) -> tuple[EventStatus, ...]:
    if text.strip().lower() == "all":
        return ()
    try:
        return tuple(EventStatus(part.strip().lower()) for part in text.split(",") if part.strip())
    except ValueError:
        names = ", ".join(s.value for s in EventStatus)
        raise argparse.ArgumentTypeError(f"{text!r}: statuses are {names} (comma-separated) or all") from None


def positive_minutes_arg(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = -1.0
    if not minutes > 0 or minutes == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of minutes")
    return minutes


def internal_id_arg(text: str) -> tuple[str, str, str]:
    parsed = parse_internal_order_id(text.strip())
    if not parsed:
        raise argparse.ArgumentTypeError(f"{text!r} is not an internal order id such as faco-3272813")
    return internal_order_id(*parsed), parsed[0], parsed[1]
