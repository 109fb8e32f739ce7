"""Builds each tenant's client for an external system from its typed settings (NotConfigured when absent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.adapters.http.session import CorrelatedSession
from shared.settings import MarketplaceTenantSettings, OmsTenantSettings, Settings, ZortTenantSettings

if TYPE_CHECKING:  # each client is imported where first built: a cold start pays only for what it uses
    from shared.adapters.oms import OmsClient
    from shared.adapters.seller_center import SellerCenterClient
    from shared.adapters.zort import ZortApiClient


def marketplace_client(base_url: str, config: MarketplaceTenantSettings) -> SellerCenterClient:
    from shared.adapters.seller_center import SellerCenterClient, SellerCenterConfig

    return SellerCenterClient(
        SellerCenterConfig(
            base_url=base_url,
            user_id=config.user_id,
            api_key=config.api_key,
            seller_id=config.seller_id,
            business_unit=config.business_unit,
            time_zone=config.time_zone,
        ),
        session=CorrelatedSession(),
    )


def oms_client(base_url: str, config: OmsTenantSettings) -> OmsClient:
    from shared.adapters.oms import OmsClient, OmsConfig

    return OmsClient(
        OmsConfig(base_url=base_url, token=config.token, tenant_header=config.tenant_header),
        session=CorrelatedSession(),
    )


def zort_api_client(base_url: str, config: ZortTenantSettings) -> ZortApiClient:
    from shared.adapters.zort import ZortApiClient, ZortApiConfig

    return ZortApiClient(
        ZortApiConfig(base_url=base_url, storename=config.storename, apikey=config.apikey, apisecret=config.apisecret),
        session=CorrelatedSession(),
    )


def build_client(settings: Settings, system: str, tenant: str) -> SellerCenterClient | OmsClient | ZortApiClient:
    """The tenant's client for `system` (marketplace, oms, zort), from its typed settings."""
    if system == "marketplace":
        return marketplace_client(settings.marketplace_base_url, settings.marketplace(tenant))
    if system == "oms":
        return oms_client(settings.oms_base_url, settings.oms(tenant))
    if system == "zort":
        return zort_api_client(settings.zort_api_base_url, settings.zort_api(tenant))
    raise ValueError(f"no client for {system!r}")
