"""Phase 8: the scale-out drill (localdev/drill.py, issue 17) measured: external calls and time to settle
of a faulted run of 3 runners on one Azurite beside the fault-free run of the same seed.

Full mode runs `make drill`'s long schedule of seed 1 (80 orders, two faults of each kind); `--quick`
the short one `make test` runs (40 orders, one fault of each kind). Its own Azurite, sandboxes and
runners (the drill starts them), so no other phase's queue or data is touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdev.drill import INVARIANTS, DrillConfig, drill


def measure(quick: bool, progress: Callable[..., None] = print, seed: int = 1) -> dict[str, Any]:
    config = DrillConfig.short(seed) if quick else DrillConfig.long(seed)
    result = drill(config, Path(tempfile.mkdtemp(prefix="thor-bench-drill-")), progress)
    violations = {name: len(result["violations"][name]) for name in INVARIANTS}
    progress(
        f"  drill seed {seed}: {result['calls']} external calls ({result['clean']['calls']} fault-free), "
        f"settled in {result['settle_seconds']} s ({result['clean']['settle_seconds']} s fault-free); "
        f"violations {violations}"
    )
    return {
        "seed": seed,
        "orders": config.orders,
        "runners": config.runners,
        "faults": result["faults"],
        "events": result["events"],
        "calls": result["calls"],
        "calls_by_kind": result["calls_by_kind"],
        "clean_calls": result["clean"]["calls"],
        "clean_calls_by_kind": result["clean"]["calls_by_kind"],
        "calls_ratio": result["calls_ratio"],
        "calls_factor": config.calls_factor,
        "settle_seconds": result["settle_seconds"],
        "clean_settle_seconds": result["clean"]["settle_seconds"],
        "settle_timeout": config.settle_timeout,
        "answers": result["answers"],
        "violations": violations,
        "logs": result["logs"],
    }
