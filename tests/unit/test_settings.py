"""Settings: required ones named when missing, half-configured tenants rejected, the rest optional."""

from pathlib import Path

import pytest

from shared.settings import (
    EXAMPLE_SETTINGS,
    OmsTenantSettings,
    SettingsError,
    all_setting_names,
    load_settings,
    local_values,
)

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "MARKETPLACE_BASE_URL": "http://m",
    "OMS_BASE_URL": "http://o",
}


def test_missing_global_setting_is_named() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"AzureWebJobsStorage": "x"})
    assert error.value.missing == ["MARKETPLACE_BASE_URL", "OMS_BASE_URL"]


def test_tenant_without_a_system_is_allowed_and_half_configured_is_not() -> None:
    assert load_settings(BASE).tenant("faco").oms is None
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "OMS_TOKEN_FACO": "t"})
    assert error.value.missing == ["OMS_TENANT_FACO"]
    settings = load_settings({**BASE, "OMS_TOKEN_FACO": "t", "OMS_TENANT_FACO": "faco"})
    assert settings.oms("faco") == OmsTenantSettings(token="t", tenant_header="faco")


def test_identity_based_storage_replaces_the_connection_string() -> None:
    env = {**BASE, "AzureWebJobsStorage": "", "AzureWebJobsStorage__accountName": "thorsa"}
    assert load_settings(env).storage.account_name == "thorsa"


def test_bad_retry_delays_are_named() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, "THOR_RETRY_DELAYS": "soon"})
    assert "THOR_RETRY_DELAYS" in error.value.missing[0]


def test_example_settings_list_every_setting_and_load() -> None:
    values = local_values(EXAMPLE_SETTINGS)
    assert set(all_setting_names()) <= set(values)
    settings = load_settings(values)
    assert settings.zort("somx").key1


def test_unresolved_key_vault_reference_is_not_a_credential() -> None:
    ref = "@Microsoft.KeyVault(VaultName=thor;SecretName=zort-key1-faco)"
    assert load_settings({**BASE, "ZORT_KEY1_FACO": ref}).tenant("faco").zort is None


def test_the_running_app_blocks_a_half_configured_tenant_instead_of_refusing_everything() -> None:
    settings = load_settings(
        {**BASE, "OMS_TOKEN_FACO": "t", "OMS_TOKEN_SOCL": "t2", "OMS_TENANT_SOCL": "socl"}, strict=False
    )
    assert settings.half_configured == ("OMS_TENANT_FACO",)
    assert settings.tenant("faco").oms is None and settings.oms("socl")
    from shared.connectors import build_client
    from shared.domain.errors import NotConfigured

    with pytest.raises(NotConfigured) as blocked:
        build_client(settings, "oms", "faco")
    assert blocked.value.missing == ["OMS_TENANT_FACO"]


def test_ready_to_ship_is_off_unless_asked_for_in_the_example_and_in_infra() -> None:
    """It changes orders in the real storefront (pack + ready to ship), so nothing turns it on by default."""
    from shared.tenants import TENANTS

    values = local_values(EXAMPLE_SETTINGS)
    settings = load_settings(values)
    assert not any(settings.ready_to_ship(tenant) for tenant in TENANTS)
    assert {values[f"MARKETPLACE_READY_TO_SHIP_{t.upper()}"] for t in TENANTS} == {"false"}
    marketplace = {"MARKETPLACE_USER_ID_FACO": "u", "MARKETPLACE_API_KEY_FACO": "k", "MARKETPLACE_SELLER_ID_FACO": "s"}
    assert not load_settings({**BASE, **marketplace}).ready_to_ship("faco")
    assert (
        load_settings({**BASE, **marketplace, "MARKETPLACE_READY_TO_SHIP_FACO": "true"})
        .marketplace("faco")
        .ready_to_ship
    )
    for params in EXAMPLE_SETTINGS.parent.glob("infra/*.bicepparam"):
        assert "READY_TO_SHIP" not in params.read_text()  # app setting absent: off


def test_each_system_is_typed_and_not_configured_names_what_is_missing() -> None:
    from shared.domain.errors import NotConfigured

    marketplace = {
        "MARKETPLACE_USER_ID_FACL": "u",
        "MARKETPLACE_API_KEY_FACL": "secret-api-key",
        "MARKETPLACE_SELLER_ID_FACL": "s",
    }
    settings = load_settings(
        {**BASE, **marketplace, "ZORT_KEY1_FACL": "key1", "MARKETPLACE_USER_ID_SOMX": "u2"}, strict=False
    )
    facl = settings.marketplace("facl")
    assert (facl.business_unit, facl.time_zone, facl.ready_to_ship) == ("FACL", "America/Santiago", False)
    assert "secret-api-key" not in repr(facl) and "key1" not in repr(settings.zort("facl"))  # secrets stay out of logs
    with pytest.raises(NotConfigured) as untouched:
        settings.oms("facl")
    assert untouched.value.missing == ["OMS_TOKEN_FACL", "OMS_TENANT_FACL"]
    with pytest.raises(NotConfigured) as half:
        settings.marketplace("somx")
    assert half.value.missing == ["MARKETPLACE_API_KEY_SOMX", "MARKETPLACE_SELLER_ID_SOMX"]
    with pytest.raises(NotConfigured) as no_api:
        settings.zort_api("facl")
    assert (no_api.value.system, no_api.value.missing) == (
        "zort api",
        ["ZORT_STORENAME_FACL", "ZORT_APIKEY_FACL", "ZORT_APISECRET_FACL"],
    )


def test_the_retry_default_is_written_once() -> None:
    """Before, the default was written in settings twice and again in processing."""
    import inspect

    from shared.services.processing import process_event
    from shared.settings import DEFAULT_RETRY_DELAYS, SETTINGS

    assert load_settings(BASE).retry_delays == (10, 60, 300, 1800, 7200)
    assert [spec.default for spec in SETTINGS if spec.key == "THOR_RETRY_DELAYS"] == ["10,60,300,1800,7200"]
    assert inspect.signature(process_event).parameters["retry_delays"].default is DEFAULT_RETRY_DELAYS


def test_one_reader_of_local_settings_where_the_environment_wins(tmp_path: Path) -> None:
    from shared.settings import LocalSettingsError, local_settings_environment

    path = tmp_path / "local.settings.json"
    path.write_text('{"Values": {"OMS_BASE_URL": "http://file", "THOR_RETRY_DELAYS": 5}}')
    env = local_settings_environment(path, {"OMS_BASE_URL": "http://env"})
    assert env == {"OMS_BASE_URL": "http://env", "THOR_RETRY_DELAYS": "5"}
    assert local_settings_environment(tmp_path / "absent.json", {"A": "b"}) == {"A": "b"}
    path.write_text('{"Values": ["not", "an", "object"]}')
    with pytest.raises(LocalSettingsError):
        local_settings_environment(path, {})
