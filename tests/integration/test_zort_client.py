"""The real ZortApiClient against the ZORT sandbox, over real HTTP; and the sandbox's ZORT sender.

Tests share one sandbox, reset before each. The timeout test gets its own: a timeout fault leaves
a server thread sleeping for ``_server.TIMEOUT_SLEEP_SECONDS`` that would log into a later test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from localdev.sandboxes._server import RunningServer
from localdev.sandboxes.zort import SEED_EXAMPLES, _store, create_app, send_webhook
from shared.adapters.zort import ZortApiClient, ZortApiConfig, ZortApiError
from shared.adapters.zort.webhooks import UNREGISTRABLE_EVENTS, WEBHOOK_URL_FIELDS, thor_webhook_urls

STORE = "thor-faco"
APIKEY = "sandbox-apikey-faco+/="
APISECRET = "sandbox-apisecret-faco"
THOR = "https://thor-func.azurewebsites.net/api"


def start_sandbox() -> RunningServer:
    return RunningServer(create_app({STORE: (APIKEY, APISECRET), "other": ("k2", "s2")})).start()


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[RunningServer]:
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def sandbox(shared_sandbox: RunningServer) -> RunningServer:
    control(shared_sandbox, "reset", {})
    return shared_sandbox


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(sandbox: RunningServer, sleeps: list[float], **overrides: Any) -> ZortApiClient:
    settings: dict[str, Any] = dict(
        base_url=f"{sandbox.url}/v4",
        storename=STORE,
        apikey=APIKEY,
        apisecret=APISECRET,
        timeout=(1.0, 2.0),
        max_attempts=4,
        backoff_base=0.01,
    )
    settings.update(overrides)
    return ZortApiClient(ZortApiConfig(**settings), sleep=sleeps.append, rng=lambda: 0.5)


@pytest.fixture
def client(sandbox: RunningServer, sleeps: list[float]) -> ZortApiClient:
    return make_client(sandbox, sleeps)


def control(sandbox: RunningServer, route: str, body: dict[str, Any] | None = None) -> Any:
    if body is None:
        response = requests.get(f"{sandbox.url}/_sandbox/{route}", timeout=5)
    else:
        response = requests.post(f"{sandbox.url}/_sandbox/{route}", json=body, timeout=5)
    response.raise_for_status()
    return response.json()


def seen(sandbox: RunningServer) -> list[dict[str, Any]]:
    return control(sandbox, "requests")


def raw(
    sandbox: RunningServer,
    http_method: str = "GET",
    route: str = "/v4/Webhook/GetWebhook",
    headers: dict[str, Any] | None = None,
    status: int = 200,
    **kwargs: Any,
) -> Any:
    auth = {"storename": STORE, "apikey": APIKEY, "apisecret": APISECRET} if headers is None else headers
    response = requests.request(http_method, f"{sandbox.url}{route}", headers=auth, timeout=5, **kwargs)
    assert response.status_code == status  # ZORT's way: a known route answers 200, the outcome in resCode
    return response.json()


# --- round trip -------------------------------------------------------------------------------


def test_update_then_get_round_trips_thor_urls(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    urls = thor_webhook_urls(THOR, "faco", "fn/key+==")
    answer = client.update_webhook("local-zort-key1-faco", "k2", "k3", urls)
    assert answer["resCode"] == "200"

    settings = client.get_webhook()
    assert {name: settings[name] for name in WEBHOOK_URL_FIELDS} == urls
    assert (settings["key1"], settings["key2"], settings["key3"]) == ("local-zort-key1-faco", "k2", "k3")
    assert sleeps == []

    update, get = seen(sandbox)
    assert (update["method"], update["path"], update["query"]) == ("POST", "/v4/Webhook/UpdateWebhook", {})
    assert (get["method"], get["path"]) == ("GET", "/v4/Webhook/GetWebhook")
    for request in (update, get):
        assert (request["headers"]["storename"], request["headers"]["apikey"], request["headers"]["apisecret"]) == (
            STORE,
            APIKEY,
            APISECRET,
        )
    assert update["headers"]["content-type"] == "application/json"
    assert json.loads(update["body"]) == {"key1": "local-zort-key1-faco", "key2": "k2", "key3": "k3", **urls}


def test_settings_are_per_store_and_blank_until_set(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    client.update_webhook("a", "b", "c", {"addorderurl": f"{THOR}/x"})
    other = make_client(sandbox, sleeps, storename="other", apikey="k2", apisecret="s2").get_webhook()
    assert all(other[name] == "" for name in (*WEBHOOK_URL_FIELDS, "key1", "key2", "key3"))
    mine = client.get_webhook()
    assert mine["addorderurl"] == f"{THOR}/x"
    assert mine["updateorderurl"] == ""  # left out → stored blank (trigger off)


def test_blank_url_turns_an_event_off(client: ZortApiClient) -> None:
    urls = thor_webhook_urls(THOR, "faco", "k")
    client.update_webhook("a", "b", "c", urls)
    client.update_webhook("a", "b", "c", {**urls, "updatequantityurl": ""})
    assert client.get_webhook()["updatequantityurl"] == ""


# --- failures ---------------------------------------------------------------------------------


def test_wrong_apisecret_is_an_error_not_retried(sandbox: RunningServer, sleeps: list[float]) -> None:
    client = make_client(sandbox, sleeps, apisecret="wrong-secret-value")
    with pytest.raises(ZortApiError) as caught:
        client.get_webhook()
    error = caught.value
    assert (error.code, error.retryable, error.status, error.operation) == ("100", False, 200, "GETWEBHOOK")
    assert len(seen(sandbox)) == 1 and sleeps == []
    text = f"{error} {error.message} {error!r}"
    assert "wrong-secret-value" not in text and APIKEY not in text
    assert "wrong-secret-value" not in repr(client.config) and APIKEY not in repr(client.config)


def test_500_twice_then_success_sleeps_with_backoff(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    control(sandbox, "fail", {"mode": "500", "times": 2, "match": "GetWebhook"})
    assert client.get_webhook()["resCode"] == "200"
    assert [r["status"] for r in seen(sandbox)] == [500, 500, 200]
    assert sleeps == pytest.approx([0.0075, 0.015])  # equal jitter with rng 0.5: 0.75 × base × 2^(n-1)


def test_malformed_body_is_retried(sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]) -> None:
    control(sandbox, "fail", {"mode": "malformed", "times": 1})
    client.update_webhook("a", "b", "c", {})
    assert len(seen(sandbox)) == 2 and len(sleeps) == 1


def test_rescode_failure_with_http_200_is_an_error(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    with pytest.raises(ZortApiError) as caught:
        client.update_webhook("a", "b", "c", {"addorderurl": "ftp://example.com/hook"})
    error = caught.value
    assert (error.code, error.status, error.retryable) == ("400", 200, False)
    assert "addorderurl" in error.message
    assert len(seen(sandbox)) == 1 and sleeps == []


def test_rescode_5xx_with_http_200_is_retried(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    control(sandbox, "fail", {"mode": "res500", "times": 1})
    assert client.get_webhook()["resCode"] == "200"
    assert len(seen(sandbox)) == 2 and len(sleeps) == 1


def test_429_honours_retry_after(sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]) -> None:
    control(sandbox, "fail", {"mode": "429", "times": 1})
    client.get_webhook()
    assert sleeps == [1.0]


def test_persistent_failure_gives_up_after_max_attempts(
    sandbox: RunningServer, client: ZortApiClient, sleeps: list[float]
) -> None:
    control(sandbox, "fail", {"mode": "503", "times": 10})
    with pytest.raises(ZortApiError) as caught:
        client.get_webhook()
    assert (caught.value.code, caught.value.retryable) == ("HTTP_503", True)
    assert len(seen(sandbox)) == 4 and len(sleeps) == 3


def test_connection_error_is_retried(sleeps: list[float]) -> None:
    server = start_sandbox()
    url = server.url
    server.stop()
    client = ZortApiClient(
        ZortApiConfig(
            base_url=f"{url}/v4",
            storename=STORE,
            apikey=APIKEY,
            apisecret=APISECRET,
            timeout=(0.5, 0.5),
            max_attempts=2,
            backoff_base=0.01,
        ),
        sleep=sleeps.append,
    )
    with pytest.raises(ZortApiError) as caught:
        client.get_webhook()
    assert (caught.value.code, caught.value.retryable) == ("CONNECTION_ERROR", True)
    assert len(sleeps) == 1


def test_timeout_is_retried(sleeps: list[float]) -> None:
    server = start_sandbox()
    try:
        control(server, "fail", {"mode": "timeout", "times": 1})
        client = make_client(server, sleeps, timeout=(1.0, 0.3))
        assert client.get_webhook()["resCode"] == "200"
        assert len(sleeps) == 1
    finally:
        server.stop()


def test_client_rejects_unknown_url_fields_and_blank_keys(client: ZortApiClient) -> None:
    with pytest.raises(ValueError, match="addorderUrl"):
        client.update_webhook("a", "b", "c", {"addorderUrl": f"{THOR}/x"})
    with pytest.raises(ValueError, match="key2"):
        client.update_webhook("a", " ", "c", {})


class _Answering(requests.Session):
    """A session that answers every request with one prepared response (no server echoes secrets)."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__()
        self._response = response

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        return self._response


def test_echoed_secret_is_scrubbed_from_messages(sleeps: list[float]) -> None:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps({"resCode": "401", "resDesc": f"bad apisecret {APISECRET}"}).encode()
    config = ZortApiConfig(base_url="http://zort.invalid/v4", storename=STORE, apikey=APIKEY, apisecret=APISECRET)
    with pytest.raises(ZortApiError) as caught:
        ZortApiClient(config, session=_Answering(response), sleep=sleeps.append).get_webhook()
    assert APISECRET not in str(caught.value) and "***" in caught.value.message


# --- the sandbox's own checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"storename": STORE, "apikey": APIKEY},
        {"storename": "nobody", "apikey": APIKEY, "apisecret": APISECRET},
        {"storename": STORE, "apikey": "k2", "apisecret": APISECRET},
    ],
)
def test_missing_or_wrong_credentials_answer_rescode_100(sandbox: RunningServer, headers: dict[str, Any]) -> None:
    assert raw(sandbox, headers=headers)["resCode"] == "100"  # "Invalid API", as public v4 clients see it


@pytest.mark.parametrize(
    "verb,route,status",
    [
        ("GET", "/v4/Webhook/GetWebhooks", 404),
        ("GET", "/api.aspx", 404),  # v3's endpoint is not what Thor calls any more
        ("GET", "/v4/Webhook/UpdateWebhook", 405),
        ("POST", "/v4/Webhook/GetWebhook", 405),
    ],
)
def test_unknown_routes_and_wrong_verbs_are_http_errors(
    sandbox: RunningServer, verb: str, route: str, status: int
) -> None:
    raw(sandbox, verb, route, status=status)


def test_routes_are_case_insensitive(sandbox: RunningServer) -> None:
    assert raw(sandbox, route="/v4/webhook/getwebhook")["resCode"] == "200"


@pytest.mark.parametrize(
    "body",
    [
        {"key2": "b", "key3": "c"},
        {"key1": "", "key2": "b", "key3": "c"},
        {"key1": "a", "key2": "b", "key3": "c", "addorderurl": "not a url"},
        {"key1": "a", "key2": "b", "key3": "c", "addorderurl": 5},
        ["key1"],
    ],
)
def test_update_webhook_validates_its_body(sandbox: RunningServer, body: dict[str, Any] | list[str]) -> None:
    assert raw(sandbox, "POST", "/v4/Webhook/UpdateWebhook", json=body)["resCode"] == "400"


def test_store_argument_keeps_base64_padding() -> None:
    assert _store("faco-store=abc+/==:sec") == ("faco-store", ("abc+/==", "sec"))


# --- ZORT calling Thor -----------------------------------------------------------------------


def test_send_webhook_as_form_like_zort(sandbox: RunningServer) -> None:
    url = thor_webhook_urls(sandbox.url, "faco", "fn/key=")["updateorderpaymenturl"]
    send_webhook(
        url,
        "UPDATEORDERPAYMENT",
        SEED_EXAMPLES["UPDATEORDERPAYMENT"],
        "key-one",
        "key-two",
        "key-three",
        query={"id": 1234, "number": "SO-0001", "paymentstatus": "Paid"},
    )
    (request,) = seen(sandbox)
    assert (request["method"], request["path"]) == ("POST", "/webhooks/faco/zort")
    assert request["query"] == {
        "method": "UPDATEORDERPAYMENT",
        "code": "fn/key=",
        "id": "1234",
        "number": "SO-0001",
        "paymentstatus": "Paid",
    }
    headers = request["headers"]
    assert headers["authorization"] == "Basic key-one"
    assert (headers["key1"], headers["key2"], headers["key3"]) == ("key-one", "key-two", "key-three")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request["body"])
    assert list(form) == ["payload"]
    assert json.loads(form["payload"][0]) == SEED_EXAMPLES["ADDORDER"]


def test_send_webhook_as_raw_json(sandbox: RunningServer) -> None:
    send_webhook(
        f"{sandbox.url}/webhooks/faco/zort",
        "UPDATEORDERTRACKING",
        SEED_EXAMPLES["UPDATEORDERTRACKING"],
        "k1",
        as_form=False,
    )
    (request,) = seen(sandbox)
    assert request["query"] == {"method": "UPDATEORDERTRACKING"}
    assert request["headers"]["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == [{"trackingno": "THP0001", "trackingurl": "", "shippingdate": None}]


def test_seed_examples_cover_every_event() -> None:
    assert set(SEED_EXAMPLES) == set(WEBHOOK_URL_FIELDS.values()) | set(UNREGISTRABLE_EVENTS)
    assert len(SEED_EXAMPLES) == 23
    assert SEED_EXAMPLES["ADDTRANSFER"]["transferdate"] == "2021-01- 25"  # verbatim, typo included
    assert SEED_EXAMPLES["ADDORDER"] == SEED_EXAMPLES["UPDATEORDER"]
    assert SEED_EXAMPLES["ADDORDER"] is not SEED_EXAMPLES["UPDATEORDER"]
