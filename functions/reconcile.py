"""Timer trigger: every 15 minutes, reconcile every tenant with the marketplace (lost webhooks)
and queue again any accepted event whose queue message was lost (poison queue, storage outage);
then, for tenants with marketplace cancellations on, read the OMS state of their pending orders
(the OMS sends no webhook) and record the marketplace cancellation of those the OMS canceled."""

import logging

import azure.functions as func

from shared.bootstrap import get_context

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.reconcile")


@bp.function_name("reconcile")
@bp.timer_trigger(schedule="0 */15 * * * *", arg_name="timer", run_on_startup=False)
def reconcile(timer: func.TimerRequest) -> None:
    from shared.services.marketplace_loop import check_oms_cancellations_all
    from shared.services.reconciliation import reconcile_all  # on first run, not at cold start
    from shared.services.sweeper import requeue_stale

    if timer.past_due:
        log.warning("reconciliation is running late (past due)")
    context = get_context()
    requeue_stale(context)
    results = reconcile_all(context)
    repaired = sum(len(r.get("repaired", [])) for r in results)
    failed = [r["tenant"] for r in results if "error" in r]
    log.info(
        "reconciliation: %d tenant(s), %d order(s) repaired%s",
        len(results),
        repaired,
        f", failed for {', '.join(failed)}" if failed else "",
    )
    canceled = check_oms_cancellations_all(context)
    if canceled:
        log.info("OMS cancellations recorded: %s", canceled)
