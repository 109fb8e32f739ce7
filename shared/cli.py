"""Thor's ops command line: `python -m shared.cli <command> …` (`--help` on each command).

  events          list what needs a person (failed, blocked, unmatched, and received but not completed
                  for over 15 minutes), or events by tenant, status, time
  replay          replay one event, or a tenant's / a time range's events
  order           an order's full history: items, tracking, refunds, OMS sync, timeline, events
  resync          re-sync an order from the marketplace now (and to the OMS), printing the outcome
  reconcile       run the reconciliation with the marketplace now (or show the last runs)
  zort-webhooks   show or register Thor's webhook URLs in a tenant's ZORT store
  check-settings  which systems each tenant is configured for, and what is missing (secrets masked)

Settings come from the environment and, when present, from local.settings.json's `Values`
(`--settings PATH`; the environment wins), exactly as the Functions app reads them: the same
command works against Azurite locally and against Azure (identity-based storage settings such as
`AzureWebJobsStorage__accountName`, with `az login` or a managed identity).

Exit codes: 0 ok; 1 not found or a failure; 2 bad usage or settings.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.domain.errors import NotConfigured
from shared.domain.events import PENDING, EventKind, EventStatus, InboundEvent
from shared.domain.ids import internal_order_id, parse_internal_order_id
from shared.domain.times import json_default, rfc3339
from shared.ports import StorageUnavailable
from shared.settings import (GLOBAL_OPTIONAL, GLOBAL_REQUIRED, STORAGE_IDENTITY_SETTINGS, STORAGE_SETTING,
                             TENANT_SETTINGS, SettingsError, load_settings, tenant_setting_name)
from shared.tenants import TENANT_NAMES, TENANTS, is_tenant

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS = ROOT / "local.settings.json"
OK, FAILED, USAGE = 0, 1, 2
DEFAULT_LISTED = (EventStatus.FAILED, EventStatus.BLOCKED, EventStatus.UNMATCHED)
STUCK_AFTER_MINUTES = 15.0  # a `received` event older than this is listed by default: it may be stuck
SECRET_SETTINGS = frozenset({"API_KEY", "TOKEN", "KEY1", "APIKEY", "APISECRET"})
MASK = "****"
RESYNC_ATTEMPTS = 3


class UsageError(Exception):
    """Bad arguments found after parsing (exit code 2)."""


# --- settings and context ---------------------------------------------------------------------

def settings_environment(path: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """local.settings.json's Values (when the file exists) overlaid by the environment."""
    env: dict[str, str] = {}
    if path is not None and path.is_file():
        try:
            values = json.loads(path.read_text()).get("Values", {})
        except (ValueError, AttributeError) as error:
            raise UsageError(f"{path} is not a local.settings.json file: {error}") from None
        env.update({str(k): str(v) for k, v in values.items()})
    env.update(os.environ if environ is None else environ)
    return env


def build_context(env: Mapping[str, str]):
    from shared.bootstrap import Context
    return Context(load_settings(env, strict=False))  # one tenant half-configured must not stop ops


# --- argument types -----------------------------------------------------------------------------

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


# --- output helpers ---------------------------------------------------------------------------

def when(moment: datetime | None) -> str:
    return rfc3339(moment) or "-"


def clip(text, width: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def mask_url(url: str) -> str:
    """A URL without user info, with `code` (a function key) and similar query values masked."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = [(k, MASK if k.lower() in {"code", "key", "sig", "token", "apikey"} else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*"), ""))


def event_row(event: InboundEvent) -> list:
    return [when(event.received_at), event.tenant, event.status.value, event.attempts, event.kind,
            event.event_id, event.internal_order_id or "-", clip(event.reason or event.outcome or "", 70)]


EVENT_HEADERS = ("RECEIVED", "TENANT", "STATUS", "ATT", "KIND", "EVENT ID", "ORDER", "REASON / OUTCOME")


def event_json(event: InboundEvent) -> str:
    return json.dumps(event.model_dump(mode="json", exclude={"body"}), ensure_ascii=False)


# --- commands -------------------------------------------------------------------------------------

def needing_a_person(events_log, args, now: datetime) -> list[InboundEvent]:
    """Failed, blocked and unmatched events, and those received over `--stuck-after` minutes ago and
    still pending (received or retry-scheduled: a crash or a lost queue message leaves them so)."""
    found = events_log.list(tenant=args.tenant, statuses=DEFAULT_LISTED, since=args.since, until=args.until,
                            limit=args.limit)
    stuck_before = now - timedelta(minutes=args.stuck_after)
    until = min(args.until, stuck_before) if args.until else stuck_before
    if not args.since or args.since < until:
        found += events_log.list(tenant=args.tenant, statuses=sorted(PENDING), since=args.since,
                                 until=until, limit=args.limit)
    return found


def cmd_events(args, env) -> int:
    context = build_context(env)
    if args.status is None:
        events = needing_a_person(context.events, args, datetime.now(timezone.utc))
    else:
        events = context.events.list(tenant=args.tenant, statuses=args.status, since=args.since, until=args.until,
                                     limit=args.limit)
    events.sort(key=lambda e: (e.received_at, e.tenant, e.event_id))
    events = events[:args.limit]
    if args.json:
        for event in events:
            print(event_json(event))
        return OK
    if not events:
        print("no events match")
        return OK
    print(table(EVENT_HEADERS, (event_row(e) for e in events)))
    print(f"\n{len(events)} event(s)" + (f" (limit {args.limit} reached)" if len(events) >= args.limit else ""))
    return OK


def cmd_stats(args, env) -> int:
    """Events accepted per tenant and where they stand (completed, failed, blocked, …)."""
    counts = build_context(env).events.count_by_status(tenant=args.tenant, since=args.since)
    if args.json:
        print(json.dumps(counts, sort_keys=True))
        return OK
    statuses = [status.value for status in EventStatus]
    rows = [[tenant, sum(per.values()), *(per.get(s, 0) for s in statuses)] for tenant, per in sorted(counts.items())]
    print(table(("TENANT", "ACCEPTED", *(s.upper() for s in statuses)), rows) if rows else "no events")
    return OK


def cmd_replay(args, env) -> int:
    from shared.services.processing import replay

    if args.event_id:
        if not args.tenant:
            raise UsageError("replay EVENT_ID needs --tenant")
        if args.since or args.until or args.status is not None:
            raise UsageError("replay EVENT_ID takes no --status/--since/--until")
        context = build_context(env)
        event = context.events.get(args.tenant, args.event_id)
        if event is None:
            print(f"no event {args.tenant}/{args.event_id}", file=sys.stderr)
            return FAILED
        if args.dry_run:
            print(f"would replay {event.tenant}/{event.event_id} ({event.kind}, {event.status.value})")
            return OK
        previous = event.status.value
        replay(context, event.tenant, event.event_id)
        print(f"replayed {event.tenant}/{event.event_id} ({event.kind}, was {previous}"
              + (f": {clip(event.reason, 100)}" if event.reason else "") + "); queued as received")
        return OK

    if not (args.tenant or args.since or args.until):
        raise UsageError("give EVENT_ID, or --tenant and/or --since/--until to replay several events")
    statuses = args.status if args.status is not None else (EventStatus.FAILED,)
    context = build_context(env)
    events = context.events.list(tenant=args.tenant, statuses=statuses, since=args.since, until=args.until,
                         limit=args.limit)
    events.sort(key=lambda e: (e.received_at, e.tenant, e.event_id))
    if not events:
        print("nothing to replay")
        return OK
    failures = 0
    for event in events:
        if args.dry_run:
            print(f"would replay {event.tenant}/{event.event_id} ({event.kind}, {event.status.value})")
            continue
        try:
            replay(context, event.tenant, event.event_id)
            print(f"replayed {event.tenant}/{event.event_id} ({event.kind}, was {event.status.value})")
        except (LookupError, StorageUnavailable) as error:
            failures += 1
            print(f"could not replay {event.tenant}/{event.event_id}: {error}", file=sys.stderr)
    verb = "would replay" if args.dry_run else "replayed"
    print(f"\n{verb} {len(events) - failures} event(s)" + (f", {failures} failed" if failures else ""))
    return FAILED if failures else OK


def cmd_order(args, env) -> int:
    internal_id, tenant, _ = args.internal_order_id
    context = build_context(env)
    found = context.orders.get(tenant, internal_id)
    events = context.events.for_order(tenant, internal_id)
    if args.json:
        print(json.dumps({"order": found[0].model_dump(mode="json", exclude={"customer"}) if found else None,
                          "events": [e.model_dump(mode="json", exclude={"body"}) for e in events]},
                         ensure_ascii=False, indent=2))
        return OK if found else FAILED
    if found is None:
        print(f"Thor has no order {internal_id}")
    else:
        print_order(found[0])
    print(f"\nEvents ({len(events)})")
    print(table(EVENT_HEADERS, (event_row(e) for e in events)) if events else "  none")
    return OK if found else FAILED


def print_order(order) -> None:
    synced = (f"yes (version {order.oms_synced_version} of {order.version})" if order.oms_synced else "no")
    if order.oms_synced and order.oms_synced_version != order.version:
        synced += " — newer changes not yet sent"
    facts = [
        ("order", order.internal_order_id),
        ("tenant", f"{order.tenant} ({TENANT_NAMES.get(order.tenant, '?')})"),
        ("marketplace order", f"{order.marketplace_order_id} (number {order.order_number or '-'})"),
        ("status", order.status),
        ("created", when(order.created_at)),
        ("promised shipping", when(order.promised_shipping_time)),
        ("total", f"{order.grand_total} {order.currency or ''} (shipping {order.shipping_amount})".strip()),
        ("payment", order.payment_status or "-"),
        ("zort", f"{order.zort_order_id or '-'} ({order.zort_status or '-'})"),
        ("fetched from marketplace", "yes" if order.fetched else "no"),
        ("oms synced", synced),
        ("updated", when(order.updated_at)),
        ("customer", "(personal data, not shown)"),
    ]
    width = max(len(name) for name, _ in facts)
    for name, value in facts:
        print(f"{name.ljust(width)}  {value}")
    print(f"\nItems ({len(order.items)})")
    if order.items:
        print(table(("ITEM", "SKU", "NAME", "QTY", "STATUS", "SINCE", "PAID", "TRACKING"),
                    ([i.item_id, i.sku, clip(i.name, 30), i.quantity, i.status, when(i.status_changed_at),
                      i.paid_price, f"{i.tracking.carrier or ''} {i.tracking.number}".strip() if i.tracking else "-"]
                     for i in order.items)))
    print(f"\nRefunds ({len(order.refunds)})")
    if order.refunds:
        print(table(("REFUND", "ACTION", "VALUE", "PRODUCTS", "CREATED", "OMS"),
                    ([r.refund_id, r.action, r.value, ", ".join(f"{p.sku} x{p.quantity}" for p in r.products),
                      when(r.created_at), "synced" if r.oms_synced else "-"] for r in order.refunds)))
    print(f"\nTimeline ({len(order.timeline)})")
    if order.timeline:
        print(table(("AT", "SOURCE", "WHAT", "DETAIL", "EVENT"),
                    ([when(t.at), t.source, t.what, clip(t.detail, 60), t.event_id or "-"] for t in order.timeline)))


def cmd_resync(args, env) -> int:
    from shared.services.intake import accept_event
    from shared.services.processing import process_event

    internal_id, tenant, marketplace_id = args.internal_order_id
    context = build_context(env)
    now = datetime.now(timezone.utc)
    acceptance = accept_event(context.events, context.queue, tenant=tenant, kind=EventKind.RECONCILE_ORDER,
                              identity=[marketplace_id, "resync", now.isoformat()],
                              body={"payload": {"OrderId": marketplace_id}, "reason": "resync (ops command line)"},
                              internal_order_id=internal_id)
    print(f"recorded {tenant}/{acceptance.event_id} (reconcile-order {internal_id}); processing it now")
    for attempt in range(RESYNC_ATTEMPTS):  # a failure may be a queue processor handling it at the same time
        status = process_event(context, tenant, acceptance.event_id, context.settings.retry_delays)
        if status not in PENDING:
            break
        time.sleep(0.5 * (attempt + 1))
    event = context.events.get(tenant, acceptance.event_id)
    detail = (event.outcome if status is EventStatus.COMPLETED else event.reason) if event else ""
    if status is EventStatus.COMPLETED:
        print(f"completed: {detail}")
        return OK
    if status in PENDING:
        print(f"failed this time, the queue retries it: {detail}")
    else:
        print(f"{status.value if status else 'not processed'}: {detail}")
    return FAILED


def cmd_reconcile(args, env) -> int:
    from shared.services.processing import process_event
    from shared.services.reconciliation import last_runs, reconcile_all, reconcile_tenant

    context = build_context(env)
    if args.last:
        runs = [r for r in last_runs(context) if not args.tenant or r["tenant"] == args.tenant]
        if args.json:
            print(json.dumps(runs, ensure_ascii=False, indent=2, default=json_default))
            return OK
        if not runs:
            print("no reconciliation has run yet")
            return OK
        print(table(("TENANT", "CHECKPOINT", "LAST RUN", "CHECKED", "REPAIRED", "ORDERS"),
                    ([r["tenant"], r.get("checkpoint") or "-", r.get("at", "-"), r.get("checked", "-"),
                      r.get("repaired_count", len(r.get("repaired", []))),
                      clip(", ".join(x["internal_order_id"] for x in r.get("repaired", [])), 60) or "-"]
                     for r in runs)))
        return OK
    results = [reconcile_tenant(context, args.tenant)] if args.tenant else reconcile_all(context)
    failures = 0
    for result in results:
        if args.process:
            for event_id in result.get("event_ids", []):
                status = process_event(context, result["tenant"], event_id, context.settings.retry_delays)
                result.setdefault("processed", {})[event_id] = status.value if status else None
                failures += status is not EventStatus.COMPLETED
        failures += "error" in result
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=json_default))
        return FAILED if failures else OK
    for result in results:
        tenant = result["tenant"]
        if "skipped" in result:
            print(f"{tenant}: skipped, {result['skipped']}")
        elif "error" in result:
            print(f"{tenant}: FAILED, {result['error']}")
        else:
            print(f"{tenant}: {result['checked']} order(s) checked since {result['since']}, "
                  f"{len(result['repaired'])} repaired, {len(result['already_queued'])} already queued; "
                  f"checkpoint {result['checkpoint']}")
            for entry in result["repaired"] + result["already_queued"]:
                processed = result.get("processed", {}).get(entry["event_id"])
                print(f"  {entry['internal_order_id']}: {entry['reason']} -> {entry['event_id']}"
                      + (f" ({processed})" if processed else ""))
    return FAILED if failures else OK


def _function_key(args) -> str:
    key = args.function_key or os.environ.get("THOR_FUNCTION_KEY", "")
    if not key:
        raise UsageError("give --function-key or set THOR_FUNCTION_KEY (the key ZORT's calls carry)")
    return key


def _base_url(args) -> str:
    url = (args.base_url or os.environ.get("THOR_BASE_URL", "")).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query:
        raise UsageError("give --base-url (or THOR_BASE_URL) as https://<app>.azurewebsites.net")
    return url


def cmd_zort_webhooks(args, env) -> int:
    from shared.adapters.zort_api import WEBHOOK_URL_FIELDS, ZortApiError, thor_webhook_urls

    context = build_context(env)
    client = context.client("zort", args.tenant)
    thor_key1 = (context.settings.tenant_system(args.tenant, "ZORT") or {}).get("KEY1", "")
    try:
        if args.action == "register":
            urls = thor_webhook_urls(_base_url(args), args.tenant, _function_key(args))
            current = client.get_webhook()
            key2 = args.key2 or str(current.get("key2") or "").strip() or "thor"
            key3 = args.key3 or str(current.get("key3") or "").strip() or args.tenant
            answer = client.update_webhook(thor_key1, key2, key3, urls)
            print(f"registered {len(urls)} webhook URL(s) for {args.tenant}: "
                  f"resCode {answer.get('resCode', '-')} {answer.get('resDesc', '')}".rstrip())
            expected = urls
        else:
            expected = (thor_webhook_urls(_base_url(args), args.tenant, _function_key(args))
                        if (args.base_url or os.environ.get("THOR_BASE_URL")) else None)
        registered = client.get_webhook()
    except ZortApiError as error:
        print(f"ZORT refused: {error}", file=sys.stderr)
        return FAILED
    key1 = str(registered.get("key1") or "")
    print(f"key1: {'set' if key1 else 'blank'}" + (
        "" if not key1 else (", matches Thor's ZORT_KEY1" if key1 == thor_key1 else ", DIFFERS from Thor's ZORT_KEY1")))
    for name in ("key2", "key3"):
        print(f"{name}: {'set' if registered.get(name) else 'blank'}")
    differing = 0 if key1 == thor_key1 else 1
    rows = []
    for name, method in WEBHOOK_URL_FIELDS.items():
        url = str(registered.get(name) or "")
        state = ""
        if expected is not None:
            state = "ok" if url == expected[name] else ("MISSING" if not url else "DIFFERS")
            differing += state != "ok"
        rows.append([name, method, mask_url(url) or "(blank: off)"] + ([state] if expected is not None else []))
    print(table(("FIELD", "EVENT", "URL") + (("CHECK",) if expected is not None else ()), rows))
    if expected is not None:
        wrong = sum(row[3] != "ok" for row in rows)
        print(f"\n{len(rows) - wrong} of {len(rows)} URL(s) point at Thor")
    return FAILED if differing else OK


def _unresolved(value: str) -> bool:
    return value.strip().startswith("@Microsoft.KeyVault(")


def _shown(setting: str, value: str) -> str:
    if _unresolved(value):
        return "UNRESOLVED Key Vault reference"
    if setting in SECRET_SETTINGS:
        return f"{MASK} (set)"
    return value


def storage_description(env: Mapping[str, str]) -> tuple[str, bool]:
    connection = (env.get(STORAGE_SETTING) or "").strip()
    if connection:
        if _unresolved(connection):
            return "UNRESOLVED Key Vault reference", False
        fields = dict(part.split("=", 1) for part in connection.split(";") if "=" in part)
        account = fields.get("AccountName", "?")
        if connection.startswith("UseDevelopmentStorage") or account == "devstoreaccount1":
            endpoint = fields.get("TableEndpoint", "default ports")
            return f"connection string, Azurite ({mask_url(endpoint)}), key {MASK}", True
        return f"connection string, account {account}, key {MASK}", True
    identity = {name.split("__", 1)[1]: (env.get(name) or "").strip() for name in STORAGE_IDENTITY_SETTINGS}
    if identity["accountName"] or (identity["tableServiceUri"] and identity["queueServiceUri"]):
        where = identity["accountName"] or mask_url(identity["tableServiceUri"])
        who = f"managed identity {identity['clientId']}" if identity["clientId"] else "default Azure credential"
        return f"identity-based, account {where}, {who}", True
    return f"MISSING ({STORAGE_SETTING} or {STORAGE_SETTING}__accountName)", False


def cmd_check_settings(args, env) -> int:
    value = lambda name: (env.get(name) or "").strip()  # noqa: E731
    problems: list[str] = []
    storage, storage_ok = storage_description(env)
    print("Global")
    print(f"  storage: {storage}")
    if not storage_ok:
        problems.append(STORAGE_SETTING)
    for name in (*GLOBAL_REQUIRED, *GLOBAL_OPTIONAL):
        current = value(name)
        if current and _unresolved(current):
            print(f"  {name}: UNRESOLVED Key Vault reference")
            problems.append(name)
        elif current:
            print(f"  {name}: {mask_url(current) if current.startswith('http') else current}")
        elif name in GLOBAL_REQUIRED:
            print(f"  {name}: MISSING")
            problems.append(name)
        else:
            print(f"  {name}: not set (default {mask_url(GLOBAL_OPTIONAL[name]) if GLOBAL_OPTIONAL[name].startswith('http') else GLOBAL_OPTIONAL[name]})")
    for tenant in ([args.tenant] if args.tenant else TENANTS):
        print(f"\n{tenant} ({TENANT_NAMES[tenant]})")
        for system, (required, optional) in TENANT_SETTINGS.items():
            names = {s: tenant_setting_name(system, s, tenant) for s in (*required, *optional)}
            present = [s for s in required if value(names[s])]
            if not present:
                print(f"  {system.lower()}: not configured (webhooks are accepted; their work waits, blocked) — "
                      f"needs {', '.join(names[s] for s in required)}")
                continue
            missing = [names[s] for s in required if not value(names[s])]
            unresolved = [names[s] for s in (*required, *optional) if _unresolved(value(names[s]))]
            if missing or unresolved:
                state = "INCOMPLETE" + (f", missing {', '.join(missing)}" if missing else "") + (
                    f", unresolved Key Vault reference in {', '.join(unresolved)}" if unresolved else "")
                problems += missing + unresolved
            else:
                state = "configured"
            print(f"  {system.lower()}: {state}")
            for setting in (*required, *optional):
                current = value(names[setting])
                shown = _shown(setting, current) if current else ("MISSING" if setting in required else "not set")
                print(f"    {names[setting]}: {shown}")
            if system == "ZORT":
                api = [names[s] for s in ("STORENAME", "APIKEY", "APISECRET") if not value(names[s])]
                print(f"    (ZORT API for registering webhooks: {'configured' if not api else 'needs ' + ', '.join(api)})")
    try:
        load_settings(env)  # what Thor itself would refuse to start with, wherever it is
    except SettingsError as error:
        others = [m for m in error.missing if m.split(" ", 1)[0] not in problems]
        if others:
            print(f"\nAlso refused by Thor: {', '.join(others)}")
            problems += [m.split(" ", 1)[0] for m in others]
    if problems:
        print(f"\n{len(problems)} problem(s): {', '.join(dict.fromkeys(problems))}")
        return USAGE
    print("\nsettings ok")
    return OK


# --- the parser -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared.cli", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    parser.add_argument("--settings", type=Path, default=DEFAULT_SETTINGS,
                        help="local.settings.json to read Values from when present (the environment wins)")
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level, show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("events", help="list what needs a person: failed, blocked, unmatched, and events "
                                           "received but not completed for over --stuck-after minutes")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--status", type=statuses_arg, default=None,
                   help="comma-separated statuses, or all: exactly those, whatever their age (default: what "
                        "needs a person)")
    p.add_argument("--stuck-after", type=positive_minutes_arg, default=STUCK_AFTER_MINUTES, metavar="MINUTES",
                   help=f"list a received event not completed after MINUTES (default {STUCK_AFTER_MINUTES:g})")
    p.add_argument("--since", type=moment_arg, help="received at or after (ISO 8601, UTC when no offset)")
    p.add_argument("--until", type=moment_arg, help="received before")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(run=cmd_events)

    p = commands.add_parser("stats", help="events accepted / completed / failed / blocked per tenant")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--since", type=moment_arg)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_stats)

    p = commands.add_parser("replay", help="replay one event, or a tenant's / a time range's events")
    p.add_argument("event_id", nargs="?", metavar="EVENT_ID")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--status", type=statuses_arg, default=None, help="which events to replay (default failed)")
    p.add_argument("--since", type=moment_arg)
    p.add_argument("--until", type=moment_arg)
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    p.set_defaults(run=cmd_replay)

    p = commands.add_parser("order", help="an order's full history")
    p.add_argument("internal_order_id", type=internal_id_arg, metavar="INTERNAL_ORDER_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_order)

    p = commands.add_parser("resync", help="re-sync an order from the marketplace (and to the OMS) now")
    p.add_argument("internal_order_id", type=internal_id_arg, metavar="INTERNAL_ORDER_ID")
    p.set_defaults(run=cmd_resync)

    p = commands.add_parser("reconcile", help="reconcile with the marketplace now, or show the last runs")
    p.add_argument("--tenant", type=tenant_arg)
    p.add_argument("--process", action="store_true", help="also process the repair events here, now")
    p.add_argument("--last", action="store_true", help="show the checkpoints and last runs instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_reconcile)

    p = commands.add_parser("zort-webhooks", help="show or register Thor's webhook URLs in ZORT")
    p.add_argument("action", choices=("register", "show"))
    p.add_argument("--tenant", type=tenant_arg, required=True)
    p.add_argument("--base-url", help="Thor's base URL, e.g. https://thorfunctionsprod.azurewebsites.net "
                                      "(default THOR_BASE_URL)")
    p.add_argument("--function-key", help="the function key ZORT's calls carry (default THOR_FUNCTION_KEY)")
    p.add_argument("--key2", help="ZORT key2 to register (default: the current one, else 'thor')")
    p.add_argument("--key3", help="ZORT key3 to register (default: the current one, else the tenant)")
    p.set_defaults(run=cmd_zort_webhooks)

    p = commands.add_parser("check-settings", help="which systems each tenant is configured for")
    p.add_argument("--tenant", type=tenant_arg)
    p.set_defaults(run=cmd_check_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        env = settings_environment(args.settings)
        return args.run(args, env)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    except (SettingsError, NotConfigured) as error:
        print(f"error: {error} (settings come from the environment or {args.settings})", file=sys.stderr)
        return USAGE
    except StorageUnavailable as error:
        print(f"error: storage is unreachable: {error}", file=sys.stderr)
        return FAILED
    except Exception as error:  # noqa: BLE001 - an ops tool says what failed; --debug shows where
        if args.debug:
            raise
        print(f"error: {type(error).__name__}: {clip(error, 300)}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
