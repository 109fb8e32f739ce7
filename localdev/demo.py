"""`make demo`: sends the seed's example webhooks (marketplace and ZORT) to a running Thor and
shows what happened: the order on the status endpoint and in the OMS sandbox; then storefront stock
following ZORT (stock sync is on for faar in local.settings.example.json, buffer 1).

Start Thor first with `make run` (another terminal), then: make demo [DEMO_ARGS="--tenant facl"].
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone

import requests

from localdev.sandboxes.zort import SEED_EXAMPLES, send_webhook
from shared.settings import EXAMPLE_SETTINGS, LOCAL_SETTINGS, local_values

SEED_ORDER_ID = 3272813


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


def _settings() -> dict:
    for path in (LOCAL_SETTINGS, EXAMPLE_SETTINGS):
        if path.exists():
            return local_values(path)
    raise SystemExit("no local.settings.json: run `make run` first")


def date_order(values: dict, order_id: int, created_ago: timedelta, promised_in: timedelta) -> None:
    """Dates a sandbox order today (created `created_ago`, promised to ship `promised_in` from now)
    instead of the sandbox's 2024 dates; a real marketplace is left alone."""
    now = datetime.now(timezone.utc)
    spec = {
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


def wait_for_order(base: str, key: str, internal_id: str, timeout: float = 20) -> dict | None:
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
    parser.add_argument("--tenant", default="faco")
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

    post = lambda path, body: requests.post(f"{base}{path}", params={"code": key}, json=body, timeout=10)
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
    return stock_demo(base, key, values, post)


def stock_demo(base: str, key: str, values: dict, post, tenant: str = "faar") -> int:
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


def canceled_demo(base: str, key: str, tenant: str, order_id: int, values: dict) -> None:
    """A seller-caused cancellation for the SLA radar's rate: an order promised an hour ago, never
    shipped, canceled by the marketplace after its promised time."""
    date_order(values, order_id, timedelta(hours=5), timedelta(hours=-1))
    post = lambda path, body: requests.post(f"{base}{path}", params={"code": key}, json=body, timeout=10)
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
    base: str, key: str, tenant: str, order_id: int, oms_url: str, zort_url: str, key1: str, values: dict
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


def blocked_demo(tenant: str, values: dict) -> None:
    """A blocked event for the console: a full stock resync asked for a tenant whose stock sync is off
    waits, naming the setting, until it is turned on and the event replayed."""
    if values.get(f"MARKETPLACE_STOCK_SYNC_{tenant.upper()}", "").lower() == "true":
        return
    from ops.__main__ import main as ops_main

    print(f"\n→ python -m ops stock --tenant {tenant} --resync  (stock sync is off for {tenant}: a blocked event)")
    ops_main(["stock", "--tenant", tenant, "--resync"])


if __name__ == "__main__":
    sys.exit(main())


def alerts_demo(values: dict) -> None:
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
