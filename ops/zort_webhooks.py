"""`zort-webhooks`: show, or register, Thor's webhook URLs in a tenant's ZORT store (ZORT API v4)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from ops.arguments import FAILED, OK, Commands, UsageError, build_context, tenant_arg
from ops.render import mask_url, table
from shared.services.operations import check_zort_webhooks, register_zort_webhooks


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("zort-webhooks", help="show or register Thor's webhook URLs in ZORT")
    p.add_argument("action", choices=("register", "show"))
    p.add_argument("--tenant", type=tenant_arg, required=True)
    p.add_argument(
        "--base-url", help="Thor's base URL, e.g. https://thorfunctionsprod.azurewebsites.net (default THOR_BASE_URL)"
    )
    p.add_argument("--function-key", help="the function key ZORT's calls carry (default THOR_FUNCTION_KEY)")
    p.add_argument("--key2", help="ZORT key2 to register (default: the current one, else 'thor')")
    p.add_argument("--key3", help="ZORT key3 to register (default: the current one, else the tenant)")
    p.set_defaults(run=run)


def _function_key(args: argparse.Namespace) -> str:
    key = args.function_key or os.environ.get("THOR_FUNCTION_KEY", "")
    if not key:
        raise UsageError("give --function-key or set THOR_FUNCTION_KEY (the key ZORT's calls carry)")
    return key


def _base_url(args: argparse.Namespace) -> str:
    url = (args.base_url or os.environ.get("THOR_BASE_URL", "")).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
        raise UsageError("give --base-url (or THOR_BASE_URL) as https://<app>.azurewebsites.net")
    return url


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from shared.adapters.zort import ZortApiError
    from shared.adapters.zort.webhooks import WEBHOOK_URL_FIELDS, thor_webhook_urls

    context = build_context(env)
    client = context.zort(args.tenant)
    thor_key1 = context.settings.zort(args.tenant).key1
    expected: dict[str, str] | None
    try:
        if args.action == "register":
            expected = thor_webhook_urls(_base_url(args), args.tenant, _function_key(args))
            answer = register_zort_webhooks(client, thor_key1, expected, args.tenant, args.key2, args.key3)
            print(
                f"registered {len(expected)} webhook URL(s) for {args.tenant}: "
                f"resCode {answer.get('resCode', '-')} {answer.get('resDesc', '')}".rstrip()
            )
        else:
            expected = (
                thor_webhook_urls(_base_url(args), args.tenant, _function_key(args))
                if (args.base_url or os.environ.get("THOR_BASE_URL"))
                else None
            )
        registered = client.get_webhook()
    except ZortApiError as error:
        print(f"ZORT refused: {error}", file=sys.stderr)
        return FAILED
    check = check_zort_webhooks(registered, thor_key1, WEBHOOK_URL_FIELDS, expected)
    print(
        f"key1: {'set' if check.key1_set else 'blank'}"
        + (
            ""
            if not check.key1_set
            else (", matches Thor's ZORT_KEY1" if check.key1_matches else ", DIFFERS from Thor's ZORT_KEY1")
        )
    )
    for name in ("key2", "key3"):
        print(f"{name}: {'set' if registered.get(name) else 'blank'}")
    checked = expected is not None
    rows: list[list[str | None]] = [
        [name, method, mask_url(url) or "(blank: off)", *([state] if checked else [])]
        for name, method, url, state in check.urls
    ]
    print(table(("FIELD", "EVENT", "URL") + (("CHECK",) if checked else ()), rows))
    if checked:
        print(f"\n{len(rows) - check.wrong_urls} of {len(rows)} URL(s) point at Thor")
    return FAILED if check.differences else OK
