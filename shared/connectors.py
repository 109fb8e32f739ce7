"""Builds each tenant's client for an external system from settings (NotConfigured when absent)."""
from __future__ import annotations

from shared.domain.errors import NotConfigured
from shared.observability import CorrelatedSession
from shared.settings import TENANT_SETTINGS, Settings, tenant_setting_name
from shared.tenants import TENANT_TIMEZONES

SYSTEMS = {"marketplace": "MARKETPLACE", "oms": "OMS", "zort": "ZORT"}


def _tenant_settings(settings: Settings, system: str, tenant: str) -> dict:
    found = settings.tenant_system(tenant, system)
    if found is None:
        names = [tenant_setting_name(system, s, tenant) for s in TENANT_SETTINGS[system][0]]
        half = [name for name in names if name in settings.half_configured]
        raise NotConfigured(system.lower(), tenant, half or names)
    return dict(found)


def build_client(settings: Settings, system: str, tenant: str):
    name = SYSTEMS[system]
    values = _tenant_settings(settings, name, tenant)
    if system == "marketplace":
        from shared.adapters.seller_center import SellerCenterClient, SellerCenterConfig
        return SellerCenterClient(SellerCenterConfig(
            base_url=settings.marketplace_base_url, user_id=values["USER_ID"], api_key=values["API_KEY"],
            seller_id=values["SELLER_ID"], business_unit=values.get("BUSINESS_UNIT") or tenant.upper(),
            time_zone=TENANT_TIMEZONES[tenant]),
            session=CorrelatedSession())
    if system == "oms":
        from shared.adapters.oms import OmsClient, OmsConfig
        return OmsClient(OmsConfig(base_url=settings.oms_base_url, token=values["TOKEN"],
                                   tenant_header=values["TENANT"]), session=CorrelatedSession())
    if not values.get("APIKEY"):
        required = ("STORENAME", "APIKEY", "APISECRET")
        raise NotConfigured("zort api", tenant, [tenant_setting_name(name, s, tenant) for s in required])
    from shared.adapters.zort import ZortApiClient, ZortApiConfig
    return ZortApiClient(ZortApiConfig(base_url=settings.zort_api_base_url, storename=values.get("STORENAME", ""),
                                       apikey=values["APIKEY"], apisecret=values.get("APISECRET", "")),
                          session=CorrelatedSession())


def ready_to_ship_enabled(settings: Settings, tenant: str) -> bool:
    values = settings.tenant_system(tenant, "MARKETPLACE") or {}
    return str(values.get("READY_TO_SHIP", "")).strip().lower() in {"1", "true", "yes", "on"}
