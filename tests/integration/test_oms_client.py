"""The real OmsClient against the OMS sandbox, over real HTTP.

Tests share one sandbox, reset before each (stopping a server costs werkzeug's 0.5 s poll).
The timeout test gets its own: a timeout fault leaves a server thread sleeping for
``_server.TIMEOUT_SLEEP_SECONDS`` that would log its request into a later test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests

from localdev.sandboxes._server import RunningServer
from localdev.sandboxes.oms import create_app
from shared.adapters.oms import OmsClient, OmsConfig, OmsError
from shared.adapters.oms.mapping import order_to_oms
from shared.domain.order import Customer, Order, OrderItem, Tracking
from tests.checks import present

TOKEN = "local-oms-faco"
TENANT = "faco"
OTHER_TOKEN = "local-oms-facl"


def start_sandbox() -> RunningServer:
    return RunningServer(create_app({TOKEN: TENANT, OTHER_TOKEN: "facl"})).start()


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[RunningServer]:
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def sandbox(shared_sandbox: RunningServer) -> RunningServer:
    requests.post(f"{shared_sandbox.url}/_sandbox/reset", json={}, timeout=5).raise_for_status()
    return shared_sandbox


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(server: RunningServer, sleeps: list[float], **overrides: Any) -> OmsClient:
    settings: dict[str, Any] = dict(
        base_url=server.url, token=TOKEN, tenant_header=TENANT, timeout=(1.0, 2.0), max_attempts=4, backoff_base=0.5
    )
    settings.update(overrides)
    return OmsClient(OmsConfig(**settings), sleep=sleeps.append, rng=lambda: 0.5)


def fail(server: RunningServer, mode: str, times: int = 1, match: str | None = None) -> None:
    spec: dict[str, Any] = {"mode": mode, "times": times, **({"match": match} if match else {})}
    requests.post(f"{server.url}/_sandbox/fail", json=spec, timeout=5).raise_for_status()


def stored(server: RunningServer) -> list[dict[str, Any]]:
    return requests.get(f"{server.url}/_sandbox/orders", timeout=5).json()["orders"]


def seen(server: RunningServer) -> list[dict[str, Any]]:
    return requests.get(f"{server.url}/_sandbox/requests", timeout=5).json()


def make_order(ref: str = "THOR-faco-100", status: str = "pending") -> Order:
    tracking = (
        Tracking(number="TRK-1", carrier="Servientrega", shipped_at=datetime(2024, 5, 2, tzinfo=timezone.utc))
        if status != "pending"
        else None
    )
    return Order(
        tenant="faco",
        marketplace_order_id="MP-100",
        internal_order_id=ref,
        currency="COP",
        created_at=datetime(2024, 5, 1, tzinfo=timezone.utc),
        shipping_amount=Decimal("5000"),
        payment_status="Paid",
        customer=Customer(
            first_name="Ana",
            last_name="Pérez",
            email="ana@example.com",
            shipping_address={"Address1": "Calle 1", "City": "Bogotá", "Country": "Colombia"},
        ),
        items=[
            OrderItem(
                item_id="I1",
                sku="SKU-1",
                status=status,
                unit_price=Decimal("19990"),
                paid_price=Decimal("17990.125"),
                tracking=tracking,
            ),
            OrderItem(
                item_id="I2",
                sku="SKU-2",
                quantity=2,
                status=status,
                unit_price=Decimal("5000"),
                paid_price=Decimal("5000"),
                tracking=tracking,
            ),
        ],
    )


# --- upsert ------------------------------------------------------------------------------------


def test_upsert_creates_then_updates_one_order(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps)
    outcome, created = client.upsert_order(make_order())
    assert outcome == "created" and created["orderRef"] == "THOR-faco-100" and len(created["id"]) == 24
    assert created["orderLines"][0]["orderId"] == created["id"]
    assert created["totalAmountInCent"] == 3299013  # 17990.125 + 2 × 5000 + 5000 → 32990.13

    outcome, updated = client.upsert_order(make_order(status="shipped"))
    assert outcome == "updated" and updated["id"] == created["id"]
    orders = stored(sandbox)
    assert len(orders) == 1 and orders[0]["tenant"] == TENANT
    order = orders[0]["order"]
    assert (order["orderStatus"], order["deliveryStatus"], order["itemsShipped"]) == ("SHIPPED", "SHIPPED", 3)
    assert [line["entryRef"] for line in order["orderLines"]] == ["I1", "I2"]
    assert order["shipments"][0]["shipmentLines"][1]["quantityShipped"] == "2"
    assert [(r["method"], r["status"]) for r in seen(sandbox)] == [
        ("GET", 404),
        ("POST", 201),
        ("GET", 200),
        ("PUT", 200),
    ]
    assert sleeps == []


def test_headers_are_sent(sandbox: RunningServer, sleeps: list[float]) -> None:
    make_client(sandbox, sleeps).find_order("nope")
    headers = seen(sandbox)[0]["headers"]
    assert headers["authorization"] == f"Bearer {TOKEN}" and headers["x-twc-tenant"] == TENANT
    assert headers["content-type"] == "application/json" and headers["accept"] == "application/json"


def test_concurrent_upserts_store_one_order(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            outcomes.append(client.upsert_order(make_order())[0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert outcomes.count("created") == 1 and outcomes.count("updated") == 9
    assert len(stored(sandbox)) == 1


def test_find_by_order_ref_and_absent(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps)
    assert client.find_order("THOR-faco-100") is None
    created = client.create_order(order_to_oms(make_order(), TENANT))
    assert present(client.find_order("THOR-faco-100"))["id"] == created["id"]


def test_orders_are_kept_per_tenant(sandbox: RunningServer, sleeps: list[float]) -> None:
    make_client(sandbox, sleeps).upsert_order(make_order())
    other = make_client(sandbox, sleeps, token=OTHER_TOKEN, tenant_header="facl")
    assert other.find_order("THOR-faco-100") is None
    assert other.upsert_order(make_order())[0] == "created"
    assert sorted(o["tenant"] for o in stored(sandbox)) == ["facl", "faco"]


# --- refusals: never retried -------------------------------------------------------------------


def test_wrong_token_is_401_and_not_retried(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, token="wrong-secret-token")
    with pytest.raises(OmsError) as caught:
        client.find_order("THOR-faco-100")
    assert caught.value.status == 401 and caught.value.retryable is False
    assert "wrong-secret-token" not in str(caught.value)
    assert len(seen(sandbox)) == 1 and sleeps == []


def test_wrong_tenant_header_is_403(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, tenant_header="facl")
    with pytest.raises(OmsError) as caught:
        client.upsert_order(make_order())
    assert caught.value.status == 403 and caught.value.retryable is False
    assert len(seen(sandbox)) == 1 and stored(sandbox) == []


def test_body_missing_a_required_field_is_refused_naming_it(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps)
    body = order_to_oms(make_order(), TENANT)
    body["orderLines"][1]["quantity"] = "2"
    with pytest.raises(OmsError) as caught:
        client.create_order(body)
    assert caught.value.status == 405 and caught.value.retryable is False
    assert "orderLines.1.quantity" in caught.value.message
    assert len(seen(sandbox)) == 1 and stored(sandbox) == []


HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-TWC-Tenant": TENANT}


@pytest.mark.parametrize("field", ["deliveryStatus", "shippingState", "orderStatus", "paymentStatus", "channel"])
def test_null_in_an_enum_field_is_refused_naming_it(sandbox: RunningServer, field: str) -> None:
    """seeds/002 gives these an enum and never null: absent is fine, null is invalid input."""
    body = {**order_to_oms(make_order(), TENANT), field: None}
    refused = requests.post(f"{sandbox.url}/api/v1/orders", json=body, headers=HEADERS, timeout=5)
    assert refused.status_code == 405 and refused.json()["field"] == field
    body.pop(field)
    assert requests.post(f"{sandbox.url}/api/v1/orders", json=body, headers=HEADERS, timeout=5).status_code == 201


def test_lines_and_entries_need_no_entry_ref(sandbox: RunningServer) -> None:
    """seeds/002 marks nothing of a line as required; its entry-by-id/by-ref samples carry no entryRef."""
    body = order_to_oms(make_order(), TENANT)
    body["orderLines"].append({"productRef": "SKU-X", "quantity": 1})  # no entryRef
    created = requests.post(f"{sandbox.url}/api/v1/orders", json=body, headers=HEADERS, timeout=5)
    assert created.status_code == 201 and len(created.json()["orderLines"]) == 3
    added = requests.post(
        f"{sandbox.url}/api/v1/orders/entries",
        headers=HEADERS,
        timeout=5,
        json={"orderRef": body["orderRef"], "productRef": "SKU-Y", "quantity": 2},
    )
    assert added.status_code == 201 and added.json()["productRef"] == "SKU-Y" and "entryRef" not in added.json()
    by_id = requests.put(
        f"{sandbox.url}/api/v1/orders/entries/id={added.json()['id']}",
        headers=HEADERS,
        timeout=5,
        json={"shippedQuantity": 2},
    )
    assert by_id.status_code == 200 and by_id.json()["shippedQuantity"] == 2
    by_ref = requests.put(
        f"{sandbox.url}/api/v1/orders/entries/{body['orderRef']}/ref=I1",
        headers=HEADERS,
        timeout=5,
        json={"returnedQuantity": 1},
    )
    assert by_ref.status_code == 200 and by_ref.json()["entryRef"] == "I1" and by_ref.json()["returnedQuantity"] == 1
    missing = requests.put(f"{sandbox.url}/api/v1/orders/entries/id=nope", headers=HEADERS, timeout=5, json={})
    assert missing.status_code == 404


def test_duplicate_create_is_400(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps)
    body = order_to_oms(make_order(), TENANT)
    client.create_order(body)
    with pytest.raises(OmsError) as caught:
        client.create_order(body)
    assert caught.value.status == 400 and "already exists" in caught.value.message


def test_update_of_an_absent_order_is_404(sandbox: RunningServer, sleeps: list[float]) -> None:
    with pytest.raises(OmsError) as caught:
        make_client(sandbox, sleeps).update_order(order_to_oms(make_order(), TENANT))
    assert caught.value.status == 404 and len(seen(sandbox)) == 1


def test_sandbox_checks_content_type_and_serves_lines_and_ids(sandbox: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-TWC-Tenant": TENANT}
    body = order_to_oms(make_order(), TENANT)
    refused = requests.post(
        f"{sandbox.url}/api/v1/orders", data="{}", headers={**headers, "Content-Type": "text/plain"}, timeout=5
    )
    assert refused.status_code == 400
    created = requests.post(f"{sandbox.url}/api/v1/orders", json=body, headers=headers, timeout=5).json()
    by_id = requests.get(f"{sandbox.url}/api/v1/orders", params={"orderId": created["id"]}, headers=headers, timeout=5)
    assert by_id.status_code == 200 and by_id.json()["orderRef"] == body["orderRef"]
    lines = requests.get(
        f"{sandbox.url}/api/v1/orders/entries", params={"orderRef": body["orderRef"]}, headers=headers, timeout=5
    ).json()
    assert [line["entryRef"] for line in lines] == ["I1", "I2"]


# --- retries -----------------------------------------------------------------------------------


def test_500_twice_then_success_backs_off(sandbox: RunningServer, sleeps: list[float]) -> None:
    fail(sandbox, "500", times=2)
    created = make_client(sandbox, sleeps).create_order(order_to_oms(make_order(), TENANT))
    assert created["orderRef"] == "THOR-faco-100"
    assert sleeps == [0.375, 0.75]  # equal jitter with rng 0.5: 0.5 → 0.375, 1.0 → 0.75
    assert [r["status"] for r in seen(sandbox)] == [500, 500, 201]


def test_gives_up_after_max_attempts(sandbox: RunningServer, sleeps: list[float]) -> None:
    fail(sandbox, "503", times=10)
    with pytest.raises(OmsError) as caught:
        make_client(sandbox, sleeps, max_attempts=3).find_order("THOR-faco-100")
    assert caught.value.status == 503 and caught.value.retryable is True
    assert len(seen(sandbox)) == 3 and len(sleeps) == 2


def test_429_honours_retry_after(sandbox: RunningServer, sleeps: list[float]) -> None:
    fail(sandbox, "429")
    assert make_client(sandbox, sleeps).find_order("THOR-faco-100") is None
    assert sleeps == [1.0]


def test_retry_after_is_capped(sandbox: RunningServer, sleeps: list[float]) -> None:
    fail(sandbox, "429")
    make_client(sandbox, sleeps, max_backoff=0.2).find_order("THOR-faco-100")
    assert sleeps == [0.2]


def test_malformed_json_on_2xx_is_retried(sandbox: RunningServer, sleeps: list[float]) -> None:
    make_client(sandbox, sleeps).create_order(order_to_oms(make_order(), TENANT))
    fail(sandbox, "malformed", match="orderRef")
    found = make_client(sandbox, sleeps).find_order("THOR-faco-100")
    assert present(found)["orderRef"] == "THOR-faco-100" and len(sleeps) == 1


def test_timeout_is_retried() -> None:
    server = start_sandbox()
    try:
        sleeps: list[float] = []
        fail(server, "timeout", match="orderRef")
        client = make_client(server, sleeps, timeout=(1.0, 0.5))
        started = time.monotonic()
        assert client.find_order("THOR-faco-100") is None
        assert time.monotonic() - started < 2.5
        assert len(sleeps) == 1
    finally:
        server.stop()


def test_connection_refused_is_retried_then_raised(sleeps: list[float]) -> None:
    server = start_sandbox()
    url = server.url
    server.stop()
    client = OmsClient(
        OmsConfig(base_url=url, token=TOKEN, tenant_header=TENANT, max_attempts=2), sleep=sleeps.append, rng=lambda: 0.5
    )
    with pytest.raises(OmsError) as caught:
        client.find_order("THOR-faco-100")
    assert caught.value.status is None and caught.value.retryable is True and len(sleeps) == 1
