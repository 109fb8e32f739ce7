"""Hostile input through real HTTP: whatever is sent, the answer is a 2xx or a 4xx problem, never a 5xx."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.models import Response

from localdev.stack import Stack

pytestmark = pytest.mark.e2e

TENANTS = st.sampled_from(["faco", "somx", "xxxx", "FACO", "fa/co", "%00", "ñandú", "a" * 300])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "orders": {
        "event": st.sampled_from(["onOrderCreated", "x"]) | SCALARS,
        "payload": st.fixed_dictionaries({"OrderId": SCALARS | st.integers(0, 10**25)}) | JSON,
    },
    "orders/status": {
        "event": st.sampled_from(["onOrderItemsStatusChanged"]) | SCALARS,
        "payload": st.fixed_dictionaries(
            {
                "OrderId": SCALARS,
                "OrderItemIds": st.lists(SCALARS, max_size=4),
                "NewStatus": st.sampled_from(["shipped", "Shipped", ""]) | SCALARS,
            }
        ),
    },
    "products": {
        "event": st.sampled_from(["onProductCreated", "onProductUpdated"]) | SCALARS,
        "payload": st.fixed_dictionaries({"SellerSkus": st.lists(st.text(max_size=200), max_size=5) | SCALARS}),
    },
}
BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.sampled_from(list(FIELDS))
    .flatmap(lambda kind: st.fixed_dictionaries(FIELDS[kind]))
    .map(lambda v: json.dumps(v).encode()),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data",
        "application/json; charset=latin-1",
        "",
    ]
)
PATHS = st.sampled_from(
    [
        "/webhooks/{t}/orders",
        "/webhooks/{t}/orders/status",
        "/webhooks/{t}/products",
        "/webhooks/{t}/zort?method=ADDORDER",
        "/webhooks/{t}/zort?method=UPDATEORDERTRACKING",
        "/webhooks/{t}/zort",
        "/v1/orders/{t}-1/refund?tenant={t}",
        "/v1/orders/{t}-1/status",
    ]
)


def assert_not_a_server_error(answer: Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:500])
    assert "Traceback" not in answer.text
    if answer.status_code >= 400 and answer.status_code != 401:
        assert answer.headers["Content-Type"].startswith("application/problem+json"), answer.text[:200]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=PATHS, tenant=TENANTS, body=BODIES, content_type=CONTENT_TYPES)
def test_no_input_makes_a_server_error(
    thor: Stack, key: str, stack: Stack, path: str, tenant: str, body: bytes, content_type: str | None
) -> None:
    url = thor.thor_url + path.format(t=urllib.parse.quote(tenant, safe=""))
    headers = {"x-functions-key": key, "Authorization": f"Basic {stack.values['ZORT_KEY1_FACO']}"}
    if content_type:
        headers["Content-Type"] = content_type
    method = "GET" if path.endswith("/status") else "POST"
    assert_not_a_server_error(requests.request(method, url, data=body, headers=headers, timeout=10))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    payload=JSON,
    method=st.sampled_from(["ADDORDER", "UPDATEORDERTRACKING", "UPDATEPRODUCTQUANTITY", "ADDTRANSFER"]),
    as_form=st.booleans(),
    query=st.dictionaries(st.sampled_from(["id", "number", "paymentstatus"]), st.text(max_size=20)),
)
def test_zort_form_and_json_bodies(
    thor: Stack, key: str, stack: Stack, payload: Any, method: str, as_form: bool, query: dict[str, str]
) -> None:
    from localdev.sandboxes.zort import send_webhook

    answer = send_webhook(
        f"{thor.thor_url}/webhooks/faco/zort?code={key}",
        method,
        payload,
        stack.values["ZORT_KEY1_FACO"],
        as_form=as_form,
        query=query,
    )
    assert_not_a_server_error(answer)


def test_repeated_and_odd_keys(thor: Stack, key: str) -> None:
    url = thor.thor_url + "/webhooks/faco/orders"
    body = json.dumps({"event": "onOrderCreated", "payload": {"OrderId": 1}})
    assert requests.post(url, params=[("code", "wrong"), ("code", key)], data=body, timeout=5).status_code in (200, 401)
    assert requests.post(url, headers={"x-functions-key": ""}, data=body, timeout=5).status_code == 401
    assert requests.post(url, headers={"x-functions-key": key + " "}, data=body, timeout=5).status_code == 401
    huge_unicode = json.dumps({"event": "onOrderCreated", "payload": {"OrderId": "１２３" * 10000}})
    assert_not_a_server_error(
        requests.post(url, headers={"x-functions-key": key}, data=huge_unicode.encode(), timeout=5)
    )
    deep = "[" * 100000 + "]" * 100000
    assert_not_a_server_error(requests.post(url, headers={"x-functions-key": key}, data=deep, timeout=10))
