"""Thor's settings, the one source of them: what each setting is, how they are read, and each tenant's
typed configuration per system.

Settings come from the environment (app settings in Azure, `Values` of local.settings.json locally,
read by `local_settings_environment`). `SETTINGS` describes every one the code reads (name, system,
required or optional, default, secret): `all_setting_names()`, the app, the ops CLI's check-settings, the
connectors and the infra drift test all ask it.

Global settings are required. Per-tenant settings are optional per system (a tenant not configured
for a system still accepts webhooks; its work waits, blocked). A system configured by halves is an
error that names what is missing: at start-up of the local runner and in the ops CLI (`strict`); in
Azure the tenant's system counts as not configured instead (its events wait, blocked, with the
missing names as their reason), so one tenant's missing secret never stops the other eight. Names
read `<SYSTEM>_<SETTING>_<TENANT>`, e.g. `ZORT_KEY1_FACO`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from shared.domain.errors import NotConfigured
from shared.domain.price_settings import CURRENCIES, DEFAULT_GUARD_PERCENT, PriceSyncSettings, storefront_currency
from shared.domain.retries import RETRY_POLICY
from shared.domain.stock_settings import StockSyncSettings, StockWarehouse
from shared.tenants import MARKETPLACE_TIMEZONE, TENANTS

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SETTINGS = ROOT / "local.settings.json"
EXAMPLE_SETTINGS = ROOT / "local.settings.example.json"

STORAGE_SETTING = "AzureWebJobsStorage"
# Identity-based storage (Azure): any of these replaces the connection string.
STORAGE_IDENTITY_SETTINGS = (
    f"{STORAGE_SETTING}__accountName",
    f"{STORAGE_SETTING}__tableServiceUri",
    f"{STORAGE_SETTING}__queueServiceUri",
    f"{STORAGE_SETTING}__clientId",
    f"{STORAGE_SETTING}__credential",
)
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


@dataclass(frozen=True)
class SettingSpec:
    """One setting the code reads. `key` is the whole name of a global setting, or the `<SETTING>` of a
    per-tenant one (`system` set), named `<SYSTEM>_<SETTING>_<TENANT>` for each tenant."""

    key: str
    system: str | None = None
    required: bool = True
    default: str | None = None
    secret: bool = False

    def name(self, tenant: str | None = None) -> str:
        return self.key if self.system is None else tenant_setting_name(self.system, self.key, tenant or "")


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(STORAGE_SETTING, secret=True),  # or identity-based: STORAGE_IDENTITY_SETTINGS
    SettingSpec("MARKETPLACE_BASE_URL"),
    SettingSpec("OMS_BASE_URL"),
    SettingSpec("ZORT_API_BASE_URL", required=False, default="https://open-api.zortout.com/v4"),
    # Seconds before each processing retry; an event fails after all of them (plus one) attempts.
    SettingSpec("THOR_RETRY_DELAYS", required=False, default=",".join(map(str, RETRY_POLICY.event.delays))),
    # Seconds the processor keeps the console's activity counts in memory before writing them (0: at once).
    SettingSpec("THOR_ACTIVITY_FLUSH_SECONDS", required=False, default="5"),
    SettingSpec("THOR_ZORT_MATCH_WINDOW", required=False, default="1800"),
    # The operations console's sign-in: `platform` trusts App Service authentication's principal
    # headers (set only with Easy Auth configured in front of the app: infra/main.bicep, or the
    # local runner standing in for it); `off` refuses every console page. docs/deploy.md.
    SettingSpec("CONSOLE_AUTH", required=False, default="off"),
    # Key of the console's anti-CSRF tokens (HMAC, bound to the signed-in user); actions need it.
    SettingSpec("CONSOLE_CSRF_KEY", required=False, default="", secret=True),
    # The console verifies the Entra ID token App Service authentication forwards (X-MS-TOKEN-AAD-ID-TOKEN):
    # its audience (the app registration's client id), issuer and signing keys (JWKS URL). Locally the
    # runner signs tokens with its own key and serves its JWKS (localdev/runner.py sets the URL).
    SettingSpec("CONSOLE_CLIENT_ID", required=False, default=""),
    SettingSpec("CONSOLE_TOKEN_ISSUER", required=False, default=""),
    SettingSpec("CONSOLE_JWKS_URL", required=False, default=""),
    # Who may act in the console (replay, re-sync): members of this Entra group (object id) or holders
    # of this app role; everyone else signed in may only read.
    SettingSpec("CONSOLE_OPERATOR_GROUP", required=False, default=""),
    SettingSpec("CONSOLE_OPERATOR_ROLE", required=False, default="Thor.Operator"),
    # Alerts and reports (docs/operations.md "Alerts and reports"): the console's public base URL for links in
    # messages; hours before a still-open incident is reminded; the channels for every tenant (a
    # tenant's own ALERT_<CHANNEL>_<T> replaces the one for all); e-mail through Azure Communication
    # Services (ACS_ACCESS_KEY empty: the managed identity); how long a report's link works.
    SettingSpec("CONSOLE_BASE_URL", required=False, default="http://localhost:7071"),
    SettingSpec("ALERT_REMINDER_HOURS", required=False, default="4"),
    SettingSpec("ALERT_TEAMS_WEBHOOK_URL", required=False, default="", secret=True),
    SettingSpec("ALERT_SLACK_WEBHOOK_URL", required=False, default="", secret=True),
    SettingSpec("ALERT_EMAIL_TO", required=False, default=""),
    SettingSpec("ALERT_QUIET_HOURS", required=False, default=""),
    SettingSpec("ACS_ENDPOINT", required=False, default=""),
    SettingSpec("ACS_ACCESS_KEY", required=False, default="", secret=True),
    SettingSpec("ACS_SENDER", required=False, default=""),
    SettingSpec("REPORT_LINK_HOURS", required=False, default="72"),
    SettingSpec("USER_ID", "MARKETPLACE"),
    SettingSpec("API_KEY", "MARKETPLACE", secret=True),
    SettingSpec("SELLER_ID", "MARKETPLACE"),
    SettingSpec("BUSINESS_UNIT", "MARKETPLACE", required=False),  # default: the tenant upper-cased
    SettingSpec("READY_TO_SHIP", "MARKETPLACE", required=False, default="false"),  # on only when `true`
    # The IANA zone Seller Center writes its zone-less times in (docs/api.md "Marketplace times").
    SettingSpec("TIMEZONE", "MARKETPLACE", required=False, default=MARKETPLACE_TIMEZONE),
    # Stock sync (docs/operations.md "Stock sync"): off unless `true`; units held back per SKU; where UpdateStock writes.
    SettingSpec("STOCK_SYNC", "MARKETPLACE", required=False, default="false"),
    SettingSpec("STOCK_BUFFER", "MARKETPLACE", required=False, default="0"),
    SettingSpec("STOCK_SELLER_WAREHOUSE_ID", "MARKETPLACE", required=False),  # or the next one, never both
    SettingSpec("STOCK_GSC_FACILITY_ID", "MARKETPLACE", required=False),
    # Closing the order loop (issue 19, docs/operations.md "Order loop"): each flow off unless switched on.
    SettingSpec("DOCUMENTS", "MARKETPLACE", required=False, default="false"),  # tax documents (SetInvoicePDF)
    SettingSpec("INVOICED_BY_MARKETPLACE", "MARKETPLACE", required=False, default="false"),  # documents refused
    SettingSpec("DOCUMENT_DUE_HOURS", "MARKETPLACE", required=False, default="24"),  # at risk after shipping
    SettingSpec("CANCELLATIONS", "MARKETPLACE", required=False, default="false"),  # ZORT void -> SetStatusToCanceled
    SettingSpec("CANCEL_REASON", "MARKETPLACE", required=False, default="Out of stock"),  # a GetFailureReasons Name
    SettingSpec("SELLER_DELIVERY", "MARKETPLACE", required=False, default="off"),  # off|shipping-type|all-dropshipping
    SettingSpec("RETURNS_DESK", "MARKETPLACE", required=False, default="false"),  # 72 h return window tracked
    # Price sync (docs/operations.md "Price sync"): off unless `true`; the ZORT store's currency (must be the
    # storefront's); markup in percent and a fixed adjustment; the guard's percentage (default 50).
    SettingSpec("PRICE_SYNC", "MARKETPLACE", required=False, default="false"),
    SettingSpec("PRICE_ZORT_CURRENCY", "MARKETPLACE", required=False),
    SettingSpec("PRICE_MARKUP_PERCENT", "MARKETPLACE", required=False, default="0"),
    SettingSpec("PRICE_ADJUSTMENT", "MARKETPLACE", required=False, default="0"),
    SettingSpec("PRICE_GUARD_PERCENT", "MARKETPLACE", required=False, default="50"),
    SettingSpec("TOKEN", "OMS", secret=True),
    SettingSpec("TENANT", "OMS"),
    SettingSpec("KEY1", "ZORT", secret=True),
    SettingSpec("STORENAME", "ZORT", required=False),
    SettingSpec("APIKEY", "ZORT", required=False, secret=True),
    SettingSpec("APISECRET", "ZORT", required=False, secret=True),
    # A tenant's own alert channels and quiet hours (all optional; unset: the ones for all tenants).
    SettingSpec("TEAMS_WEBHOOK_URL", "ALERT", required=False, secret=True),
    SettingSpec("SLACK_WEBHOOK_URL", "ALERT", required=False, secret=True),
    SettingSpec("EMAIL_TO", "ALERT", required=False),
    SettingSpec("QUIET_HOURS", "ALERT", required=False),
)
GLOBAL_SETTINGS = tuple(spec for spec in SETTINGS if spec.system is None)
SYSTEMS = tuple(dict.fromkeys(spec.system for spec in SETTINGS if spec.system))
SYSTEM_SETTINGS: dict[str, tuple[SettingSpec, ...]] = {
    system: tuple(spec for spec in SETTINGS if spec.system == system) for system in SYSTEMS
}
ZORT_API_SETTINGS = ("STORENAME", "APIKEY", "APISECRET")  # what registering webhooks with the ZORT API needs
S = TypeVar("S")
CONSOLE_AUTH_MODES = ("platform", "off")
_DEFAULTS = {spec.key: spec.default for spec in GLOBAL_SETTINGS if spec.default is not None}


class SettingsError(RuntimeError):
    def __init__(self, missing: list[str]):
        super().__init__("Thor is missing settings: " + ", ".join(missing))
        self.missing = missing


def tenant_setting_name(system: str, setting: str, tenant: str) -> str:
    return f"{system}_{setting}_{tenant.upper()}"


def all_setting_names() -> list[str]:
    """Every setting the code reads (the infra drift test and local.settings.example.json use it)."""
    names = [spec.name() for spec in GLOBAL_SETTINGS]
    for specs in SYSTEM_SETTINGS.values():
        for tenant in TENANTS:
            names += [spec.name(tenant) for spec in specs]
    return names


def unresolved(text: str) -> bool:
    """An app setting Azure could not resolve from Key Vault keeps its literal reference
    (`@Microsoft.KeyVault(...)`): that is no value, not a credential."""
    return text.strip().startswith(KEY_VAULT_REFERENCE)


def parse_retry_delays(text: str) -> tuple[int, ...] | None:
    """`10,60,300` as whole seconds (each at most a week), or None when it is not that."""
    try:
        delays = tuple(int(part) for part in text.split(","))
    except ValueError:
        return None
    return delays if delays and all(0 <= d <= 7 * 24 * 3600 for d in delays) else None


DEFAULT_RETRY_DELAYS: tuple[int, ...] = parse_retry_delays(_DEFAULTS["THOR_RETRY_DELAYS"]) or ()


# --- each tenant's typed configuration ----------------------------------------------------------


@dataclass(frozen=True)
class MarketplaceTenantSettings:
    user_id: str
    api_key: str = field(repr=False)
    seller_id: str
    business_unit: str
    ready_to_ship: bool  # pack and set ready to ship when ZORT sends a tracking number (docs/settings.md)
    time_zone: str  # MARKETPLACE_TIMEZONE_<T>: the IANA zone the marketplace writes its zone-less times in
    stock: StockSyncSettings = StockSyncSettings()  # stock sync from ZORT (off by default)
    prices: PriceSyncSettings = PriceSyncSettings()  # price sync from ZORT (off by default)
    loop: LoopSettings = field(default_factory=lambda: LoopSettings())  # issue 19's flows (each off by default)


SELLER_DELIVERY_MODES = ("off", "shipping-type", "all-dropshipping")


@dataclass(frozen=True)
class LoopSettings:
    """A tenant's order-loop flows (docs/operations.md "Order loop"), each off unless its setting switches it on."""

    documents: bool = False  # MARKETPLACE_DOCUMENTS_<T>
    invoiced_by_marketplace: bool = False  # MARKETPLACE_INVOICED_BY_MARKETPLACE_<T>: documents refused
    document_due_hours: int = 24  # MARKETPLACE_DOCUMENT_DUE_HOURS_<T>
    cancellations: bool = False  # MARKETPLACE_CANCELLATIONS_<T>
    cancel_reason: str = "Out of stock"  # MARKETPLACE_CANCEL_REASON_<T>
    seller_delivery: str = "off"  # MARKETPLACE_SELLER_DELIVERY_<T>
    returns_desk: bool = False  # MARKETPLACE_RETURNS_DESK_<T>


@dataclass(frozen=True)
class OmsTenantSettings:
    token: str = field(repr=False)
    tenant_header: str  # the X-TWC-Tenant value


@dataclass(frozen=True)
class ZortTenantSettings:
    key1: str = field(repr=False)  # what ZORT sends as Authorization: Basic {key1}
    storename: str = ""
    apikey: str = field(default="", repr=False)
    apisecret: str = field(default="", repr=False)


@dataclass(frozen=True)
class AlertChannels:
    """Where one tenant's alerts go: a Teams workflow webhook, a Slack incoming webhook, e-mail."""

    teams_url: str = field(default="", repr=False)
    slack_url: str = field(default="", repr=False)
    email_to: tuple[str, ...] = ()

    def any(self) -> bool:
        return bool(self.teams_url or self.slack_url or self.email_to)


@dataclass(frozen=True)
class AlertSettings:
    """Alerts and reports (docs/operations.md "Alerts and reports")."""

    console_base_url: str = "http://localhost:7071"
    reminder_hours: float = 4.0
    acs_endpoint: str = ""
    acs_access_key: str = field(default="", repr=False)
    acs_sender: str = ""
    report_link_hours: int = 72
    everyone: AlertChannels = AlertChannels()
    quiet_hours: str = ""
    tenants: Mapping[str, AlertChannels] = field(default_factory=dict)
    tenant_quiet_hours: Mapping[str, str] = field(default_factory=dict)

    def channels(self, tenant: str) -> AlertChannels:
        """The tenant's channels: each one its own where set, else the one for all tenants."""
        own = self.tenants.get(tenant, AlertChannels())
        return AlertChannels(
            teams_url=own.teams_url or self.everyone.teams_url,
            slack_url=own.slack_url or self.everyone.slack_url,
            email_to=own.email_to or self.everyone.email_to,
        )

    def quiet(self, tenant: str) -> str:
        return self.tenant_quiet_hours.get(tenant) or self.quiet_hours


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


def read_alerts(env: Mapping[str, str], missing: list[str]) -> AlertSettings:
    """The alert settings; what is wrong goes to `missing`, each naming its setting."""
    from shared.domain.alerts import parse_quiet_hours

    def value(name: str) -> str:
        return _usable(env, name) or _DEFAULTS.get(name, "")

    def quiet(name: str) -> str:
        text = value(name)
        try:
            parse_quiet_hours(text)
        except ValueError:
            missing.append(f"{name} (quiet hours HH-HH in the tenant's zone, e.g. 22-07)")
            return ""
        return text

    reminder = value("ALERT_REMINDER_HOURS")
    try:
        reminder_hours = float(reminder)
        if not 0 < reminder_hours <= 24 * 7:
            raise ValueError
    except ValueError:
        missing.append("ALERT_REMINDER_HOURS (hours, more than 0, e.g. 4)")
        reminder_hours = 4.0
    link_hours = value("REPORT_LINK_HOURS")
    if not link_hours.isdigit() or not 1 <= int(link_hours) <= 7 * 24:
        missing.append("REPORT_LINK_HOURS (whole hours, 1 to 168: a user delegation SAS lasts at most 7 days)")
        link_hours = "72"
    tenants: dict[str, AlertChannels] = {}
    tenant_quiet: dict[str, str] = {}
    for tenant in TENANTS:

        def own(key: str, tenant: str = tenant) -> str:
            return _usable(env, tenant_setting_name("ALERT", key, tenant))

        channels = AlertChannels(own("TEAMS_WEBHOOK_URL"), own("SLACK_WEBHOOK_URL"), _addresses(own("EMAIL_TO")))
        if channels.any():
            tenants[tenant] = channels
        if own("QUIET_HOURS"):
            tenant_quiet[tenant] = quiet(tenant_setting_name("ALERT", "QUIET_HOURS", tenant))
    return AlertSettings(
        console_base_url=value("CONSOLE_BASE_URL").rstrip("/"),
        reminder_hours=reminder_hours,
        acs_endpoint=value("ACS_ENDPOINT").rstrip("/"),
        acs_access_key=value("ACS_ACCESS_KEY"),
        acs_sender=value("ACS_SENDER"),
        report_link_hours=int(link_hours),
        everyone=AlertChannels(
            value("ALERT_TEAMS_WEBHOOK_URL"), value("ALERT_SLACK_WEBHOOK_URL"), _addresses(value("ALERT_EMAIL_TO"))
        ),
        quiet_hours=quiet("ALERT_QUIET_HOURS"),
        tenants=tenants,
        tenant_quiet_hours=tenant_quiet,
    )


@dataclass(frozen=True)
class TenantSettings:
    """A tenant's configuration per system; None where the tenant is not configured for it."""

    marketplace: MarketplaceTenantSettings | None = None
    oms: OmsTenantSettings | None = None
    zort: ZortTenantSettings | None = None


def _switched_on(text: str | None) -> bool:
    return str(text or "").strip().lower() in {"1", "true", "yes", "on"}


SystemSettings = MarketplaceTenantSettings | OmsTenantSettings | ZortTenantSettings


def _stock_settings(tenant: str, values: Mapping[str, str]) -> tuple[StockSyncSettings, list[str]]:
    """The tenant's stock sync settings, and what is wrong with them (each naming its setting). A tenant
    with a wrong stock setting keeps stock sync off (its other work goes on); strict loading refuses it."""

    def name(key: str) -> str:
        return tenant_setting_name("MARKETPLACE", key, tenant)

    errors: list[str] = []
    buffer_text = (values.get("STOCK_BUFFER") or "0").strip()
    buffer = int(buffer_text) if buffer_text.isdigit() else -1
    if buffer < 0:
        errors.append(f"{name('STOCK_BUFFER')} (a whole number of units, 0 or more; got {buffer_text!r})")
    seller_warehouse = (values.get("STOCK_SELLER_WAREHOUSE_ID") or "").strip()
    facility = (values.get("STOCK_GSC_FACILITY_ID") or "").strip()
    if seller_warehouse and facility:
        errors.append(
            f"{name('STOCK_SELLER_WAREHOUSE_ID')} or {name('STOCK_GSC_FACILITY_ID')} (set one, not both: "
            "UpdateStock refuses a request with both)"
        )
    warehouse = None
    if seller_warehouse:
        warehouse = StockWarehouse("SellerWarehouseId", seller_warehouse)
    elif facility:
        warehouse = StockWarehouse("GSCFacilityId", facility)
    enabled = _switched_on(values.get("STOCK_SYNC")) and not errors
    return StockSyncSettings(enabled=enabled, buffer=max(buffer, 0), warehouse=warehouse), errors


def _loop_settings(tenant: str, values: Mapping[str, str]) -> tuple[LoopSettings, list[str]]:
    """The tenant's order-loop flows and what is wrong with their settings (each named)."""

    def name(key: str) -> str:
        return tenant_setting_name("MARKETPLACE", key, tenant)

    errors: list[str] = []
    hours_text = (values.get("DOCUMENT_DUE_HOURS") or "24").strip()
    if not (hours_text.isdigit() and 1 <= int(hours_text) <= 24 * 60):
        errors.append(f"{name('DOCUMENT_DUE_HOURS')} (whole hours, 1 or more; got {hours_text!r})")
    mode = (values.get("SELLER_DELIVERY") or "off").strip().lower()
    if mode in ("false", "0", "no"):
        mode = "off"
    if mode not in SELLER_DELIVERY_MODES:
        errors.append(f"{name('SELLER_DELIVERY')} ({' or '.join(SELLER_DELIVERY_MODES)}; got {mode!r})")
        mode = "off"
    return (
        LoopSettings(
            documents=_switched_on(values.get("DOCUMENTS")),
            invoiced_by_marketplace=_switched_on(values.get("INVOICED_BY_MARKETPLACE")),
            document_due_hours=int(hours_text) if hours_text.isdigit() and int(hours_text) >= 1 else 24,
            cancellations=_switched_on(values.get("CANCELLATIONS")),
            cancel_reason=(values.get("CANCEL_REASON") or "").strip() or "Out of stock",
            seller_delivery=mode,
            returns_desk=_switched_on(values.get("RETURNS_DESK")),
        ),
        errors,
    )


def _decimal_setting(text: str | None, default: str) -> Decimal | None:
    try:
        value = Decimal((text or "").strip() or default)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _price_settings(tenant: str, values: Mapping[str, str]) -> tuple[PriceSyncSettings, list[str]]:
    """The tenant's price sync settings, and what is wrong with them (each naming its setting). With
    price sync on, the ZORT store's currency must be stated and be the storefront's (CLP, COP, PEN, ARS,
    MXN by country): otherwise Thor refuses to start (strict loading), and the tenant's price sync stays off."""

    def name(key: str) -> str:
        return tenant_setting_name("MARKETPLACE", key, tenant)

    wanted = _switched_on(values.get("PRICE_SYNC"))
    errors: list[str] = []
    currency = (values.get("PRICE_ZORT_CURRENCY") or "").strip().upper()
    storefront = storefront_currency(tenant)
    if wanted and not currency:
        errors.append(
            f"{name('PRICE_ZORT_CURRENCY')} (the ZORT store's currency; the storefront sells in {storefront})"
        )
    elif wanted and currency != storefront:
        known = currency in CURRENCIES.values()
        errors.append(
            f"{name('PRICE_ZORT_CURRENCY')} ({currency!r} is {'not' if known else 'an unknown currency, not'} "
            f"the storefront's {storefront}: prices would be wrong)"
        )
    markup = _decimal_setting(values.get("PRICE_MARKUP_PERCENT"), "0")
    if markup is None or markup <= -100:
        errors.append(f"{name('PRICE_MARKUP_PERCENT')} (a number of percent above -100, e.g. 10 or -5.5)")
    adjustment = _decimal_setting(values.get("PRICE_ADJUSTMENT"), "0")
    if adjustment is None:
        errors.append(f"{name('PRICE_ADJUSTMENT')} (an amount in {storefront}, e.g. 990 or -10)")
    guard = _decimal_setting(values.get("PRICE_GUARD_PERCENT"), str(DEFAULT_GUARD_PERCENT))
    if guard is None or guard <= 0:
        errors.append(f"{name('PRICE_GUARD_PERCENT')} (a percentage above 0, e.g. 50)")
    if not wanted:
        errors = [e for e in errors if not e.startswith(name("PRICE_ZORT_CURRENCY"))]
    settings = PriceSyncSettings(
        enabled=wanted and not errors,
        currency=currency,
        markup_percent=markup if markup is not None and markup > -100 else Decimal(0),
        adjustment=adjustment if adjustment is not None else Decimal(0),
        guard_percent=guard if guard is not None and guard > 0 else DEFAULT_GUARD_PERCENT,
    )
    return settings, errors


def _marketplace_zone(tenant: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """The zone the tenant's marketplace answers write zone-less times in, and what is wrong with the
    setting (an unknown zone: the default is used, and strict loading refuses it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = (values.get("TIMEZONE") or "").strip() or MARKETPLACE_TIMEZONE
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        name = tenant_setting_name("MARKETPLACE", "TIMEZONE", tenant)
        return MARKETPLACE_TIMEZONE, [f"{name} (an IANA time zone such as {MARKETPLACE_TIMEZONE}; got {text!r})"]
    return text, []


def _typed(system: str, tenant: str, values: Mapping[str, str]) -> SystemSettings:
    if system == "MARKETPLACE":
        return MarketplaceTenantSettings(
            user_id=values["USER_ID"],
            api_key=values["API_KEY"],
            seller_id=values["SELLER_ID"],
            business_unit=values.get("BUSINESS_UNIT") or tenant.upper(),
            ready_to_ship=_switched_on(values.get("READY_TO_SHIP")),
            time_zone=_marketplace_zone(tenant, values)[0],
            stock=_stock_settings(tenant, values)[0],
            loop=_loop_settings(tenant, values)[0],
            prices=_price_settings(tenant, values)[0],
        )
    if system == "OMS":
        return OmsTenantSettings(token=values["TOKEN"], tenant_header=values["TENANT"])
    return ZortTenantSettings(
        key1=values["KEY1"],
        storename=values.get("STORENAME", ""),
        apikey=values.get("APIKEY", ""),
        apisecret=values.get("APISECRET", ""),
    )


@dataclass(frozen=True)
class SystemReading:
    """What the environment holds for one tenant's system: the rules of "configured", "not configured"
    and "configured by halves", for the app (`usable`) and for the ops check (`given`)."""

    system: str
    tenant: str
    raw: Mapping[str, str]  # SETTING -> value as written (stripped; "" when unset)

    def name(self, key: str) -> str:
        return tenant_setting_name(self.system, key, self.tenant)

    @property
    def specs(self) -> tuple[SettingSpec, ...]:
        return SYSTEM_SETTINGS[self.system]

    @property
    def required(self) -> list[str]:
        return [spec.key for spec in self.specs if spec.required]

    @property
    def usable(self) -> dict[str, str]:
        """The settings with a value Thor can use (an unresolved Key Vault reference is none)."""
        return {key: value for key, value in self.raw.items() if value and not unresolved(value)}

    @property
    def started(self) -> bool:
        """Whether any required setting has a usable value: then all of them must have one."""
        return any(key in self.usable for key in self.required)

    @property
    def halves(self) -> list[str]:
        """The required settings missing beside others of the system (empty when it is whole or untouched)."""
        return [self.name(key) for key in self.required if key not in self.usable] if self.started else []

    @property
    def given(self) -> bool:
        """Whether anything is written for a required setting (even an unresolved reference): what
        the ops check calls configured, complete or not."""
        return any(self.raw[key] for key in self.required)

    @property
    def empty(self) -> list[str]:
        return [self.name(key) for key in self.required if not self.raw[key]]

    @property
    def unresolved(self) -> list[str]:
        return [self.name(spec.key) for spec in self.specs if unresolved(self.raw[spec.key])]

    def typed(self) -> SystemSettings | None:
        """The system's typed configuration, or None when it is not (wholly) configured."""
        return _typed(self.system, self.tenant, self.usable) if self.started and not self.halves else None


def read_system(env: Mapping[str, str], system: str, tenant: str) -> SystemReading:
    raw = {spec.key: (env.get(spec.name(tenant)) or "").strip() for spec in SYSTEM_SETTINGS[system]}
    return SystemReading(system, tenant, raw)


# --- the whole settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageSettings:
    connection_string: str | None
    account_name: str | None
    table_uri: str | None
    queue_uri: str | None
    client_id: str | None

    @property
    def reachable(self) -> bool:
        """Whether it names a storage account: a connection string, an account, or both service URIs."""
        return bool(self.connection_string or self.account_name or (self.table_uri and self.queue_uri))


NOT_CONFIGURED = TenantSettings()


@dataclass(frozen=True)
class Settings:
    storage: StorageSettings
    marketplace_base_url: str
    oms_base_url: str
    zort_api_base_url: str
    tenants: Mapping[str, TenantSettings] = field(default_factory=dict)
    retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS
    half_configured: tuple[str, ...] = ()  # per-tenant settings missing beside others of their system
    console_auth: str = "off"  # CONSOLE_AUTH: "platform" or "off"
    console_csrf_key: str = field(default="", repr=False)
    console_client_id: str = ""  # CONSOLE_CLIENT_ID: the tokens' audience
    console_token_issuer: str = ""  # CONSOLE_TOKEN_ISSUER
    console_jwks_url: str = ""  # CONSOLE_JWKS_URL: the issuer's signing keys
    console_operator_group: str = ""  # CONSOLE_OPERATOR_GROUP: may act
    console_operator_role: str = "Thor.Operator"  # CONSOLE_OPERATOR_ROLE: may act
    activity_flush_seconds: float = 5.0  # THOR_ACTIVITY_FLUSH_SECONDS
    zort_match_window: float = 1800.0  # THOR_ZORT_MATCH_WINDOW: seconds a ZORT event waits for its order
    alerts: AlertSettings = AlertSettings()  # alerts and reports

    def tenant(self, tenant: str) -> TenantSettings:
        """The tenant's configuration per system (each None where it is not configured)."""
        return self.tenants.get(tenant, NOT_CONFIGURED)

    def marketplace(self, tenant: str) -> MarketplaceTenantSettings:
        return self.tenant(tenant).marketplace or self._not_configured("MARKETPLACE", tenant)

    def oms(self, tenant: str) -> OmsTenantSettings:
        return self.tenant(tenant).oms or self._not_configured("OMS", tenant)

    def zort(self, tenant: str) -> ZortTenantSettings:
        return self.tenant(tenant).zort or self._not_configured("ZORT", tenant)

    def zort_api(self, tenant: str) -> ZortTenantSettings:
        """The tenant's ZORT settings when they include the API credentials (webhook registration)."""
        zort = self.zort(tenant)
        if not zort.apikey:
            raise NotConfigured("zort api", tenant, [tenant_setting_name("ZORT", s, tenant) for s in ZORT_API_SETTINGS])
        return zort

    def ready_to_ship(self, tenant: str) -> bool:
        marketplace = self.tenant(tenant).marketplace
        return bool(marketplace and marketplace.ready_to_ship)

    def loop(self, tenant: str) -> LoopSettings:
        """The tenant's order-loop flows (all off when it has no marketplace configuration)."""
        marketplace = self.tenant(tenant).marketplace
        return marketplace.loop if marketplace else LoopSettings()

    def stock(self, tenant: str) -> StockSyncSettings:
        """The tenant's stock sync settings (off when it has no marketplace configuration)."""
        marketplace = self.tenant(tenant).marketplace
        return marketplace.stock if marketplace else StockSyncSettings()

    def stock_tenants(self, tenant: str) -> list[str]:
        """The tenants with stock sync on whose stock a ZORT webhook received for `tenant` concerns: the
        tenant itself and every tenant configured with the same ZORT store (ZORT_STORENAME)."""
        return [other for other in self.same_zort_store(tenant) if self.stock(other).enabled]

    def prices(self, tenant: str) -> PriceSyncSettings:
        """The tenant's price sync settings (off when it has no marketplace configuration)."""
        marketplace = self.tenant(tenant).marketplace
        return marketplace.prices if marketplace else PriceSyncSettings()

    def price_tenants(self, tenant: str) -> list[str]:
        """The tenants with price sync on whose prices a ZORT webhook received for `tenant` concerns: the
        tenant itself and every tenant configured with the same ZORT store (ZORT_STORENAME)."""
        return [other for other in self.same_zort_store(tenant) if self.prices(other).enabled]

    def same_zort_store(self, tenant: str) -> list[str]:
        """The tenant itself and every tenant configured with the same ZORT store (ZORT_STORENAME): the
        tenants a ZORT webhook received for `tenant` concerns."""
        zort = self.tenant(tenant).zort
        store = zort.storename if zort else ""

        def same_store(other: str) -> bool:
            other_zort = self.tenant(other).zort
            return other == tenant or bool(store and other_zort and other_zort.storename == store)

        return [other for other in TENANTS if same_store(other)]

    def _not_configured(self, system: str, tenant: str) -> NoReturn:
        """Raises NotConfigured naming the settings the system lacks: the missing half when it is
        configured by halves, else every required one."""
        names = [spec.name(tenant) for spec in SYSTEM_SETTINGS[system] if spec.required]
        half = [name for name in names if name in self.half_configured]
        raise NotConfigured(system.lower(), tenant, half or names)


def read_storage(env: Mapping[str, str]) -> StorageSettings:
    def value(name: str) -> str | None:
        return _usable(env, name) or None

    return StorageSettings(
        connection_string=value(STORAGE_SETTING),
        account_name=value(f"{STORAGE_SETTING}__accountName"),
        table_uri=value(f"{STORAGE_SETTING}__tableServiceUri"),
        queue_uri=value(f"{STORAGE_SETTING}__queueServiceUri"),
        client_id=value(f"{STORAGE_SETTING}__clientId"),
    )


SHORTEST_SECRET = 6  # shorter values (`1`, `true`) are not masked: they would mask ordinary text


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The value of every secret setting in `env` (SettingSpec.secret: global and per tenant), and
    the account key inside a storage connection string: what no output may ever show. Longest first."""
    names = [spec.name() for spec in GLOBAL_SETTINGS if spec.secret]
    names += [f"{name}_{tenant.upper()}" for name in list(names) for tenant in TENANTS]  # a tenant's own (alerts)
    names += [spec.name(tenant) for spec in SETTINGS if spec.secret and spec.system for tenant in TENANTS]
    values = {(env.get(name) or "").strip() for name in names}
    for part in (env.get(STORAGE_SETTING) or "").split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() in ("accountkey", "sharedaccesssignature"):
            values.add(value.strip())
    return sorted((v for v in values if len(v) >= SHORTEST_SECRET and not unresolved(v)), key=len, reverse=True)


def _usable(env: Mapping[str, str], name: str) -> str:
    text = (env.get(name) or "").strip()
    return "" if unresolved(text) else text


def read_tenants(env: Mapping[str, str]) -> tuple[dict[str, TenantSettings], list[str]]:
    """Each configured tenant's typed settings, and the settings missing from systems configured by
    halves or set to a value Thor cannot use (each named)."""
    tenants: dict[str, TenantSettings] = {}
    half_configured: list[str] = []
    for tenant in TENANTS:
        readings = {system: read_system(env, system, tenant) for system in SYSTEMS}
        for reading in readings.values():
            half_configured += reading.halves
        half_configured += _stock_settings(tenant, readings["MARKETPLACE"].usable)[1]
        half_configured += _price_settings(tenant, readings["MARKETPLACE"].usable)[1]

        half_configured += _marketplace_zone(tenant, readings["MARKETPLACE"].usable)[1]
        half_configured += _loop_settings(tenant, readings["MARKETPLACE"].usable)[1]
        typed = [reading.typed() for reading in readings.values()]
        if any(typed):
            tenants[tenant] = TenantSettings(
                marketplace=_of_kind(typed, MarketplaceTenantSettings),
                oms=_of_kind(typed, OmsTenantSettings),
                zort=_of_kind(typed, ZortTenantSettings),
            )
    return tenants, half_configured


def _of_kind(settings: Iterable[SystemSettings | None], kind: type[S]) -> S | None:
    return next((found for found in settings if isinstance(found, kind)), None)


def load_settings(env: Mapping[str, str] | None = None, strict: bool = True) -> Settings:
    env = os.environ if env is None else env
    missing: list[str] = []
    storage = read_storage(env)
    if not storage.reachable:
        missing.append(f"{STORAGE_SETTING} (or {STORAGE_SETTING}__accountName)")
    missing += [
        spec.key
        for spec in GLOBAL_SETTINGS
        if spec.required and spec.key != STORAGE_SETTING and not _usable(env, spec.key)
    ]
    tenants, half_configured = read_tenants(env)

    def global_value(key: str) -> str:
        return _usable(env, key) or _DEFAULTS[key]

    retry_delays = parse_retry_delays(global_value("THOR_RETRY_DELAYS"))
    if retry_delays is None:
        missing.append("THOR_RETRY_DELAYS (comma-separated whole seconds, e.g. 10,60,300)")
    console_auth = global_value("CONSOLE_AUTH").lower()
    if console_auth not in CONSOLE_AUTH_MODES:
        missing.append(f"CONSOLE_AUTH ({' or '.join(CONSOLE_AUTH_MODES)})")
    activity_flush = global_value("THOR_ACTIVITY_FLUSH_SECONDS").strip()
    if not _is_seconds(activity_flush):
        missing.append("THOR_ACTIVITY_FLUSH_SECONDS (seconds, 0 or more, e.g. 5)")
    match_window = global_value("THOR_ZORT_MATCH_WINDOW").strip()
    if not _is_seconds(match_window):
        missing.append("THOR_ZORT_MATCH_WINDOW (seconds, 0 or more, e.g. 1800)")
    alert_errors: list[str] = []  # a wrong alert setting never stops the app: logged, its default used
    alerts = read_alerts(env, alert_errors)
    if strict:
        missing += half_configured + alert_errors
    elif alert_errors:
        logging.getLogger("thor.settings").error("alert settings ignored: %s", ", ".join(alert_errors))
    if missing:
        raise SettingsError(missing)
    return Settings(
        storage=storage,
        marketplace_base_url=_usable(env, "MARKETPLACE_BASE_URL"),
        oms_base_url=_usable(env, "OMS_BASE_URL"),
        zort_api_base_url=global_value("ZORT_API_BASE_URL"),
        tenants=tenants,
        retry_delays=retry_delays or DEFAULT_RETRY_DELAYS,
        half_configured=tuple(half_configured),
        console_auth=console_auth,
        console_csrf_key=global_value("CONSOLE_CSRF_KEY"),
        console_client_id=global_value("CONSOLE_CLIENT_ID"),
        console_token_issuer=global_value("CONSOLE_TOKEN_ISSUER"),
        console_jwks_url=global_value("CONSOLE_JWKS_URL"),
        console_operator_group=global_value("CONSOLE_OPERATOR_GROUP"),
        console_operator_role=global_value("CONSOLE_OPERATOR_ROLE"),
        activity_flush_seconds=float(activity_flush),
        zort_match_window=float(match_window) if _is_seconds(match_window) else 1800.0,
        alerts=alerts,
    )


def _is_seconds(text: str) -> bool:
    try:
        return 0 <= float(text) < 3600
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of the running app, read once (tests call `get_settings.cache_clear()`): lenient
    about half-configured tenants, which are logged and left blocked."""
    settings = load_settings(strict=False)
    if settings.half_configured:
        logging.getLogger("thor.settings").error(
            "tenant settings missing (their events wait, blocked): %s", ", ".join(settings.half_configured)
        )
    return settings


# --- local.settings.json ------------------------------------------------------------------------


class LocalSettingsError(ValueError):
    """A local.settings.json that is not one (not JSON, or no `Values` object)."""


def read_local_settings(path: Path) -> dict[str, Any]:
    """The whole local.settings(.example).json, checked to be an object with a `Values` object."""
    try:
        document = json.loads(path.read_text())
        if not isinstance(document, dict) or not isinstance(document.get("Values", {}), dict):
            raise ValueError("no Values object")
    except ValueError as error:
        raise LocalSettingsError(f"{path} is not a local.settings.json file: {error}") from None
    return document


def local_values(path: Path) -> dict[str, str]:
    """`Values` of a local.settings(.example).json, every value as text; {} when there is no file."""
    if not path.is_file():
        return {}
    return {str(name): str(value) for name, value in read_local_settings(path).get("Values", {}).items()}


def local_settings_environment(path: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """local.settings.json's Values (when the file exists) overlaid by the environment, which wins:
    what the Functions host gives Thor locally, and what the ops CLI and the local runner read."""
    env = local_values(path) if path is not None else {}
    env.update(os.environ if environ is None else environ)
    return env
