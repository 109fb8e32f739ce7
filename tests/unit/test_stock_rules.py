"""The stock rules (shared/domain/stock.py) at their edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.domain.stock import (
    IN_FLIGHT_FOR,
    MAX_SKUS_PER_FLUSH,
    SkuOutcome,
    SkuResult,
    StockRecord,
    StockState,
    batches,
    parse_available,
    pick_for_flush,
    quantity_to_send,
    refusal_backoff,
    taken,
    throttle_until,
)

NOW = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("available", "buffer", "expected"),
    [
        ("10.00", 0, 10),
        ("10.00", 3, 7),
        ("10.00", 10, 0),
        ("2", 5, 0),  # the buffer never makes it negative
        ("-4.00", 0, 0),  # oversold in ZORT: nothing to offer
        ("9.99", 0, 9),  # fractions rounded down: never offer a unit that is not whole
        ("0.5", 0, 0),
    ],
)
def test_the_buffer_applies_and_the_quantity_is_never_negative(available: str, buffer: int, expected: int) -> None:
    assert quantity_to_send(Decimal(available), buffer) == expected


def test_a_negative_buffer_is_refused() -> None:
    with pytest.raises(ValueError):
        quantity_to_send(Decimal(1), -1)


@pytest.mark.parametrize(
    ("text", "expected"), [("10.00", Decimal("10.00")), ("1,234.00", Decimal("1234.00")), (7, Decimal(7))]
)
def test_zort_available_stock_is_read_from_its_string(text: str | int, expected: Decimal) -> None:
    assert parse_available(text) == expected


@pytest.mark.parametrize("text", [None, "", "n/a", "NaN", "Infinity", True])
def test_what_is_not_a_number_is_no_stock(text: str | bool | None) -> None:
    assert parse_available(text) is None


def test_batches_hold_at_most_500() -> None:
    sizes = [len(b) for b in batches(list(range(1201)))]
    assert sizes == [500, 500, 201]
    assert list(batches([])) == []


def test_a_flush_takes_at_most_2000_oldest_first() -> None:
    records = [
        StockRecord("faco", f"S{i:05d}", dirty=True, mark="m", marked_at=NOW - timedelta(seconds=i))
        for i in range(2500)
    ]
    picked = pick_for_flush(records, NOW)
    assert len(picked) == MAX_SKUS_PER_FLUSH == 2000
    assert picked[0].sku == "S02499" and picked[-1].sku == "S00500"


def test_in_flight_until_answered_or_until_a_crashed_flush_times_out() -> None:
    record = taken(StockRecord("faco", "A", dirty=True, mark="m1"), NOW)
    assert record.state(NOW) is StockState.IN_FLIGHT and not record.due(NOW)
    assert record.state(NOW + IN_FLIGHT_FOR) is StockState.DIRTY and record.due(NOW + IN_FLIGHT_FOR)
    answered = StockRecord("faco", "A", dirty=False, sending_at=NOW, attempted_at=NOW)
    assert answered.state(NOW) is StockState.CLEAN


def test_refused_skus_back_off_but_the_first_retry_is_the_next_flush() -> None:
    assert refusal_backoff(1) == timedelta(0)
    assert refusal_backoff(2) == timedelta(minutes=5)
    assert refusal_backoff(3) == timedelta(minutes=10)
    assert refusal_backoff(50) == timedelta(hours=1)
    record = StockRecord("faco", "A", dirty=True, mark="m", failures=2)
    refused = SkuOutcome(record, SkuResult.REFUSED, NOW, 3, Decimal(3), "E001: bad")
    assert refused.failures == 3 and refused.next_attempt_at == NOW + timedelta(minutes=10)
    waiting = StockRecord("faco", "A", dirty=True, failures=3, next_attempt_at=refused.next_attempt_at)
    assert not waiting.due(NOW) and waiting.due(NOW, force=True) and waiting.due(NOW + timedelta(minutes=10))


def test_a_deferred_sku_keeps_its_failures_and_an_accepted_one_resets_them() -> None:
    record = StockRecord("faco", "A", dirty=True, failures=2)
    assert SkuOutcome(record, SkuResult.DEFERRED, NOW).failures == 2
    assert SkuOutcome(record, SkuResult.DEFERRED, NOW).next_attempt_at is None
    assert SkuOutcome(record, SkuResult.ACCEPTED, NOW, 1).failures == 0
    assert SkuOutcome(record, SkuResult.ACCEPTED, NOW, 1).clears
    assert not SkuOutcome(record, SkuResult.REFUSED, NOW, 1).clears


def test_after_a_429_writing_waits_for_retry_after_else_two_minutes() -> None:
    assert throttle_until(NOW, 30) == NOW + timedelta(seconds=30)
    assert throttle_until(NOW, None) == NOW + timedelta(minutes=2)
    assert throttle_until(NOW, 0) == NOW + timedelta(minutes=2)
