"""E-mail through Azure Communication Services (ACS), its Email REST API.

Confirmed (search tool, 2026-12-04):
- `POST {endpoint}/emails:send?api-version=2023-03-31`, JSON body `EmailMessage`: required
  `senderAddress` (from a verified domain), `content` (required `subject`; `plainText`, `html`) and
  `recipients` (required `to`: `[{address, displayName?}]`); answer 202 with `Operation-Location`
  and `{id, status}` (Azure/azure-rest-api-specs, specification/communication/data-plane/Email/
  stable/2023-03-31/CommunicationServicesEmail.json).
- Access-key authentication is HMAC-SHA256: headers `x-ms-date` (RFC 1123), `x-ms-content-sha256`
  (base64 SHA-256 of the body) and `Authorization: HMAC-SHA256
  SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64 HMAC-SHA256 of
  "POST\\n<path and query>\\n<date>;<host>;<content hash>" with the base64-decoded access key>`
  (learn.microsoft.com azure/communication-services/tutorials/hmac-header-tutorial; the same
  scheme as docs.rs acs-signature; headers in learn.microsoft.com rest/api/communication/headers).
Not confirmed here: the Entra ID token scope `https://communication.azure.com/.default` (what the
Azure SDKs for Communication Services ask for) used with the managed identity when ACS_ACCESS_KEY is
empty; the identity needs a role on the ACS resource (docs/deploy.md). The send is not polled to
completion: 202 means ACS queued it (its delivery status is in ACS's logs).

Why the REST call and not `azure-communication-email` (1.1.0): one POST, through the HttpCaller
every connector shares (timeouts, back-off, masked secrets), and no second HTTP pipeline to load.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from shared.adapters.alerts._common import AlertError, accepted
from shared.adapters.http import HttpCaller, HttpConfig, Request
from shared.domain.alerts import AlertMessage, Message, Notice

API_VERSION = "2023-03-31"
SEND_PATH = "/emails:send"
TOKEN_SCOPE = "https://communication.azure.com/.default"


@dataclass(frozen=True, kw_only=True)
class AcsEmailConfig(HttpConfig):
    access_key: str = field(default="", repr=False)
    """Base64 access key of the ACS resource; empty: an Entra ID token (`token`)."""
    sender: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.access_key,)


def email_message(notice: Notice, sender: str, to: tuple[str, ...]) -> dict[str, Any]:
    """The EmailMessage body: subject, a plain-text version and no HTML (nothing to escape)."""
    lines = [notice.headline, ""]
    if isinstance(notice, AlertMessage):
        lines += [
            f"Storefront: {notice.tenant_name} ({notice.tenant})",
            f"How many: {notice.count_text}",
            f"Since: {notice.opened_at}",
        ]
        if notice.sample:
            lines.append(f"For example: {', '.join(notice.sample)}")
        if notice.kind is not Message.RESOLVED:
            lines += ["", f"Why: {notice.why}", f"What to do: {notice.what_to_do}"]
        lines += ["", f"Console: {notice.link}"]
    else:
        lines += [notice.summary, "", f"Download (until {notice.expires}): {notice.link}"]
    return {
        "senderAddress": sender,
        "recipients": {"to": [{"address": address} for address in to]},
        "content": {"subject": notice.headline, "plainText": "\n".join(lines)},
    }


def hmac_headers(method: str, url: str, body: bytes, access_key: str, now: datetime) -> dict[str, str]:
    """The three headers of ACS's HMAC-SHA256 access-key authentication."""
    parts = urlsplit(url)
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    date = format_datetime(now.astimezone(timezone.utc), usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"{method}\n{path_and_query}\n{date};{parts.netloc};{content_hash}"
    signature = base64.b64encode(
        hmac.new(base64.b64decode(access_key), to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


class AcsEmailChannel:
    name = "email"

    def __init__(
        self,
        config: AcsEmailConfig,
        to: tuple[str, ...],
        *,
        token: Callable[[], str] | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.config = config
        self.to = to
        self.token = token
        self.clock = clock
        self.caller = HttpCaller(config, AlertError, session=session)

    def _request(self, body: bytes) -> Request:
        url = f"{self.config.base_url}{SEND_PATH}?api-version={API_VERSION}"
        headers = {"Content-Type": "application/json"}
        if self.config.access_key:
            headers.update(hmac_headers("POST", url, body, self.config.access_key, self.clock()))
        elif self.token is not None:
            headers["Authorization"] = f"Bearer {self.token()}"
        return Request("POST", url, headers=headers, data=body)

    def send(self, notice: Notice) -> None:
        body = json.dumps(email_message(notice, self.config.sender, self.to)).encode()
        # signed afresh for each attempt: x-ms-date is part of the signature
        self.caller.call("ACS emails:send", lambda: self._request(body), accepted)
