"""Price sync rules: what price a storefront is told, when a change waits for a person, how a sale is
written, and how many ProductUpdate feeds the marketplace lets Thor create.

ZORT (the seller's warehouse system) holds each product's `sellprice` (a String such as "20.00", in
its webhooks ADDPRODUCT / UPDATEPRODUCT and in GetProducts). ZORT carries no sale price or sale window
(neither its webhook payloads nor GetProducts' documented fields name one), so a promotion is given by
a person (ops) for a list of SKUs. A ZORT webhook only *marks* a SKU; the flush reads ZORT's current
`sellprice` (the source of truth at that moment), so a late or reordered webhook never sends a stale price.

- The price sent: ZORT's price, plus the tenant's markup (percent) and fixed adjustment, rounded half
  up to the currency's minor unit: CLP and COP whole units (no cents), ARS, PEN, MXN cents.
- The guard: a price that moves by more than the tenant's percentage (default 50 %) from the last price
  the marketplace confirmed (else the last sent), or a price of zero or less, is *held* until a person
  confirms that exact price; who confirmed it is kept on the SKU's history.
- A sale (SpecialPrice, SpecialFromDate, SpecialToDate in the ProductUpdate's BusinessUnit) is given
  by a person in the storefront's local time (the tenant's zone), kept in UTC, and written zone-less,
  `YYYY-MM-DD HH:MM:SS` (the v600 reference's example writes `2023-05-26 00:00:00` / `2023-10-31
  23:59:59`), in the zone the marketplace writes its own zone-less times in (`MARKETPLACE_TIMEZONE_<T>`,
  Santiago by default: docs/api.md "Marketplace times"; which zone it reads sale dates in is unconfirmed).
  When the sale ends (compared in UTC), the SKU is marked again and its normal price is sent.

The feed budget (developers.falabella.com v600 ``feeds``): ProductCreate, ProductUpdate, ProductRemove and
Image share a per-seller limit, "not to each credential": the first 50 calls are free, then at least 2
minutes between calls ("a maximum of 770 calls per day"), else HTTP 429. UpdateStock is not in that list.
Thor counts the calls of the last 24 hours (a rolling day: never looser than a calendar day, whose
boundary and zone are unconfirmed), and after 50 spaces calls `FEED_SPACING` + `SPACING_MARGIN` apart.

Pure: no storage, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.domain.feed_sync import IN_FLIGHT_FOR as IN_FLIGHT_FOR
from shared.domain.feed_sync import THROTTLE_WAIT as THROTTLE_WAIT
from shared.domain.feed_sync import SyncRecord, SyncTenantState, parse_zort_number, refusal_backoff
from shared.domain.feed_sync import pick_due as pick_due
from shared.domain.price_settings import PriceSyncSettings, storefront_currency

MAX_SKUS_PER_FEED = 1000
"""v600 ``productupdate``: "It is recommended to send between 500 and 1,000 products per request"; no
harder maximum is documented, so Thor sends at most 1,000."""
FEEDS_PER_FLUSH = 20
FREE_FEEDS = 50
FREE_WINDOW = timedelta(hours=24)
FEED_SPACING = timedelta(minutes=2)
SPACING_MARGIN = timedelta(seconds=5)
"""Added to the documented spacing: the marketplace measures between its own receipt times."""
HISTORY_KEPT = 30
DECIMALS: dict[str, int] = {"CLP": 0, "COP": 0, "ARS": 2, "PEN": 2, "MXN": 2}
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


class PriceResult(StrEnum):
    """What the last flush (or feed) made of a SKU's price."""

    SENT = "sent"  # in a feed not reported yet
    ACCEPTED = "accepted"  # its feed finished without an error for it
    UNCHANGED = "unchanged"  # ZORT's price gives what the marketplace already confirmed: nothing sent
    REFUSED = "refused"  # the marketplace refused it (reason kept); retried with back-off
    HELD = "held"  # waits for a person's confirmation (the guard)
    NOT_IN_ZORT = "not-in-zort"  # ZORT did not return it (or no price): retried with back-off
    DEFERRED = "deferred"  # not sent this time (throttled, a system unreachable): next flush


# --- money -----------------------------------------------------------------------------------------


def parse_price(value: object) -> Decimal | None:
    """ZORT's `sellprice` ("20.00", "1,250.50") as a Decimal; None when absent or not a finite number."""
    return parse_zort_number(value)


def currency_error(tenant: str, stated: str) -> str | None:
    """Why the ZORT store's stated currency can't be synced to the tenant's storefront (None: it can)."""
    wanted = storefront_currency(tenant)
    given = stated.strip().upper()
    if not given:
        return f"the ZORT store's currency is not stated (the storefront sells in {wanted})"
    if given not in DECIMALS:
        return f"unknown currency {given!r} (known: {', '.join(sorted(DECIMALS))})"
    if given != wanted:
        return f"the ZORT store sells in {given}, the storefront in {wanted}: prices would be wrong"
    return None


def round_price(amount: Decimal, currency: str) -> Decimal:
    """Half up to the currency's minor unit (CLP, COP: whole units)."""
    places = DECIMALS[currency]
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_price(amount: Decimal, currency: str) -> str:
    """As sent: `59990` (CLP, COP), `12.50` (ARS, PEN, MXN). Never cents for a currency without them."""
    return f"{round_price(amount, currency):f}"


def price_to_send(zort_price: Decimal, settings: PriceSyncSettings, tenant: str) -> Decimal:
    """ZORT's price with the tenant's markup and adjustment, rounded for the storefront's currency."""
    currency = storefront_currency(tenant)
    marked_up = zort_price * (Decimal(100) + settings.markup_percent) / Decimal(100) + settings.adjustment
    return round_price(marked_up, currency)


def guard_reason(reference: Decimal | None, new: Decimal, percent: Decimal) -> str | None:
    """Why `new` waits for a person (None: it may go): zero or less, or a move of more than `percent`
    from `reference` (the last confirmed, else sent, price; none: nothing to compare with)."""
    if new <= 0:
        return f"a price of {new} (zero or less)"
    if reference is None or reference <= 0:
        return None
    change = (new - reference) / reference * Decimal(100)
    if abs(change) > percent:
        return f"{change:+.1f}% at once ({reference} → {new}; more than {percent}%)"
    return None


# --- sales -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sale:
    """A sale price for a window (UTC, aware), given by a person for a SKU."""

    price: Decimal
    start: datetime
    end: datetime
    by: str = ""

    def over(self, now: datetime) -> bool:
        return now >= self.end

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A sale date as the marketplace reads it: the storefront's wall-clock time, zone-less."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(zone).strftime(LOCAL_FORMAT)


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """`YYYY-MM-DD HH:MM[:SS]` (or an ISO 8601 time with an offset) read in the storefront's zone."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class PriceToSend:
    """One SKU's BusinessUnit in a ProductUpdate: the price, and the sale when one applies."""

    sku: str
    price: str
    sale_price: str = ""
    sale_from: str = ""  # local, zone-less
    sale_to: str = ""

    @property
    def text(self) -> str:
        """As the feed record keeps it (SKU → value)."""
        if not self.sale_price:
            return self.price
        return f"{self.price} sale {self.sale_price} {self.sale_from} to {self.sale_to}"


# --- a SKU's price state ------------------------------------------------------------------------------


@dataclass
class PriceRecord(SyncRecord):
    """One SKU's price sync for one tenant, as stored (Table ThorPrices): the engine's columns
    (shared.domain.feed_sync) and what prices add."""

    zort_said: str = ""  # the last webhook's sellprice (a hint)
    zort_said_at: datetime | None = None
    zort_price: str = ""  # what ZORT's API answered at the last flush
    sent: str = ""  # the last value sent (PriceToSend.text)
    sent_price: str = ""
    sent_at: datetime | None = None
    confirmed: str = ""  # the last value a finished feed took
    confirmed_price: str = ""
    confirmed_at: datetime | None = None
    result: PriceResult | None = None
    reason: str = ""
    held_price: str = ""
    held_mark: str = ""
    approved_price: str = ""  # a price a person confirmed: it may go once, whatever the guard says
    approved_by: str = ""
    sale: Sale | None = None
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        """Waits for a person: held, and not marked again since (a new ZORT change is looked at anew)."""
        return self.result is PriceResult.HELD and self.held_mark == self.mark

    def state(self, now: datetime) -> str:
        if self.in_flight(now):
            return "in-flight"
        if self.feed_id:
            return "in-feed"
        if self.held:
            return "held"
        if self.dirty and self.result is PriceResult.REFUSED:
            return "refused"
        return "marked" if self.dirty else "synced"

    def waiting(self) -> bool:
        return self.held

    def note(self, now: datetime, what: str, **details: str) -> None:
        """Adds a line to the SKU's price journey (the last `HISTORY_KEPT` are kept)."""
        entry = {"at": now.isoformat(), "what": what, **{k: v for k, v in details.items() if v}}
        self.history = [*self.history, entry][-HISTORY_KEPT:]


def backoff_after(failures: int) -> timedelta:
    """The next flush after a first refusal, then 5, 10, 20, 40 minutes, at most an hour (as stock)."""
    return refusal_backoff(failures)


PriceTenantState = SyncTenantState
"""A tenant's price sync as a whole: the kill switch and the last flush (the engine's tenant state)."""


# --- the feed budget ---------------------------------------------------------------------------------


@dataclass
class FeedBudget:
    """A seller's feed calls (ProductCreate/Update/Remove, Image) as Thor made them, and a 429's wait."""

    seller: str
    calls: list[datetime] = field(default_factory=list)
    wait_until: datetime | None = None
    etag: str | None = None

    def recent(self, now: datetime) -> list[datetime]:
        return sorted(c for c in self.calls if c > now - FREE_WINDOW)

    def next_slot(self, now: datetime) -> datetime:
        """The earliest time the next feed may be created."""
        recent = self.recent(now)
        slot = now
        if len(recent) >= FREE_FEEDS:
            slot = max(slot, recent[-1] + FEED_SPACING + SPACING_MARGIN)
        if self.wait_until and self.wait_until > slot:
            slot = self.wait_until
        return slot

    def free_left(self, now: datetime) -> int:
        return max(0, FREE_FEEDS - len(self.recent(now)))

    def spend(self, now: datetime) -> None:
        """Records a call (before it is made: a crash after it never lets the next one come too early)."""
        self.calls = [*self.recent(now), now][-(FREE_FEEDS + 10) :]

    def throttled(self, now: datetime, retry_after: float | None) -> None:
        """A 429: no call before Retry-After (else the documented 2 minutes)."""
        wait = timedelta(seconds=retry_after) if retry_after and retry_after > 0 else THROTTLE_WAIT
        self.wait_until = now + wait


def feed_floor(feeds: int, free_left: int) -> timedelta:
    """The least time the throttle lets `feeds` feeds be created in, from a budget with `free_left` free."""
    spaced = max(0, feeds - max(free_left, 0))
    return FEED_SPACING * spaced
