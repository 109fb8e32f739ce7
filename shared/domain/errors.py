"""Domain errors. The HTTP glue turns each into a problem+json answer with its status."""

from __future__ import annotations

from typing import Literal


class ThorError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, field: str | None, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


class RuleBroken(ThorError):
    status = 422
    title = "Rule broken"


class NotFound(ThorError):
    status = 404
    title = "Not found"


class Conflict(ThorError):
    status = 409
    title = "Conflict"


class NotConfigured(Exception):
    """A tenant has no settings for a system yet: the work waits, blocked, until configured."""

    def __init__(self, system: str, tenant: str, missing: list[str]):
        super().__init__(f"{system} is not configured for {tenant}: missing {', '.join(missing)}")
        self.system = system
        self.tenant = tenant
        self.missing = missing


class NoMatchYet(Exception):
    """An event names an order Thor does not have yet: looked at again in `retry_in` seconds (not an
    attempt), until its window ends and it is `unmatched`."""

    def __init__(self, detail: str, retry_in: int):
        super().__init__(f"{detail} yet: looking again in {retry_in}s")
        self.retry_in = retry_in


ExternalSystem = Literal["marketplace", "oms", "zort", "alerts"]


class ExternalSystemError(Exception):
    """A failed call to an external system, stated without HTTP types so that services can catch it
    without importing an adapter. Each connector raises its own subclass (``SellerCenterError``,
    ``OmsError``, ``ZortApiError``) that fixes ``system``.

    - ``code``: the system's error code (``E007``, a ZORT ``resCode``) or one of Thor's own:
      ``NOT_FOUND``, ``TIMEOUT``, ``CONNECTION_ERROR``, ``REQUEST_FAILED``, ``MALFORMED_RESPONSE``,
      ``UNEXPECTED_RESPONSE``, ``HTTP_<status>``;
    - ``status``: the HTTP status, None when no answer came (timeout, connection refused);
    - ``retryable``: whether trying again later may succeed;
    - ``retry_after``: the seconds the system asked us to wait (Retry-After), if it said;
    - ``operation``: what was called (``GetOrder``, ``OMS GET /api/v1/orders``, ``GETWEBHOOK``).

    The message never carries a credential: connectors mask them before raising.
    """

    system: ExternalSystem

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        operation: str | None = None,
    ):
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.operation = operation
        super().__init__(f"{operation or self.system}: {code}: {message}")
