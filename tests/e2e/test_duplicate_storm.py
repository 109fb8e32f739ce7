"""200 copies of one webhook at concurrency 32, through the local runner: one event, processed by one
worker once: the external calls are those of one delivery (issue 9, part 2). `make bench` measures
the same with the same code (bench/storm.py)."""

from __future__ import annotations

import pytest

from bench.storm import ONE_DELIVERY, StormConfig, duplicate_storm
from localdev.stack import Stack

pytestmark = pytest.mark.e2e


def test_a_duplicate_storm_costs_the_external_calls_of_one_delivery(thor: Stack) -> None:
    result = duplicate_storm(thor, 9200001, StormConfig(copies=200, concurrency=32, timeout_seconds=30))
    assert result["answers_200"] == 200 and result["processed"]
    assert result["calls"] == ONE_DELIVERY == {"GetOrder": 1, "GetOrderItems": 1, "oms create": 1, "oms update": 0}
