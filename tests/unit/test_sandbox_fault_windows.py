"""The sandboxes' fault windows and the OMS sandbox's history of order bodies (the scale-out drill's
controls, localdev/drill.py)."""

from __future__ import annotations

import json
import time

from werkzeug.test import Client

from localdev.sandboxes import oms

TOKEN = {"local-oms-token-faco": "thor-faco"}
HEADERS = {"Authorization": "Bearer local-oms-token-faco", "X-TWC-Tenant": "thor-faco"}


def client() -> Client:
    return Client(oms.create_app(TOKEN))


def test_a_fault_window_fails_every_matching_request_until_it_ends_whatever_their_number() -> None:
    sandbox = client()
    assert (
        sandbox.post("/_sandbox/fail", json={"mode": "503", "window": 0.5, "match": "/api/v1/orders"}).status_code
        == 200
    )
    during = [sandbox.get("/api/v1/orders?orderRef=faco-1", headers=HEADERS).status_code for _ in range(5)]
    other = sandbox.get("/api/v1/nothing", headers=HEADERS).status_code  # not matched: answered as usual
    time.sleep(0.6)
    after = sandbox.get("/api/v1/orders?orderRef=faco-1", headers=HEADERS).status_code
    assert during == [503] * 5
    assert other == 404 and after == 404


def test_a_counted_fault_still_counts_down() -> None:
    sandbox = client()
    sandbox.post("/_sandbox/fail", json={"mode": "500", "times": 2})
    codes = [sandbox.get("/api/v1/orders?orderRef=faco-1", headers=HEADERS).status_code for _ in range(3)]
    assert codes == [500, 500, 404]


def test_the_oms_keeps_every_order_body_it_received_with_its_answer_in_order() -> None:
    sandbox = client()
    body = {"orderRef": "faco-7", "orderStatus": "AWAITING_SHIPMENT"}
    assert sandbox.post("/api/v1/orders", json=body, headers=HEADERS).status_code == 201
    assert sandbox.post("/api/v1/orders", json=body, headers=HEADERS).status_code == 400  # the same orderRef again
    shipped = {"orderRef": "faco-7", "orderStatus": "SHIPPED"}
    assert sandbox.put("/api/v1/orders", json=shipped, headers=HEADERS).status_code == 200
    sandbox.post("/api/v1/orders", json={"orderRef": "faco-8"}, headers=HEADERS)
    history = json.loads(sandbox.get("/_sandbox/history?orderRef=faco-7").get_data())
    assert list(history) == ["faco-7"]
    assert [(c["method"], c["status"], c["body"]["orderStatus"]) for c in history["faco-7"]] == [
        ("POST", 201, "AWAITING_SHIPMENT"),
        ("POST", 400, "AWAITING_SHIPMENT"),
        ("PUT", 200, "SHIPPED"),
    ]
    assert set(json.loads(sandbox.get("/_sandbox/history").get_data())) == {"faco-7", "faco-8"}
    sandbox.post("/_sandbox/reset")
    assert json.loads(sandbox.get("/_sandbox/history").get_data()) == {}
