"""Who is using the console, whether they may act, and whether a POST really comes from the console's page.

Sign-in is App Service authentication's (Easy Auth, Microsoft Entra ID; infra/main.bicep). Thor does not
take the platform's `X-MS-CLIENT-PRINCIPAL*` headers on trust (whether Easy Auth strips callers' copies
on the Flex Consumption plan is not stated by Microsoft): it verifies the Entra ID token the platform
forwards with the token store on, `X-MS-TOKEN-AAD-ID-TOKEN` (learn.microsoft.com, "Work with user
identities in Azure App Service authentication": "Microsoft Entra also sets X-MS-TOKEN-AAD-ACCESS-TOKEN
and X-MS-TOKEN-AAD-ID-TOKEN"; without the token store it is not sent). The ID token's audience is the
app registration's client id (the access token's would be Microsoft Graph's), so that is the one read.
Checked with PyJWT: RS256 signature against the keys the issuer publishes (`CONSOLE_JWKS_URL`, fetched
by PyJWKClient and cached for an hour), issuer (`CONSOLE_TOKEN_ISSUER`), audience (`CONSOLE_CLIENT_ID`),
expiry and issue time (60 s of clock skew). The user is the token's claims, never the headers: a
principal header without a valid token is refused (401), an expired or foreign token too.

Who may act (replay, re-sync): a member of `CONSOLE_OPERATOR_GROUP` (the token's `groups` claim: the app
registration must emit group ids) or a holder of the app role `CONSOLE_OPERATOR_ROLE` (`roles` claim).
Anyone else signed in may read every page, and is told, not obeyed, when asking to act (403).

Locally the runner stands in for the platform (localdev/runner.py): it generates a key pair at start,
serves its JWKS and signs a token for a fixed local operator (issuer `thor-local-runner`), so the same
verification runs locally and in tests; the pages say the sign-in is local.

Cross-site requests: every action is a POST that carries a token bound to the signed-in user and
signed with `CONSOLE_CSRF_KEY` (HMAC-SHA256; valid 8 hours), and a browser's `Origin` /
`Sec-Fetch-Site` must say the same site. Easy Auth keeps the session in a cookie a cross-site POST
would carry, so neither check can be skipped.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import azure.functions as func

from functions._http import Problem

if TYPE_CHECKING:
    import jwt

    from shared.settings import Settings

LOCAL_IDP = "thor-local-runner"
LOCAL_ISSUER = "thor-local-runner"
LOGIN_PATH = "/.auth/login/aad"
TOKEN_SECONDS = 8 * 3600
ID_TOKEN_HEADER = "x-ms-token-aad-id-token"
PRINCIPAL_HEADERS = ("x-ms-client-principal", "x-ms-client-principal-name", "x-ms-client-principal-id")
JWKS_SECONDS = 3600
CLOCK_SKEW = 60


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    idp: str
    can_act: bool = False
    """A member of the operator group or a holder of the operator role: may replay and re-sync."""

    @property
    def local(self) -> bool:
        return self.idp == LOCAL_IDP

    @property
    def who(self) -> str:
        """How actions name the user on an order's timeline."""
        return f"{self.name} ({self.idp})"


class NotSignedIn(Exception):
    """No sign-in at all on the request: a page redirects to the sign-in, an action is refused."""


class SignInRefused(Exception):
    """A token (or a principal header) that does not verify: 401, saying why."""


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One client per JWKS URL: keys cached JWKS_SECONDS (a key the cache lacks is fetched once more)."""
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_SECONDS, timeout=3)


def verify_token(token: str, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """The token's claims once its signature, issuer, audience and times are checked (SignInRefused)."""
    import jwt

    missing = [
        name
        for name, value in (
            ("CONSOLE_CLIENT_ID", settings.console_client_id),
            ("CONSOLE_TOKEN_ISSUER", settings.console_token_issuer),
            ("CONSOLE_JWKS_URL", settings.console_jwks_url),
        )
        if not value
    ]
    if missing:
        raise Problem(503, "Not configured", f"console sign-in needs the settings {', '.join(missing)}", missing[0])
    try:
        key = _jwks_client(settings.console_jwks_url).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise Problem(
            503, "Sign-in keys unavailable", "the identity provider's keys could not be fetched", "CONSOLE_JWKS_URL"
        ) from None
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as error:
        raise SignInRefused(f"the sign-in token's key is not the identity provider's ({error})") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.console_client_id,
            issuer=settings.console_token_issuer,
            leeway=CLOCK_SKEW,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise SignInRefused("your sign-in has expired: sign in again") from None
    except jwt.InvalidAudienceError:
        raise SignInRefused("the sign-in token is for another application") from None
    except jwt.InvalidIssuerError:
        raise SignInRefused("the sign-in token comes from another issuer") from None
    except jwt.InvalidTokenError as error:
        raise SignInRefused(f"the sign-in token is not valid ({error})") from None
    return claims


def may_act(claims: dict[str, Any], settings: Settings) -> bool:
    groups = claims.get("groups") or []
    roles = claims.get("roles") or []
    in_group = bool(settings.console_operator_group) and settings.console_operator_group in groups
    has_role = bool(settings.console_operator_role) and settings.console_operator_role in roles
    return in_group or has_role


def principal(req: func.HttpRequest, settings: Settings) -> Principal:
    """The signed-in user, from a verified token: Problem 403 when the console's sign-in is off,
    NotSignedIn when nothing says who it is, SignInRefused when what says it does not verify."""
    if settings.console_auth != "platform":
        raise Problem(
            403,
            "Console sign-in is off",
            "the console needs App Service authentication in front of Thor (CONSOLE_AUTH=platform)",
            "CONSOLE_AUTH",
        )
    token = (req.headers.get(ID_TOKEN_HEADER) or "").strip()
    if not token:
        if any(req.headers.get(name) for name in PRINCIPAL_HEADERS):
            raise SignInRefused("a principal header without a verifiable sign-in token is not a sign-in")
        raise NotSignedIn()
    claims = verify_token(token, settings)
    user_id = str(claims.get("oid") or claims.get("sub") or "")
    name = str(claims.get("preferred_username") or claims.get("email") or claims.get("name") or user_id)
    if not user_id:
        raise SignInRefused("the sign-in token names no user (oid, sub)")
    idp = LOCAL_IDP if claims.get("iss") == LOCAL_ISSUER else "aad"
    return Principal(user_id, name, idp, may_act(claims, settings))


def login_redirect(path: str) -> func.HttpResponse:
    target = f"{LOGIN_PATH}?post_login_redirect_uri={quote(path, safe='/')}"
    return func.HttpResponse(status_code=302, headers={"Location": target})


def login_url(path: str) -> str:
    return f"{LOGIN_PATH}?post_login_redirect_uri={quote(path, safe='/')}"


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
