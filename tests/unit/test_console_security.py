"""The console's sign-in and anti-CSRF checks (functions/_console_security.py), and the activity
counts the processor keeps for its charts (shared/services/activity.py)."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest

from functions._console_security import (
    TOKEN_SECONDS,
    NotSignedIn,
    Principal,
    check_csrf,
    check_same_origin,
    csrf_token,
    principal,
)
from functions._http import Problem
from shared.domain.activity import hour_start
from shared.services.processing import process_event
from tests.fakes import fake_context

USER = Principal("id-1", "ana@example.com", "aad")


def request(headers: dict, method: str = "GET") -> func.HttpRequest:
    return func.HttpRequest(method=method, url="https://thor.example/console", headers=headers, body=b"")


def test_principal_headers_are_refused_unless_platform_sign_in_is_on():
    forged = {"x-ms-client-principal-name": "forged", "x-ms-client-principal-id": "x"}
    with pytest.raises(Problem) as refused:
        principal(request(forged), "off")
    assert refused.value.status == 403 and refused.value.field == "CONSOLE_AUTH"


def test_the_platform_user_is_read_from_its_headers_or_its_encoded_principal():
    user = principal(
        request({"X-MS-CLIENT-PRINCIPAL-NAME": "ana@example.com", "X-MS-CLIENT-PRINCIPAL-ID": "1"}), "platform"
    )
    assert (user.name, user.id, user.idp) == ("ana@example.com", "1", "aad")
    claims = {
        "claims": [
            {"typ": "name", "val": "Ana"},
            {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "oid"},
        ]
    }
    encoded = base64.b64encode(json.dumps(claims).encode()).decode()
    assert principal(request({"x-ms-client-principal": encoded}), "platform") == Principal("oid", "Ana", "aad")
    with pytest.raises(NotSignedIn):
        principal(request({}), "platform")
    with pytest.raises(Problem) as malformed:
        principal(request({"x-ms-client-principal": "%%%"}), "platform")
    assert malformed.value.status == 401


def test_a_csrf_token_is_bound_to_its_user_key_and_age():
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


def test_a_cross_site_post_is_refused_a_same_site_one_passes():
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


def test_processing_counts_the_first_attempt_and_the_outcome_in_the_hour_it_happened():
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
    assert process_event(context, "sope", accepted.event_id).value == "completed"
    hour = hour_start(context.clock())
    assert context.activity.counts[("sope", hour)] == {
        "accepted": 1,
        "completed": 1,
        "orders_created": 1,
        "oms_synced": 1,
    }
