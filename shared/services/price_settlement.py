"""A ProductUpdate feed's settlement (price sync, shared.services.price_sync): called by the feed tracker
(shared.services.feeds.close) when a feed carrying prices closes. Apart from price_sync, which records
its feeds through the tracker, so that neither imports the other in a circle."""

from __future__ import annotations

from datetime import datetime

from shared.domain.feeds import Feed, Settlement
from shared.domain.prices import PriceResult, backoff_after
from shared.roles import HasPrices


def settle_price_feed(context: HasPrices, feed: Feed, settlement: Settlement, now: datetime) -> None:
    """What a closed ProductUpdate feed means for the SKUs still in it: taken ones are confirmed (and
    synced, unless marked since taken), refused ones keep the marketplace's message and back off."""
    records = context.prices.in_feed(feed.tenant, feed.feed_id)
    clean: set[str] = set()
    for record in records:
        reason = settlement.refused.get(record.sku)
        record.feed_id, record.attempted_at = "", now
        if reason is None:
            record.result, record.reason, record.failures, record.next_attempt_at = PriceResult.ACCEPTED, "", 0, None
            record.confirmed, record.confirmed_price, record.confirmed_at = record.sent, record.sent_price, now
            if record.approved_price == record.sent_price:
                record.approved_price = ""
            record.note(now, "confirmed", price=record.sent, feed=feed.feed_id)
            if record.mark == record.sending_mark:
                clean.add(record.sku)
        elif settlement.resend:
            record.result, record.reason = PriceResult.DEFERRED, reason
            record.note(now, "sent again", feed=feed.feed_id, reason=reason)
        else:
            record.result, record.reason = PriceResult.REFUSED, reason
            record.failures += 1
            record.next_attempt_at = now + backoff_after(record.failures)
            record.note(now, "refused", price=record.sent, feed=feed.feed_id, reason=reason)
    if records:
        context.prices.save(records, frozenset(clean))
