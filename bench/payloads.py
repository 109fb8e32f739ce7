"""The requests the benchmark sends: each webhook kind with a fresh identity, so each is a new event."""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TENANT = "faco"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Ids:
    """Unique numbers for this run, below 2**31 (ZORT ids are 32-bit in practice; see the report)."""

    def __init__(self) -> None:
        self.counter = itertools.count(int(time.time()) % 20_000 * 100_000 + random.randrange(1_000) * 10 + 1)

    def next(self) -> int:
        return next(self.counter)  # atomic under the GIL


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, Any]
    body: bytes | None = None


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def order_created(key: str, order_id: int) -> Call:
    return Call(
        "POST",
        f"/webhooks/{TENANT}/orders",
        {"code": key},
        JSON,
        _json({"event": "onOrderCreated", "payload": {"OrderId": order_id}}),
    )


def items_status(key: str, order_id: int, status: str = "shipped") -> Call:
    body = {
        "event": "onOrderItemsStatusChanged",
        "payload": {"OrderId": str(order_id), "OrderItemIds": [str(order_id * 10)], "NewStatus": status},
    }
    return Call("POST", f"/webhooks/{TENANT}/orders/status", {"code": key}, JSON, _json(body))


def products(key: str, skus: list[str], event: str = "onProductCreated") -> Call:
    return Call(
        "POST",
        f"/webhooks/{TENANT}/products",
        {"code": key},
        JSON,
        _json({"event": event, "payload": {"SellerSkus": skus}}),
    )


def zort_quantity(key: str, key1: str, number: int) -> Call:
    payload = {
        "id": number,
        "sku": f"BENCH-Z{number}",
        "name": "bench product",
        "stock": number % 50,
        "availablestock": number % 40,
    }
    return Call(
        "POST",
        f"/webhooks/{TENANT}/zort",
        {"code": key, "method": "UPDATEPRODUCTQUANTITY"},
        {**FORM, "Authorization": f"Basic {key1}"},
        urlencode({"payload": json.dumps(payload)}).encode(),
    )


def floor(key: str, number: int) -> Call:
    return Call(
        "POST",
        f"/webhooks/{TENANT}/floor",
        {"code": key},
        JSON,
        _json({"event": "onOrderCreated", "payload": {"OrderId": number}}),
    )


def order_status(key: str, internal_order_id: str) -> Call:
    return Call("GET", f"/v1/orders/{internal_order_id}/status", {"code": key}, {})


def refund(key: str, internal_order_id: str, sku: str) -> Call:
    body = {"products": [{"sku": sku, "quantity": 1}], "action": "SAME_PRODUCT", "value": 1}
    headers = {**JSON, "Idempotency-Key": uuid.uuid4().hex}  # required: one refund per key
    return Call("POST", f"/v1/orders/{internal_order_id}/refund", {"code": key, "tenant": TENANT}, headers, _json(body))


class Webhooks:
    """Fresh webhook calls of each kind the acknowledgement benchmark measures (plus the floor's)."""

    KINDS = ("orders", "orders/status", "products", "zort")

    def __init__(self, key: str, key1: str, ids: Ids) -> None:
        self.key, self.key1, self.ids = key, key1, ids

    def make(self, kind: str) -> Call:
        number = self.ids.next()
        if kind == "orders":
            return order_created(self.key, number)
        if kind == "orders/status":
            return items_status(self.key, number)
        if kind == "products":
            return products(self.key, [f"BENCH-P{number}"])
        if kind == "zort":
            return zort_quantity(self.key, self.key1, number)
        if kind == "floor":
            return floor(self.key, number)
        raise ValueError(kind)
