import logging

from shared.observability import ContextFilter, log_context


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_log_lines_carry_the_context_and_nothing_leaks_outside_it() -> None:
    handler = Recorder()
    records = handler.records
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("thor.test.observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with log_context(tenant="faco", event_id="e1", correlation_id="e1"), log_context(order_id="faco-1"):
            logger.info("applied %s", "x")
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    assert records[0].getMessage() == "applied x [tenant=faco event_id=e1 correlation_id=e1 order_id=faco-1]"
    assert records[0].__dict__["order_id"] == "faco-1"
    assert records[1].getMessage() == "outside"
