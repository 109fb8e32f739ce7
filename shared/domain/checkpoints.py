"""A checkpoint: a job's position in time (e.g. reconciliation's, per tenant) and its last run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Summary = dict[str, Any]
"""A run's summary as the job wrote it (JSON-serialisable: counts, lists, an error line)."""


@dataclass
class Checkpoint:
    name: str
    key: str
    position: datetime | None
    summary: Summary = field(default_factory=dict)
    updated_at: datetime | None = None
