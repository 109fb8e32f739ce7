import logging

from shared.observability import ContextFilter, log_context


def test_log_lines_carry_the_context_and_nothing_leaks_outside_it() -> None:
    records = []
    handler = logging.Handler()
    handler.emit = records.append
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
    assert records[0].order_id == "faco-1"
    assert records[1].getMessage() == "outside"
