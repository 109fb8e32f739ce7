"""Storage stops mid-burst: webhooks get 503 with Retry-After (never a 500); when it returns,
every event that got a 200 is processed."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.azurite import Azurite
from localdev.stack import Stack
from tests.conftest import eventually

pytestmark = pytest.mark.e2e


def answered(answer: requests.Response | requests.RequestException) -> requests.Response:
    """The answer, which the test expects to be one (not a connection error)."""
    assert isinstance(answer, requests.Response), answer
    return answer


def test_storage_stopping_mid_burst_gives_503_and_loses_nothing(stack: Stack, tmp_path: Path) -> None:
    azurite = Azurite(location=tmp_path / "azurite").start()
    own = Stack(values=dict(stack.values, AzureWebJobsStorage=azurite.connection_string))
    own.start_runner(["--lease", "3", "--max-poll", "0.2"])  # back to work soon after storage returns
    key = own.values["LOCAL_FUNCTION_KEY"]

    def send(order_id: int) -> tuple[int, requests.Response | requests.RequestException]:
        body: dict[str, Any] = {"event": "onOrderCreated", "payload": {"OrderId": order_id}}
        try:
            return order_id, requests.post(
                own.thor_url + "/webhooks/faco/orders", params={"code": key}, json=body, timeout=30
            )
        except requests.RequestException as error:
            return order_id, error

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            before = list(pool.map(send, range(9100000, 9100016)))
            azurite.stop()
            during = list(pool.map(send, range(9100016, 9100032)))
        answers = [a for _, a in before + during]
        assert all(isinstance(a, requests.Response) for a in answers), answers
        assert {answered(a).status_code for a in answers} <= {200, 503}
        unavailable = [a for _, a in during if answered(a).status_code == 503]
        assert len(unavailable) == 16
        for answer in unavailable:
            assert answered(answer).headers["Retry-After"] == "5"
            assert answered(answer).headers["Content-Type"].startswith("application/problem+json")
            assert "Traceback" not in answered(answer).text
        acknowledged = [oid for oid, a in before + during if answered(a).status_code == 200]
        assert len(acknowledged) == 16

        azurite.start()  # same ports, same data folder: storage is back

        def processed(oid: int) -> bool:
            view = requests.get(f"{own.thor_url}/v1/orders/faco-{oid}/status", params={"code": key}, timeout=5)
            return view.status_code == 200 and bool(view.json()["items"])

        eventually(lambda: all(processed(oid) for oid in acknowledged), timeout=60, interval=0.5)
        # The sender retries what got a 503, and then those are processed too.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            retried = list(pool.map(send, range(9100016, 9100032)))
        assert {answered(a).status_code for _, a in retried} == {200}
        eventually(lambda: all(processed(oid) for oid, _ in retried), timeout=60, interval=0.5)
    finally:
        own.stop_runner()
        azurite.stop()
