"""The ops command line (`python -m ops`), in-process against the test stack (Azurite and the sandboxes)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from localdev.stack import Stack
from ops.__main__ import main
from shared.bootstrap import Context
from shared.domain.events import PENDING, EventKind, EventStatus, InboundEvent
from shared.domain.times import rfc3339
from shared.services.intake import record_event
from shared.services.processing import process_event
from tests.checks import present

TENANT = "faco"
NO_FILE = ["--settings", os.devnull]  # the test stack's environment only, whatever local.settings.json holds


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*NO_FILE, *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def failed_event(context: Context) -> InboundEvent:
    """A recorded event, not queued, marked failed as after its last retry."""
    event = InboundEvent(
        tenant=TENANT,
        event_id=f"cli-test-{uuid.uuid4().hex}",
        kind=EventKind.PRODUCTS,
        body={},
        received_at=datetime.now(timezone.utc),
    )
    assert context.events.add(event)
    context.events.set_status(event, EventStatus.FAILED, reason="LookupError: no handler (test)", attempts=4)
    return event


def test_events_lists_a_failed_event_and_replay_puts_it_back(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    event = failed_event(context)
    code, out = run(capsys, "events", "--tenant", TENANT, "--status", "failed")
    assert code == 0 and event.event_id in out and "failed" in out and "no handler (test)" in out

    since = (event.received_at - timedelta(seconds=1)).isoformat()
    code, out = run(capsys, "replay", "--tenant", TENANT, "--since", since, "--dry-run")
    assert code == 0 and f"would replay {TENANT}/{event.event_id}" in out
    assert present(context.events.get(TENANT, event.event_id)).status is EventStatus.FAILED

    code, out = run(capsys, "replay", event.event_id, "--tenant", TENANT)
    assert code == 0 and "replayed" in out
    replayed = context.events.get(TENANT, event.event_id)
    assert present(replayed).status is EventStatus.RECEIVED and present(replayed).attempts == 0

    code, out = run(capsys, "events", "--tenant", TENANT, "--status", "failed")
    assert event.event_id not in out
    code, out = run(capsys, "replay", "cli-test-no-such-event", "--tenant", TENANT)
    assert code == 1


def test_order_shows_the_full_history_without_personal_data(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    order_id = 7313001
    internal_id = f"{TENANT}-{order_id}"
    acceptance = record_event(
        context.events,
        context.queue,
        tenant=TENANT,
        kind=EventKind.ORDER_CREATED,
        identity=order_id,
        body={"event": "onOrderCreated", "payload": {"OrderId": order_id}},
        internal_order_id=internal_id,
    )
    for _ in range(5):  # again after a failure: the session's runner may process it at the same time
        if process_event(context, TENANT, acceptance.event_id, (0, 0, 0, 0, 0)) not in PENDING:
            break
    assert present(context.events.get(TENANT, acceptance.event_id)).status is EventStatus.COMPLETED
    order, _ = present(context.orders.get(TENANT, internal_id))

    code, out = run(capsys, "order", internal_id)
    assert code == 0
    for expected in (
        "Items",
        "Timeline",
        "Refunds",
        "oms synced",
        "order created",
        acceptance.event_id,
        order.items[0].sku,
        order.items[0].item_id,
    ):
        assert expected in out
    for personal in (order.customer.first_name, order.customer.last_name):
        assert personal and personal not in out
    # times as RFC 3339 UTC with milliseconds (before: "2026-11-23 00:34:10Z")
    assert present(rfc3339(order.created_at)) in out and present(rfc3339(order.updated_at)) in out
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", out)

    code, out = run(capsys, "order", f"{TENANT}-7313999")
    assert code == 1 and "no order" in out
    code, _ = run(capsys, "order", "not-an-order")
    assert code == 2


def test_resync_fetches_an_order_thor_never_heard_of_and_sends_it_to_the_oms(
    context: Context, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    internal_id = f"{TENANT}-7313002"
    code, out = run(capsys, "resync", internal_id)
    assert code == 0 and "completed" in out
    assert present(context.orders.get(TENANT, internal_id))[0].oms_synced
    orders = requests.get(stack.servers["oms"].url + "/_sandbox/orders", timeout=5).json()["orders"]
    assert [o for o in orders if o["order"].get("orderRef") == internal_id]


def test_check_settings_names_what_is_missing_and_masks_secrets(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(capsys, "check-settings")
    assert code == 0 and "settings ok" in out
    secrets = [
        v
        for k, v in stack.values.items()
        if any(
            k.startswith(p)
            for p in ("MARKETPLACE_API_KEY_", "OMS_TOKEN_", "ZORT_KEY1_", "ZORT_APIKEY_", "ZORT_APISECRET_")
        )
    ]
    assert len(secrets) == 45
    account_key = stack.values["AzureWebJobsStorage"].split("AccountKey=")[1].split(";")[0]
    for secret in (*secrets, account_key):
        assert secret not in out
    assert stack.values["MARKETPLACE_USER_ID_FACO"] in out  # not a secret: shown

    monkeypatch.delenv("OMS_TENANT_FACO")
    code, out = run(capsys, "check-settings", "--tenant", TENANT)
    assert code == 2 and "OMS_TENANT_FACO" in out and "INCOMPLETE" in out


def test_reconcile_and_zort_webhooks(context: Context, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "reconcile", "--tenant", TENANT)
    assert code == 0 and f"{TENANT}:" in out and "checkpoint" in out
    code, out = run(capsys, "reconcile", "--last", "--tenant", TENANT)
    assert code == 0 and TENANT in out

    key = "function-key-" + uuid.uuid4().hex
    code, out = run(
        capsys,
        "zort-webhooks",
        "register",
        "--tenant",
        TENANT,
        "--base-url",
        "https://thor.example",
        "--function-key",
        key,
    )
    assert code == 0 and "19 of 19 URL(s) point at Thor" in out and key not in out
    code, out = run(
        capsys, "zort-webhooks", "show", "--tenant", TENANT, "--base-url", "https://thor.example", "--function-key", key
    )
    assert code == 0 and "matches Thor's ZORT_KEY1" in out and key not in out
    code, out = run(
        capsys,
        "zort-webhooks",
        "show",
        "--tenant",
        TENANT,
        "--base-url",
        "https://thor.example",
        "--function-key",
        "another-key",
    )
    assert code == 1 and "DIFFERS" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["events", "--status", "nope"],
        ["events", "--tenant", "xxxx"],
        ["events", "--since", "yesterday"],
        ["replay"],
        ["replay", "some-event"],
        ["zort-webhooks", "register", "--tenant", TENANT, "--base-url", "not a url", "--function-key", "k"],
        ["stock", "--resync"],
        ["stock", "--pause", "x"],
        ["stock", "--tenant", TENANT, "--pause", "x", "--resume"],
    ],
)
def test_bad_usage_exits_2(stack: Stack, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _ = run(capsys, *argv)
    assert code == 2


def test_stats_counts_events_per_tenant_and_status(context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    before = context.events.count_by_status(tenant="soar").get("soar", {})
    failed = InboundEvent(
        tenant="soar",
        event_id=f"cli-stats-{uuid.uuid4().hex}",
        kind=EventKind.PRODUCTS,
        body={},
        received_at=datetime.now(timezone.utc),
    )
    assert context.events.add(failed)
    context.events.set_status(failed, EventStatus.FAILED, reason="test")
    code, out = run(capsys, "stats", "--tenant", "soar", "--json")
    assert code == 0
    counts = __import__("json").loads(out)["soar"]
    assert counts["failed"] == before.get("failed", 0) + 1
    code, out = run(capsys, "stats", "--tenant", "soar")
    assert code == 0 and "ACCEPTED" in out and "soar" in out


def test_events_lists_by_default_what_needs_a_person_including_events_stuck_in_received(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(timezone.utc)

    def recorded(status: EventStatus, age: timedelta) -> str:
        event = InboundEvent(
            tenant="sope",
            event_id=f"cli-default-{status.value}-{uuid.uuid4().hex}",
            kind=EventKind.PRODUCTS,
            body={},
            received_at=now - age,
        )
        assert context.events.add(event)
        if status is not EventStatus.RECEIVED:
            context.events.set_status(event, status, reason="test")
        return event.event_id

    stuck = recorded(EventStatus.RECEIVED, timedelta(minutes=20))  # e.g. its worker crashed
    fresh = recorded(EventStatus.RECEIVED, timedelta(seconds=5))  # still on its way: nobody's business yet
    done = recorded(EventStatus.COMPLETED, timedelta(minutes=20))
    needing = [
        recorded(status, timedelta(minutes=1))
        for status in (EventStatus.FAILED, EventStatus.BLOCKED, EventStatus.UNMATCHED)
    ]

    code, out = run(capsys, "events", "--tenant", "sope")
    assert code == 0
    for event_id in (stuck, *needing):
        assert event_id in out
    assert fresh not in out and done not in out

    code, out = run(capsys, "events", "--tenant", "sope", "--stuck-after", "30")
    assert code == 0 and stuck not in out and needing[0] in out
    code, out = run(capsys, "events", "--tenant", "sope", "--status", "received")  # explicit: exactly those
    assert code == 0 and stuck in out and fresh in out and needing[0] not in out
    code, _ = run(capsys, "events", "--stuck-after", "0")
    assert code == 2


def test_stock_shows_the_state_flushes_resyncs_and_the_kill_switch_holds_writes(
    context: Context, stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.domain.product import Product

    monkeypatch.setenv("MARKETPLACE_STOCK_SYNC_SOCO", "true")
    sku = f"CLI-{uuid.uuid4().hex[:8]}"
    context.products.upsert_many([Product(tenant="soco", sku=sku, marketplace_listed=True)])
    requests.post(
        stack.servers["zort"].url + "/_sandbox/stock", json={"store": "thor-soco", "stock": {sku: "6"}}, timeout=5
    )
    code, out = run(capsys, "stock", "--tenant", "soco", "--pause", "audit of ZORT counts")
    assert code == 0 and "paused" in out and "on PAUSED" in out
    code, out = run(capsys, "stock", "--tenant", "soco", "--resync", "--flush")
    assert code == 0 and "flush paused" in out
    assert "stock-resync event" in out and "completed: 1 SKU(s) marked for the next flush" in out
    resyncs = [e for e in context.events.list(tenant="soco") if e.kind is EventKind.STOCK_RESYNC]
    assert resyncs and resyncs[0].status is EventStatus.COMPLETED  # recorded in the event log, replayable
    answer = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
    assert sku not in answer.get("soco@thor.local", {}).get("main", {})
    code, out = run(capsys, "stock", "--tenant", "soco", "--resume", "--flush")
    assert code == 0 and "flush sent (1 write(s)) 1 sent" in out
    assert "OPEN FEED" in out and "UpdateStock" in out  # the feed is shown until it reports
    code, out = run(capsys, "stock", "--tenant", "soco", "--flush")  # polls FeedStatus: Finished
    assert code == 0 and "1 settled" in out
    answer = requests.get(stack.servers["marketplace"].url + "/_sandbox/stock", timeout=5).json()
    assert answer["soco@thor.local"]["main"][sku] == 6
    code, out = run(capsys, "stock", "--json")
    assert code == 0 and '"tenant": "soco"' in out and '"last_result": "nothing to send"' in out


def test_an_ignored_marketplace_event_is_listed_by_its_status_with_its_name(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    """A documented event Thor does not act on (shared.models.marketplace_events) is kept `ignored`
    with its name: `ops events --status ignored` lists it, `ops stats` counts it."""
    feed = f"00000000-0000-4000-8000-{uuid.uuid4().int % 10**12:012d}"
    acceptance = record_event(
        context.events,
        context.queue,
        tenant=TENANT,
        kind=EventKind.MARKETPLACE_IGNORED,
        identity=["onFeedCreated", {"Feed": feed}],
        body={"event": "onFeedCreated", "payload": {"Feed": feed}},
    )
    assert process_event(context, TENANT, acceptance.event_id) is EventStatus.IGNORED
    code, out = run(capsys, "events", "--tenant", TENANT, "--status", "ignored")
    assert code == 0 and acceptance.event_id in out and "ignored" in out and "onFeedCreated" in out
    code, out = run(capsys, "events", "--tenant", TENANT)  # by default: what needs a person, not this
    assert acceptance.event_id not in out
