"""The console's sign-in (a verified Entra-shaped ID token: signature against a JWKS served over real
HTTP, issuer, audience, expiry; who may act), its anti-CSRF checks (functions/_console_security.py),
and the activity counts the processor keeps for its charts (shared/services/activity.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import azure.functions as func
import pytest

from functions._console_security import (
    TOKEN_SECONDS,
    NotSignedIn,
    Principal,
    SignInRefused,
    check_csrf,
    check_same_origin,
    csrf_token,
    principal,
)
from functions._http import Problem
from localdev.local_auth import claims_for, jwks_of, new_private_key, sign
from shared.domain.activity import hour_start
from shared.services.processing import process_event
from shared.settings import Settings, StorageSettings
from tests.checks import present
from tests.fakes import fake_context

USER = Principal("id-1", "ana@example.com", "aad")
AUDIENCE = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://login.microsoftonline.com/tenant-id/v2.0"
KEY = new_private_key()
OPERATORS = "0f0f0f0f-group"


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The identity provider's published keys, over real HTTP (PyJWKClient fetches them)."""
    body = json.dumps(jwks_of(KEY)).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/discovery/v2.0/keys"
    server.shutdown()


@pytest.fixture()
def settings(jwks_url: str) -> Settings:
    return Settings(
        storage=StorageSettings(None, None, None, None, None),
        marketplace_base_url="",
        oms_base_url="",
        zort_api_base_url="",
        console_auth="platform",
        console_client_id=AUDIENCE,
        console_token_issuer=ISSUER,
        console_jwks_url=jwks_url,
        console_operator_group=OPERATORS,
        console_operator_role="Thor.Operator",
    )


def request(headers: dict[str, Any], method: str = "GET") -> func.HttpRequest:
    return func.HttpRequest(method=method, url="https://thor.example/console", headers=headers, body=b"")


def token(key: str = KEY, **changes: Any) -> str:
    claims = claims_for(AUDIENCE, issuer=ISSUER, roles=["Thor.Operator"], preferred_username="ana@example.com")
    claims.update(changes)
    return sign(key, claims)


def signed(token_text: str) -> dict[str, Any]:
    return {"X-MS-TOKEN-AAD-ID-TOKEN": token_text}


FORGED = {"X-MS-CLIENT-PRINCIPAL-NAME": "forged@evil.example", "X-MS-CLIENT-PRINCIPAL-ID": "forged"}


def test_nothing_is_trusted_while_platform_sign_in_is_off(settings: Settings) -> None:
    with pytest.raises(Problem) as refused:
        principal(request(signed(token()) | FORGED), replace(settings, console_auth="off"))
    assert refused.value.status == 403 and refused.value.field == "CONSOLE_AUTH"


def test_a_valid_token_signs_the_user_in_from_its_claims_never_from_the_headers(settings: Settings) -> None:
    user = principal(request(signed(token()) | FORGED), settings)
    assert (user.name, user.id, user.idp, user.can_act) == ("ana@example.com", claims_for("x")["oid"], "aad", True)


def test_a_forged_principal_header_without_a_valid_token_is_refused(settings: Settings) -> None:
    with pytest.raises(SignInRefused, match="without a verifiable sign-in token"):
        principal(request(FORGED), settings)
    with pytest.raises(NotSignedIn):  # nothing at all: the page sends the browser to sign in
        principal(request({}), settings)


@pytest.mark.parametrize(
    "bad, why",
    [
        (lambda: token(exp=int(time.time()) - 120, iat=int(time.time()) - 3720), "expired"),
        (lambda: token(aud="another-application"), "another application"),
        (lambda: token(iss="https://login.microsoftonline.com/other-tenant/v2.0"), "another issuer"),
        (lambda: token(key=new_private_key()), "not valid"),  # same kid, another key: the signature fails
        (lambda: token()[:-4] + "AAAA", "not valid"),
        (lambda: "not-a-jwt", "key is not"),
    ],
    ids=["expired", "foreign-audience", "foreign-issuer", "other-key", "tampered", "garbage"],
)
def test_an_expired_foreign_or_tampered_token_is_refused(settings: Settings, bad: Callable[[], str], why: str) -> None:
    with pytest.raises(SignInRefused, match=why):
        principal(request(signed(bad())), settings)


def test_only_the_operator_group_or_role_may_act_everyone_signed_in_may_read(settings: Settings) -> None:
    reader = principal(request(signed(token(roles=[]))), settings)
    assert reader.name == "ana@example.com" and not reader.can_act
    member = principal(request(signed(token(roles=[], groups=["other", OPERATORS]))), settings)
    assert member.can_act
    role_holder = principal(
        request(signed(token(roles=["Thor.Operator"]))), replace(settings, console_operator_group="")
    )
    assert role_holder.can_act
    nobody = replace(settings, console_operator_group="", console_operator_role="")
    assert not principal(request(signed(token(groups=[OPERATORS]))), nobody).can_act


def test_a_console_without_its_token_settings_says_which_are_missing(settings: Settings) -> None:
    with pytest.raises(Problem) as unset:
        principal(request(signed(token())), replace(settings, console_jwks_url=""))
    assert unset.value.status == 503 and unset.value.field == "CONSOLE_JWKS_URL"


def test_a_csrf_token_is_bound_to_its_user_key_and_age() -> None:
    token = csrf_token("k", USER, now=1_000_000)
    check_csrf("k", USER, token, now=1_000_000 + TOKEN_SECONDS)
    for key, user, now in (
        ("other", USER, 1_000_000),
        ("k", Principal("id-2", "eve", "aad"), 1_000_000),
        ("k", USER, 1_000_001 + TOKEN_SECONDS),
    ):
        with pytest.raises(Problem) as refused:
            check_csrf(key, user, token, now=now)
        assert refused.value.status == 403
    with pytest.raises(Problem) as unset:
        check_csrf("", USER, token)
    assert unset.value.status == 503


def test_a_cross_site_post_is_refused_a_same_site_one_passes() -> None:
    check_same_origin(
        request({"host": "thor.example", "origin": "https://thor.example", "sec-fetch-site": "same-origin"})
    )
    check_same_origin(request({"host": "thor.example"}))  # no browser hints: the token decides
    for headers in (
        {"host": "thor.example", "origin": "https://evil.example"},
        {"sec-fetch-site": "same-site"},
        {"origin": "null"},
    ):
        with pytest.raises(Problem):
            check_same_origin(request(headers))


def test_processing_counts_the_first_attempt_and_the_outcome_in_the_hour_it_happened() -> None:
    from shared.domain.events import EventKind
    from shared.services.intake import record_event

    context = fake_context("sope")
    context.marketplace("sope").add_order("42")
    accepted = record_event(
        context.events,
        context.queue,
        tenant="sope",
        kind=EventKind.ORDER_CREATED,
        identity=["42"],
        body={"event": "onOrderCreated", "payload": {"OrderId": 42}},
    )
    assert present(process_event(context, "sope", accepted.event_id)).value == "completed"
    hour = hour_start(context.clock())
    assert context.activity.counts[("sope", hour)] == {
        "accepted": 1,
        "completed": 1,
        "orders_created": 1,
        "oms_synced": 1,
    }
