"""The Storage queue that hands recorded events to the processor (queue trigger `process_event`)."""

from __future__ import annotations

import json

from shared.adapters.storage import EVENTS_QUEUE, Storage, once_more_on_broken_connection, storage_errors


def encode_message(tenant: str, event_id: str, missing: int = 0) -> str:
    """`missing`: how many times the processor already found no such event in the log."""
    body = {"tenant": tenant, "eventId": event_id, **({"missing": missing} if missing else {})}
    return json.dumps(body, separators=(",", ":"))


def decode_message(text: str) -> tuple[str, str, int]:
    """(tenant, event id, times found missing) of a queue message; ValueError when it is not Thor's."""
    data = json.loads(text)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("tenant"), str)
        or not isinstance(data.get("eventId"), str)
    ):
        raise ValueError("not a Thor event message")
    missing = data.get("missing", 0)
    return data["tenant"], data["eventId"], missing if isinstance(missing, int) and missing > 0 else 0


class EventQueue:
    def __init__(self, storage: Storage, name: str = EVENTS_QUEUE):
        self.storage = storage
        self.name = name

    def send(self, tenant: str, event_id: str, delay: int = 0, missing: int = 0) -> None:
        """Queues the event; `delay` seconds keeps the message invisible (retry backoff)."""
        with storage_errors():
            once_more_on_broken_connection(
                self.storage.queue(self.name).send_message,
                encode_message(tenant, event_id, missing),
                visibility_timeout=int(delay) or None,
            )
