"""The HTTP session every connector uses: it sends the current correlation id with each request."""

from __future__ import annotations

from typing import Any

import requests

from shared.observability import CORRELATION_HEADER, current


class CorrelatedSession(requests.Session):
    """A Session that sends the current correlation id with every request."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        correlation = current().get("correlation_id")
        if correlation:
            headers = dict(kwargs.get("headers") or {})
            headers.setdefault(CORRELATION_HEADER, correlation)
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)
