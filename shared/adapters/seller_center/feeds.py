"""Reading Seller Center's feed answers: the feed an UpdateStock answers, and FeedStatus.

What is confirmed, and where (checked 2026-12-04):

- Writes answer a feed, not a result. developers.falabella.com v600 ``feeds``: "Feeds are identified
  by UUID. This identifier is returned after the successful submission of the original request";
  the v300 ``feeds`` page shows ProductCreate's answer with the feed id as ``Head.RequestId`` and an
  empty Body. For UpdateStock, LinioIT/seller-center-sdk's fixture
  ``tests/_schemas/Product/UpdateStockResponse.xml`` (``<Body><Stocks><feed>UUID</feed></Stocks>``) is
  cited in shared/reference/seller-center.md; the snapshot of ``gsc-master`` fetched here (head
  7a2600e) does not hold that file, so its exact JSON spelling is unconfirmed. Thor reads the feed from
  ``Body.Stocks.feed`` (any case), else ``Body.Feed``, else ``Head.RequestId``; an answer with none of
  them is an UNEXPECTED_RESPONSE.
- FeedStatus: v600 reference ``feedstatus``: ``GET ?Action=FeedStatus``, the SDK sends ``FeedID``
  (``src/Service/FeedManager.php`` ``getFeedStatusById``) and reads ``Body.FeedDetail``. Fields: Feed,
  Status ("Queued", "Processing", "Canceled", "Finished" or "Error"), Action, Source, TotalRecords,
  ProcessedRecords, FailedRecords, FeedErrors, FeedWarnings; its own error ``E012: Invalid Feed ID``.
  The per-SKU error shape is the SDK's fixture ``tests/_schemas/Feed/FeedProductUpdate.xml``:
  ``FeedErrors/Error{Code, Message, SellerSku}`` (e.g. Code 1, "Seller SKU '9788441418011' not found");
  an Error may name no SKU (``FeedProductCreate.xml``: "SellerSku cannot be empty"). Warnings are
  ``FeedWarnings/Warning{Message, SellerSku}`` (SDK ``FeedWarningsFactory``; v600: "The following SKUs
  have been excluded…"), so a warning naming a SKU is read as that SKU not taken.
- onFeedCompleted: ``{"event": "onFeedCompleted", "payload": {"Feed": "<uuid>"}}`` (v300
  ``entities-payload-definition``), and that page says Feed Created / Completed are "only triggered"
  for ProductCreate, ProductUpdate, ProductRemove and Image. Whether it fires for UpdateStock feeds is
  unconfirmed, so Thor polls FeedStatus for every open feed and treats the webhook as a shortcut.

Unconfirmed: the JSON spelling of these answers (the sources are XML; Thor reads them as every JSON
answer, a one-element collection as an object), whether FeedStatus's counts are numbers or strings
(both read), and how long a stock feed takes to finish.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.seller_center.schemas import as_list
from shared.domain.feeds import FeedIssue, FeedReport, canonical_status


def _get(container: Any, name: str) -> Any:
    """A member of a JSON object by name, in any case (the fixture writes ``feed``, others ``Feed``)."""
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((value for key, value in container.items() if str(key).lower() == lowered), None)


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def feed_of(payload: Any) -> str:
    """The feed id of a write's SuccessResponse (see the module docstring); "" when none is found."""
    success = _get(payload, "SuccessResponse")
    body = _get(success, "Body")
    for holder in (_get(body, "Stocks"), body):
        found = _get(holder, "Feed")
        if isinstance(found, dict):  # <Feed><Feed>uuid</Feed>…</Feed>, as FeedList writes it
            found = _get(found, "Feed")
        if _text(found):
            return _text(found)
    return _text(_get(_get(success, "Head"), "RequestId"))


def _count(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() else None


def _issues(container: Any, element: str) -> tuple[FeedIssue, ...]:
    rows = as_list(_get(container, element)) if isinstance(container, dict) else as_list(container)
    issues = []
    for row in rows:
        if isinstance(row, dict):
            message = _text(_get(row, "Message")) or _text(_get(row, "ErrorMessage"))
            if message:
                issues.append(FeedIssue(_text(_get(row, "SellerSku")), message, _text(_get(row, "Code"))))
    return tuple(issues)


def feed_report(body: Any, feed_id: str) -> FeedReport | None:
    """FeedStatus's Body read into a FeedReport; None when it holds no FeedDetail with a Status."""
    detail = _get(body, "FeedDetail")
    if isinstance(detail, list):
        detail = next((d for d in detail if _text(_get(d, "Feed")) in ("", feed_id)), None)
    status = canonical_status(_get(detail, "Status")) if isinstance(detail, dict) else ""
    if not isinstance(detail, dict) or not status:
        return None
    return FeedReport(
        feed_id=_text(_get(detail, "Feed")) or feed_id,
        status=status,
        action=_text(_get(detail, "Action")),
        total=_count(_get(detail, "TotalRecords")),
        processed=_count(_get(detail, "ProcessedRecords")),
        failed=_count(_get(detail, "FailedRecords")),
        errors=_issues(_get(detail, "FeedErrors"), "Error"),
        warnings=_issues(_get(detail, "FeedWarnings"), "Warning"),
    )
