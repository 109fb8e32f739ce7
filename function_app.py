"""Thor's Azure Functions app (Python v2 model): one Blueprint per endpoint, plus the processor.

Importing this module does no I/O: clients are created on first use and reused.
"""

import azure.functions as func

from functions import (
    alerts_timer,
    console,
    console_reports,
    documents,
    health,
    items_status_webhook,
    order_status_view,
    orders,
    price_flush,
    processor,
    products,
    reconcile,
    refund,
    smoke_events,
    stock_flush,
    zort,
)
from shared import observability

observability.install()  # tenant / event / order / correlation id on every log line
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (
    orders.bp,
    items_status_webhook.bp,
    products.bp,
    order_status_view.bp,
    refund.bp,
    documents.bp,
    zort.bp,
    processor.bp,
    reconcile.bp,
    stock_flush.bp,
    price_flush.bp,
    health.bp,
    smoke_events.bp,
    console.bp,
    alerts_timer.bp,
    console_reports.bp,
):
    app.register_functions(blueprint)
