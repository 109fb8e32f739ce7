"""Small checks the tests share, typed so that mypy strict follows them."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value`, which the test expects to be there (a stored event, an order, a page element): fails the
    test where it is None, and tells mypy it is not."""
    assert value is not None, "expected a value, found None"
    return value
