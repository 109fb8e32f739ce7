"""`check-settings`: which systems each tenant is configured for and what is missing, secrets masked.

The rules are the settings' own (shared/settings.py: `SETTINGS`, `read_system`); this says what they
find, and also what Thor itself would refuse to start with (`load_settings`, strict)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ops.arguments import OK, USAGE, Commands, tenant_arg
from ops.render import MASK, mask_url
from shared.settings import (
    GLOBAL_SETTINGS,
    STORAGE_IDENTITY_SETTINGS,
    STORAGE_SETTING,
    SYSTEMS,
    ZORT_API_SETTINGS,
    SettingsError,
    SettingSpec,
    SystemReading,
    load_settings,
    read_system,
    unresolved,
)
from shared.tenants import TENANT_NAMES, TENANTS

UNRESOLVED = "UNRESOLVED Key Vault reference"


def add_parser(commands: Commands) -> None:
    p = commands.add_parser("check-settings", help="which systems each tenant is configured for")
    p.add_argument("--tenant", type=tenant_arg)
    p.set_defaults(run=run)


def _shown(spec: SettingSpec, value: str) -> str:
    if unresolved(value):
        return UNRESOLVED
    if spec.secret:
        return f"{MASK} (set)"
    return value


def _url_or_text(text: str) -> str:
    return mask_url(text) if text.startswith("http") else text


def storage_description(env: Mapping[str, str]) -> tuple[str, bool]:
    connection = (env.get(STORAGE_SETTING) or "").strip()
    if connection:
        if unresolved(connection):
            return UNRESOLVED, False
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


def _global_settings(env: Mapping[str, str]) -> list[str]:
    """Prints the global settings; returns the names with a problem."""
    problems: list[str] = []
    storage, storage_ok = storage_description(env)
    print("Global")
    print(f"  storage: {storage}")
    if not storage_ok:
        problems.append(STORAGE_SETTING)
    for spec in GLOBAL_SETTINGS:
        if spec.key == STORAGE_SETTING:
            continue
        current = (env.get(spec.key) or "").strip()
        if current and unresolved(current):
            print(f"  {spec.key}: {UNRESOLVED}")
            problems.append(spec.key)
        elif current:
            print(f"  {spec.key}: {_shown(spec, current) if spec.secret else _url_or_text(current)}")
        elif spec.required:
            print(f"  {spec.key}: MISSING")
            problems.append(spec.key)
        else:
            print(f"  {spec.key}: not set (default {_url_or_text(spec.default or '')})")
    return problems


def _tenant_system(reading: SystemReading) -> list[str]:
    """Prints one tenant's system; returns the names with a problem."""
    system = reading.system.lower()
    if not reading.required:  # all optional (a tenant's own alert channels): show what is set
        own = [
            f"{reading.name(spec.key)}: {_shown(spec, reading.raw[spec.key])}"
            for spec in reading.specs
            if reading.raw[spec.key]
        ]
        print(f"  {system}: " + ("; ".join(own) if own else "the settings for all tenants"))
        return reading.unresolved
    if not reading.given:
        print(
            f"  {system}: not configured (webhooks are accepted; their work waits, blocked) — "
            f"needs {', '.join(reading.name(key) for key in reading.required)}"
        )
        return []
    missing, unresolved_names = reading.empty, reading.unresolved
    state = "configured"
    if missing or unresolved_names:
        state = (
            "INCOMPLETE"
            + (f", missing {', '.join(missing)}" if missing else "")
            + (f", unresolved Key Vault reference in {', '.join(unresolved_names)}" if unresolved_names else "")
        )
    print(f"  {system}: {state}")
    for spec in reading.specs:
        current = reading.raw[spec.key]
        shown = _shown(spec, current) if current else ("MISSING" if spec.required else "not set")
        print(f"    {reading.name(spec.key)}: {shown}")
    if reading.system == "ZORT":
        api = [reading.name(key) for key in ZORT_API_SETTINGS if not reading.raw[key]]
        print(f"    (ZORT API for registering webhooks: {'configured' if not api else 'needs ' + ', '.join(api)})")
    return missing + unresolved_names


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    problems = _global_settings(env)
    for tenant in [args.tenant] if args.tenant else TENANTS:
        print(f"\n{tenant} ({TENANT_NAMES[tenant]})")
        for system in SYSTEMS:
            problems += _tenant_system(read_system(env, system, tenant))
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
