"""The real SellerCenterClient against the marketplace sandbox, over real HTTP.

Tests share one sandbox, reset before each (stopping a server costs werkzeug's 0.5 s poll).
Timeout tests get their own: a timeout fault leaves a server thread sleeping for
``_server.TIMEOUT_SLEEP_SECONDS`` that would log its request into a later test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from localdev.sandboxes._server import RunningServer
from localdev.sandboxes.marketplace import create_app, item_count
from shared.adapters.seller_center import SellerCenterClient, SellerCenterConfig, SellerCenterError
from shared.adapters.seller_center.signing import canonical_query
from shared.domain.marketplace import MarketplaceOrder
from tests.checks import present

USER = "faco@thor.local"
KEY = "sandbox-api-key-faco"
CHILE_USER = "facl@thor.local"
CHILE_KEY = "sandbox-api-key-facl"


def start_sandbox() -> RunningServer:
    return RunningServer(
        create_app({USER: KEY, CHILE_USER: CHILE_KEY}, tenants={USER: "faco", CHILE_USER: "facl"})
    ).start()


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[RunningServer]:
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def sandbox(shared_sandbox: RunningServer) -> RunningServer:
    control(shared_sandbox, "reset", {})
    return shared_sandbox


@pytest.fixture
def isolated_sandbox() -> Iterator[RunningServer]:
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(sandbox: RunningServer, sleeps: list[float], **overrides: Any) -> SellerCenterClient:
    now = overrides.pop("now", None)
    settings: dict[str, Any] = dict(
        base_url=sandbox.url,
        user_id=USER,
        api_key=KEY,
        seller_id="SELLER1",
        business_unit="FACO",
        time_zone="America/Santiago",
        timeout=(1.0, 2.0),
        max_attempts=4,
        backoff_base=0.01,
    )
    settings.update(overrides)
    extra = {"now": now} if now else {}
    return SellerCenterClient(SellerCenterConfig(**settings), sleep=sleeps.append, rng=lambda: 0.5, **extra)


@pytest.fixture
def client(sandbox: RunningServer, sleeps: list[float]) -> SellerCenterClient:
    return make_client(sandbox, sleeps)


def control(sandbox: RunningServer, route: str, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        response = requests.get(f"{sandbox.url}/_sandbox/{route}", timeout=5)
    else:
        response = requests.post(f"{sandbox.url}/_sandbox/{route}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def seen(sandbox: RunningServer, action: str | None = None) -> list[dict[str, Any]]:
    return [r for r in control(sandbox, "requests") if action is None or r["query"].get("Action") == action]


def raw_call(
    sandbox: RunningServer,
    client: SellerCenterClient,
    action: str,
    params: dict[str, Any],
    method: str = "GET",
    **request_kwargs: Any,
) -> dict[str, Any]:
    """A signed request sent without the client's parsing, to look at the raw JSON."""
    query = client.signed_params(action, params)
    headers = request_kwargs.pop("headers", {"User-Agent": client.config.user_agent})
    return requests.request(
        method, f"{sandbox.url}/?{canonical_query(query)}", headers=headers, timeout=5, **request_kwargs
    ).json()


# --- round trips ----------------------------------------------------------------------------


def test_get_order_round_trip(client: SellerCenterClient) -> None:
    row = client.order_row(1234)  # 1234 % 3 == 1 → two items
    assert row.order_id == "1234"
    assert row.order_number == "200001234"
    assert row.items_count == 2
    assert row.statuses == ["pending"]
    assert present(row.created_at).tzinfo is timezone.utc and present(row.updated_at) > present(row.created_at)
    assert present(row.promised_shipping_time) > present(row.created_at)
    assert row.currency is None
    assert row.customer_first_name and row.customer_last_name
    assert present(row.address_shipping)["Country"] == "Colombia"
    assert present(row.address_billing)["Phone2"] is None  # "" → None
    assert row.national_registration_number
    order = client.get_order(1234)  # the port's answer: the same, in Thor's words
    assert isinstance(order, MarketplaceOrder)
    assert (order.order_id, order.order_number, order.statuses) == ("1234", "200001234", ["pending"])
    assert (order.created_at, order.updated_at, order.grand_total) == (row.created_at, row.updated_at, row.grand_total)
    assert order.customer.first_name == row.customer_first_name
    assert order.customer.shipping_address == row.address_shipping


def test_order_totals_match_items_and_data_is_deterministic(client: SellerCenterClient) -> None:
    order, items = client.order_row(987654), client.order_item_rows(987654)
    assert len(items) == item_count(987654) == order.items_count
    assert order.grand_total == order.price == sum(item.paid_price or 0 for item in items)
    assert order.product_total == sum(item.item_price or 0 for item in items)
    assert client.get_order(987654).grand_total == sum(item.paid_price for item in client.get_order_items(987654))
    assert client.order_row(987654) == order and client.order_item_rows(987654) == items


def test_get_order_items_round_trip(client: SellerCenterClient) -> None:
    rows = client.order_item_rows(1235)  # 1235 % 3 == 2 → three items
    assert [row.order_item_id for row in rows] == ["12350", "12351", "12352"]
    for row in rows:
        assert row.order_id == "1235" and row.status == "pending"
        assert row.currency == "COP"
        assert isinstance(row.item_price, Decimal) and row.item_price > 0
        assert row.voucher_amount == Decimal("0.00")
        assert row.tracking_code is None and row.package_id == "MPDS-200001235-0001"  # GetOrderItems gives it
        assert present(row.promised_shipping_time).tzinfo is timezone.utc
    items = client.get_order_items(1235)  # the port's answer: the same, in Thor's words
    assert [item.item_id for item in items] == ["12350", "12351", "12352"]
    for row, item in zip(rows, items, strict=True):
        assert (item.status, item.currency, item.unit_price, item.package_id) == (
            row.status,
            row.currency,
            row.item_price,
            row.package_id,
        )
        assert item.tracking is None and item.promised_shipping_time == row.promised_shipping_time


def test_single_item_comes_as_an_object_and_is_normalised_to_a_list(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    order_id = 1233  # 1233 % 3 == 0 → one item
    raw = raw_call(sandbox, client, "GetOrderItems", {"OrderId": str(order_id)})
    assert isinstance(raw["SuccessResponse"]["Body"]["OrderItems"]["OrderItem"], dict)
    assert raw["SuccessResponse"]["Body"]["OrderItems"]["OrderItem"]["ItemPrice"].endswith(".00")

    items = client.get_order_items(order_id)
    assert isinstance(items, list) and len(items) == 1
    assert items[0].item_id == "12330"


def test_get_products_round_trip_agrees_with_order_items(client: SellerCenterClient) -> None:
    items = client.get_order_items(1235)
    products = client.get_products([item.sku for item in items])
    assert [p.sku for p in products] == [item.sku for item in items]
    for product, item in zip(products, items, strict=True):
        assert product.name == item.name
        assert product.price == item.unit_price
        assert product.status == "active" and product.special_price is None
        assert isinstance(product.stock, int)
    assert {row.business_units[0]["OperatorCode"] for row in client.product_rows([item.sku for item in items])} == {
        "faco"
    }


def test_get_order_that_the_marketplace_does_not_return_is_not_found(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    control(sandbox, "orders/missing", {"order_ids": [555]})
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(555)
    assert caught.value.code == "NOT_FOUND" and caught.value.retryable is False
    assert client.get_order_items(555) == []


def test_ready_to_ship_with_the_package_id_from_get_order_items_moves_items_and_lists_the_order(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    """The current documentation: GetOrderItems gives the PackageId, SetStatusToReadyToShip sends only
    OrderItemIds and PackageId (v500); the marketplace assigns carrier and tracking."""
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    listed = {item.item_id: item for item in client.get_order_items(1235)}
    package_id = listed["12350"].package_id
    assert package_id and package_id.startswith("MPDS-200001235-")  # the SDK sample's MPDS-200131783-9800
    assert {item.package_id for item in listed.values()} == {package_id}

    client.set_status_to_ready_to_ship(["12350", "12351"], package_id)
    statuses = {item.item_id: item for item in client.get_order_items(1235)}
    assert statuses["12350"].status == statuses["12351"].status == "ready_to_ship"
    tracking = statuses["12350"].tracking
    assert tracking and tracking.number and tracking.carrier  # set by the marketplace
    assert statuses["12352"].status == "pending" and statuses["12352"].package_id == package_id
    assert sorted(client.get_order(1235).statuses) == ["pending", "ready_to_ship"]
    post = seen(sandbox, "SetStatusToReadyToShip")
    assert [r["method"] for r in post] == ["POST"]
    sent = {
        k: v
        for k, v in post[0]["query"].items()
        if k not in ("Action", "Format", "Timestamp", "UserID", "Version", "Signature")
    }
    assert sent == {"OrderItemIds": "[12350,12351]", "PackageId": package_id}
    assert [o.order_id for o in client.get_orders(before)] == ["1235"]
    assert seen(sandbox, "SetStatusToPackedByMarketplace") == []


def test_the_deprecated_pack_call_is_still_served_and_gives_a_package_to_items_without_one(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    control(sandbox, "orders/unpackaged", {"order_ids": [1235]})
    assert {item.package_id for item in client.get_order_items(1235)} == {None}
    packages = client.set_status_to_packed_by_marketplace(["12350", "12351"])
    assert set(packages) == {"12350", "12351"} and len(set(packages.values())) == 1
    package_id = packages["12350"]
    packed = {item.item_id: item for item in client.get_order_items(1235)}
    assert packed["12350"].status == "pending" and packed["12350"].package_id == package_id
    assert packed["12352"].package_id is None
    client.set_status_to_ready_to_ship(["12350", "12351"], package_id)
    assert {i.item_id: i.status for i in client.get_order_items(1235)}["12351"] == "ready_to_ship"
    assert client.set_status_to_packed_by_marketplace(["12350"]) == {"12350": package_id}  # packing again: same


def test_control_route_changes_statuses_and_packing_then_refuses(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    control(sandbox, "items/status", {"order_item_ids": ["12330"], "status": "shipped"})
    assert client.get_order_items(1233)[0].status == "shipped"
    with pytest.raises(SellerCenterError) as caught:
        client.set_status_to_packed_by_marketplace(["12330"])
    assert caught.value.code == "E073" and caught.value.retryable is False and caught.value.status == 400


def sandbox_refusal(
    sandbox: RunningServer, client: SellerCenterClient, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    raw = raw_call(sandbox, client, action, params, method="POST")
    assert set(raw) == {"ErrorResponse"} and raw["ErrorResponse"]["Body"] == {}
    head = raw["ErrorResponse"]["Head"]
    assert set(head) == {"RequestAction", "ErrorType", "ErrorCode", "ErrorMessage"} and head["RequestAction"] == action
    assert head["ErrorType"] == "Sender" and head["ErrorMessage"].startswith(head["ErrorCode"] + ": ")
    return head


def test_sandbox_refuses_what_the_documented_error_tables_list(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    """Falabella v600 SetStatusToReadyToShip / SetStatusToPackedByMarketplace error tables."""
    package_id = client.set_status_to_packed_by_marketplace(["12350"])["12350"]
    rts = "SetStatusToReadyToShip"
    thor_before_the_change = {
        "OrderItemIds": "[12350]",
        "DeliveryType": "dropship",
        "ShippingProvider": "Blue Express",
        "TrackingNumber": "BX1",
    }
    head = sandbox_refusal(sandbox, client, rts, thor_before_the_change)
    assert head["ErrorCode"] == "E091" and "send_to_warehouse" in head["ErrorMessage"]
    assert (
        sandbox_refusal(
            sandbox,
            client,
            "SetStatusToPackedByMarketplace",
            {"OrderItemIds": "[12350]", "DeliveryType": "dropship", "ShippingProvider": "Blue Express"},
        )["ErrorCode"]
        == "E091"
    )
    cases = {
        "E024": {"OrderItemIds": "[12350]", "DeliveryType": "courier", "PackageId": package_id},
        "E023": {"OrderItemIds": "12350", "PackageId": package_id},
        "E020": {"OrderItemIds": "[12359]", "PackageId": package_id},
        "E029": {"OrderItemIds": "[12350,12340]", "PackageId": package_id},
        "E122": {"OrderItemIds": "[12350]", "PackageId": "MPDS-1-0001"},
    }
    for code, params in cases.items():
        assert sandbox_refusal(sandbox, client, rts, params)["ErrorCode"] == code, code
    control(sandbox, "orders/unpackaged", {"order_ids": [1236]})
    never_packed = {"OrderItemIds": "[12360]"}
    assert sandbox_refusal(sandbox, client, rts, never_packed)["ErrorCode"] == "E122"
    assert {item.item_id: item.status for item in client.get_order_items(1235)}["12350"] == "pending"
    client.set_status_to_ready_to_ship(["12350"], package_id)  # the documented call still works


def test_reset_clears_statuses_and_listed_orders(sandbox: RunningServer, client: SellerCenterClient) -> None:
    client.set_status_to_ready_to_ship(["12330"], client.set_status_to_packed_by_marketplace(["12330"])["12330"])
    control(sandbox, "orders", {"order_ids": [77]})
    control(sandbox, "reset", {})
    assert client.get_order_items(1233)[0].status == "pending"
    assert client.get_orders(datetime(2000, 1, 1, tzinfo=timezone.utc)) == []


def test_get_orders_filters_by_update_and_pages(sandbox: RunningServer, client: SellerCenterClient) -> None:
    control(sandbox, "orders", {"order_ids": [11, 12], "updated_at": "2024-06-01 10:00:00"})
    control(sandbox, "orders", {"order_ids": [13, 14, 15], "updated_at": "2024-06-02T10:00:00+00:00"})
    after = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    assert [o.order_id for o in client.get_orders(after)] == ["13", "14", "15"]
    assert [o.order_id for o in client.get_orders(after, limit=2, offset=2)] == ["15"]
    assert client.get_orders(datetime(2024, 7, 1, tzinfo=timezone.utc)) == []
    assert client.get_orders(datetime(2024, 1, 1, tzinfo=timezone.utc), limit=1)[0].order_id == "11"
    query = seen(sandbox, "GetOrders")[0]["query"]
    assert query["Version"] == "2.0" and query["SortBy"] == "updated_at" and query["SortDirection"] == "ASC"
    assert query["UpdatedAfter"] == "2024-06-01T08:00:00-04:00"  # the marketplace zone's wall clock (Santiago)


def test_requests_carry_user_agent_and_versions(sandbox: RunningServer, client: SellerCenterClient) -> None:
    client.get_order(7)
    client.get_order_items(7)
    order_request, items_request = seen(sandbox)
    assert order_request["query"]["Version"] == "2.0" and items_request["query"]["Version"] == "1.0"
    assert order_request["headers"]["user-agent"] == client.config.user_agent
    assert order_request["headers"]["user-agent"].startswith("SELLER1/Python/3.")


def test_the_documented_three_part_user_agent_is_enough(sandbox: RunningServer, client: SellerCenterClient) -> None:
    """developers.falabella.com getting-started: Falabella_SellerId/Programming_language/version."""
    ok = raw_call(sandbox, client, "GetOrder", {"OrderId": "1"}, headers={"User-Agent": "JJJ123/PHP/8.1.7"})
    assert "SuccessResponse" in ok
    short = raw_call(sandbox, client, "GetOrder", {"OrderId": "1"}, headers={"User-Agent": "JJJ123/PHP"})
    assert short["ErrorResponse"]["Head"]["ErrorCode"] == "E001"


# --- local times ----------------------------------------------------------------------------

HEAD_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")  # 2019-02-27T12:52:46-0500


def test_sandbox_answers_in_the_marketplace_zone_like_the_real_api(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    """Shape of LinioIT/seller-center-sdk gsc-master tests/_schemas/Order/OrderResponse.xml: Head
    Timestamp with its offset, CreatedAt in that zone, AddressUpdatedAt in UTC; the zone is the
    platform's (America/Santiago) for this Colombian seller too (docs/api.md "Marketplace times")."""
    raw = raw_call(sandbox, client, "GetOrder", {"OrderId": "1234"})
    head = raw["SuccessResponse"]["Head"]
    offset = datetime.now(ZoneInfo("America/Santiago")).strftime("%z")
    assert HEAD_TIMESTAMP.match(head["Timestamp"]) and head["Timestamp"].endswith(offset)
    order = raw["SuccessResponse"]["Body"]["Orders"]["Order"]
    created_local = datetime.strptime(order["CreatedAt"], "%Y-%m-%d %H:%M:%S")
    address_utc = datetime.strptime(order["AddressUpdatedAt"], "%Y-%m-%d %H:%M:%S")
    created = created_local.replace(tzinfo=ZoneInfo("America/Santiago"))
    assert address_utc - created_local == present(created.utcoffset()) * -1
    parsed = client.order_row(1234)
    assert parsed.created_at == parsed.address_updated_at == address_utc.replace(tzinfo=timezone.utc)
    assert order["OperatorCode"] == "FACO"


def test_every_storefront_s_answers_use_the_platform_zone(sandbox: RunningServer, sleeps: list[float]) -> None:
    chile = make_client(
        sandbox, sleeps, user_id=CHILE_USER, api_key=CHILE_KEY, business_unit="FACL", time_zone="America/Santiago"
    )
    raw = raw_call(sandbox, chile, "GetOrder", {"OrderId": "1234"})
    offset = datetime.now(ZoneInfo("America/Santiago")).strftime("%z")
    assert raw["SuccessResponse"]["Head"]["Timestamp"].endswith(offset)  # -0300 in summer, -0400 in winter
    order = chile.order_row(1234)
    assert order.created_at == order.address_updated_at
    assert raw["SuccessResponse"]["Body"]["Orders"]["Order"]["OperatorCode"] == "FACL"


def test_get_orders_window_across_chile_clock_changes(sandbox: RunningServer, sleeps: list[float]) -> None:
    """UpdatedAfter goes as Santiago's wall clock with the offset in force at that instant."""
    chile = make_client(
        sandbox, sleeps, user_id=CHILE_USER, api_key=CHILE_KEY, business_unit="FACL", time_zone="America/Santiago"
    )
    fall_back = datetime(2026, 4, 5, 3, tzinfo=timezone.utc)  # 00:00 -03 → 23:00 -04
    spring_forward = datetime(2026, 9, 6, 4, tzinfo=timezone.utc)  # 00:00 -04 → 01:00 -03
    control(sandbox, "orders", {"order_ids": [21], "updated_at": (fall_back + timedelta(minutes=10)).isoformat()})
    control(sandbox, "orders", {"order_ids": [22], "updated_at": (spring_forward + timedelta(minutes=10)).isoformat()})
    assert [o.order_id for o in chile.get_orders(fall_back - timedelta(minutes=30))] == ["21", "22"]
    assert [o.order_id for o in chile.get_orders(spring_forward - timedelta(minutes=30))] == ["22"]
    sent = [r["query"]["UpdatedAfter"] for r in seen(sandbox, "GetOrders")]
    assert sent == ["2026-04-04T23:30:00-03:00", "2026-09-05T23:30:00-04:00"]
    updated = {o.order_id: o.updated_at for o in chile.get_orders(datetime(2026, 1, 1, tzinfo=timezone.utc))}
    assert updated["22"] == spring_forward + timedelta(minutes=10)  # 01:10 -03, read back exactly


# --- errors the API answers -----------------------------------------------------------------


def test_wrong_key_is_e007_and_not_retried(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, api_key="wrong-key")
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(1)
    assert caught.value.code == "E007" and caught.value.retryable is False
    assert caught.value.status == 400
    assert "wrong-key" not in str(caught.value)
    assert len(seen(sandbox)) == 1 and sleeps == []


def test_unknown_user_is_e009(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, user_id="stranger@thor.local")
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(1)
    assert caught.value.code == "E009" and not caught.value.retryable


def test_stale_timestamp_is_e003(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, now=lambda: datetime.now(timezone.utc) - timedelta(hours=1))
    with pytest.raises(SellerCenterError) as caught:
        client.get_order_items(1)
    assert caught.value.code == "E003" and not caught.value.retryable
    assert len(seen(sandbox)) == 1


def test_missing_parameter_and_bad_user_agent_are_e001(sandbox: RunningServer, client: SellerCenterClient) -> None:
    query = client.signed_params("GetOrder", {"OrderId": "1"}, version="2.0")
    del query["Timestamp"]
    raw = requests.get(
        f"{sandbox.url}/?{canonical_query(query)}", timeout=5, headers={"User-Agent": client.config.user_agent}
    )
    assert raw.status_code == 400 and raw.json()["ErrorResponse"]["Head"]["ErrorCode"] == "E001"

    refused = raw_call(sandbox, client, "GetOrder", {"OrderId": "1"}, headers={"User-Agent": "python-requests/2"})
    assert refused["ErrorResponse"]["Head"]["ErrorCode"] == "E001"
    assert "User-Agent" in refused["ErrorResponse"]["Head"]["ErrorMessage"]


# --- retries --------------------------------------------------------------------------------


def test_429_twice_then_success(sandbox: RunningServer, client: SellerCenterClient, sleeps: list[float]) -> None:
    control(sandbox, "fail", {"mode": "429", "times": 2, "match": "GetOrderItems"})
    assert len(client.get_order_items(1234)) == 2
    assert [r["status"] for r in seen(sandbox)] == [429, 429, 200]
    assert sleeps == [1.0, 1.0]  # the sandbox's Retry-After: 1


def test_retry_after_is_capped(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, max_backoff=0.25)
    control(sandbox, "fail", {"mode": "429", "times": 1})
    client.get_order(3)
    assert sleeps == [0.25]


def test_500_forever_gives_up_after_max_attempts(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, max_attempts=3, backoff_base=0.1)
    control(sandbox, "fail", {"mode": "500", "times": 100})
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(1)
    assert caught.value.retryable is True and caught.value.status == 500
    assert caught.value.code == "1000" and caught.value.error_type == "Platform"
    assert len(seen(sandbox)) == 3
    assert sleeps == pytest.approx([0.075, 0.15])  # 0.1·2^(n-1), half fixed + half jitter (rng=0.5)


def test_timeout_is_retried(isolated_sandbox: RunningServer, sleeps: list[float]) -> None:
    sandbox = isolated_sandbox
    client = make_client(sandbox, sleeps, timeout=(1.0, 0.5))
    control(sandbox, "fail", {"mode": "timeout", "times": 1})
    assert client.get_order(2).order_id == "2"
    assert len(sleeps) == 1


def test_timeout_error_when_attempts_run_out(isolated_sandbox: RunningServer, sleeps: list[float]) -> None:
    sandbox = isolated_sandbox
    client = make_client(sandbox, sleeps, timeout=(1.0, 0.3), max_attempts=1)
    control(sandbox, "fail", {"mode": "timeout", "times": 1})
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(2)
    assert caught.value.code == "TIMEOUT" and caught.value.retryable


def test_malformed_body_is_retried_then_raised(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, max_attempts=2)
    control(sandbox, "fail", {"mode": "malformed", "times": 1})
    assert client.get_order(4).order_id == "4"
    control(sandbox, "fail", {"mode": "malformed", "times": 2})
    with pytest.raises(SellerCenterError) as caught:
        client.get_order(4)
    assert caught.value.code == "MALFORMED_RESPONSE" and caught.value.retryable
    assert len(seen(sandbox)) == 4


def test_connection_refused_is_retryable(sleeps: list[float]) -> None:
    closed = RunningServer(create_app({USER: KEY}))
    url = closed.url
    closed.server.server_close()
    config = SellerCenterConfig(
        base_url=url,
        user_id=USER,
        api_key=KEY,
        seller_id="S",
        business_unit="FACO",
        time_zone="America/Bogota",
        timeout=(0.5, 0.5),
        max_attempts=2,
        backoff_base=0.01,
    )
    with pytest.raises(SellerCenterError) as caught:
        SellerCenterClient(config, sleep=sleeps.append).get_order(1)
    assert caught.value.code == "CONNECTION_ERROR" and caught.value.retryable and len(sleeps) == 1


# --- paging ---------------------------------------------------------------------------------


def test_products_are_fetched_in_chunks(sandbox: RunningServer, client: SellerCenterClient) -> None:
    skus = [f"SKU-{n:03d}" for n in range(250)]
    products = client.get_products(skus)
    assert [p.sku for p in products] == skus
    calls = seen(sandbox, "GetProducts")
    assert len(calls) == 3
    assert [calls[i]["query"]["SkuSellerList"].count('"') // 2 for i in range(3)] == [100, 100, 50]


def test_products_chunk_size_is_configurable_and_nothing_is_asked_for_no_skus(
    sandbox: RunningServer, sleeps: list[float]
) -> None:
    client = make_client(sandbox, sleeps, products_chunk_size=2)
    assert client.get_products([]) == []
    assert [p.sku for p in client.get_products(["a b", "c+d", "ñ", "a b"])] == ["a b", "c+d", "ñ"]
    assert len(seen(sandbox, "GetProducts")) == 2


def test_the_sandbox_answers_carry_the_head_offset_thor_decided_and_times_in_that_zone(
    sandbox: RunningServer, client: SellerCenterClient
) -> None:
    """docs/api.md "Marketplace times": the platform writes in America/Santiago for every storefront (this
    client is a Colombian seller's, FACO), and the Head's offset is Santiago's, as Falabella's
    documented Colombian answers carry it."""
    from shared.adapters.seller_center.client import head_disagrees, head_offset
    from shared.domain.times import zone

    raw = raw_call(sandbox, client, "GetOrderItems", {"OrderId": "1234"})
    moment, offset = present(head_offset(raw))
    assert offset == moment.astimezone(zone("America/Santiago")).utcoffset()
    assert head_disagrees(raw, zone("America/Santiago")) is None
    assert head_disagrees(raw, zone("America/Bogota")) is not None  # Bogotá is never at Santiago's offset
    assert client.check_head(raw) is None
