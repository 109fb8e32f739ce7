"""The alert channels: a Microsoft Teams workflow webhook (Adaptive Card), a Slack incoming webhook
(Block Kit), e-mail through Azure Communication Services. Each renders a `shared.domain.alerts`
notice into its channel's documented payload and sends it through the shared HttpCaller."""

from __future__ import annotations

from shared.adapters.alerts._common import AlertError
from shared.adapters.alerts.email import AcsEmailChannel, AcsEmailConfig, email_message
from shared.adapters.alerts.slack import SlackChannel, slack_payload
from shared.adapters.alerts.teams import TeamsChannel, adaptive_card, teams_payload

__all__ = [
    "AcsEmailChannel",
    "AcsEmailConfig",
    "AlertError",
    "SlackChannel",
    "TeamsChannel",
    "adaptive_card",
    "email_message",
    "slack_payload",
    "teams_payload",
]
