"""Who is using the console, and whether a POST really comes from the console's own page.

Sign-in is App Service authentication's (Easy Auth, Microsoft Entra ID; infra/main.bicep): the
platform signs the user in and puts the user on each request in headers outside callers cannot set
(learn.microsoft.com, "Work with user identities in AzureApp Service authentication": "External
requests aren't allowed to set these headers, so they're present only if set by App Service").
Thor trusts those headers only when `CONSOLE_AUTH=platform` says that authentication is in front of
it; otherwise every console request is refused (403), forged headers or not. Whether Easy Auth
strips the headers on the Flex Consumption plan is not stated by Microsoft (its preview docs said
Easy Auth was not supported there and did not block callers; current docs no longer list that
limitation): docs/deploy.md checks it after each deployment with a forged header.
Locally the runner stands in for the platform (localdev/runner.py): it drops such headers from
callers and signs every console request in as a fixed local user (identity provider
`thor-local-runner`), which the pages say.

Headers (same page): `X-MS-CLIENT-PRINCIPAL-NAME` (a human-readable name, e.g. the e-mail or UPN),
`X-MS-CLIENT-PRINCIPAL-ID`, `X-MS-CLIENT-PRINCIPAL-IDP`, and `X-MS-CLIENT-PRINCIPAL` (Base64 JSON
`{"auth_typ", "claims": [{"typ", "val"}], "name_typ", "role_typ"}`); read case-insensitively.
Sign-in redirect: `/.auth/login/aad?post_login_redirect_uri=…` (learn.microsoft.com, "Customize
sign-ins and sign-outs in Azure App Service authentication").

Cross-site requests: every action is a POST that carries a token bound to the signed-in user and
signed with `CONSOLE_CSRF_KEY` (HMAC-SHA256; valid 8 hours), and a browser's `Origin` /
`Sec-Fetch-Site` must say the same site. Easy Auth keeps the session in a cookie a cross-site POST
would carry, so neither check can be skipped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import azure.functions as func

from functions._http import Problem

LOCAL_IDP = "thor-local-runner"
LOGIN_PATH = "/.auth/login/aad"
TOKEN_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    idp: str

    @property
    def local(self) -> bool:
        return self.idp == LOCAL_IDP

    @property
    def who(self) -> str:
        """How actions name the user on an order's timeline."""
        return f"{self.name} ({self.idp})"


class NotSignedIn(Exception):
    """No platform principal on the request: a page redirects to the sign-in, an action is refused."""


def _claims(encoded: str) -> dict[str, str]:
    try:
        decoded = json.loads(base64.b64decode(encoded, validate=False))
        claims = decoded.get("claims") or []
        return {str(c.get("typ")): str(c.get("val")) for c in claims if isinstance(c, dict)}
    except (binascii.Error, ValueError, AttributeError, TypeError):
        raise Problem(
            401, "Not signed in", "the platform's principal header is malformed", "x-ms-client-principal"
        ) from None


def principal(req: func.HttpRequest, console_auth: str) -> Principal:
    """The signed-in user; Problem 403 when the console's sign-in is off, NotSignedIn when absent."""
    if console_auth != "platform":
        raise Problem(
            403,
            "Console sign-in is off",
            "the console needs App Service authentication in front of Thor (CONSOLE_AUTH=platform)",
            "CONSOLE_AUTH",
        )
    headers = req.headers
    claims = _claims(headers["x-ms-client-principal"]) if headers.get("x-ms-client-principal") else {}
    name = headers.get("x-ms-client-principal-name") or claims.get("name") or ""
    user_id = headers.get("x-ms-client-principal-id") or claims.get(
        "http://schemas.microsoft.com/identity/claims/objectidentifier", ""
    )
    if not (name or user_id):
        raise NotSignedIn()
    return Principal(user_id or name, name or user_id, headers.get("x-ms-client-principal-idp") or "aad")


def login_redirect(path: str) -> func.HttpResponse:
    target = f"{LOGIN_PATH}?post_login_redirect_uri={quote(path, safe='/')}"
    return func.HttpResponse(status_code=302, headers={"Location": target})


# --- anti-CSRF --------------------------------------------------------------------------------


def _signature(key: str, user_id: str, issued: str, nonce: str) -> str:
    message = f"{user_id}|{issued}|{nonce}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def csrf_token(key: str, user: Principal, now: float | None = None) -> str:
    issued = str(int(now if now is not None else time.time()))
    nonce = secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_signature(key, user.id, issued, nonce)}"


def check_csrf(key: str, user: Principal, token: str, now: float | None = None) -> None:
    """Problem 403 unless `token` was issued to this user with this key within TOKEN_SECONDS."""
    if not key:
        raise Problem(503, "Not configured", "console actions need the setting CONSOLE_CSRF_KEY", "CONSOLE_CSRF_KEY")
    issued, _, rest = (token or "").partition(".")
    nonce, _, signature = rest.partition(".")
    now = now if now is not None else time.time()
    fresh = issued.isdigit() and 0 <= now - int(issued) <= TOKEN_SECONDS
    expected = _signature(key, user.id, issued, nonce)
    if not (fresh and hmac.compare_digest(signature.encode(), expected.encode())):
        raise Problem(403, "Refused", "the form's token is missing, expired or not yours: reload the page", "csrf")


def check_same_origin(req: func.HttpRequest) -> None:
    """Problem 403 when the browser says the POST comes from another site."""
    site = (req.headers.get("sec-fetch-site") or "").lower()
    if site and site not in ("same-origin", "none"):
        raise Problem(403, "Refused", f"a cross-site request ({site}) cannot act in the console", "sec-fetch-site")
    origin = req.headers.get("origin")
    if origin:
        host = req.headers.get("x-forwarded-host") or req.headers.get("host") or urlsplit(req.url).netloc
        if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
            raise Problem(403, "Refused", "the request's Origin is not this site", "origin")
