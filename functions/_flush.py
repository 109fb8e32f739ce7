"""What the two flush timers share (stock_flush, price_flush): one log line per tenant flushed."""

import logging
from collections.abc import Iterable

from shared.services.feed_sync import FlushReport


def log_flushes(log: logging.Logger, kind: str, reports: Iterable[FlushReport]) -> None:
    for report in reports:
        (log.info if report.ok else log.warning)(
            "%s flush %s: %s (%d write(s), %d feed(s)) %s%s",
            kind,
            report.tenant,
            report.result,
            report.writes,
            len(report.feeds),
            report.detail,
            f"; {report.polled}" if report.polled else "",
        )
