"""ZORT's calls in every shape they arrive in, through the real runner over HTTP.

Shapes (localdev/sandboxes/zort.py, AUTH_STYLES and BODY_STYLES, which say where each comes from):
key1 as `Authorization: Basic {key1}` (ZORT's webhook documentation, v3 seeds/001 and v4
developers.zortout.com/overview/webhook), as Basic base64(key1), only in the `key1` header; the event
as a url-encoded `payload` field (the documentation's "Request Body: payload"), as JSON, as a
multipart field, as a form without `payload`, without Content-Type; the verification ping (GET, or
POST without method). Each is either recorded (and processed) or answered with a reason; none is lost.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from localdev.sandboxes.zort import AUTH_STYLES, SEED_EXAMPLES, send_webhook
from localdev.stack import Stack
from shared.adapters.event_log import EventLog
from shared.adapters.storage import Storage
from shared.domain.events import InboundEvent
from shared.settings import StorageSettings
from tests.conftest import eventually

TENANT = "sope"


@pytest.fixture(scope="module")
def events(thor: Stack) -> EventLog:
    return EventLog(Storage(StorageSettings(thor.values["AzureWebJobsStorage"], None, None, None, None)))


def url(thor: Stack, key: str) -> str:
    return f"{thor.thor_url}/webhooks/{TENANT}/zort?code={key}"


def recorded(events: EventLog, answer: requests.Response) -> InboundEvent:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] in {"accepted", "duplicate"}, body
    return eventually(lambda: events.get(TENANT, body["eventId"]))


def finished(events: EventLog, event_id: str) -> InboundEvent:
    return eventually(lambda: e if (e := events.get(TENANT, event_id)) and not e.status.pending else None)


def product(sku: str) -> dict[str, Any]:
    payload = copy.deepcopy(SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"])
    payload["sku"] = sku
    return payload


@pytest.mark.parametrize("auth", [a for a in AUTH_STYLES if a != "none"])
def test_key1_is_accepted_from_each_header_plain_or_base64(
    thor: Stack, key: str, stack: Stack, events: EventLog, auth: str
) -> None:
    answer = send_webhook(
        url(thor, key),
        "UPDATEPRODUCTQUANTITY",
        product(f"AUTH-{auth}"),
        stack.values[f"ZORT_KEY1_{TENANT.upper()}"],
        auth=auth,
    )
    assert recorded(events, answer).body["payload"]["sku"] == f"AUTH-{auth}"


@pytest.mark.parametrize("auth", [a for a in AUTH_STYLES if a != "none"])
def test_a_wrong_key1_is_refused_whichever_header_carries_it(thor: Stack, key: str, auth: str) -> None:
    answer = send_webhook(url(thor, key), "UPDATEPRODUCTQUANTITY", product("WRONG"), "not-the-key1", auth=auth)
    assert answer.status_code == 401 and answer.headers["Content-Type"].startswith("application/problem+json")


def test_an_event_without_key1_is_refused(thor: Stack, key: str) -> None:
    answer = send_webhook(url(thor, key), "UPDATEPRODUCTQUANTITY", product("NOKEY"), "", auth="none")
    assert answer.status_code == 401


@pytest.mark.parametrize("body", ["form", "json", "multipart", "no-content-type"])
def test_each_body_shape_is_recorded_and_applied(
    thor: Stack, key: str, stack: Stack, events: EventLog, body: str
) -> None:
    sku = f"BODY-{body}"
    answer = send_webhook(
        url(thor, key), "UPDATEPRODUCTQUANTITY", product(sku), stack.values[f"ZORT_KEY1_{TENANT.upper()}"], body=body
    )
    event = recorded(events, answer)
    assert event.body["payload"]["sku"] == sku and "shape" not in event.body
    assert finished(events, event.event_id).status.value == "completed"


def test_a_form_without_payload_is_recorded_whole(thor: Stack, key: str, stack: Stack, events: EventLog) -> None:
    answer = send_webhook(
        url(thor, key),
        "UPDATEPRODUCTQUANTITY",
        product("WHOLE-FORM"),
        stack.values[f"ZORT_KEY1_{TENANT.upper()}"],
        body="form-without-payload",
    )
    event = recorded(events, answer)
    assert event.body["shape"] == "form without payload"
    assert event.body["payload"]["sku"] == "WHOLE-FORM" and event.body["payload"]["stock"] == "20.00"
    assert finished(events, event.event_id).status.value == "completed"


def test_a_form_without_payload_that_fits_no_model_is_kept_with_its_reason(
    thor: Stack, key: str, stack: Stack, events: EventLog
) -> None:
    answer = send_webhook(
        url(thor, key),
        "ADDORDER",
        {"something": "else"},
        stack.values[f"ZORT_KEY1_{TENANT.upper()}"],
        body="form-without-payload",
    )
    event = finished(events, recorded(events, answer).event_id)
    assert event.status.value == "failed" and "number" in (event.reason or "")


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_a_ping_answers_200_and_records_nothing(
    thor: Stack, key: str, stack: Stack, events: EventLog, verb: str
) -> None:
    before = len(events.list(tenant=TENANT))
    for auth in ("none", "basic", "key1-header"):
        answer = send_webhook(
            url(thor, key), None, None, stack.values[f"ZORT_KEY1_{TENANT.upper()}"], auth=auth, http_method=verb
        )
        assert answer.status_code == 200 and answer.json()["status"] == "ready", answer.text
    assert len(events.list(tenant=TENANT)) == before
    wrong = send_webhook(url(thor, key), None, None, "not-the-key1", http_method=verb)
    assert wrong.status_code == 401  # a key that is sent must be right: "Verify and Save" shows the mismatch


def test_a_post_without_method_but_with_a_body_is_recorded_not_dropped(
    thor: Stack, key: str, stack: Stack, events: EventLog
) -> None:
    answer = send_webhook(
        url(thor, key), None, {"id": 1, "note": "who knows"}, stack.values[f"ZORT_KEY1_{TENANT.upper()}"], body="json"
    )
    event = finished(events, recorded(events, answer).event_id)
    assert event.status.value == "completed" and "without method" in (event.outcome or "")


def test_v4_contact_events_are_recorded_as_sent(thor: Stack, key: str, stack: Stack, events: EventLog) -> None:
    answer = send_webhook(
        url(thor, key), "ADDCONTACT", {"id": 77, "name": "A contact"}, stack.values[f"ZORT_KEY1_{TENANT.upper()}"]
    )
    event = finished(events, recorded(events, answer).event_id)
    assert event.status.value == "completed" and event.body["payload"]["name"] == "A contact"


def test_a_body_that_is_neither_json_nor_a_form_gets_a_reason(thor: Stack, key: str, stack: Stack) -> None:
    answer = requests.post(
        url(thor, key) + "&method=ADDORDER",
        data=b"just text",
        headers={"Authorization": f"Basic {stack.values[f'ZORT_KEY1_{TENANT.upper()}']}"},
        timeout=5,
    )
    assert answer.status_code == 415 and answer.json()["field"] == "content-type"


def test_a_multipart_body_with_no_named_field_is_refused_naming_the_body(
    thor: Stack, key: str, stack: Stack, events: EventLog
) -> None:
    """Found by schemathesis: a multipart body that holds no form part was recorded as an empty form."""
    before = len(events.list(tenant=TENANT))
    answer = requests.post(
        url(thor, key) + "&method=UPDATEPRODUCTQUANTITY",
        headers={
            "Authorization": "Basic " + stack.values[f"ZORT_KEY1_{TENANT.upper()}"],
            "Content-Type": "multipart/form-data; boundary=b0",
        },
        data=b"None--b0--\r\n",
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["field"] == "body"
    assert len(events.list(tenant=TENANT)) == before


@pytest.mark.parametrize("method", [None, "ADDORDER", "UPDATEPRODUCTQUANTITY"])
def test_an_empty_multipart_form_is_answered_as_an_empty_urlencoded_form(
    thor: Stack, key: str, stack: Stack, method: str | None
) -> None:
    """Issue 17 item 6 (schemathesis, another seed): openapi.json admits an empty multipart form (an object
    with no required field) and urllib3 sends it as the close delimiter alone; Thor refused it with 400."""
    target = url(thor, key) + (f"&method={method}" if method else "")
    auth = {"Authorization": "Basic " + stack.values[f"ZORT_KEY1_{TENANT.upper()}"]}
    empty_form = requests.post(
        target, headers={**auth, "Content-Type": "application/x-www-form-urlencoded"}, data=b"", timeout=10
    )
    empty_multipart = requests.post(
        target, headers={**auth, "Content-Type": "multipart/form-data; boundary=b0"}, data=b"--b0--\r\n", timeout=10
    )
    assert empty_multipart.status_code == empty_form.status_code, (empty_multipart.text, empty_form.text)
    assert empty_multipart.status_code < 500 and empty_multipart.json().get("field") == empty_form.json().get("field")
