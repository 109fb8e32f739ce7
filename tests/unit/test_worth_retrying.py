"""Event processing decides whether to try again from the connector's ExternalSystemError."""

from __future__ import annotations

import pytest

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
def test_an_external_system_error_says_itself(error, worth):
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
def test_other_errors_fail_at_once_only_when_they_look_like_a_bug(error, worth):
    assert _worth_retrying(error) is worth
