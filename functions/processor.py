"""Queue trigger: applies each recorded event to Thor's state (see shared.services.processing)."""

import logging

import azure.functions as func

from shared.bootstrap import EVENTS_QUEUE, decode_message, get_context

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated
log = logging.getLogger("thor.processor")


@bp.function_name("process_event")
@bp.queue_trigger(arg_name="msg", queue_name=EVENTS_QUEUE, connection="AzureWebJobsStorage")
def process(msg: func.QueueMessage) -> None:
    try:
        tenant, event_id, missing = decode_message(msg.get_body().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        log.error("dropping a queue message that is not a Thor event: %r", msg.get_body()[:200])
        return
    from shared.domain.fencing import holder
    from shared.services.processing import process_event  # on first message, not at cold start

    context = get_context()
    owner = holder(msg.id, msg.dequeue_count) if msg.id else None  # this delivery of the message
    process_event(context, tenant, event_id, context.settings.retry_delays, owner=owner, missing=missing)
