"""Thor's Azure Functions app (Python v2 model): one Blueprint per endpoint, plus the processor.

Importing this module does no I/O: clients are created on first use and reused.
"""
import azure.functions as func

from shared import observability
from functions import health, order_status, orders, processor, products, reconcile, refund, status, zort

observability.install()  # tenant / event / order / correlation id on every log line
app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (orders.bp, order_status.bp, products.bp, status.bp, refund.bp, zort.bp, processor.bp,
                  reconcile.bp, health.bp):
    app.register_functions(blueprint)
