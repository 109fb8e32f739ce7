"""The webhook URL fields of ZORT's UPDATEWEBHOOK/GETWEBHOOK, and the URLs that point ZORT at Thor.

Each field names the URL ZORT calls for one event (v3 and v4 webhook references,
developers.zortout.com/overview/webhook); :func:`thor_webhook_urls` builds them all for Thor's
``/webhooks/{tenant}/zort``.
"""

from __future__ import annotations

from urllib.parse import quote

from shared.zort.methods import METHODS

WEBHOOK_URL_FIELDS: dict[str, str] = {
    method.url_field: name for name, method in METHODS.items() if method.url_field is not None
}
"""Every URL field of UPDATEWEBHOOK/GETWEBHOOK → the ``method`` ZORT sends for that event, in the
reference's order: a view of the method table (``shared.zort.methods.METHODS``, its ``url_field``).

DELETEORDER, DELETEPURCHASEORDER, DELETERETURNORDER and DELETERETURNPURCHASEORDER are webhook
events ZORT documents, but UPDATEWEBHOOK has no URL field for them (only ``deleteproducturl``
exists among the deletions), so they cannot be registered through the API; the v3 reference does
not say where ZORT sends them (presumably a URL set in the ZORT portal, unconfirmed)."""

UNREGISTRABLE_EVENTS = tuple(name for name, method in METHODS.items() if method.url_field is None)


def thor_webhook_urls(base_url: str, tenant: str, function_key: str) -> dict[str, str]:
    """Every UPDATEWEBHOOK URL field pointing at Thor's ZORT endpoint for ``tenant``.

    ``{base_url}/webhooks/{tenant}/zort?method={EVENT}&code={function_key}``: ``method`` is also
    what ZORT adds to the query when it calls (whether it appends to a URL that already has a
    query, and so repeats ``method``, is unconfirmed; Thor reads the value either way). ``code`` is
    the Azure Functions key, percent-encoded (a function key may hold ``=``, ``/`` or ``+``).
    """
    if not tenant or not str(tenant).strip():
        raise ValueError("tenant must not be empty")
    if not function_key:
        raise ValueError("function_key must not be empty")
    root = base_url.rstrip("/")
    endpoint = f"{root}/webhooks/{quote(str(tenant).strip(), safe='')}/zort"
    code = quote(function_key, safe="")
    return {name: f"{endpoint}?method={event}&code={code}" for name, event in WEBHOOK_URL_FIELDS.items()}
