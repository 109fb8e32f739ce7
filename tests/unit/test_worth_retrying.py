"""Event processing decides whether to try again from the connector's ExternalSystemError."""

from __future__ import annotations

import pytest
import requests

from shared.adapters.oms import OmsError
from shared.adapters.seller_center import SellerCenterError
from shared.adapters.zort import ZortApiError
from shared.services.processing import _worth_retrying


@pytest.mark.parametrize(
    "error, worth",
    [
        (SellerCenterError("NOT_FOUND", "order 7 not found", retryable=False), True),  # listed a little later
        (OmsError("NOT_FOUND", "not from the marketplace", retryable=False), False),
        (SellerCenterError("E007", "login failed", status=400, retryable=False), False),
        (OmsError("HTTP_401", "revoked token", status=401, retryable=False), False),
        (OmsError("HTTP_503", "down", status=503, retryable=True), True),
        (ZortApiError("500", "busy", status=200, retryable=True), True),
        (ZortApiError("100", "wrong key", status=200, retryable=False), False),
    ],
)
def test_an_external_system_error_says_itself(error: Exception, worth: bool) -> None:
    assert _worth_retrying(error) is worth


@pytest.mark.parametrize(
    "error, worth",
    [
        (KeyError("OrderId"), False),
        (TypeError("bug"), False),
        (ValueError("bad data"), False),
        (RuntimeError("order kept changing"), True),
    ],
)
def test_other_errors_fail_at_once_only_when_they_look_like_a_bug(error: Exception, worth: bool) -> None:
    assert _worth_retrying(error) is worth


def _seller_center_answer(status: int, code: str, message: str, error_type: str = "Sender") -> SellerCenterError:
    import json

    from shared.adapters.http.caller import Reply
    from shared.adapters.seller_center.client import parse_reply

    response = requests.Response()
    response.status_code = status
    head = {"RequestAction": "GetWarehouse", "ErrorType": error_type, "ErrorCode": code, "ErrorMessage": message}
    response._content = json.dumps({"ErrorResponse": {"Head": head, "Body": ""}}).encode()
    with pytest.raises(SellerCenterError) as raised:
        parse_reply(Reply(response, "GetWarehouse", SellerCenterError))
    return raised.value


@pytest.mark.parametrize(
    "status, code, message, error_type, worth",
    [
        # developers.falabella.com v500 GetWarehouse / DeleteWebhook: code 1000 for validation errors
        (400, "1000", "Invalid request parameter 'FacilityId'", "Sender", False),
        (400, "1000", "Format Error Detected", "Sender", False),
        (500, "1000", "Format Error Detected", "Platform", False),
        # code 1000 as the internal error it also is, and the other transient ones: retried
        (500, "1000", "Internal Application Error", "Platform", True),
        (200, "1000", "Internal Application Error", "Sender", True),
        (429, "E429", "Too many requests", "Sender", True),
        (200, "E006", "Unexpected internal error", "Platform", True),
        (400, "E007", "Login failed. Signature mismatching", "Sender", False),
    ],
)
def test_a_seller_center_error_is_retried_by_its_meaning_not_only_its_number(
    status: int, code: str, message: str, error_type: str, worth: bool
) -> None:
    error = _seller_center_answer(status, code, message, error_type)
    assert error.retryable is worth
    assert _worth_retrying(error) is worth
