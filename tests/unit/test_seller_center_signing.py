"""Seller Center request signing: the documented test vector and RFC 3986 encoding edge cases."""

from __future__ import annotations

import hashlib
import hmac
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfoNotFoundError

import pytest

from shared.adapters.seller_center import SellerCenterClient, SellerCenterConfig
from shared.adapters.seller_center.client import normalise_error_code
from shared.adapters.seller_center.signing import canonical_query, format_timestamp, sign

VECTOR_PARAMS = {
    "Action": "FeedList",
    "Format": "XML",
    "Timestamp": "2015-07-01T11:11:11+00:00",
    "UserID": "look@me.com",
    "Version": "1.0",
}
VECTOR_KEY = "b1bdb357ced10fe4e9a69840cdd4f0e9c03d77fe"
VECTOR_SIGNATURE = "3ceb8ed91049dfc718b0d2d176fb2ed0e5fd74f76c5971f34cdab48412476041"


def test_reproduces_the_documented_test_vector() -> None:
    assert sign(VECTOR_PARAMS, VECTOR_KEY) == VECTOR_SIGNATURE


def test_vector_canonical_string() -> None:
    assert canonical_query(VECTOR_PARAMS) == (
        "Action=FeedList&Format=XML&Timestamp=2015-07-01T11%3A11%3A11%2B00%3A00&UserID=look%40me.com&Version=1.0"
    )


def test_parameter_order_does_not_matter() -> None:
    assert sign(dict(reversed(list(VECTOR_PARAMS.items()))), VECTOR_KEY) == VECTOR_SIGNATURE


def test_signature_depends_on_key_and_values() -> None:
    assert sign(VECTOR_PARAMS, VECTOR_KEY + "x") != VECTOR_SIGNATURE
    assert sign({**VECTOR_PARAMS, "Version": "2.0"}, VECTOR_KEY) != VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a b", "a%20b"),  # space is %20, never "+"
        ("a+b", "a%2Bb"),  # a literal plus is encoded
        ("me@x.com", "me%40x.com"),
        ("-_.~", "-_.~"),  # RFC 3986 unreserved characters stay
        ("ñandú", "%C3%B1and%C3%BA"),  # UTF-8, upper-case hex
        ("a/b?c=d&e", "a%2Fb%3Fc%3Dd%26e"),
        ("*'()!", "%2A%27%28%29%21"),
        ('["SKU 1","SKU+2"]', "%5B%22SKU%201%22%2C%22SKU%2B2%22%5D"),
        ("", ""),
    ],
)
def test_values_are_rfc3986_encoded(value: str, encoded: str) -> None:
    assert canonical_query({"V": value}) == f"V={encoded}"


def test_names_are_encoded_and_sorted_by_name() -> None:
    assert canonical_query({"b": "1", "a b": "2", "B": "3"}) == "B=3&a%20b=2&b=1"


def test_signature_is_lowercase_hex_hmac_sha256_of_the_canonical_string() -> None:
    params = {"Action": "GetProducts", "SkuSellerList": '["ñ 1","a+b"]', "UserID": "u@x.cl"}
    expected = hmac.new(b"secret", canonical_query(params).encode(), hashlib.sha256).hexdigest()
    assert sign(params, "secret") == expected
    assert expected == expected.lower() and len(expected) == 64


def test_timestamp_format_is_utc_with_offset_and_seconds() -> None:
    moment = datetime(2024, 5, 1, 9, 30, 15, 987654, tzinfo=timezone(timedelta(hours=-4)))
    assert format_timestamp(moment) == "2024-05-01T13:30:15+00:00"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2024, 5, 1))


def test_client_signs_every_parameter_but_signature() -> None:
    config = SellerCenterConfig(
        base_url="http://x",
        user_id="look@me.com",
        api_key=VECTOR_KEY,
        seller_id="S1",
        business_unit="FACO",
        time_zone="America/Bogota",
    )
    client = SellerCenterClient(config, now=lambda: datetime(2015, 7, 1, 11, 11, 11, tzinfo=timezone.utc))
    params = client.signed_params("GetOrder", {"OrderId": "42"}, version="2.0")
    signature = params.pop("Signature")
    assert params == {
        "Action": "GetOrder",
        "Format": "JSON",
        "Timestamp": "2015-07-01T11:11:11+00:00",
        "UserID": "look@me.com",
        "Version": "2.0",
        "OrderId": "42",
    }
    assert signature == sign(params, VECTOR_KEY)


def test_user_agent_starts_with_the_documented_form_and_repr_has_no_api_key() -> None:
    """Documented (developers.falabella.com getting-started): SellerId/Language/LanguageVersion, e.g.
    JJJ123/PHP/8.1.7 (full version); Thor appends integration type and business unit as optional parts."""
    config = SellerCenterConfig(
        base_url="http://x",
        user_id="u",
        api_key="top-secret",
        seller_id="SELLER1",
        business_unit="FACO",
        time_zone="America/Bogota",
    )
    major, minor, micro = sys.version_info[:3]
    assert config.user_agent.split("/")[:3] == ["SELLER1", "Python", f"{major}.{minor}.{micro}"]
    assert config.user_agent == f"SELLER1/Python/{major}.{minor}.{micro}/PROPIA/FACO"
    assert "top-secret" not in repr(config)


def test_an_unknown_time_zone_is_refused_at_configuration() -> None:
    with pytest.raises(ZoneInfoNotFoundError, match="Mars/Olympus_Mons"):
        SellerCenterConfig(
            base_url="http://x",
            user_id="u",
            api_key="k",
            seller_id="S",
            business_unit="FACO",
            time_zone="Mars/Olympus_Mons",
        )


@pytest.mark.parametrize(
    ("raw", "code"),
    [("E007", "E007"), ("7", "E007"), ("E7", "E007"), ("429", "E429"), ("1000", "1000"), ("", "UNKNOWN")],
)
def test_error_codes_are_normalised(raw: str, code: str) -> None:
    assert normalise_error_code(raw) == code
