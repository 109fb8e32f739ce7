"""Microsoft Teams: a Workflows (Power Automate) webhook that posts an Adaptive Card to a channel.

Confirmed (search tool, 2026-12-04):
- The body is a message with one Adaptive Card attachment: `{"type": "message", "attachments":
  [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content":
  {AdaptiveCard}}]}`: "type must be message", "contentType must be set to adaptive card type",
  "content is the card" (MicrosoftDocs/msteams-docs, webhooks-and-connectors/how-to/connectors-using.md,
  "Send adaptive cards using an incoming webhook").
- Workflows support Adaptive Cards only, not the connectors' MessageCard; a flow is created from
  the "When a Teams webhook request is received" trigger / the "Send webhook alerts to a channel"
  template (learn.microsoft.com microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using,
  "Known issues").
- Teams renders Adaptive Cards up to schema version 1.5 (learn.microsoft.com
  microsoft-copilot-studio/guidance/adaptive-cards-overview: "Teams is also limited to version 1.5").
  Thor sends version 1.4 cards using only TextBlock, FactSet and Action.OpenUrl (all of 1.0), and
  checks them against the 1.5 schema (microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json;
  localdev/sandboxes/alert_schemas.py transcribes the parts used). The schema's AdaptiveCard has
  `additionalProperties: false`, so no Teams-only `msteams` property is sent.
- Action.OpenUrl is among the actions an incoming webhook supports (same page).
Not confirmed: the exact status a Workflows trigger answers (202 Accepted is what flows answer; any
2xx is taken as delivered here) and its rate limits (the connector limits, 4 per second, are the
documented ones; Thor sends at most a few messages per run).
"""

from __future__ import annotations

from typing import Any

import requests

from shared.adapters.alerts._common import AlertError, accepted, webhook_config
from shared.adapters.http import HttpCaller, Request
from shared.domain.alerts import AlertMessage, Message, Notice

CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
COLOURS = {Message.OPENED: "attention", Message.REMINDER: "warning", Message.RESOLVED: "good"}


def adaptive_card(notice: Notice) -> dict[str, Any]:
    """The notice as an Adaptive Card (1.4; valid against the 1.5 schema)."""
    if isinstance(notice, AlertMessage):
        facts = [
            {"title": "Storefront", "value": f"{notice.tenant_name} ({notice.tenant})"},
            {"title": "How many", "value": notice.count_text},
            {"title": "Since", "value": notice.opened_at},
        ]
        if notice.sample:
            facts.append({"title": "For example", "value": ", ".join(notice.sample)})
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": notice.headline,
                "weight": "bolder",
                "size": "medium",
                "wrap": True,
                "color": COLOURS[notice.kind],
            },
            {"type": "FactSet", "facts": facts},
        ]
        if notice.kind is not Message.RESOLVED:
            body += [
                {"type": "TextBlock", "text": f"Why: {notice.why}", "wrap": True},
                {"type": "TextBlock", "text": f"What to do: {notice.what_to_do}", "wrap": True},
            ]
        title = "Open in the console"
    else:
        body = [
            {"type": "TextBlock", "text": notice.headline, "weight": "bolder", "size": "medium", "wrap": True},
            {"type": "TextBlock", "text": notice.summary, "wrap": True},
            {"type": "TextBlock", "text": f"The link works until {notice.expires}.", "wrap": True, "isSubtle": True},
        ]
        title = "Download the CSV"
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": title, "url": notice.link}],
    }


def teams_payload(notice: Notice) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": adaptive_card(notice)}],
    }


class TeamsChannel:
    name = "teams"

    def __init__(self, url: str, session: requests.Session | None = None):
        self.url = url
        self.caller = HttpCaller(webhook_config(url), AlertError, session=session)

    def send(self, notice: Notice) -> None:
        self.caller.call("Teams webhook", Request("POST", self.url, json=teams_payload(notice)), accepted)
