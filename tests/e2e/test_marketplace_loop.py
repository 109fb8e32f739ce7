"""Closing the order loop (issue 19) through real HTTP: the local runner (its own Azurite, blobs
included), the marketplace, OMS and ZORT sandboxes. Flows are switched on for facl and faco only;
fape keeps the defaults (every flow off)."""

from __future__ import annotations

import base64
import random
import uuid

import pytest
import requests

from localdev.sandboxes.zort import send_webhook
from localdev.stack import Stack
from shared.domain.events import EventStatus
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

ON = {
    "MARKETPLACE_DOCUMENTS_FACL": "true",
    "MARKETPLACE_CANCELLATIONS_FACL": "true",
    "MARKETPLACE_SELLER_DELIVERY_FACL": "shipping-type",
    "MARKETPLACE_RETURNS_DESK_FACL": "true",
    "MARKETPLACE_DOCUMENTS_FACO": "true",
}
ONE_MB_PDF = b"%PDF-1.7\n" + random.Random(19).randbytes(1_000_000) + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def loop_thor(stack):
    """A runner of its own with the order-loop flows on for facl and faco."""
    runner = Stack(values={**stack.values, **ON}, servers=stack.servers)
    runner.start_storage().start_runner(["--no-timers", "--max-poll", "0.2"])
    yield runner
    runner.stop_runner()
    runner.azurite.stop()


def new_order(remainder: int) -> int:
    """A fresh marketplace order id whose sandbox order has 1 + remainder items."""
    n = random.randrange(40_000_000, 49_000_000)
    return n - n % 3 + remainder


def sandbox(stack, path: str, body: dict) -> None:
    requests.post(f"{stack.servers['marketplace'].url}/_sandbox/{path}", json=body, timeout=5).raise_for_status()


def status(thor: Stack, key: str, internal_id: str) -> dict:
    answer = requests.get(f"{thor.thor_url}/v1/orders/{internal_id}/status", params={"code": key}, timeout=10)
    return answer.json() if answer.status_code == 200 else {}


def created(thor: Stack, key: str, tenant: str, order_id: int) -> str:
    answer = requests.post(
        f"{thor.thor_url}/webhooks/{tenant}/orders",
        params={"code": key},
        json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        timeout=10,
    )
    assert answer.status_code == 200
    internal = f"{tenant}-{order_id}"
    eventually(lambda: status(thor, key, internal).get("items"), timeout=30)
    return internal


def items_to(stack, thor: Stack, key: str, tenant: str, order_id: int, item_ids: list[str], new: str) -> None:
    sandbox(stack, "items/status", {"order_item_ids": item_ids, "status": new})
    requests.post(
        f"{thor.thor_url}/webhooks/{tenant}/orders/status",
        params={"code": key},
        json={
            "event": "onOrderItemsStatusChanged",
            "payload": {"OrderId": order_id, "OrderItemIds": item_ids, "NewStatus": new},
        },
        timeout=10,
    ).raise_for_status()

    def moved():
        shown = {i["itemId"]: i["status"] for i in status(thor, key, f"{tenant}-{order_id}").get("items", [])}
        return all(shown.get(i) == new for i in item_ids)

    eventually(moved, timeout=30)


def post_document(thor: Stack, key: str, tenant: str, internal: str, body: dict, idempotency_key: str | None):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return requests.post(
        f"{thor.thor_url}/v1/orders/{internal}/documents",
        params={"tenant": tenant, "code": key},
        json=body,
        headers=headers,
        timeout=30,
    )


def event_log(thor: Stack):
    from shared.adapters.event_log import EventLog
    from shared.adapters.storage import Storage
    from shared.settings import read_storage

    return EventLog(Storage(read_storage(thor.values)))


def invoices(stack, user: str) -> list[dict]:
    return requests.get(f"{stack.servers['marketplace'].url}/_sandbox/invoices", timeout=5).json().get(user, [])


def document(items: list[str], kind: str = "FACTURA", pdf: bytes = ONE_MB_PDF) -> dict:
    return {
        "type": kind,
        "number": f"F{uuid.uuid4().int % 10**8}",
        "date": "2026-12-04",
        "itemIds": items,
        "pdf": base64.b64encode(pdf).decode(),
    }


def test_a_1_mb_tax_document_is_recorded_and_uploaded_once_after_a_5xx_and_a_lost_answer(stack, loop_thor, key):
    order_id = new_order(1)  # 2 items
    internal = created(loop_thor, key, "facl", order_id)
    items = [f"{order_id}0", f"{order_id}1"]
    body = document(items)
    missing = post_document(loop_thor, key, "facl", internal, body, None)
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
    early = post_document(loop_thor, key, "facl", internal, body, "early-1")
    assert early.status_code == 422 and "items-not-ready-to-ship" in early.json()["detail"]
    items_to(stack, loop_thor, key, "facl", order_id, items, "ready_to_ship")
    requests.post(
        f"{stack.servers['marketplace'].url}/_sandbox/fail",
        json={"mode": "503", "times": 1, "match": "invoice/pdf"},
        timeout=5,
    ).raise_for_status()
    sandbox(stack, "invoices/lose-answers", {"times": 1})  # then: taken, answered 500
    answer = post_document(loop_thor, key, "facl", internal, body, f"inv-{order_id}")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "recorded" and answer.json()["size"] == len(ONE_MB_PDF)

    def uploaded():
        shown = status(loop_thor, key, internal).get("documents", [])
        return shown and shown[0]["status"] == "uploaded" and shown

    eventually(uploaded, timeout=60)
    user = stack.values["MARKETPLACE_USER_ID_FACL"]
    taken = [d for d in invoices(stack, user) if d["orderItemIds"] == items]
    assert len(taken) == 1 and taken[0]["size"] == len(ONE_MB_PDF) and taken[0]["operatorCode"] == "FACL"
    # The document shows uploaded once the order is written; the event's final status follows it.
    recorded = eventually(
        lambda: (
            (e := event_log(loop_thor).get("facl", answer.json()["eventId"]))
            and e.status is EventStatus.COMPLETED
            and e
        )
    )
    assert recorded.attempts == 3  # a 503 before the marketplace took it, a 500 after, then the repeat taken
    again = post_document(loop_thor, key, "facl", internal, body, f"inv-{order_id}")
    assert again.status_code == 202 and again.json()["documentId"] == answer.json()["documentId"]
    timeline = [e["what"] for e in status(loop_thor, key, internal)["timeline"]]
    assert "tax document uploaded" in timeline


def test_a_document_refused_for_its_type_is_a_4xx_naming_the_rule_and_never_sent(stack, loop_thor, key):
    order_id = new_order(0)
    internal = created(loop_thor, key, "faco", order_id)
    items_to(stack, loop_thor, key, "faco", order_id, [f"{order_id}0"], "ready_to_ship")
    answer = post_document(loop_thor, key, "faco", internal, document([f"{order_id}0"], "BOLETA"), f"b-{order_id}")
    assert answer.status_code == 422 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == "type" and "type-not-allowed-in-country" in answer.json()["detail"]
    assert not [
        d for d in invoices(stack, stack.values["MARKETPLACE_USER_ID_FACO"]) if d["orderItemIds"] == [f"{order_id}0"]
    ]


def test_every_flow_is_off_by_default(stack, loop_thor, key):
    order_id = new_order(1)
    internal = created(loop_thor, key, "fape", order_id)
    items_to(stack, loop_thor, key, "fape", order_id, [f"{order_id}0"], "ready_to_ship")
    answer = post_document(loop_thor, key, "fape", internal, document([f"{order_id}0"], "BOLETA"), f"o-{order_id}")
    assert answer.status_code == 422 and "MARKETPLACE_DOCUMENTS_FAPE" in answer.json()["detail"]
    zort = f"{loop_thor.thor_url}/webhooks/fape/zort?code={key}"
    payload = {"id": 9, "number": f"SO-{order_id}", "reference": internal, "status": "Voided", "list": []}
    assert send_webhook(zort, "UPDATEORDER", payload, stack.values["ZORT_KEY1_FAPE"]).ok
    eventually(
        lambda: any(e["what"] == "order status" for e in status(loop_thor, key, internal)["timeline"]), timeout=30
    )
    assert {i["status"] for i in status(loop_thor, key, internal)["items"]} == {"ready_to_ship", "pending"}
    assert "returns" not in status(loop_thor, key, internal)


def zort_status(stack, thor: Stack, key: str, internal: str, zort_status: str) -> None:
    payload = {"id": 7, "number": f"SO-{internal}", "reference": internal, "status": zort_status, "list": []}
    answer = send_webhook(
        f"{thor.thor_url}/webhooks/facl/zort?code={key}", "UPDATEORDER", payload, stack.values["ZORT_KEY1_FACL"]
    )
    assert answer.ok


def test_a_zort_void_cancels_pending_items_in_the_marketplace_and_leaves_shipped_ones(stack, loop_thor, key):
    order_id = new_order(2)  # 3 items
    internal = created(loop_thor, key, "facl", order_id)
    items_to(stack, loop_thor, key, "facl", order_id, [f"{order_id}2"], "shipped")
    zort_status(stack, loop_thor, key, internal, "Voided")

    def canceled():
        shown = {i["itemId"]: i["status"] for i in status(loop_thor, key, internal)["items"]}
        return shown.get(f"{order_id}0") == "canceled" and shown.get(f"{order_id}1") == "canceled" and shown

    shown = eventually(canceled, timeout=30)
    assert shown[f"{order_id}2"] == "shipped"
    timeline = [e for e in status(loop_thor, key, internal)["timeline"] if e["what"] == "canceled in marketplace"]
    assert len(timeline) == 2 and all("Out of stock" in e["detail"] for e in timeline)


def test_a_seller_delivered_order_reaches_delivered_and_a_marketplace_delivered_one_is_never_touched(
    stack, loop_thor, key
):
    own, theirs = new_order(0), new_order(0)
    sandbox(stack, "orders/shipping-type", {"order_ids": [own], "shipping_type": "Own Delivery"})
    own_internal = created(loop_thor, key, "facl", own)
    theirs_internal = created(loop_thor, key, "facl", theirs)
    items_to(stack, loop_thor, key, "facl", own, [f"{own}0"], "ready_to_ship")
    items_to(stack, loop_thor, key, "facl", theirs, [f"{theirs}0"], "ready_to_ship")
    for zort in ("Shipping", "Success"):
        zort_status(stack, loop_thor, key, own_internal, zort)
        zort_status(stack, loop_thor, key, theirs_internal, zort)
        expected = "shipped" if zort == "Shipping" else "delivered"
        eventually(lambda e=expected: status(loop_thor, key, own_internal)["items"][0]["status"] == e, timeout=30)
    assert status(loop_thor, key, theirs_internal)["items"][0]["status"] == "ready_to_ship"
    timeline = status(loop_thor, key, theirs_internal)["timeline"]
    assert sum(e["what"] == "order status" for e in timeline) == 2  # ZORT's states were applied, nothing sent


def test_a_return_waiting_for_approval_shows_its_deadline(stack, loop_thor, key):
    order_id = new_order(0)
    internal = created(loop_thor, key, "facl", order_id)
    items_to(stack, loop_thor, key, "facl", order_id, [f"{order_id}0"], "delivered")
    items_to(stack, loop_thor, key, "facl", order_id, [f"{order_id}0"], "return_waiting_for_approval")
    shown = status(loop_thor, key, internal)
    (desk,) = shown["returns"]
    assert desk["itemId"] == f"{order_id}0" and desk["deadline"] > desk["waitingSince"]
    assert "America/Santiago" in desk["deadlineLocal"]
    assert shown["zortReturns"] == [] and shown["refunds"] == []
