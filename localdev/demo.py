"""`make demo`: sends the seed's example webhooks (marketplace and ZORT) to a running Thor and
shows what happened: the order on the status endpoint and in the OMS sandbox; then storefront stock
following ZORT (stock sync is on for faar in local.settings.example.json, buffer 1); then, for the
demo tenant (faco), the order loop end to end (a tax document uploaded and confirmed, a ZORT void
cancelling pending items and leaving a shipped one, a seller-delivered order reaching delivered, a
return with its 72 h deadline) and a storefront price following ZORT.

The order loop's flows and price sync are off by default; `make run` turns them on for the demo
tenant only, and only when every system is a local sandbox (`DEMO_SETTINGS`, applied by
localdev/run.py where local.settings.json keeps the example's value: a value you changed there wins).
Tests never see them (they start from the example).

Start Thor first with `make run` (another terminal), then: make demo [DEMO_ARGS="--tenant facl"].
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

import requests

from localdev.sandboxes.zort import SEED_EXAMPLES, send_webhook
from shared.settings import EXAMPLE_SETTINGS, LOCAL_SETTINGS, local_values

SEED_ORDER_ID = 3272813
DEMO_TENANT = "faco"
DEMO_SETTINGS = {
    f"MARKETPLACE_DOCUMENTS_{DEMO_TENANT.upper()}": "true",
    f"MARKETPLACE_CANCELLATIONS_{DEMO_TENANT.upper()}": "true",
    f"MARKETPLACE_SELLER_DELIVERY_{DEMO_TENANT.upper()}": "shipping-type",
    f"MARKETPLACE_RETURNS_DESK_{DEMO_TENANT.upper()}": "true",
    f"MARKETPLACE_PRICE_SYNC_{DEMO_TENANT.upper()}": "true",
}
"""The demo's settings: the order loop and price sync on for the demo tenant only (docs/deploy.md says
how to turn each on in Azure)."""

T = TypeVar("T")


def with_demo_settings(values: dict[str, str], example: dict[str, str]) -> dict[str, str]:
    """`values` with DEMO_SETTINGS where they keep the example's value (or lack the setting)."""
    merged = dict(values)
    for name, value in DEMO_SETTINGS.items():
        if merged.get(name, example.get(name)) == example.get(name):
            merged[name] = value
    return merged


def sandbox_moves(values: dict[str, str], item_ids: list[str], status: str) -> bool:
    """Moves the items to `status` in the marketplace sandbox (its control route); False when there is
    no sandbox to ask (a real marketplace)."""
    marketplace = values["MARKETPLACE_BASE_URL"].rstrip("/")
    try:
        requests.post(
            f"{marketplace}/_sandbox/items/status", json={"order_item_ids": item_ids, "status": status}, timeout=5
        ).raise_for_status()
    except requests.RequestException:
        return False
    return True


def _settings() -> dict[str, Any]:
    for path in (LOCAL_SETTINGS, EXAMPLE_SETTINGS):
        if path.exists():
            return with_demo_settings(local_values(path), local_values(EXAMPLE_SETTINGS))
    raise SystemExit("no local.settings.json: run `make run` first")


def date_order(values: dict[str, Any], order_id: int, created_ago: timedelta, promised_in: timedelta) -> None:
    """Dates a sandbox order today (created `created_ago`, promised to ship `promised_in` from now)
    instead of the sandbox's 2024 dates; a real marketplace is left alone."""
    now = datetime.now(timezone.utc)
    spec: dict[str, Any] = {
        "order_ids": [order_id],
        "created_at": (now - created_ago).isoformat(),
        "promised_at": (now + promised_in).isoformat(),
    }
    try:
        marketplace = values["MARKETPLACE_BASE_URL"].rstrip("/")
        requests.post(f"{marketplace}/_sandbox/orders/dates", json=spec, timeout=5).raise_for_status()
    except requests.RequestException:
        pass


def show(title: str, answer: requests.Response) -> None:
    print(f"\n→ {title}\n  {answer.status_code} {answer.text[:400]}")


def wait_for_order(base: str, key: str, internal_id: str, timeout: float = 20) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{base}/v1/orders/{internal_id}/status", params={"code": key}, timeout=5)
        if answer.status_code == 200 and answer.json()["items"]:
            return answer.json()
        time.sleep(0.3)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thor", default="http://localhost:7071")
    parser.add_argument("--tenant", default=DEMO_TENANT)
    parser.add_argument("--order-id", type=int, default=SEED_ORDER_ID)
    args = parser.parse_args(argv)
    values = _settings()
    key, tenant, base = values["LOCAL_FUNCTION_KEY"], args.tenant, args.thor.rstrip("/")
    internal_id = f"{tenant}-{args.order_id}"
    try:
        requests.get(base, timeout=3)
    except requests.ConnectionError:
        print(f"Thor is not running on {base}: start it with `make run` in another terminal.")
        return 1

    def post(path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{base}{path}", params={"code": key}, json=body, timeout=10)

    date_order(values, args.order_id, timedelta(minutes=20), timedelta(hours=3))  # due today: on the SLA radar
    show(
        "onOrderCreated (seed example)",
        post(f"/webhooks/{tenant}/orders", {"event": "onOrderCreated", "payload": {"OrderId": args.order_id}}),
    )
    view = wait_for_order(base, key, internal_id)
    if view is None:
        print("the order did not appear within 20 s: see Thor's output in the `make run` terminal")
        return 1
    print(f"\n  status endpoint: {json.dumps(view, indent=2)[:1500]}")

    item_ids = [item["itemId"] for item in view["items"]]
    # with the sandbox, play the marketplace shipping the items before it sends the webhook
    sandbox_moves(values, item_ids, "shipped")
    show(
        "onOrderItemsStatusChanged → shipped (the marketplace is asked for the current status)",
        post(
            f"/webhooks/{tenant}/orders/status",
            {
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": str(args.order_id), "OrderItemIds": item_ids, "NewStatus": "shipped"},
            },
        ),
    )
    show(
        "onProductCreated (seed example)",
        post(f"/webhooks/{tenant}/products", {"event": "onProductCreated", "payload": {"SellerSkus": ["881172242"]}}),
    )

    zort_url = f"{base}/webhooks/{tenant}/zort?code={key}"
    key1 = values[f"ZORT_KEY1_{tenant.upper()}"]
    tracking = [
        {
            "trackingno": f"TH{args.order_id}",
            "trackingurl": f"https://tracking.example/TH{args.order_id}",
            "shippingdate": None,
        }
    ]
    show(
        "ZORT UPDATEORDERTRACKING",
        send_webhook(zort_url, "UPDATEORDERTRACKING", tracking, key1, query={"id": "1234", "number": internal_id}),
    )
    show(
        "ZORT UPDATEPRODUCTQUANTITY (seed example)",
        send_webhook(zort_url, "UPDATEPRODUCTQUANTITY", SEED_EXAMPLES["UPDATEPRODUCTQUANTITY"], key1),
    )
    sku = view["items"][0]["sku"]
    show(
        "refund of one unit",
        requests.post(
            f"{base}/v1/orders/{internal_id}/refund",
            params={"tenant": tenant, "code": key},
            json={"products": [{"sku": sku, "quantity": 1}], "action": "REFUND", "value": 1.0},
            headers={"Idempotency-Key": f"demo-{internal_id}"},
            timeout=10,
        ),
    )

    time.sleep(2)
    final = requests.get(f"{base}/v1/orders/{internal_id}/status", params={"code": key}, timeout=5).json()
    print(f"\n→ the order now\n{json.dumps(final, indent=2)[:3000]}")
    oms_url = values["OMS_BASE_URL"].rstrip("/")
    at_risk_demo(base, key, tenant, args.order_id + 1, oms_url, zort_url, key1, values)
    canceled_demo(base, key, tenant, args.order_id + 2, values)
    blocked_demo(tenant, values)
    try:
        orders = requests.get(f"{oms_url}/_sandbox/orders", timeout=5).json()["orders"]
        mine = [o["order"] for o in orders if o["order"].get("orderRef") == internal_id]
        print(f"\n→ the order in the OMS sandbox ({oms_url}/_sandbox/orders)\n{json.dumps(mine, indent=2)[:3000]}")
    except (requests.RequestException, ValueError, KeyError):
        print(f"\n(the OMS at {oms_url} is not the sandbox: look the order up there by orderRef {internal_id})")
    print(f"\n→ the operations console: {base}/console  (this tenant: {base}/console/tenants/{tenant})")
    alerts_demo(values)
    stock_demo(base, key, values, post)
    loop_demo(base, key, DEMO_TENANT, args.order_id + 3, values)
    return price_demo(base, key, values, post)


def _flow_on(values: dict[str, Any], name: str, tenant: str) -> bool:
    return values.get(f"MARKETPLACE_{name}_{tenant.upper()}", "").lower() not in ("", "false", "off", "0")


def sandbox_order(start: int, items: int) -> int:
    """The first sandbox order id from `start` with `items` items (the sandbox gives 1 + id % 3)."""
    return next(n for n in range(start, start + 3) if 1 + n % 3 == items)


def loop_demo(base: str, key: str, tenant: str, start: int, values: dict[str, Any]) -> None:
    """The order loop (issue 19) end to end against the sandboxes, for the demo tenant."""
    flows = ("DOCUMENTS", "CANCELLATIONS", "SELLER_DELIVERY", "RETURNS_DESK")
    off = [f"MARKETPLACE_{name}_{tenant.upper()}" for name in flows if not _flow_on(values, name, tenant)]
    if off:
        print(f"\n(the order loop is off for {tenant}: {', '.join(off)}; `make run` turns them on for the demo)")
        return
    marketplace = values["MARKETPLACE_BASE_URL"].rstrip("/")
    if not marketplace.startswith("http://127.0.0.1"):
        print("\n(the marketplace is not the sandbox: the order loop demo needs it)")
        return
    zort_url, key1 = f"{base}/webhooks/{tenant}/zort?code={key}", values[f"ZORT_KEY1_{tenant.upper()}"]
    user = values[f"MARKETPLACE_USER_ID_{tenant.upper()}"]

    def post(path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{base}{path}", params={"code": key}, json=body, timeout=10)

    def view(internal: str) -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(
            f"{base}/v1/orders/{internal}/status", params={"code": key}, timeout=5
        ).json()
        return answer

    def order(order_id: int) -> str | None:
        date_order(values, order_id, timedelta(minutes=30), timedelta(hours=20))
        post(f"/webhooks/{tenant}/orders", {"event": "onOrderCreated", "payload": {"OrderId": order_id}})
        return f"{tenant}-{order_id}" if wait_for_order(base, key, f"{tenant}-{order_id}") else None

    def items_to(order_id: int, item_ids: list[str], status: str) -> None:
        """The marketplace moves the items, then tells Thor (its webhook)."""
        spec = {"order_item_ids": item_ids, "status": status}
        requests.post(f"{marketplace}/_sandbox/items/status", json=spec, timeout=5).raise_for_status()
        body = {"OrderId": str(order_id), "OrderItemIds": item_ids, "NewStatus": status}
        post(f"/webhooks/{tenant}/orders/status", {"event": "onOrderItemsStatusChanged", "payload": body})
        wait_until(
            lambda: all(i["status"] == status for i in view(f"{tenant}-{order_id}")["items"] if i["itemId"] in item_ids)
        )

    def zort_order_status(internal: str, status: str) -> None:
        payload = {"id": 7, "number": f"SO-{internal}", "reference": internal, "status": status, "list": []}
        show(f"ZORT UPDATEORDER {internal}: status {status}", send_webhook(zort_url, "UPDATEORDER", payload, key1))

    print(f"\n=== the order loop for {tenant} (issue 19): documents, cancellations, seller delivery, returns ===")
    # 1. a tax document, uploaded and confirmed by the marketplace (SetInvoicePDF)
    documented = sandbox_order(start, 1)
    internal = order(documented)
    if internal is None:
        print("(the order did not appear within 20 s: see Thor's output)")
        return
    item = f"{documented}0"
    items_to(documented, [item], "ready_to_ship")
    pdf = b"%PDF-1.7\n% Thor demo\n" + b"0" * 2048 + b"\n%%EOF\n"
    document = {"type": "FACTURA", "number": f"F{documented}", "date": datetime.now(timezone.utc).date().isoformat()}
    show(
        f"POST /v1/orders/{internal}/documents (a FACTURA for item {item}, Idempotency-Key demo-doc-{documented})",
        requests.post(
            f"{base}/v1/orders/{internal}/documents",
            params={"tenant": tenant, "code": key},
            json={**document, "itemIds": [item], "pdf": base64.b64encode(pdf).decode()},
            headers={"Idempotency-Key": f"demo-doc-{documented}"},
            timeout=10,
        ),
    )
    documented_id: str = internal
    uploaded = wait_until(lambda: [d for d in view(documented_id).get("documents", []) if d["status"] == "uploaded"])
    print(f"  the order's documents: {json.dumps(view(documented_id).get('documents'))}")
    taken = requests.get(f"{marketplace}/_sandbox/invoices", timeout=5).json().get(user, [])
    mine = [d for d in taken if d["orderItemIds"] == [item]]
    print(f"  the marketplace took it: {json.dumps(mine)}" if uploaded else "  (not uploaded yet: see the console)")

    # 2. ZORT voids an order: its pending items are canceled in the marketplace, a shipped one is left
    voided = sandbox_order(start + 3, 3)
    voided_id = order(voided)
    if voided_id:
        items_to(voided, [f"{voided}2"], "shipped")
        zort_order_status(voided_id, "Voided")
        wait_until(lambda: sum(i["status"] == "canceled" for i in view(voided_id)["items"]) == 2)
        shown = view(voided_id)
        print(f"  items now: {', '.join(i['itemId'] + ' ' + i['status'] for i in shown['items'])}")
        for entry in shown["timeline"]:
            if entry["what"] in ("canceled in marketplace", "not canceled"):
                print(f"  timeline: {entry['what']}: {entry['detail']}")

    # 3. a seller-delivered order reaches delivered in the marketplace (ZORT's Shipping, then Success)
    delivered = sandbox_order(start + 6, 1)
    spec: dict[str, Any] = {"order_ids": [delivered], "shipping_type": "Own Delivery"}
    requests.post(f"{marketplace}/_sandbox/orders/shipping-type", json=spec, timeout=5).raise_for_status()
    delivered_id = order(delivered)
    if delivered_id:
        items_to(delivered, [f"{delivered}0"], "ready_to_ship")
        for status, expected in (("Shipping", "shipped"), ("Success", "delivered")):
            zort_order_status(delivered_id, status)
            wait_until(partial(_first_item_is, view, delivered_id, expected))
        print(
            f"  item {delivered}0 in the marketplace now: {view(delivered_id)['items'][0]['status']} (ShippingType Own Delivery)"
        )

    # 4. a return waiting for the seller's approval, with its 72 h deadline in the tenant's zone
    returned = sandbox_order(start + 9, 1)
    internal = order(returned)
    if internal:
        items_to(returned, [f"{returned}0"], "delivered")
        items_to(returned, [f"{returned}0"], "return_waiting_for_approval")
        print(f"  the returns desk: {json.dumps(view(internal).get('returns'), indent=2)}")
    print(f"  (the console shows each: {base}/console/tenants/{tenant})")


def _first_item_is(view: Callable[[str], dict[str, Any]], internal: str, status: str) -> bool:
    return bool(view(internal)["items"][0]["status"] == status)


def wait_until(check: Callable[[], T | None], timeout: float = 30) -> T | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except (requests.RequestException, ValueError, KeyError, IndexError):
            found = None
        if found:
            return found
        time.sleep(0.3)
    return None


def price_demo(
    base: str,
    key: str,
    values: dict[str, Any],
    post: Callable[[str, dict[str, Any]], requests.Response],
    tenant: str = DEMO_TENANT,
) -> int:
    """A storefront price following ZORT (issue 20): the marketplace lists a SKU, ZORT's UPDATEPRODUCT
    carries a new sellprice, a flush sends it in a ProductUpdate feed, the next one reads FeedStatus and
    confirms it; a second price follows the same way."""
    if not _flow_on(values, "PRICE_SYNC", tenant):
        print(f"\n(price sync is off for {tenant}: set MARKETPLACE_PRICE_SYNC_{tenant.upper()}=true to see it)")
        return 0
    import os

    from ops.__main__ import main as ops_main

    os.environ.update({name: value for name, value in values.items() if name in DEMO_SETTINGS})
    sku, store = "THOR-PRICE-DEMO", values.get(f"ZORT_STORENAME_{tenant.upper()}", "")
    zort_sandbox = values["ZORT_API_BASE_URL"].rstrip("/").removesuffix("/v4")
    marketplace = values["MARKETPLACE_BASE_URL"].rstrip("/")
    user = values[f"MARKETPLACE_USER_ID_{tenant.upper()}"]
    zort_url = f"{base}/webhooks/{tenant}/zort?code={key}"
    print(f"\n=== prices for {tenant} (issue 20): the storefront follows ZORT ===")
    show(
        f"onProductCreated {sku} in {tenant} (Thor now knows {tenant} sells it)",
        post(f"/webhooks/{tenant}/products", {"event": "onProductCreated", "payload": {"SellerSkus": [sku]}}),
    )
    time.sleep(2)
    for price in ("59990", "64990"):
        try:
            spec = {"store": store, "prices": {sku: price}}
            requests.post(f"{zort_sandbox}/_sandbox/prices", json=spec, timeout=5).raise_for_status()
        except requests.RequestException:
            print(f"\n(ZORT at {zort_sandbox} is not the sandbox: the price demo needs it)")
            return 0
        payload = {**SEED_EXAMPLES["UPDATEPRODUCT"], "sku": sku, "sellprice": f"{price}.00"}
        show(
            f"ZORT UPDATEPRODUCT {sku}: sellprice {price}",
            send_webhook(zort_url, "UPDATEPRODUCT", payload, key1_of(values, tenant)),
        )
        time.sleep(2)
        print(f"\n→ python -m ops prices --tenant {tenant} --flush  (the timer does this every 30 s): the feed goes")
        ops_main(["prices", "--tenant", tenant, "--flush"])
        time.sleep(1)
        print("\n→ the next flush reads FeedStatus: the SKU is confirmed")
        ops_main(["prices", "--tenant", tenant, "--flush"])
        shown = requests.get(f"{marketplace}/_sandbox/prices", timeout=5).json()["prices"].get(user, {}).get(sku, {})
        print(
            f"\n→ the storefront's price of {sku} ({marketplace}/_sandbox/prices): {shown.get('Price')} (ZORT {price})"
        )
    ops_main(["prices", "--tenant", tenant, "--sku", sku])
    return 0


def key1_of(values: dict[str, Any], tenant: str) -> str:
    return values[f"ZORT_KEY1_{tenant.upper()}"]


def stock_demo(
    base: str,
    key: str,
    values: dict[str, Any],
    post: Callable[[str, dict[str, Any]], requests.Response],
    tenant: str = "faar",
) -> int:
    """ZORT's stock reaches the storefront: the marketplace lists a SKU, ZORT sends stock webhooks (a
    hint, possibly stale), a flush reads ZORT's current stock and writes it, less the buffer."""
    if values.get(f"MARKETPLACE_STOCK_SYNC_{tenant.upper()}", "").lower() != "true":
        print(f"\n(stock sync is off for {tenant}: set MARKETPLACE_STOCK_SYNC_{tenant.upper()}=true to see it)")
        return 0
    from ops.__main__ import main as ops_main

    sku, store = "THOR-STOCK-DEMO", values.get(f"ZORT_STORENAME_{tenant.upper()}", "")
    zort_sandbox = values["ZORT_API_BASE_URL"].rstrip("/").removesuffix("/v4")
    marketplace = values["MARKETPLACE_BASE_URL"].rstrip("/")
    user = values[f"MARKETPLACE_USER_ID_{tenant.upper()}"]
    key1 = values[f"ZORT_KEY1_{tenant.upper()}"]
    zort_url = f"{base}/webhooks/{tenant}/zort?code={key}"
    show(
        f"stock sync: onProductCreated {sku} in {tenant} (Thor now knows {tenant} sells it)",
        post(f"/webhooks/{tenant}/products", {"event": "onProductCreated", "payload": {"SellerSkus": [sku]}}),
    )
    time.sleep(2)
    for current, hint in (("12.00", "15.00"), ("3.00", "40.00")):
        try:
            requests.post(f"{zort_sandbox}/_sandbox/stock", json={"store": store, "stock": {sku: current}}, timeout=5)
        except requests.RequestException:
            print(f"\n(ZORT at {zort_sandbox} is not the sandbox: the stock demo needs it)")
            return 0
        payload = {"id": 99, "sku": sku, "name": "demo", "stock": hint, "availablestock": hint}
        show(
            f"ZORT UPDATEPRODUCTQUANTITY {sku} (a stale hint: {hint}; ZORT's current available stock: {current})",
            send_webhook(zort_url, "UPDATEPRODUCTQUANTITY", payload, key1),
        )
        time.sleep(2)
        print(f"\n→ python -m ops stock --tenant {tenant} --flush  (the timer does this every 2 minutes)")
        ops_main(["stock", "--tenant", tenant, "--flush"])
        print(
            "\n→ UpdateStock answered a feed: the SKU is in feed until the marketplace reports. The next flush"
            " asks FeedStatus (or onFeedCompleted comes):"
        )
        ops_main(["stock", "--tenant", tenant, "--flush"])
        shown = requests.get(f"{marketplace}/_sandbox/stock", timeout=5).json().get(user, {}).get("main", {})
        print(
            f"\n→ the storefront's stock of {sku} ({marketplace}/_sandbox/stock): {shown.get(sku)} (ZORT {current}, buffer 1)"
        )
    return 0


def canceled_demo(base: str, key: str, tenant: str, order_id: int, values: dict[str, Any]) -> None:
    """A seller-caused cancellation for the SLA radar's rate: an order promised an hour ago, never
    shipped, canceled by the marketplace after its promised time."""
    date_order(values, order_id, timedelta(hours=5), timedelta(hours=-1))

    def post(path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{base}{path}", params={"code": key}, json=body, timeout=10)

    post(f"/webhooks/{tenant}/orders", {"event": "onOrderCreated", "payload": {"OrderId": order_id}})
    view = wait_for_order(base, key, f"{tenant}-{order_id}")
    if view is None:
        return
    item_ids = [item["itemId"] for item in view["items"]]
    if not sandbox_moves(values, item_ids, "canceled"):
        return
    show(
        f"onOrderItemsStatusChanged → canceled for order {order_id}, after its promised shipping time (seller-caused)",
        post(
            f"/webhooks/{tenant}/orders/status",
            {
                "event": "onOrderItemsStatusChanged",
                "payload": {"OrderId": str(order_id), "OrderItemIds": item_ids, "NewStatus": "canceled"},
            },
        ),
    )


def at_risk_demo(
    base: str, key: str, tenant: str, order_id: int, oms_url: str, zort_url: str, key1: str, values: dict[str, Any]
) -> None:
    """Leaves something in each of the console's at-risk sections: an order of today the OMS sandbox
    refuses (403, not retried: a failed event, the order not in the OMS, its items pending past their
    promised time) and a ZORT event matching no order (unmatched). Replay it from the console."""
    date_order(values, order_id, timedelta(hours=3), timedelta(minutes=-30))
    try:  # only the OMS sandbox takes faults; a real OMS is left alone
        requests.post(
            f"{oms_url}/_sandbox/fail", json={"mode": "403", "times": 1, "match": f"{tenant}-{order_id}"}, timeout=5
        ).raise_for_status()
    except requests.RequestException:
        print("\n(the OMS is not the sandbox: no failed event is made for the console)")
        return
    show(
        f"onOrderCreated {order_id}, refused once by the OMS sandbox (a failed event for the console)",
        requests.post(
            f"{base}/webhooks/{tenant}/orders",
            params={"code": key},
            json={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
            timeout=10,
        ),
    )
    tracking = [{"trackingno": "THNOMATCH", "trackingurl": "", "shippingdate": None}]
    show(
        "ZORT UPDATEORDERTRACKING for an order Thor does not have (unmatched)",
        send_webhook(zort_url, "UPDATEORDERTRACKING", tracking, key1, query={"number": f"{tenant}-no-such-order"}),
    )


def blocked_demo(tenant: str, values: dict[str, Any]) -> None:
    """A blocked event for the console: a full stock resync asked for a tenant whose stock sync is off
    waits, naming the setting, until it is turned on and the event replayed."""
    if values.get(f"MARKETPLACE_STOCK_SYNC_{tenant.upper()}", "").lower() == "true":
        return
    from ops.__main__ import main as ops_main

    print(f"\n→ python -m ops stock --tenant {tenant} --resync  (stock sync is off for {tenant}: a blocked event)")
    ops_main(["stock", "--tenant", tenant, "--resync"])


def alerts_demo(values: dict[str, Any]) -> None:
    """Runs the alert timer's work once now (the runner runs it every 5 minutes) against the same
    Azurite and shows what the alert sandbox took: one message per incident and channel."""
    import os

    sandbox = (values.get("ACS_ENDPOINT") or "").removesuffix("/acs")
    if not sandbox.startswith("http://127.0.0.1"):
        print("\n(the alert channels are not the sandbox: alerts go to the configured Teams / Slack / e-mail)")
        return
    from shared.bootstrap import get_context, reset_context
    from shared.services.alerts import run_alerts

    os.environ.update(values)
    reset_context()
    context = get_context()
    run = run_alerts(context, context.alert_ports)
    print(f"\n→ the alert timer, run now: {len(run.sent)} message(s) sent, {len(run.held)} held by quiet hours")
    try:
        received = requests.get(f"{sandbox}/_sandbox/received", timeout=5).json()
    except (requests.RequestException, ValueError):
        print(f"  (the alert sandbox at {sandbox} did not answer)")
        return
    for item in received[-9:]:
        body = item["body"]
        title = body.get("text") or body.get("content", {}).get("subject") or "Adaptive Card"
        if item["channel"] == "teams":
            title = body["attachments"][0]["content"]["body"][0]["text"]
        print(f"  {item['channel']:5} {title}")
    print(f"  (all of them: {sandbox}/_sandbox/received)")


if __name__ == "__main__":
    sys.exit(main())
