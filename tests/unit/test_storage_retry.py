import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from shared.adapters.storage import once_more_on_broken_connection


def test_a_broken_connection_gets_exactly_one_more_try():
    calls = []

    def flaky(value):
        calls.append(value)
        if len(calls) == 1:
            raise ServiceResponseError("Connection aborted: reset by peer")
        return value * 2

    assert once_more_on_broken_connection(flaky, 21) == 42 and calls == [21, 21]

    def always_broken():
        calls.append("x")
        raise ServiceRequestError("refused")

    calls.clear()
    with pytest.raises(ServiceRequestError):
        once_more_on_broken_connection(always_broken)
    assert calls == ["x", "x"]
