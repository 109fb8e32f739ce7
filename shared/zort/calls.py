"""One ZORT webhook call: its query (ZortQuery) and the call as Thor records it (ZortCall, the
message of kind `zort`)."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.events import EventKind, Message
from shared.zort.fields import OptInt, RequiredStr
from shared.zort.methods import METHODS, parse_event
from shared.zort.statuses import PaymentStatus, normalize_payment_status


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class ZortQuery(BaseModel):
    """The webhook's query string (``method``; ``id``, ``number`` for order-payment and
    tracking events; ``paymentstatus`` for payment events).  Other keys are kept."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    method: RequiredStr
    id: OptInt = None
    number: str | None = None
    paymentstatus: str | None = None

    @field_validator("method")
    @classmethod
    def _normalize_method(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("number", "paymentstatus", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @property
    def canonical_paymentstatus(self) -> PaymentStatus | None:
        """``paymentstatus`` through normalize_payment_status (ValueError if unknown)."""
        return None if self.paymentstatus is None else normalize_payment_status(self.paymentstatus)


class ZortCall(Message):
    """One ZORT webhook call as Thor records it (functions/zort.py): the method, the query as sent,
    the payload as decoded, and ``shape`` when a form had no ``payload`` field.

    The payload is typed on demand (``event()``): a call Thor only records (no method, v4's contact
    and warehouse events) has nothing to type, and a form recorded as sent is typed when applied."""

    kind: ClassVar[EventKind] = EventKind.ZORT
    model_config = ConfigDict(extra="allow")

    method: str = ""
    query: dict[str, Any] = Field(default_factory=dict)
    payload: Any = None
    shape: str | None = None

    @property
    def applicable(self) -> bool:
        """Whether Thor has a model for this method (anything else is recorded as sent)."""
        return self.method in METHODS

    def identity(self) -> object:
        """The method, the query as ZortQuery reads it (a call without method reads as "-") and the payload."""
        query = ZortQuery.model_validate({**self.query, "method": self.method or "-"}).model_dump(mode="json")
        return [self.method, {**query, "method": self.method}, self.payload]

    def typed_query(self) -> ZortQuery:
        return ZortQuery.model_validate({**self.query, "method": self.method})

    def event(self) -> BaseModel:
        """The payload as the method's model (UnknownZortMethod, ValidationError)."""
        return parse_event(self.method, self.payload)
