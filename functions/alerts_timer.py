"""Timer triggers: every 5 minutes the alerts (at-risk rules -> incidents -> Teams, Slack, e-mail);
every hour the daily reports of each tenant whose local day has ended (docs/operations.md "Alerts and reports")."""

import logging

import azure.functions as func

from shared.bootstrap import get_context

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.alerts")


@bp.function_name("alerts_timer")
@bp.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=False)
def alerts_timer(timer: func.TimerRequest) -> None:
    from shared.services.alerts import run_alerts  # on first run: a webhook's cold start does not pay for it

    context = get_context()
    run = run_alerts(context, context.alert_ports)
    log.info("alerts: %d sent, %d held, %d incident write(s)", len(run.sent), len(run.held), run.writes)
    for failure in run.failures:
        log.warning("alert channel failed: %s", failure)


@bp.function_name("reports_timer")
@bp.timer_trigger(schedule="0 5 * * * *", arg_name="timer", run_on_startup=False)
def reports_timer(timer: func.TimerRequest) -> None:
    from shared.services.reports import run_reports

    context = get_context()
    for report in run_reports(context, context.alert_ports):
        log.info("report %s written: %d row(s)", report.name, report.rows)
