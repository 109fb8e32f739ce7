"""Domain errors. The HTTP glue turns each into a problem+json answer with its status."""
from __future__ import annotations


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
