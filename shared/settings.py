"""Thor's settings: read from the environment (app settings in Azure, local.settings.json locally).

Global settings are required. Per-tenant settings are optional per system (a tenant not configured
for a system still accepts webhooks; its work waits, blocked). A system configured by halves is an
error that names what is missing: at start-up of the local runner and in the ops CLI (`strict`); in
Azure the tenant's system counts as not configured instead (its events wait, blocked, with the
missing names as their reason), so one tenant's missing secret never stops the other eight. Names read `<SYSTEM>_<SETTING>_<TENANT>`, e.g. `ZORT_KEY1_FACO`.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from shared.tenants import TENANTS

STORAGE_SETTING = "AzureWebJobsStorage"
# Identity-based storage (Azure): any of these replaces the connection string.
STORAGE_IDENTITY_SETTINGS = (
    f"{STORAGE_SETTING}__accountName",
    f"{STORAGE_SETTING}__tableServiceUri",
    f"{STORAGE_SETTING}__queueServiceUri",
    f"{STORAGE_SETTING}__clientId",
    f"{STORAGE_SETTING}__credential",
)
GLOBAL_REQUIRED = ("MARKETPLACE_BASE_URL", "OMS_BASE_URL")
GLOBAL_OPTIONAL = {
    "ZORT_API_BASE_URL": "https://open-api.zortout.com/v4",
    # Seconds before each processing retry; an event fails after all of them (plus one) attempts.
    "THOR_RETRY_DELAYS": "10,60,300,1800,7200",
}

# system -> (required per-tenant settings, optional per-tenant settings)
TENANT_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MARKETPLACE": (("USER_ID", "API_KEY", "SELLER_ID"), ("BUSINESS_UNIT", "READY_TO_SHIP")),
    "OMS": (("TOKEN", "TENANT"), ()),
    "ZORT": (("KEY1",), ("STORENAME", "APIKEY", "APISECRET")),
}


class SettingsError(RuntimeError):
    def __init__(self, missing: list[str]):
        super().__init__("Thor is missing settings: " + ", ".join(missing))
        self.missing = missing


def tenant_setting_name(system: str, setting: str, tenant: str) -> str:
    return f"{system}_{setting}_{tenant.upper()}"


def all_setting_names() -> list[str]:
    """Every setting the code reads (the infra drift test and local.settings.example.json use it)."""
    names = [STORAGE_SETTING, *GLOBAL_REQUIRED, *GLOBAL_OPTIONAL]
    for system, (required, optional) in TENANT_SETTINGS.items():
        for tenant in TENANTS:
            names += [tenant_setting_name(system, s, tenant) for s in (*required, *optional)]
    return names


@dataclass(frozen=True)
class StorageSettings:
    connection_string: str | None
    account_name: str | None
    table_uri: str | None
    queue_uri: str | None
    client_id: str | None


@dataclass(frozen=True)
class Settings:
    storage: StorageSettings
    marketplace_base_url: str
    oms_base_url: str
    zort_api_base_url: str
    tenants: Mapping[str, Mapping[str, Mapping[str, str]]]  # tenant -> system -> setting -> value
    retry_delays: tuple[int, ...] = (10, 60, 300, 1800, 7200)
    half_configured: tuple[str, ...] = ()  # per-tenant settings missing beside others of their system

    def tenant_system(self, tenant: str, system: str) -> Mapping[str, str] | None:
        """The tenant's settings for a system, or None when the tenant is not configured for it."""
        return self.tenants.get(tenant, {}).get(system)


def _resolved(text: str) -> str:
    """An app setting Azure could not resolve from Key Vault keeps its literal reference
    (`@Microsoft.KeyVault(...)`): that is no value, not a credential."""
    return "" if text.startswith("@Microsoft.KeyVault(") else text


def load_settings(env: Mapping[str, str] | None = None, strict: bool = True) -> Settings:
    env = os.environ if env is None else env
    value = lambda name: _resolved((env.get(name) or "").strip())  # noqa: E731 - tiny local reader
    missing: list[str] = []
    half_configured: list[str] = []

    identity = {name: value(name) for name in STORAGE_IDENTITY_SETTINGS}
    storage = StorageSettings(
        connection_string=value(STORAGE_SETTING) or None,
        account_name=identity[f"{STORAGE_SETTING}__accountName"] or None,
        table_uri=identity[f"{STORAGE_SETTING}__tableServiceUri"] or None,
        queue_uri=identity[f"{STORAGE_SETTING}__queueServiceUri"] or None,
        client_id=identity[f"{STORAGE_SETTING}__clientId"] or None,
    )
    if not (storage.connection_string or storage.account_name or (storage.table_uri and storage.queue_uri)):
        missing.append(f"{STORAGE_SETTING} (or {STORAGE_SETTING}__accountName)")
    missing += [name for name in GLOBAL_REQUIRED if not value(name)]

    tenants: dict[str, dict[str, dict[str, str]]] = {}
    for tenant in TENANTS:
        for system, (required, optional) in TENANT_SETTINGS.items():
            found = {s: value(tenant_setting_name(system, s, tenant)) for s in (*required, *optional)}
            present = [s for s in required if found[s]]
            if not present:
                continue  # not configured for this system: allowed, work waits blocked
            absent = [tenant_setting_name(system, s, tenant) for s in required if not found[s]]
            if absent:
                half_configured += absent
                continue
            tenants.setdefault(tenant, {})[system] = {k: v for k, v in found.items() if v}
    retry_delays = _retry_delays(value("THOR_RETRY_DELAYS") or GLOBAL_OPTIONAL["THOR_RETRY_DELAYS"], missing)
    if strict:
        missing += half_configured
    if missing:
        raise SettingsError(missing)
    return Settings(
        storage=storage,
        marketplace_base_url=value("MARKETPLACE_BASE_URL"),
        oms_base_url=value("OMS_BASE_URL"),
        zort_api_base_url=value("ZORT_API_BASE_URL") or GLOBAL_OPTIONAL["ZORT_API_BASE_URL"],
        tenants=tenants,
        retry_delays=retry_delays,
        half_configured=tuple(half_configured),
    )


def _retry_delays(text: str, problems: list[str]) -> tuple[int, ...]:
    try:
        delays = tuple(int(part) for part in text.split(","))
        if delays and all(0 <= d <= 7 * 24 * 3600 for d in delays):
            return delays
    except ValueError:
        pass
    problems.append("THOR_RETRY_DELAYS (comma-separated whole seconds, e.g. 10,60,300)")
    return ()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of the running app, read once (tests call `get_settings.cache_clear()`): lenient
    about half-configured tenants, which are logged and left blocked."""
    settings = load_settings(strict=False)
    if settings.half_configured:
        logging.getLogger("thor.settings").error(
            "tenant settings missing (their events wait, blocked): %s", ", ".join(settings.half_configured))
    return settings
