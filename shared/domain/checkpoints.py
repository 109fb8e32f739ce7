"""A checkpoint: a job's position in time (e.g. reconciliation's, per tenant) and its last run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Checkpoint:
    name: str
    key: str
    position: datetime | None
    summary: dict = field(default_factory=dict)
    updated_at: datetime | None = None
