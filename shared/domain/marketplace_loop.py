"""Closing the order loop with the marketplace (issue 19): the rules of tax documents, cancellations,
seller-delivered statuses and the returns desk. Pure domain code: no storage, no HTTP.

What each rule rests on (developers.falabella.com, read 2026-12-04; "unconfirmed" where no page said it):

- SetInvoicePDF (v600 and v300 ``setinvoicepdf``): allowed document types by country, "Chile and Peru:
  BOLETA, FACTURA and NOTA_DE_CREDITO. Colombia: FACTURA and NOTA_DE_CREDITO" ("BOLETA is not valid for
  Colombia (FACO)"); ``operatorCode`` "Country code. FACL = Chile, FACO = Colombia, FAPE = Peru" (no code
  is documented for Argentina or Mexico, so Thor refuses documents there; a Sodimac storefront sends
  its country's code, ``FACL`` for socl: the page calls it a country code, no source names a Sodimac one;
  the GSC SDK's ``InvoiceDocument`` also takes ``FAMX``, which no Falabella page lists); "Upload is allowed for
  orders that have gone through 'shipment confirmed' or 'ready to ship' status" (v600: "an order that
  has reached at least the ready_to_ship status"); "Upload is not allowed for orders where Falabella.com
  issues the invoice on behalf of seller" (a per-tenant setting: Thor cannot see it on the order);
  ``invoiceDocumentFormat`` "pdf"; ``invoiceNumber`` "must be equal to the NroDTE and Folio fields".
  Size limit: none documented; Thor takes a PDF of at most ``MAX_PDF_BYTES`` (unconfirmed, stated).
- SetStatusToCanceled (v600): "Cancellation can only be performed if the order is in 'pending'
  status"; "not allowed when ShipmentType is Fulfillment"; errors E022 invalid reason, E028 "It is not
  possible to set the order to the status". The reason is a ``Name`` from GetFailureReasons
  (LinioIT/seller-center-sdk ``gsc-master`` ``FailureReasonsSuccessResponse.xml``: ``Reasons.Reason``
  rows of ``Type`` and ``Name``; ``BaseOrderManager::setStatusToCanceled(OrderItemId, Reason, ReasonDetail)``).
- ShippingType (v600 GetOrderItems): "can have two values: Dropshipping (Fulfillment by Seller) and
  Fulfillment (Fulfillment by Falabella)". No page names a value for an order the seller *delivers*
  itself; Thor takes the spellings in ``SELLER_DELIVERY_TYPES`` (unconfirmed) and, for a tenant whose
  seller delivers every Dropshipping order, ``MARKETPLACE_SELLER_DELIVERY_<T>=all-dropshipping``.
- The OMS (seeds/002, shared/reference/oms.md) sends no webhook: its order API has no subscription,
  only reads by ``orderId`` / ``orderRef``. Its state shows a cancellation: ``cancelled`` (boolean),
  ``cancelledAt``, ``cancelReason``, ``orderStatus`` ``CANCELLED`` (and per line ``cancelledAt``). Thor
  reads it (``oms_cancellation``) for its orders still pending in the marketplace, with the
  reconciliation timer; a cancellation of single lines is not read (the marketplace's cancellation is
  per item, but which OMS line was canceled alone is not something Thor acts on yet).
- Returns: a return in ``return_waiting_for_approval`` is accepted automatically after 72 h unless
  disputed (Falabella seller help pages; shared/reference/seller-center.md "Added 2026-12-04").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from shared.domain.statuses import RANK

DocumentType = Literal["BOLETA", "FACTURA", "NOTA_DE_CREDITO"]
DOCUMENT_TYPES: tuple[str, ...] = ("BOLETA", "FACTURA", "NOTA_DE_CREDITO")
TYPES_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "cl": ("BOLETA", "FACTURA", "NOTA_DE_CREDITO"),
    "pe": ("BOLETA", "FACTURA", "NOTA_DE_CREDITO"),
    "co": ("FACTURA", "NOTA_DE_CREDITO"),
}
OPERATOR_CODES = {"cl": "FACL", "co": "FACO", "pe": "FAPE"}
MAX_PDF_BYTES = 10 * 1024 * 1024
"""Thor's own limit on a decoded PDF (the marketplace documents none): 10 MiB."""
PDF_MAGIC = b"%PDF-"
DOCUMENT_STATUSES = ("recorded", "uploaded", "failed")

RETURN_WINDOW = timedelta(hours=72)
RETURN_AT_RISK_AFTER = timedelta(hours=48)
RETURN_WAITING = "return_waiting_for_approval"

SELLER_DELIVERY_TYPES = frozenset({"owndelivery", "ownwarehouse", "sellerdelivery", "despachopropio", "enviopropio"})
"""Normalised ShippingType spellings read as "the seller delivers" (unconfirmed: no page names one)."""


class DocumentRefused(Exception):
    """A document the marketplace would refuse: `rule` names the rule, `field` the request's field."""

    def __init__(self, field: str, rule: str, detail: str):
        super().__init__(detail)
        self.field, self.rule, self.detail = field, rule, detail


def country(tenant: str) -> str:
    return tenant[2:]


def operator_code(tenant: str) -> str | None:
    return OPERATOR_CODES.get(country(tenant))


def check_document_type(tenant: str, document_type: str) -> None:
    allowed = TYPES_BY_COUNTRY.get(country(tenant))
    if allowed is None:
        raise DocumentRefused(
            "tenant",
            "country-not-documented",
            f"SetInvoicePDF documents tax documents for Chile, Colombia and Peru only (operatorCode FACL, FACO, "
            f"FAPE); {tenant!r} is in {country(tenant).upper()}",
        )
    if document_type not in allowed:
        raise DocumentRefused(
            "type",
            "type-not-allowed-in-country",
            f"{document_type} is not a document type the marketplace takes in {country(tenant).upper()} "
            f"(allowed: {', '.join(allowed)})",
        )


def item_documentable(status: str) -> bool:
    """An item has gone through ready to ship (or shipment confirmed) and was not canceled."""
    return status != "canceled" and RANK.get(status, -1) >= RANK["ready_to_ship"]


def check_pdf(pdf: bytes) -> None:
    if not pdf.startswith(PDF_MAGIC):
        raise DocumentRefused("pdf", "not-a-pdf", "pdf is not a PDF document (it does not start with %PDF-)")
    if len(pdf) > MAX_PDF_BYTES:
        raise DocumentRefused("pdf", "pdf-too-large", f"pdf is over {MAX_PDF_BYTES} bytes once decoded")


def cancellable(status: str) -> bool:
    """What SetStatusToCanceled takes: an item still pending (never one ready to ship or further)."""
    return status == "pending"


def seller_delivers(shipping_type: str | None, mode: str) -> bool:
    """Whether the seller delivers an item itself, by its ShippingType and the tenant's setting
    (`off`, `shipping-type`: the spellings of SELLER_DELIVERY_TYPES, `all-dropshipping`: also Dropshipping).
    Never for Fulfillment (the marketplace's own logistics)."""
    letters = re.sub(r"[^a-z]", "", (shipping_type or "").lower())
    if mode == "off" or not letters or letters == "fulfillment":
        return False
    if letters in SELLER_DELIVERY_TYPES:
        return True
    return mode == "all-dropshipping" and letters == "dropshipping"


# ZORT's order status (shared.zort.statuses, canonical names) -> the marketplace status a seller-
# delivered item moves to, and the action that says it.
SELLER_DELIVERY_ACTIONS: dict[str, tuple[str, str]] = {
    "Shipping": ("shipped", "SetStatusToShipped"),
    "Success": ("delivered", "SetStatusToDelivered"),
    "Failed Shipment": ("failed_delivery", "SetStatusToFailedDelivery"),
}


def delivery_target(zort_status: str | None) -> tuple[str, str] | None:
    return SELLER_DELIVERY_ACTIONS.get(zort_status or "")


def moves_forward(current: str, target: str) -> bool:
    """A seller-delivered status only moves an item forward (never undoes delivered, never a canceled one)."""
    if current == "canceled" or current not in RANK:
        return False
    if target == "delivered":
        return RANK[current] < RANK["delivered"] and RANK[current] >= RANK["ready_to_ship"]
    if target == "failed_delivery":
        return current in ("ready_to_ship", "shipped")
    return RANK[target] > RANK[current] and RANK[current] >= RANK["ready_to_ship"]


def oms_cancellation(oms_order: Mapping[str, object] | None) -> str | None:
    """What says the OMS canceled the whole order (its ``cancelledAt``, else ``CANCELLED``), or None."""
    if not oms_order:
        return None
    status = str(oms_order.get("orderStatus") or "").upper()
    if oms_order.get("cancelled") is not True and status != "CANCELLED":
        return None
    return str(oms_order.get("cancelledAt") or "") or "CANCELLED"


def return_deadline(waiting_since: datetime) -> datetime:
    return waiting_since + RETURN_WINDOW


def return_at_risk(waiting_since: datetime, now: datetime) -> bool:
    return now - waiting_since >= RETURN_AT_RISK_AFTER


def document_overdue(shipped_at: datetime, now: datetime, hours: int) -> bool:
    return now - shipped_at >= timedelta(hours=hours)
