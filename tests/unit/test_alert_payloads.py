"""Each channel's payload is valid for the channel's published schema (localdev/sandboxes/alert_schemas.py:
the Adaptive Card 1.5 schema, Slack's Block Kit limits, ACS's EmailMessage and HMAC authentication),
for every kind of message, long texts included; and the checks refuse what the sources refuse."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from localdev.sandboxes.alert_schemas import (
    acs_auth_errors,
    acs_body_errors,
    adaptive_card_errors,
    slack_errors,
    teams_errors,
)
from shared.adapters.alerts import adaptive_card, email_message, slack_payload, teams_payload
from shared.adapters.alerts.email import hmac_headers
from shared.domain.alerts import WHAT_TO_DO, AlertMessage, Message, Notice, ReportMessage
from shared.domain.at_risk import RiskKind

KEY = base64.b64encode(b"a key of the alert sandbox").decode()
NOW = datetime(2026, 12, 4, 21, 0, tzinfo=timezone.utc)


def alert(kind: Message, why: str = "not in the OMS 45 min after it was created") -> AlertMessage:
    return AlertMessage(
        kind=kind,
        tenant="facl",
        tenant_name="Falabella Chile",
        rule=RiskKind.NOT_IN_OMS,
        title="orders not in the OMS",
        count_text="50+",
        why=why,
        what_to_do=WHAT_TO_DO[RiskKind.NOT_IN_OMS],
        link="https://thor.example/console/tenants/facl/at-risk",
        sample=("facl-1", "facl-2"),
        opened_at="2026-12-04 18:00 America/Santiago (UTC-03:00)",
    )


REPORT = ReportMessage(
    "facl", "Falabella Chile", "daily order summary 2026-12-03", "12 row(s)", "https://x/y?sig=1", "z"
)
NOTICES = [
    alert(Message.OPENED),
    alert(Message.REMINDER),
    alert(Message.RESOLVED),
    REPORT,
    alert(Message.OPENED, "x" * 10_000),
]


@pytest.mark.parametrize("notice", NOTICES)
def test_every_payload_is_valid_for_its_channel(notice: Notice) -> None:
    assert teams_errors(teams_payload(notice)) == []
    assert slack_errors(slack_payload(notice)) == []
    assert acs_body_errors(email_message(notice, "DoNotReply@thor.local", ("ops@thor.local",))) == []


def test_the_teams_message_is_the_documented_wrapper_around_a_1_4_card() -> None:
    body = teams_payload(alert(Message.OPENED))
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["version"] == "1.4"
    assert attachment["content"]["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in the console",
        "url": "https://thor.example/console/tenants/facl/at-risk",
    }


def test_the_card_schema_refuses_what_the_official_schema_refuses() -> None:
    card = adaptive_card(alert(Message.OPENED))
    assert adaptive_card_errors({**card, "msteams": {"width": "Full"}})  # additionalProperties: false
    assert adaptive_card_errors({**card, "body": [{"type": "TextBlock"}]})  # text is required
    assert adaptive_card_errors({**card, "body": [{"type": "FactSet", "facts": [{"title": "a"}]}]})
    assert adaptive_card_errors({**card, "actions": [{"type": "Action.OpenUrl", "title": "no url"}]})
    assert adaptive_card_errors({**card, "body": [{"type": "TextBlock", "text": "x", "size": "huge"}]})
    assert adaptive_card_errors({**card, "version": "1.6"})  # Teams renders up to 1.5
    assert adaptive_card_errors({**card, "body": [{"type": "TextBlock", "text": "x", "weight": "Bolder"}]}) == []


def test_slack_limits_are_kept_by_cutting_long_texts() -> None:
    body = slack_payload(alert(Message.OPENED, "why " * 2000))
    header, *_ = body["blocks"]
    assert len(header["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section" and "text" in b)


def test_the_slack_checks_refuse_what_block_kit_refuses() -> None:
    good = slack_payload(alert(Message.OPENED))
    assert slack_errors({**good, "blocks": good["blocks"] * 13})  # 52 blocks
    assert slack_errors({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]})
    assert slack_errors({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]})
    assert slack_errors({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]})
    assert slack_errors({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]})
    assert slack_errors({}) == ["a message needs `text` or `blocks`"]


def test_the_acs_body_needs_its_required_fields() -> None:
    body = email_message(alert(Message.OPENED), "DoNotReply@thor.local", ("ops@thor.local",))
    assert body["content"]["subject"].startswith("Alert [facl]")
    assert acs_body_errors({**body, "senderAddress": None})
    assert acs_body_errors({**body, "recipients": {"to": []}})
    assert acs_body_errors({**body, "content": {"plainText": "no subject"}})


def test_the_hmac_signature_verifies_and_a_changed_body_or_key_does_not() -> None:
    url = "https://thor-acs.communication.azure.com/emails:send?api-version=2023-03-31"
    body = json.dumps(email_message(REPORT, "DoNotReply@thor.local", ("ops@thor.local",))).encode()
    headers = {k.lower(): v for k, v in hmac_headers("POST", url, body, KEY, NOW).items()}
    path, host = "/emails:send?api-version=2023-03-31", "thor-acs.communication.azure.com"
    assert acs_auth_errors("POST", path, host, headers, body, KEY, NOW) == []
    assert acs_auth_errors("POST", path, host, headers, body + b" ", KEY, NOW)
    other = base64.b64encode(b"another key").decode()
    assert acs_auth_errors("POST", path, host, headers, body, other, NOW)
    assert acs_auth_errors("POST", path, host, headers, body, KEY, NOW.replace(hour=22))  # 60 min off
