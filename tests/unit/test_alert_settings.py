"""Alert settings (shared/settings.py): channels for all tenants or per tenant, quiet hours checked,
secrets never in a repr."""

from __future__ import annotations

import pytest

from shared.settings import SettingsError, load_settings

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "MARKETPLACE_BASE_URL": "http://m",
    "OMS_BASE_URL": "http://o",
}


def test_a_tenants_own_channel_replaces_the_one_for_all_and_the_others_stay() -> None:
    alerts = load_settings(
        {
            **BASE,
            "ALERT_TEAMS_WEBHOOK_URL": "https://teams/all",
            "ALERT_SLACK_WEBHOOK_URL": "https://slack/all",
            "ALERT_EMAIL_TO": "ops@x, lead@x",
            "ALERT_SLACK_WEBHOOK_URL_FACL": "https://slack/facl",
            "ALERT_QUIET_HOURS_FACL": "22-07",
        }
    ).alerts
    facl, faco = alerts.channels("facl"), alerts.channels("faco")
    assert (facl.teams_url, facl.slack_url, facl.email_to) == (
        "https://teams/all",
        "https://slack/facl",
        ("ops@x", "lead@x"),
    )
    assert faco.slack_url == "https://slack/all"
    assert alerts.quiet("facl") == "22-07" and alerts.quiet("faco") == ""
    assert "slack" not in repr(alerts)  # webhook URLs are secrets


def test_wrong_alert_settings_are_named_at_start_up_and_ignored_in_azure() -> None:
    wrong = {**BASE, "ALERT_QUIET_HOURS_SOMX": "late", "ALERT_REMINDER_HOURS": "0", "REPORT_LINK_HOURS": "500"}
    with pytest.raises(SettingsError) as refused:
        load_settings(wrong)
    named = " ".join(refused.value.missing)
    assert "ALERT_QUIET_HOURS_SOMX" in named and "ALERT_REMINDER_HOURS" in named and "REPORT_LINK_HOURS" in named
    lenient = load_settings(wrong, strict=False).alerts  # the app starts; defaults stand in
    assert lenient.quiet("somx") == "" and lenient.reminder_hours == 4.0 and lenient.report_link_hours == 72
