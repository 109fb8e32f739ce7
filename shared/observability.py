"""Log context that follows an event from webhook to OMS call: tenant, event id, order id and a
correlation id (the event id), on every log line and on every outgoing HTTP request."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Mapping
from types import MappingProxyType

CORRELATION_HEADER = "X-Correlation-Id"
# Never changed in place: each `log_context` sets a new mapping (and resets it on leaving).
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "thor_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[dict[str, str]]:
    """Adds fields (tenant, event_id, order_id, correlation_id) to logs and calls made inside."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v}}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


def current() -> dict[str, str]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the current context on each record (one attribute per field) and at the end of its
    message, so it reaches every sink (console, Application Insights) without a custom formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        if fields and not getattr(record, "_thor_context", False):
            for name, value in fields.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
            record.msg = f"{record.getMessage()} [{' '.join(f'{k}={v}' for k, v in fields.items())}]"
            record.args = ()
            record._thor_context = True
        return True


def install(level: int | str = logging.INFO) -> None:
    """Adds the context filter to the root handlers (Functions' own and the local runner's)."""
    # The storage SDK logs every HTTP request and its headers at INFO: keep Thor's own lines readable.
    logging.getLogger("azure").setLevel(logging.WARNING)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
