"""Timer trigger: every 30 seconds, flush each tenant's marked prices to the marketplace (price sync).
The flush sends only when the seller's feed budget has a slot (50 free, then one every 2 minutes), and
waits for a slot less than 35 s away, so feeds go at the pace the throttle allows."""

import logging

import azure.functions as func

from shared.bootstrap import get_context

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.prices")


@bp.function_name("price_flush")
@bp.timer_trigger(schedule="*/30 * * * * *", arg_name="timer", run_on_startup=False)
def price_flush(timer: func.TimerRequest) -> None:
    from functions._flush import log_flushes
    from shared.services.price_sync import flush_all  # on first run: a cold start of the webhooks does not pay for it

    log_flushes(log, "price", flush_all(get_context()))
