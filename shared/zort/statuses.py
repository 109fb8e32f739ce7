"""ZORT's payment and order statuses: names, numeric codes, and readers that never fail."""

from typing import Literal

PaymentStatus = Literal["Pending", "Paid", "Voided", "Partial Payment", "Excess Payment"]

_PAYMENT_STATUSES: dict[str, PaymentStatus] = {
    "pending": "Pending",
    "paid": "Paid",
    "voided": "Voided",
    "partial payment": "Partial Payment",
    "partial": "Partial Payment",
    "excess payment": "Excess Payment",
    "overpaid": "Excess Payment",
}


# ZORT's numeric codes, as its API documents them for the GetOrders filters (developers.zortout.com,
# api-reference/order, "paymentstatus" and "status"; v3 lists order statuses 0-3, v4 adds 4-7).
# Webhooks are documented with names ("Paid", "Success"); public receivers have seen digits too.
PAYMENT_STATUS_CODES: dict[str, PaymentStatus] = {
    "0": "Pending",
    "1": "Paid",
    "2": "Voided",
    "3": "Partial Payment",
    "4": "Excess Payment",
}
ORDER_STATUS_CODES: dict[str, str] = {
    "0": "Pending",
    "1": "Success",
    "2": "Voided",
    "3": "Waiting",
    "4": "Returned",
    "5": "Packed",
    "6": "Shipping",
    "7": "Failed Shipment",
}


def normalize_payment_status(status: str) -> PaymentStatus:
    """Map ZORT's payment status spellings (any case, any spacing) and numeric codes
    ("0".."4") to the canonical ones.

    Pending, Paid, Voided, Partial Payment (also "Partial"), Excess Payment (also
    "Overpaid").  Anything else raises ValueError: see describe_payment_status for a
    reader that never fails.
    """
    if isinstance(status, str):
        text = " ".join(status.split())
        canonical = PAYMENT_STATUS_CODES.get(text) or _PAYMENT_STATUSES.get(text.casefold())
        if canonical is not None:
            return canonical
    raise ValueError(f"unknown ZORT payment status: {status!r}")


def _described(raw: str, canonical: str | None, what: str) -> tuple[str, str]:
    text = " ".join(str(raw).split())
    if canonical is None:
        return text, f"{text} (not a {what} ZORT documents: kept as sent)"
    if canonical != text:
        return canonical, f"{canonical} (ZORT sent {text!r})"
    return canonical, canonical


def describe_payment_status(raw: str) -> tuple[str, str]:
    """``(value to keep, timeline text)`` for any payment status ZORT sends; never raises.

    A known spelling or code gives the canonical name (the raw value stays in the text when it
    differs); an unknown one is kept exactly as sent, so nothing ZORT says is lost or refused."""
    try:
        canonical: str | None = normalize_payment_status(raw)
    except ValueError:
        canonical = None
    return _described(raw, canonical, "payment status")


def describe_order_status(raw: str) -> tuple[str, str]:
    """``(value to keep, timeline text)`` for ZORT's order ``status``: names as sent, digits
    mapped through ORDER_STATUS_CODES, anything else kept as sent; never raises."""
    text = " ".join(str(raw).split())
    return _described(raw, ORDER_STATUS_CODES.get(text, text if not text.isdigit() else None), "order status")
