"""200 copies of one webhook at concurrency 32, through the local runner: one event, processed by one
worker once: the external calls are those of one delivery (issue 9, part 2)."""
from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests

from tests.conftest import eventually

pytestmark = pytest.mark.e2e

ORDER_ID = 9200001
COPIES, CONCURRENCY = 200, 32


def external_calls(servers, order_id: int) -> dict[str, int]:
    """What the sandboxes received for one order: marketplace reads and OMS creates / updates."""
    market = requests.get(servers["marketplace"].url + "/_sandbox/requests", timeout=5).json()
    oms = requests.get(servers["oms"].url + "/_sandbox/requests", timeout=5).json()
    ref = f'"orderRef": "faco-{order_id}"'.replace(" ", "")
    actions = [c["query"].get("Action") for c in market if c["query"].get("OrderId") == str(order_id)]
    return {"GetOrder": actions.count("GetOrder"), "GetOrderItems": actions.count("GetOrderItems"),
            "oms create": sum(1 for c in oms if c["method"] == "POST" and ref in c["body"].replace(" ", "")),
            "oms update": sum(1 for c in oms if c["method"] == "PUT" and ref in c["body"].replace(" ", ""))}


def storm(thor_url: str, key: str, order_id: int, copies: int = COPIES, concurrency: int = CONCURRENCY) -> list:
    body = {"event": "onOrderCreated", "payload": {"OrderId": order_id}}

    def send(_):
        return requests.post(f"{thor_url}/webhooks/faco/orders", params={"code": key}, json=body, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(send, range(copies)))


def test_a_duplicate_storm_costs_the_external_calls_of_one_delivery(thor, key):
    answers = storm(thor.thor_url, key, ORDER_ID)
    assert {a.status_code for a in answers} == {200}
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == COPIES - 1

    def processed():
        view = requests.get(f"{thor.thor_url}/v1/orders/faco-{ORDER_ID}/status", params={"code": key}, timeout=5)
        return view.status_code == 200 and view.json()["items"] and external_calls(thor.servers, ORDER_ID)["oms create"]
    eventually(processed, timeout=30, interval=0.2)
    time.sleep(2)  # anything still queued would have run by now
    assert external_calls(thor.servers, ORDER_ID) == {"GetOrder": 1, "GetOrderItems": 1, "oms create": 1,
                                                       "oms update": 0}
