"""The operations console: server-rendered pages under /console (shared/services/console.py says
what each shows and what it costs in storage requests).

Anonymous at the function level: App Service authentication (Entra ID) signs staff in and Thor reads
the user from the platform's headers (functions/_console_security.py). Every answer carries a strict
Content-Security-Policy: the pages use no inline script or style, only /console/static/ files.
Actions are POSTs behind a confirmation page, with an anti-CSRF token bound to the user and a
same-origin check; each is noted on the order's timeline with who did it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

import azure.functions as func

from functions._http import Problem, body_bytes, endpoint, require_tenant
from shared.bootstrap import get_context

if TYPE_CHECKING:  # the security helpers and Jinja2 are imported on first use: webhooks' cold start skips them
    import jinja2

    from functions._console_security import Principal

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves Blueprint.__init__ unannotated

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
HERE = Path(__file__).resolve().parent
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
DONE = {
    "replayed": "The event was replayed: it is queued again.",
    "replayed-failed": "The tenant's failed events were replayed.",
    "resync": "A re-sync was asked: the order is read from the marketplace and sent to the OMS again.",
    "price-confirmed": "The price was confirmed: the next price flush sends it (if ZORT still says it).",
}


@functools.cache
def _templates() -> jinja2.Environment:
    """Jinja2 (imported on first use: a cold start of the webhooks does not pay for it); autoescaped."""
    import jinja2

    from functions import _console_render

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "console_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(_console_render.FILTERS)
    environment.globals.update(_console_render.GLOBALS)
    return environment


def _secured(response: func.HttpResponse) -> func.HttpResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def _path(req: func.HttpRequest) -> str:
    url = req.url.split("://", 1)[-1]
    return url[url.find("/") :] if "/" in url else "/"


def console_page(
    handler: Callable[[func.HttpRequest, Principal], func.HttpResponse],
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    """Signs the user in (or redirects to the sign-in), answers problems as problem+json, and puts
    the security headers on every answer."""

    @endpoint
    def signed_in(req: func.HttpRequest) -> func.HttpResponse:
        from functions._console_security import NotSignedIn, login_redirect, principal

        settings = get_context().settings
        try:
            user = principal(req, settings.console_auth)
        except NotSignedIn:
            if req.method == "GET":
                return login_redirect(_path(req))
            raise Problem(401, "Not signed in", "sign in to the console first", "x-ms-client-principal") from None
        return handler(req, user)

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        return _secured(signed_in(req))

    return wrapper


def render(template: str, user: Principal, status: int = 200, **values: Any) -> func.HttpResponse:
    from functions._console_security import csrf_token

    context = get_context()
    key = context.settings.console_csrf_key
    html = (
        _templates()
        .get_template(template)
        .render(
            user=user,
            csrf=csrf_token(key, user) if key else "",
            now=context.clock(),
            **values,
        )
    )
    return func.HttpResponse(html, status_code=status, mimetype="text/html", charset="utf-8")


def see_other(location: str) -> func.HttpResponse:
    return func.HttpResponse(status_code=303, headers={"Location": location})


def _form(req: func.HttpRequest) -> dict[str, str]:
    text = body_bytes(req).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(text).items()}


def _checked_action(req: func.HttpRequest, user: Principal) -> None:
    from functions._console_security import check_csrf, check_same_origin

    check_same_origin(req)
    check_csrf(get_context().settings.console_csrf_key, user, _form(req).get("csrf", ""))


def _tenant(req: func.HttpRequest) -> str:
    return require_tenant(req.route_params.get("tenant"), "tenant")


def _done(req: func.HttpRequest) -> str | None:
    return DONE.get(req.params.get("done", ""))


# --- pages ------------------------------------------------------------------------------------


@bp.function_name("console_overview")
@bp.route(route="console", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_overview(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import overview

    return render("overview.html", user, tenants=overview(get_context()))


@bp.function_name("console_tenant")
@bp.route(route="console/tenants/{tenant}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_tenant(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import tenant_overview

    return render("tenant.html", user, t=tenant_overview(get_context(), _tenant(req)), done=_done(req))


@bp.function_name("console_at_risk")
@bp.route(route="console/tenants/{tenant}/at-risk", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_at_risk(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import at_risk

    return render("at_risk.html", user, risk=at_risk(get_context(), _tenant(req)))


@bp.function_name("console_order")
@bp.route(
    route="console/tenants/{tenant}/orders/{internalOrderId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS
)
@console_page
def console_order(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import order_journey

    tenant, order_id = _tenant(req), req.route_params.get("internalOrderId", "")
    journey = order_journey(get_context(), tenant, order_id)
    if journey is None:
        raise Problem(404, "Order not found", f"no order {order_id!r} in {tenant}", "internalOrderId")
    return render("order.html", user, tenant=tenant, journey=journey, done=_done(req))


@bp.function_name("console_event")
@bp.route(route="console/tenants/{tenant}/events/{eventId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_event(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import event_summary

    tenant, event_id = _tenant(req), req.route_params.get("eventId", "")
    event = event_summary(get_context(), tenant, event_id)
    if event is None:
        raise Problem(404, "Event not found", f"no event {event_id!r} in {tenant}", "eventId")
    return render("event.html", user, tenant=tenant, event=event, done=_done(req))


# --- actions: GET asks for confirmation, POST does it ------------------------------------------


@bp.function_name("console_replay_event")
@bp.route(
    route="console/tenants/{tenant}/events/{eventId}/replay",
    methods=["GET", "POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
@console_page
def console_replay_event(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import event_summary, replay_event_action

    context = get_context()
    tenant, event_id = _tenant(req), req.route_params.get("eventId", "")
    event = event_summary(context, tenant, event_id)
    if event is None:
        raise Problem(404, "Event not found", f"no event {event_id!r} in {tenant}", "eventId")
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Replay event {event_id}?",
            detail=f"{event.kind} event, now {event.status}: it is queued again with fresh attempts.",
            action=_path(req).split("?", 1)[0],
            back=f"/console/tenants/{tenant}/events/{quote(event_id)}",
        )
    _checked_action(req, user)
    replay_event_action(context, tenant, event_id, user.who)
    if event.internal_order_id:
        return see_other(f"/console/tenants/{tenant}/orders/{quote(event.internal_order_id)}?done=replayed")
    return see_other(f"/console/tenants/{tenant}/events/{quote(event_id)}?done=replayed")


@bp.function_name("console_replay_failed")
@bp.route(route="console/tenants/{tenant}/replay-failed", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_replay_failed(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import REPLAY_AT_MOST, replay_failed_action

    tenant = _tenant(req)
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Replay {tenant}'s failed events?",
            detail=f"Up to {REPLAY_AT_MOST} failed events, oldest first, are queued again with fresh attempts.",
            action=f"/console/tenants/{tenant}/replay-failed",
            back=f"/console/tenants/{tenant}/at-risk",
        )
    _checked_action(req, user)
    replay_failed_action(get_context(), tenant, user.who)
    return see_other(f"/console/tenants/{tenant}?done=replayed-failed")


@bp.function_name("console_resync")
@bp.route(
    route="console/tenants/{tenant}/orders/{internalOrderId}/resync",
    methods=["GET", "POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
@console_page
def console_resync(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import resync_order_action

    context = get_context()
    tenant, order_id = _tenant(req), req.route_params.get("internalOrderId", "")
    if context.orders.get(tenant, order_id) is None:
        raise Problem(404, "Order not found", f"no order {order_id!r} in {tenant}", "internalOrderId")
    back = f"/console/tenants/{tenant}/orders/{quote(order_id)}"
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Re-sync order {order_id}?",
            detail="The order is read again from the marketplace and sent to the OMS.",
            action=back + "/resync",
            back=back,
        )
    _checked_action(req, user)
    resync_order_action(context, tenant, order_id, user.who)
    return see_other(back + "?done=resync")


@bp.function_name("console_confirm_price")
@bp.route(
    route="console/tenants/{tenant}/prices/confirm",
    methods=["GET", "POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
@console_page
def console_confirm_price(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import confirm_price_action
    from shared.services.price_sync import PriceActionError

    context = get_context()
    tenant, sku = _tenant(req), req.params.get("sku", "")  # a query parameter: SKUs may hold a slash
    record = context.prices.get(tenant, sku) if sku else None
    if record is None or not record.held:
        raise Problem(404, "No price held", f"{sku!r} has no price waiting for confirmation in {tenant}", "sku")
    back = f"/console/tenants/{tenant}"
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Confirm the price {record.held_price} for {sku}?",
            detail=f"ZORT says {record.zort_price}; {record.reason}. It is sent at the next price flush, "
            "and your name is kept on the SKU's price history.",
            action=f"{back}/prices/confirm?sku={quote(sku, safe='')}",
            back=back,
        )
    _checked_action(req, user)
    try:
        confirm_price_action(context, tenant, sku, user.who)
    except PriceActionError as error:
        raise Problem(409, "No price held", str(error), "sku") from None
    return see_other(back + "?done=price-confirmed")


# --- static files (CSS, JS): no sign-in needed, nothing secret ----------------------------------


@endpoint
def _static_file(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name", "")
    if name not in STATIC:
        raise Problem(404, "Not found", f"no static file {name!r}", "name")
    body = (HERE / "console_static" / name).read_bytes()
    return func.HttpResponse(body, mimetype=STATIC[name], charset="utf-8")


@bp.function_name("console_static")
@bp.route(route="console/static/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def console_static(req: func.HttpRequest) -> func.HttpResponse:
    response = _secured(_static_file(req))
    if response.status_code == 200:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response
