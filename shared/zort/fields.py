"""How ZORT writes values, read into typed fields (the coercions every ZORT model uses).

ZORT POSTs ``?method=<EVENT>`` with the event's JSON in a ``payload`` field.  This
module only turns that *already JSON-decoded* payload into pydantic models; it knows
nothing about HTTP or Azure.

    event = parse_event("ADDORDER", json.loads(body["payload"]))

Conventions, all following ZORT's v3 webhook documentation ("Ex. Payload JSON"):

* Attribute names are ZORT's own (``orderdateString``, ``isCOD``, ``list`` ...), so
  ``model_dump(mode="json")`` gives back ZORT's keys.
* Unknown keys are accepted and kept (``extra="allow"``): ZORT adds fields over time.
* Required: ``id`` everywhere except the tracking list, ``sku`` for product payloads
  (and for line items), ``number`` for orders, purchases, returns and transfers.
  Everything else is optional and nullable, because ZORT sends ``null`` freely.
* ``"/Date(1644944400000)/"`` (epoch milliseconds, .NET style; negative values and a
  ``+0700`` style suffix accepted) -> timezone-aware UTC ``datetime``.  The suffix only
  says which zone the sender displayed; as in .NET, the milliseconds are already UTC,
  so it does not shift the instant.  ISO-8601 strings *with* an offset are accepted
  too; naive datetimes are rejected.  JSON dumps write ``"/Date(<ms>)/"`` back.
* ``...String`` dates and ``transferdate`` are ``yyyy-MM-dd`` -> ``date``.  Whitespace
  inside is dropped first, because the documented transfer example really is
  ``"2021-01- 25"``.
* Money *and quantities* (line ``number``, ``stock``, ``weight`` ...) are ``Decimal``
  (never ``float``): ZORT sends them as JSON numbers or as strings ("20.00", "5") and
  stock may be fractional.  A JSON float is converted through its shortest repr;
  decode with ``json.loads(..., parse_float=Decimal)`` to avoid floats altogether.
  JSON dumps write Decimals as strings.
* ``discount`` stays a string: ZORT documents it as String (it may be "10%").
* Ids are ``int``; numeric strings ("1234") are accepted, booleans are not.
* A blank string in an optional date/number/id field is read as ``null``.
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)

# "/Date(1644944400000)/", "/Date(-1000)/", "/Date(1644944400000+0700)/"; the JSON
# escaped form "\/Date(...)\/" is tolerated in case a payload was decoded only once.
_NET_DATE = re.compile(r"\\?/Date\(([+-]?[0-9]{1,20})(?:[+-][0-9]{4})?\)\\?/", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?", re.ASCII)


# --------------------------------------------------------------------------- coercion


def _parse_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _NET_DATE.fullmatch(text)
        try:
            if match:
                return _EPOCH + int(match.group(1)) * _MS
            aware = datetime.fromisoformat(text)
        except (OverflowError, ValueError):
            raise ValueError(f'expected "/Date(<epoch ms>)/", got {value!r}') from None
    else:
        raise ValueError('expected a "/Date(<epoch ms>)/" string')
    if aware.tzinfo is None or aware.utcoffset() is None:
        raise ValueError("datetime without a timezone offset")
    try:
        return aware.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("datetime out of range") from None


def _parse_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a 'yyyy-MM-dd' string")
    text = "".join(value.split())  # "2021-01- 25" -> "2021-01-25"
    if not text:
        return None
    match = _ISO_DATE.fullmatch(text)
    if not match:
        raise ValueError(f"expected 'yyyy-MM-dd', got {value!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)  # ValueError for 2022-02-30 etc.


def _parse_date_or_datetime(value: Any) -> date | datetime | None:
    """For fields whose format the documentation never shows (``shippingdate``)."""
    if isinstance(value, str) and _ISO_DATE.fullmatch("".join(value.split())):
        return _parse_date(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _parse_datetime(value)


def _parse_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _DECIMAL.fullmatch(text):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError("expected a number or a numeric string")
    if not result.is_finite():
        raise ValueError("expected a finite number")
    return result


def _parse_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
    raise ValueError(f"expected an integer, got {value!r}")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _none_to_empty(value: Any) -> Any:
    return [] if value is None else value


def _dump_datetime(value: datetime) -> str:
    return f"/Date({(value - _EPOCH) // _MS})/"


def _dump_date_or_datetime(value: date | datetime) -> str:
    return _dump_datetime(value) if isinstance(value, datetime) else value.isoformat()


ZortId = Annotated[int, BeforeValidator(_parse_int)]
OptInt = Annotated[int | None, BeforeValidator(_parse_int)]
RequiredStr = Annotated[str, AfterValidator(_not_blank)]
Money = Annotated[Decimal | None, BeforeValidator(_parse_decimal)]
Quantity = Money  # Decimal as well: stock comes as "20.00"; see module docstring
ZortDateTime = Annotated[
    datetime | None,
    BeforeValidator(_parse_datetime),
    PlainSerializer(_dump_datetime, when_used="json-unless-none"),
]
ZortDate = Annotated[date | None, BeforeValidator(_parse_date)]
ZortDateOrDateTime = Annotated[
    datetime | date | None,
    BeforeValidator(_parse_date_or_datetime),
    PlainSerializer(_dump_date_or_datetime, when_used="json-unless-none"),
]
