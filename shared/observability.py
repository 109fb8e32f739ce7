"""Log context that follows an event from webhook to OMS call: tenant, event id, order id and a
correlation id (the event id), on every log line and on every outgoing HTTP request.

And secrets masked in everything Thor prints: `install` registers the value of every secret setting
(shared.settings.secret_values) and puts `SecretFilter` on the root handlers, so no log line (its
message, arguments or traceback) shows one; `mask` does the same for text Thor stores or answers
(an event's reason, a problem's detail)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterable, Iterator, Mapping
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


MASK = "***"
_secrets: tuple[str, ...] = ()


def register_secrets(values: Iterable[str]) -> None:
    """Adds values `mask` hides (each secret setting's: shared.settings.secret_values)."""
    global _secrets
    _secrets = tuple(sorted(set(_secrets) | {v for v in values if v}, key=len, reverse=True))


def mask(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Masks every registered secret in a record: its message with its arguments, and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install(level: int | str = logging.INFO, env: Mapping[str, str] | None = None) -> None:
    """Adds the context and secret filters to the root handlers (Functions' own, the local runner's,
    the ops CLI's), the secrets read from `env` (the environment by default)."""
    import os

    from shared.settings import secret_values

    register_secrets(secret_values(os.environ if env is None else env))
    # The storage SDK logs every HTTP request and its headers at INFO: keep Thor's own lines readable.
    logging.getLogger("azure").setLevel(logging.WARNING)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
        if not any(isinstance(f, SecretFilter) for f in handler.filters):
            handler.addFilter(SecretFilter())
