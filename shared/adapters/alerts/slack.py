"""Slack: an incoming webhook, the message in Block Kit with a plain `text` fallback.

Confirmed (search tool, 2026-12-04):
- A section block's text is 1 to 3,000 characters; fields at most 10 items of at most 2,000
  (docs.slack.dev/reference/block-kit/blocks/section-block).
- A header block's text is `plain_text`, at most 150 characters (docs.slack.dev
  reference/block-kit/blocks/header-block, as the slack-messaging crate quotes it).
- At most 50 blocks in a message (docs.slack.dev, as cited in slackapi/bolt-js#2509).
- Incoming webhooks answer errors as HTTP statuses with a short string body: 400 `invalid_payload`,
  403 `action_prohibited`, 404 `channel_not_found`, 410 `channel_is_archived`, 500 `rollup_error`
  (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
- Top-level `text` is used for notifications when `blocks` are present (docs.slack.dev, messaging).
Button limits used (text ≤ 75 characters, url ≤ 3,000) are the slackblocks crate's transcription of
the Block Kit reference, not read on Slack's own page. Texts are cut to fit, never refused.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.adapters.alerts._common import AlertError, accepted, webhook_config
from shared.adapters.http import HttpCaller, Request
from shared.domain.alerts import AlertMessage, Message, Notice

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
BUTTON_TEXT_MAX = 75
BLOCKS_MAX = 50


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn_escape(text: str) -> str:
    """Slack's three control characters in message text (docs.slack.dev formatting: &, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(notice.headline, HEADER_MAX)}}
    ]
    if isinstance(notice, AlertMessage):
        fields = [
            f"*Storefront*\n{notice.tenant_name} ({notice.tenant})",
            f"*How many*\n{notice.count_text}",
            f"*Since*\n{notice.opened_at}",
        ]
        if notice.sample:
            fields.append(f"*For example*\n{', '.join(notice.sample)}")
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": _cut(_mrkdwn_escape(f), FIELD_MAX)} for f in fields],
            }
        )
        if notice.kind is not Message.RESOLVED:
            text = f"*Why:* {_mrkdwn_escape(notice.why)}\n*What to do:* {_mrkdwn_escape(notice.what_to_do)}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}})
        button = "Open in the console"
    else:
        text = f"{_mrkdwn_escape(notice.summary)}\nThe link works until {notice.expires}."
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}})
        button = "Download the CSV"
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": _cut(button, BUTTON_TEXT_MAX)},
                    "url": notice.link,
                }
            ],
        }
    )
    return {"text": _cut(notice.headline, SECTION_MAX), "blocks": blocks[:BLOCKS_MAX]}


class SlackChannel:
    name = "slack"

    def __init__(self, url: str, session: requests.Session | None = None):
        self.url = url
        self.caller = HttpCaller(webhook_config(url), AlertError, session=session)

    def send(self, notice: Notice) -> None:
        self.caller.call("Slack webhook", Request("POST", self.url, json=slack_payload(notice)), accepted)
