"""The scale-out drill's short schedule (issue 17): 3 runners on one Azurite, the sandboxes, one seed,
40 orders with status changes, duplicated and reordered deliveries and ZORT tracking, the
marketplace's resend of unanswered webhooks, and one fault of each kind (a runner killed and
restarted, a runner stopped past its lease, Azurite stopped, an OMS and a marketplace fault window).
Every invariant is a count that must be 0 (localdev/drill.py); `make drill SEEDS=1-10` runs longer
schedules and prints the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from localdev.drill import INVARIANTS, DrillConfig, details, drill, table

pytestmark = pytest.mark.e2e


def test_the_short_scale_out_drill_loses_nothing_doubles_nothing_and_ends_as_the_marketplace(tmp_path: Path) -> None:
    result = drill(DrillConfig.short(seed=1), log_dir=tmp_path)
    print(table([result]))
    print(details(result))
    assert len(result["faults"]) == 5  # every fault of the schedule ran
    assert result["events"] == result["webhooks"]  # one event per distinct webhook, each acknowledged
    assert result["answers"].get("503 + Retry-After", 0) + result["answers"].get(
        "no answer (runner killed or stopped)", 0
    )  # the faults were felt by the senders
    assert {name: result["violations"][name] for name in INVARIANTS} == {name: [] for name in INVARIANTS}
