"""thor_webhook_urls: one URL per UPDATEWEBHOOK field, each naming the right ZORT event."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shared.adapters.zort.webhooks import UNREGISTRABLE_EVENTS, WEBHOOK_URL_FIELDS, thor_webhook_urls

BASE = "https://thor-func.azurewebsites.net/api"
KEY = "ab/c+d==e&f g"

# The UPDATEWEBHOOK body fields of ZORT's v3 reference, in its order, with the event each one fires.
EXPECTED = {
    "addproducturl": "ADDPRODUCT",
    "updateproducturl": "UPDATEPRODUCT",
    "deleteproducturl": "DELETEPRODUCT",
    "updatequantityurl": "UPDATEPRODUCTQUANTITY",
    "addorderurl": "ADDORDER",
    "updateorderurl": "UPDATEORDER",
    "updateordertrackingurl": "UPDATEORDERTRACKING",
    "updateorderpaymenturl": "UPDATEORDERPAYMENT",
    "addpurchaseurl": "ADDPURCHASEORDER",
    "updatepurchaseurl": "UPDATEPURCHASEORDER",
    "updatepurchasepaymenturl": "UPDATEPURCHASEORDERPAYMENT",
    "addreturnorderurl": "ADDRETURNORDER",
    "updatereturnorderurl": "UPDATERETURNORDER",
    "updatereturnorderpaymenturl": "UPDATERETURNORDERPAYMENT",
    "addreturnpurchaseurl": "ADDRETURNPURCHASEORDER",
    "updatereturnpurchaseurl": "UPDATERETURNPURCHASEORDER",
    "updatereturnpurchasepaymenturl": "UPDATERETURNPURCHASEORDERPAYMENT",
    "addtransferurl": "ADDTRANSFER",
    "updatetransferurl": "UPDATETRANSFER",
}


def test_every_url_field_is_present_and_nothing_else() -> None:
    urls = thor_webhook_urls(BASE, "faco", KEY)
    assert list(urls) == list(EXPECTED)
    assert len(urls) == 19


@pytest.mark.parametrize("name,event", sorted(EXPECTED.items()))
def test_each_field_points_at_thor_with_its_event(name: str, event: str) -> None:
    url = thor_webhook_urls(BASE, "faco", KEY)[name]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/webhooks/faco/zort"
    assert parse_qs(parts.query) == {"method": [event], "code": [KEY]}


def test_function_key_is_url_encoded() -> None:
    url = thor_webhook_urls(BASE, "faco", KEY)["addorderurl"]
    assert url == f"{BASE}/webhooks/faco/zort?method=ADDORDER&code=ab%2Fc%2Bd%3D%3De%26f%20g"
    assert KEY not in url


def test_trailing_slash_of_base_url_is_not_doubled() -> None:
    assert (
        thor_webhook_urls(BASE + "/", "faco", "k")["addorderurl"] == f"{BASE}/webhooks/faco/zort?method=ADDORDER&code=k"
    )


def test_delete_events_without_url_field_are_the_four_documented() -> None:
    events = set(WEBHOOK_URL_FIELDS.values())
    assert "DELETEPRODUCT" in events
    assert not events & set(UNREGISTRABLE_EVENTS)
    assert set(UNREGISTRABLE_EVENTS) == {
        "DELETEORDER",
        "DELETEPURCHASEORDER",
        "DELETERETURNORDER",
        "DELETERETURNPURCHASEORDER",
    }


@pytest.mark.parametrize("tenant,key", [("", "k"), ("  ", "k"), ("faco", "")])
def test_blank_tenant_or_key_is_rejected(tenant: str, key: str) -> None:
    with pytest.raises(ValueError):
        thor_webhook_urls(BASE, tenant, key)
