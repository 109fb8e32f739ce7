"""The one retrying call the connectors share (shared.adapters.http), against a scripted fake
transport: no server, no real sleep (back-offs are recorded), so each test takes milliseconds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from shared.adapters.http import HttpCaller, HttpConfig, Reply, Request
from shared.adapters.oms import OmsError
from shared.adapters.seller_center import SellerCenterError
from shared.adapters.zort import ZortApiError
from shared.domain.errors import ExternalSystemError

URL = "http://system.invalid/api"


class FakeError(ExternalSystemError):
    system = "oms"


class ScriptedSession(requests.Session):
    """Answers each request with the next scripted response, or raises the next scripted exception."""

    def __init__(self, *script: requests.Response | Exception) -> None:
        super().__init__()
        self.script = list(script)
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append({"method": method, "url": url, **kwargs})
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def answer(
    status: int, body: Any = None, *, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    response.headers.update(headers or {})
    return response


def json_or_status(reply: Reply) -> Any:
    """The simplest parse hook: the JSON of a 2xx, else the status's error."""
    if not reply.ok:
        raise reply.http_error()
    return reply.json()


def caller(
    session: ScriptedSession, sleeps: list[float], *, secrets: tuple[str, ...] = (), **config: Any
) -> HttpCaller:
    class Config(HttpConfig):
        @property
        def secrets(self) -> tuple[str, ...]:
            return secrets

    settings: dict[str, Any] = {"base_url": URL, "timeout": (1.5, 4.0), "max_attempts": 4, "backoff_base": 0.5}
    settings.update(config)
    return HttpCaller(Config(**settings), FakeError, session=session, sleep=sleeps.append, rng=lambda: 0.5)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_success_at_once_sends_with_the_configured_timeout_and_never_sleeps(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(200, {"ok": True}))
    request = Request("POST", URL, params={"a": "1"}, headers={"X-Key": "v"}, json={"b": 2})
    assert caller(session, sleeps).call("create", request, json_or_status) == {"ok": True}
    sent = session.sent[0]
    assert (sent["method"], sent["url"], sent["params"], sent["json"]) == ("POST", URL, {"a": "1"}, {"b": 2})
    assert sent["headers"] == {"X-Key": "v"} and sent["timeout"] == (1.5, 4.0)
    assert sleeps == []


def test_429_is_retried_after_the_retry_after_it_gives(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(429, headers={"Retry-After": "2"}), answer(200, {"n": 1}))
    assert caller(session, sleeps).call("get", Request("GET", URL), json_or_status) == {"n": 1}
    assert sleeps == [2.0] and len(session.sent) == 2


def test_retry_after_is_capped_by_max_backoff(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(503, headers={"Retry-After": "3600"}), answer(200))
    caller(session, sleeps, max_backoff=5.0).call("get", Request("GET", URL), json_or_status)
    assert sleeps == [5.0]


def test_5xx_is_retried_with_exponential_backoff_and_equal_jitter(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(500), answer(502), answer(200, {"n": 3}))
    assert caller(session, sleeps).call("get", Request("GET", URL), json_or_status) == {"n": 3}
    assert sleeps == [0.375, 0.75]  # half of 0.5·2^(n-1) fixed, half times rng (0.5)


def test_4xx_is_not_retried(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(400, {"message": "bad"}), answer(200))
    with pytest.raises(FakeError) as caught:
        caller(session, sleeps).call("create", Request("POST", URL), json_or_status)
    error = caught.value
    assert (error.code, error.status, error.retryable, error.operation) == ("HTTP_400", 400, False, "create")
    assert len(session.sent) == 1 and sleeps == []


def test_an_error_in_a_2xx_body_is_seen_and_retried_when_retryable(sleeps: list[float]) -> None:
    def in_body(reply: Reply) -> Any:
        payload = reply.json()
        if payload.get("resCode") != "200":
            raise reply.error(payload["resCode"], payload["resDesc"], retryable=payload["resCode"].startswith("5"))
        return payload

    session = ScriptedSession(answer(200, {"resCode": "500", "resDesc": "busy"}), answer(200, {"resCode": "200"}))
    assert caller(session, sleeps).call("get", Request("GET", URL), in_body) == {"resCode": "200"}
    assert len(sleeps) == 1

    session = ScriptedSession(answer(200, {"resCode": "401", "resDesc": "wrong key"}), answer(200, {"resCode": "200"}))
    with pytest.raises(FakeError) as caught:
        caller(session, sleeps).call("get", Request("GET", URL), in_body)
    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("401", 200, False)
    assert len(session.sent) == 1


def test_attempts_exhausted_raise_the_last_error_still_retryable(sleeps: list[float]) -> None:
    session = ScriptedSession(*(answer(503) for _ in range(3)))
    with pytest.raises(FakeError) as caught:
        caller(session, sleeps, max_attempts=3).call("get", Request("GET", URL), json_or_status)
    assert (caught.value.code, caught.value.retryable) == ("HTTP_503", True)
    assert len(session.sent) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(
    "failure, code, retryable",
    [
        (requests.ReadTimeout("read timed out"), "TIMEOUT", True),
        (requests.ConnectTimeout("connect timed out"), "TIMEOUT", True),
        (requests.ConnectionError("refused"), "CONNECTION_ERROR", True),
        (requests.exceptions.ChunkedEncodingError("cut"), "CONNECTION_ERROR", True),
        (requests.exceptions.InvalidURL("http://"), "REQUEST_FAILED", False),
    ],
)
def test_no_answer_is_classified_without_status(
    sleeps: list[float], failure: requests.RequestException, code: str, retryable: bool
) -> None:
    session = ScriptedSession(failure, answer(200, {"n": 1}))
    call = caller(session, sleeps, max_attempts=2)
    if retryable:
        assert call.call("get", Request("GET", URL), json_or_status) == {"n": 1}
        assert len(sleeps) == 1
        return
    with pytest.raises(FakeError) as caught:
        call.call("get", Request("GET", URL), json_or_status)
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (code, None, False)
    assert type(failure).__name__ in caught.value.message and sleeps == []


def test_no_answer_when_attempts_run_out_is_retryable_without_status(sleeps: list[float]) -> None:
    session = ScriptedSession(requests.ConnectionError("refused"), requests.ReadTimeout("slow"))
    with pytest.raises(FakeError) as caught:
        caller(session, sleeps, max_attempts=2).call("get", Request("GET", URL), json_or_status)
    assert (caught.value.code, caught.value.status, caught.value.retryable) == ("TIMEOUT", None, True)


def test_a_body_that_is_not_json_is_retryable_on_2xx_only(sleeps: list[float]) -> None:
    session = ScriptedSession(answer(200, raw=b"<html>cut"), answer(200, {"n": 1}))
    assert caller(session, sleeps).call("get", Request("GET", URL), lambda reply: reply.json()) == {"n": 1}
    assert len(sleeps) == 1

    session = ScriptedSession(answer(404, raw=b"<html>not here</html>"))
    with pytest.raises(FakeError) as caught:
        caller(session, sleeps).call("get", Request("GET", URL), lambda reply: reply.json())
    assert (caught.value.code, caught.value.retryable) == ("HTTP_404", False)


def test_a_request_function_is_called_for_each_attempt(sleeps: list[float]) -> None:
    built: list[int] = []

    def request() -> Request:
        built.append(len(built) + 1)
        return Request("GET", f"{URL}?attempt={len(built)}")

    session = ScriptedSession(answer(500), answer(200))
    caller(session, sleeps).call("get", request, json_or_status)
    assert [sent["url"] for sent in session.sent] == [f"{URL}?attempt=1", f"{URL}?attempt=2"]


def test_secrets_are_masked_out_of_messages_and_long_messages_cut(sleeps: list[float]) -> None:
    echo = "bad key sk-123 " + "x" * 1000
    session = ScriptedSession(answer(401, raw=echo.encode()))

    def with_text(reply: Reply) -> Any:
        raise reply.http_error(reply.response.text)

    with pytest.raises(FakeError) as caught:
        caller(session, sleeps, secrets=("sk-123", "")).call("get", Request("GET", URL), with_text)
    assert "sk-123" not in str(caught.value) and caught.value.message.startswith("bad key *** x")
    assert len(caught.value.message) == 500


@pytest.mark.parametrize(
    "error_type, system", [(SellerCenterError, "marketplace"), (OmsError, "oms"), (ZortApiError, "zort")]
)
def test_each_connector_error_is_an_external_system_error_of_its_system(
    error_type: type[ExternalSystemError], system: str
) -> None:
    error = error_type("E1", "why", status=503, retryable=True, retry_after=1.0, operation="Op")
    assert isinstance(error, ExternalSystemError) and error.system == system
    assert (error.code, error.status, error.retryable, error.retry_after) == ("E1", 503, True, 1.0)
    assert str(error) == "Op: E1: why"
