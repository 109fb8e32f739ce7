"""The local runner's stand-in for App Service authentication (Easy Auth with Entra ID), so that the
console's token verification (functions/_console_security.py) runs locally and in tests exactly as
in Azure: an RSA key pair generated at start (or read from `THOR_LOCAL_AUTH_KEY`, a PEM file, so a
test can sign tokens of its own), its public key served as a JWKS at `/.auth/local/keys`, and an ID
token signed for a fixed local operator on each console request that brings none.

What a console request gets (only while `CONSOLE_TOKEN_ISSUER` is the local issuer):
- with its own `X-MS-TOKEN-AAD-ID-TOKEN`: passed as sent, principal headers included (the worst case,
  a platform that strips nothing: the token decides, and Thor verifies it);
- with `X-Thor-Local-Sign-In: none`: passed as sent, nobody signed in (tests of forged headers);
- otherwise: callers' principal headers dropped, the local operator signed in (token + headers).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

LOCAL_ISSUER = "thor-local-runner"  # functions._console_security.LOCAL_ISSUER
JWKS_PATH = "/.auth/local/keys"
KID = "thor-local-1"
ANONYMOUS_HEADER = "x-thor-local-sign-in"
PRINCIPAL_HEADERS = (
    "x-ms-client-principal",
    "x-ms-client-principal-name",
    "x-ms-client-principal-id",
    "x-ms-client-principal-idp",
)
TOKEN_HEADERS = ("x-ms-token-aad-id-token", "x-ms-token-aad-access-token")
LOCAL_OPERATOR = {
    "oid": "00000000-0000-0000-0000-00000000c0de",
    "preferred_username": "local.operator@thor.local",
    "name": "Local operator",
}


def new_private_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def load_private_key(path: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def jwks_of(key: Any, kid: str = KID) -> dict[str, Any]:
    import jwt

    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": [public]}


def sign(key: Any, claims: dict[str, Any], kid: str = KID) -> str:
    import jwt

    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def claims_for(
    audience: str,
    *,
    issuer: str = LOCAL_ISSUER,
    lifetime: float = 3600,
    now: float | None = None,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
    **user: str,
) -> dict[str, Any]:
    """An Entra-shaped ID token's claims (v2.0: iss, aud, oid, preferred_username, roles, groups)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime),
        **LOCAL_OPERATOR,
        **user,
    }
    claims["sub"] = claims["oid"]
    if roles is not None:
        claims["roles"] = roles
    if groups is not None:
        claims["groups"] = groups
    return claims


class LocalSignIn:
    """The runner's signing key and what it does to a console request's headers."""

    def __init__(
        self, audience: str, operator_role: str, operator_group: str = "", key_file: str | None = None
    ) -> None:
        self.key = load_private_key(key_file) if key_file else new_private_key()
        self.audience = audience
        self.roles = [operator_role] if operator_role else []
        self.groups = [operator_group] if operator_group else []
        self._token, self._signed_at = "", 0.0

    @classmethod
    def from_environment(cls) -> LocalSignIn | None:
        """A stand-in when the console's issuer is the local one or unset (a local.settings.json older
        than the token settings); else real tokens are expected. Sets the issuer and audience it signs
        with when they are unset (the runner sets the JWKS URL once its port is known)."""
        if os.environ.get("CONSOLE_AUTH", "").lower() != "platform":
            return None
        if os.environ.get("CONSOLE_TOKEN_ISSUER", "") not in ("", LOCAL_ISSUER):
            return None
        os.environ["CONSOLE_TOKEN_ISSUER"] = LOCAL_ISSUER
        os.environ["CONSOLE_CLIENT_ID"] = os.environ.get("CONSOLE_CLIENT_ID", "") or "thor-console-local"
        return cls(
            os.environ["CONSOLE_CLIENT_ID"],
            os.environ.get("CONSOLE_OPERATOR_ROLE", "Thor.Operator"),
            os.environ.get("CONSOLE_OPERATOR_GROUP", ""),
            os.environ.get("THOR_LOCAL_AUTH_KEY") or None,
        )

    def jwks(self) -> dict[str, Any]:
        return jwks_of(self.key)

    def operator_token(self) -> str:
        """The local operator's token, signed again every 10 minutes (it is valid for an hour)."""
        if time.time() - self._signed_at > 600:
            self._token = sign(self.key, claims_for(self.audience, roles=self.roles, groups=self.groups))
            self._signed_at = time.time()
        return self._token

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        lowered = {name.lower() for name in headers}
        if any(name in lowered for name in TOKEN_HEADERS):
            return headers
        if (next((v for k, v in headers.items() if k.lower() == ANONYMOUS_HEADER), "") or "").lower() == "none":
            return headers
        kept = {name: value for name, value in headers.items() if name.lower() not in PRINCIPAL_HEADERS}
        return kept | {
            "X-MS-TOKEN-AAD-ID-TOKEN": self.operator_token(),
            "X-MS-CLIENT-PRINCIPAL-NAME": LOCAL_OPERATOR["preferred_username"],
            "X-MS-CLIENT-PRINCIPAL-ID": LOCAL_OPERATOR["oid"],
            "X-MS-CLIENT-PRINCIPAL-IDP": "aad",
        }
