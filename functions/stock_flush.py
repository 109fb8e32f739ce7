"""Timer trigger: every 2 minutes, flush each tenant's dirty SKUs to the marketplace (stock sync)."""

import logging

import azure.functions as func

from shared.bootstrap import get_context

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.stock")


@bp.function_name("stock_flush")
@bp.timer_trigger(schedule="0 */2 * * * *", arg_name="timer", run_on_startup=False)
def stock_flush(timer: func.TimerRequest) -> None:
    from functions._flush import log_flushes
    from shared.services.stock_sync import flush_all  # on first run: a cold start of the webhooks does not pay for it

    log_flushes(log, "stock", flush_all(get_context()))
