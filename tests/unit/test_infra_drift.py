"""No drift between the settings Thor's code reads and the ones infra/main.bicep sets.

The Bicep CLI is not available to the tests, so this reads the template as text, in the shape
infra/main.bicep promises to keep:

- `var baseAppSettings = { NAME: value ... }`: the literal (not per-tenant) app setting names;
- `var tenants = [ ... ]` and `var tenantSettings = [ { system: '…', setting: '…', required: … } ... ]`:
  the per-tenant settings, expanded here as `<SYSTEM>_<SETTING>_<TENANT>` for every tenant;
- the appsettings resource applies `union(baseAppSettings, tenantAppSettings)`, and
  `tenantAppSettings` names each setting with that same format.

Which per-tenant settings a deployment actually emits is chosen by the `tenantSystems` parameter
(only tenants whose Key Vault secrets exist); what this checks is that the template CAN set every
setting the code reads, and sets nothing the code does not read (except a few platform settings).
The `*_mutation_*` tests prove the checks fail when the template drifts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import (
    EXAMPLE_SETTINGS,
    STORAGE_IDENTITY_SETTINGS,
    STORAGE_SETTING,
    SYSTEM_SETTINGS,
    all_setting_names,
    local_values,
    tenant_setting_name,
)
from shared.tenants import TENANTS

ROOT = Path(__file__).resolve().parents[2]
BICEP = ROOT / "infra" / "main.bicep"
PARAM_FILES = {env: ROOT / "infra" / f"main.{env}.bicepparam" for env in ("test", "prod")}

# Settings the template may set although Thor's code does not read them: read by the platform.
PLATFORM_SETTINGS = frozenset(
    {
        "APPLICATIONINSIGHTS_CONNECTION_STRING",  # Functions host -> Application Insights
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",  # ... authenticated with the managed identity
    }
)
HOST_KEYS = ("marketplace", "zort", "webtracking", "customerservice")
# Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
STORAGE_DATA_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
}


# ------------------------------------------------------------------------------------------------
# Reading the template
# ------------------------------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Drop `//` line comments and `/* */` block comments that are outside '…' strings."""
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:  # escaped character
                out.append(text[i + 1])
                i += 2
                continue
            if c == "'":
                in_string = False
        elif text.startswith("'''", i):  # multi-line string: copied as is
            end = text.find("'''", i + 3)
            end = n if end < 0 else end + 3
            out.append(text[i:end])
            i = end
            continue
        elif c == "'":
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def variable_body(text: str, name: str) -> str:
    """The bracketed value of `var <name> = {…}` or `= […]`, brackets included."""
    match = re.search(rf"^var\s+{re.escape(name)}\s*=\s*([\[{{])", text, re.MULTILINE)
    assert match, f"infra/main.bicep has no `var {name} = {{…}}` / `[…]`"
    opening = match.group(1)
    closing = "]" if opening == "[" else "}"
    depth, start = 0, match.start(1)
    for pos in range(start, len(text)):
        if text[pos] == opening:
            depth += 1
        elif text[pos] == closing:
            depth -= 1
            if depth == 0:
                return text[start : pos + 1]
    raise AssertionError(f"`var {name}` is not closed")


def object_keys(body: str) -> list[str]:
    """Top-level keys of a Bicep object literal (one property per line)."""
    keys, depth = [], 0
    for line in body.splitlines()[1:]:
        if depth == 0:
            match = re.match(r"\s*(?:'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))\s*:", line)
            if match:
                keys.append(match.group(1) or match.group(2))
        depth += line.count("{") + line.count("[") - line.count("}") - line.count("]")
    return keys


def string_list(body: str) -> list[str]:
    return re.findall(r"'([^']*)'", body)


def tenant_setting_entries(body: str) -> list[tuple[str, str, bool]]:
    entries = re.findall(r"\{\s*system:\s*'(\w+)'\s*,?\s*setting:\s*'(\w+)'\s*,?\s*required:\s*(true|false)\s*\}", body)
    assert entries, "`var tenantSettings` lists no `{ system: '…', setting: '…', required: … }` entries"
    assert len(entries) == body.count("{"), "`var tenantSettings` has entries this test cannot read"
    return [(system, setting, required == "true") for system, setting, required in entries]


class Template:
    """What the drift checks need from infra/main.bicep."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = strip_comments(raw)
        self.base_settings = object_keys(variable_body(self.text, "baseAppSettings"))
        self.tenants = string_list(variable_body(self.text, "tenants"))
        self.tenant_settings = tenant_setting_entries(variable_body(self.text, "tenantSettings"))

    def tenant_setting_names(self) -> set[str]:
        return {
            tenant_setting_name(system, setting, tenant)
            for tenant in self.tenants
            for system, setting, _required in self.tenant_settings
        }

    def app_setting_names(self) -> set[str]:
        """Every app setting name the template can set."""
        return set(self.base_settings) | self.tenant_setting_names()


def load_template(path: Path | None = None) -> Template:
    return Template((path or BICEP).read_text(encoding="utf-8"))


def settings_not_set(template: Template) -> list[str]:
    """Settings the code reads that the template cannot set."""
    names = template.app_setting_names()
    missing = []
    for name in all_setting_names():
        if name == STORAGE_SETTING:  # in Azure, identity-based storage replaces the connection string
            if f"{STORAGE_SETTING}__accountName" not in names:
                missing.append(f"{STORAGE_SETTING} (as {STORAGE_SETTING}__accountName)")
        elif name not in names:
            missing.append(name)
    return missing


def settings_not_read(template: Template) -> list[str]:
    """Settings the template sets that neither the code nor the platform reads."""
    read = set(all_setting_names()) | set(STORAGE_IDENTITY_SETTINGS) | PLATFORM_SETTINGS
    return sorted(template.app_setting_names() - read)


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


# ------------------------------------------------------------------------------------------------
# Settings: code <-> template
# ------------------------------------------------------------------------------------------------


def test_template_tenants_are_the_code_tenants(template: Template) -> None:
    assert template.tenants == list(TENANTS)


def test_template_tenant_settings_match_the_code(template: Template) -> None:
    expected = [(system, spec.key, spec.required) for system, specs in SYSTEM_SETTINGS.items() for spec in specs]
    assert sorted(template.tenant_settings) == sorted(expected)


def test_every_setting_the_code_reads_is_set_by_the_template(template: Template) -> None:
    assert settings_not_set(template) == []


def test_every_setting_the_template_sets_is_read(template: Template) -> None:
    assert settings_not_read(template) == []


def test_identity_storage_settings_are_complete(template: Template) -> None:
    # Shared keys are off, so the host and Thor reach storage as the user-assigned identity.
    for name in ("accountName", "credential", "clientId"):
        assert f"{STORAGE_SETTING}__{name}" in template.base_settings
    assert re.search(r"AzureWebJobsStorage__credential:\s*'managedidentity'", template.text)


def test_app_settings_resource_applies_both_setting_variables(template: Template) -> None:
    text = template.text
    assert re.search(r"Microsoft\.Web/sites/config@[\w-]+'\s*=\s*\{[^}]*name:\s*'appsettings'", text, re.S)
    assert re.search(r"properties:\s*union\(\s*baseAppSettings\s*,\s*tenantAppSettings\s*\)", text)
    # the per-tenant names are built exactly as this test expands them (tenant_setting_name)
    assert re.search(
        r"var\s+tenantAppSettings\s*=\s*toObject\(.*?x\s*=>\s*'\$\{x\.system\}_\$\{x\.setting\}_\$\{toUpper\(x\.tenant\)\}'",
        text,
        re.S,
    )


def test_tenant_settings_are_key_vault_references(template: Template) -> None:
    # value: @Microsoft.KeyVault(VaultName=<vault>;SecretName=<system>-<setting>-<tenant>), lower case
    assert re.search(
        r"x\s*=>\s*format\('@Microsoft\.KeyVault\(VaultName=\{0\};SecretName=\{1\}\)',\s*keyVaultName,\s*"
        r"toLower\(replace\('\$\{x\.system\}_\$\{x\.setting\}_\$\{x\.tenant\}',\s*'_',\s*'-'\)\)\)",
        template.text,
    )
    assert re.search(r"keyVaultReferenceIdentity:\s*identity\.id", template.text)


def test_local_settings_example_lists_every_setting() -> None:
    if not EXAMPLE_SETTINGS.exists():
        pytest.skip("local.settings.example.json does not exist yet (another engineer is writing it)")
    values = local_values(EXAMPLE_SETTINGS)
    assert [name for name in all_setting_names() if name not in values] == []


# ------------------------------------------------------------------------------------------------
# Security-relevant declarations
# ------------------------------------------------------------------------------------------------


def test_storage_account_refuses_shared_keys(template: Template) -> None:
    assert re.search(r"^\s*allowSharedKeyAccess:\s*false\s*$", template.text, re.MULTILINE)
    assert re.search(r"^\s*minimumTlsVersion:\s*'TLS1_2'\s*$", template.text, re.MULTILINE)


def test_one_host_key_per_caller_from_secure_parameters_without_defaults(template: Template) -> None:
    text = template.text
    for key in HOST_KEYS:
        assert re.search(
            rf"Microsoft\.Web/sites/host/functionKeys@[\w-]+'\s*=\s*if\s*\(createHostKeys\)\s*\{{\s*name:\s*'\$\{{functionApp\.name\}}/default/{key}'"
            rf"\s*properties:\s*\{{\s*name:\s*'{key}'\s*value:\s*{key}HostKey\s*\}}",
            text,
        ), f"no host key resource named {key}"
        declaration = re.search(rf"((?:@\w+\([^)]*\)\s*)+)param\s+{key}HostKey\s+string([^\n]*)", text)
        assert declaration, f"no parameter {key}HostKey"
        assert "@secure()" in declaration.group(1), f"{key}HostKey is not @secure()"
        assert "=" not in declaration.group(2), f"{key}HostKey has a default value"


def test_host_keys_wait_for_the_code_behind_a_parameter_off_by_default(template: Template) -> None:
    """A new Flex app without code has no host to take keys: the first deployment must skip them."""
    assert re.search(r"^param\s+createHostKeys\s+bool\s*=\s*false\s*$", template.text, re.MULTILINE)
    conditional = re.findall(r"functionKeys@[\w-]+'\s*=\s*if\s*\(createHostKeys\)", template.text)
    assert len(conditional) == len(HOST_KEYS)
    assert len(re.findall(r"functionKeys@", template.text)) == len(HOST_KEYS)
    for env, path in PARAM_FILES.items():  # turned on per run from the environment, off by default
        text = strip_comments(path.read_text(encoding="utf-8"))
        assert re.search(
            r"^param\s+createHostKeys\s*=\s*bool\(readEnvironmentVariable\('THOR_CREATE_HOST_KEYS',"
            r"\s*'false'\)\)\s*$",
            text,
            re.MULTILINE,
        ), env


def test_identity_holds_the_three_storage_data_roles(template: Template) -> None:
    for role, guid in STORAGE_DATA_ROLES.items():
        assert re.search(rf"'{guid}'\s*//\s*{role}\s*$", template.raw, re.MULTILINE), f"{role} ({guid}) missing"
    role_keys = re.findall(r"^\s*(storage\w+DataOwner|storage\w+DataContributor):\s*'", template.text, re.MULTILINE)
    body = variable_body(template.text, "storageRoleIds")
    assert sorted(re.findall(r"roles\.(\w+)", body)) == sorted(role_keys)
    assert re.search(r"scope:\s*storage\s*\n\s*properties:\s*\{\s*roleDefinitionId:[^\n]*roleId\)", template.text)


def test_queue_and_tables_are_declared(template: Template) -> None:
    assert string_list(variable_body(template.text, "queueNames")) == ["thor-events", "thor-events-poison"]
    assert sorted(string_list(variable_body(template.text, "tableNames"))) == sorted(
        [
            "ThorEvents",
            "ThorOrders",
            "ThorProducts",
            "ThorIdempotency",
            "ThorCheckpoints",
            "ThorClaims",
            "ThorActivity",
            "ThorStock",
            "ThorIncidents",
            "ThorFeeds",
            "ThorPrices",
        ]
    )


def test_tables_declared_are_the_tables_the_code_uses(template: Template) -> None:
    from shared.adapters.storage import ALL_TABLES

    assert sorted(string_list(variable_body(template.text, "tableNames"))) == sorted(ALL_TABLES)


def test_console_sign_in_lets_every_other_route_through_and_is_on_only_with_easy_auth(template: Template) -> None:
    """App Service authentication must never answer a webhook or API call with a sign-in redirect:
    unauthenticated requests pass (AllowAnonymous) and the console itself redirects to the sign-in.
    CONSOLE_AUTH (trusting the principal headers) is `platform` exactly when that resource is deployed."""
    text = template.text
    auth = re.search(r"resource\s+consoleAuth\s+'Microsoft\.Web/sites/config@[\w-]+'\s*=\s*if\s*\((.*)\)\s*\{", text)
    assert auth and auth.group(1).replace(" ", "") == "!empty(consoleClientId)"
    assert re.search(r"name:\s*'authsettingsV2'", text)
    assert re.search(r"requireAuthentication:\s*false", text)
    assert re.search(r"unauthenticatedClientAction:\s*'AllowAnonymous'", text)
    assert "excludedPaths" not in text
    assert re.search(r"CONSOLE_AUTH:\s*empty\(consoleClientId\)\s*\?\s*'off'\s*:\s*'platform'", text)
    assert re.search(r"azureActiveDirectory:\s*\{\s*enabled:\s*true", text)


# ------------------------------------------------------------------------------------------------
# Parameter files
# ------------------------------------------------------------------------------------------------


def template_parameters(text: str) -> dict[str, bool]:
    """Parameter name -> has a default value."""
    return {
        name: bool(default.strip().startswith("="))
        for name, default in re.findall(r"^param\s+(\w+)\s+\w+([^\n]*)", text, re.MULTILINE)
    }


@pytest.mark.parametrize("env", sorted(PARAM_FILES))
def test_parameter_files_supply_every_required_parameter(template: Template, env: str) -> None:
    text = strip_comments(PARAM_FILES[env].read_text(encoding="utf-8"))
    assert re.search(r"^using\s+'main\.bicep'\s*$", text, re.MULTILINE)
    assert re.search(rf"^param\s+environmentName\s*=\s*'{env}'\s*$", text, re.MULTILINE)
    given = dict(re.findall(r"^param\s+(\w+)\s*=\s*([^\n]+)", text, re.MULTILINE))
    declared = template_parameters(template.text)
    assert sorted(set(given) - set(declared)) == [], "parameter file sets parameters the template lacks"
    assert sorted(name for name, has_default in declared.items() if not has_default and name not in given) == []
    for key in HOST_KEYS:  # secrets come from the environment, never from the file
        assert re.fullmatch(r"readEnvironmentVariable\('THOR_\w+'\)\s*", given[f"{key}HostKey"])


# ------------------------------------------------------------------------------------------------
# The checks fail when the template drifts (edits on scratch copies, never on the real file)
# ------------------------------------------------------------------------------------------------


def scratch_template(tmp_path: Path, old: str, new: str) -> Template:
    raw = BICEP.read_text(encoding="utf-8")
    assert raw.count(old) == 1, f"scratch edit target not unique: {old!r}"
    scratch = tmp_path / "main.bicep"
    scratch.write_text(raw.replace(old, new), encoding="utf-8")
    return load_template(scratch)


def test_mutation_removing_a_global_setting_is_caught(tmp_path: Path) -> None:
    template = scratch_template(tmp_path, "  ZORT_API_BASE_URL: zortApiBaseUrl\n", "")
    assert settings_not_set(template) == ["ZORT_API_BASE_URL"]


def test_mutation_removing_a_tenant_setting_is_caught(tmp_path: Path) -> None:
    template = scratch_template(tmp_path, "  { system: 'ZORT', setting: 'APISECRET', required: false }\n", "")
    assert settings_not_set(template) == [f"ZORT_APISECRET_{t.upper()}" for t in TENANTS]


def test_mutation_removing_identity_storage_is_caught(tmp_path: Path) -> None:
    template = scratch_template(tmp_path, "  AzureWebJobsStorage__accountName: storage.name\n", "")
    assert settings_not_set(template) == ["AzureWebJobsStorage (as AzureWebJobsStorage__accountName)"]


def test_mutation_an_unread_setting_is_caught(tmp_path: Path) -> None:
    template = scratch_template(
        tmp_path, "  ZORT_API_BASE_URL: zortApiBaseUrl\n", "  ZORT_API_BASE_URL: zortApiBaseUrl\n  ZORT_API_URL: 'x'\n"
    )
    assert settings_not_read(template) == ["ZORT_API_URL"]


def test_mutation_a_commented_out_setting_is_caught(tmp_path: Path) -> None:
    template = scratch_template(tmp_path, "  OMS_BASE_URL: omsBaseUrl\n", "  // OMS_BASE_URL: omsBaseUrl\n")
    assert settings_not_set(template) == ["OMS_BASE_URL"]


def test_mutation_a_dropped_tenant_is_caught(tmp_path: Path) -> None:
    template = scratch_template(tmp_path, "  'somx'\n]", "]")
    assert "ZORT_KEY1_SOMX" in settings_not_set(template)


def test_console_csrf_key_is_a_key_vault_secret_the_same_across_deployments() -> None:
    """Issue 17 item 5: it was `param consoleCsrfKey string = newGuid()`, a new key on every deployment
    (every open console form failed after one). Now a Key Vault reference, rotated on purpose."""
    text = BICEP.read_text()
    setting = re.search(r"^\s*CONSOLE_CSRF_KEY:\s*(.+)$", text, re.MULTILINE)
    assert setting, "CONSOLE_CSRF_KEY is not in the app settings"
    assert "@Microsoft.KeyVault(VaultName={0};SecretName=console-csrf-key)" in setting.group(1)
    assert "keyVaultName" in setting.group(1)
    assert "newGuid()" not in text
    assert "console-csrf-key" in (ROOT / "docs" / "deploy.md").read_text()
