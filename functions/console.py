"""The operations console: server-rendered pages under /console (shared/services/console.py says
what each shows and what it costs in storage requests).

Anonymous at the function level: App Service authentication (Entra ID) signs staff in and Thor verifies
the ID token it forwards (functions/_console_security.py); only operators (a group or an app role) may
act, everyone signed in may read. Every answer carries a strict Content-Security-Policy: the pages use
no inline script or style, only /console/static/ files. Actions are POSTs behind a confirmation page
(which says how many events an action takes), with an anti-CSRF token bound to the user and a
same-origin check; each is noted on the order's timeline with who did it. A browser gets refusals and
errors as HTML pages saying what to do; other callers as problem+json.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, quote, urlencode

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
    "resync": "A re-sync was asked: the order is read from the marketplace and sent to the OMS again.",
    "price-confirmed": "The price was confirmed: the next price flush sends it (if ZORT still says it).",
}
REPLAY_STATUSES = ("failed", "blocked", "unmatched")
# What to do, per refusal or error (the problem's field, else its status), on the HTML error page.
WHAT_TO_DO = {
    "csrf": "Reload the page you came from and do it again: a form's token expires after 8 hours and when "
    "the console's key (CONSOLE_CSRF_KEY) is rotated.",
    "origin": "Open the console at its own address and act from its pages: a form sent from another site is refused.",
    "sec-fetch-site": "Open the console at its own address and act from its pages: a form sent from another site "
    "is refused.",
    "operator": "Ask an administrator to add you to the console's operators (the Entra group "
    "CONSOLE_OPERATOR_GROUP or the app role CONSOLE_OPERATOR_ROLE); meanwhile every page can be read.",
    "CONSOLE_AUTH": "The console is off in this deployment: an administrator turns it on with App Service "
    "authentication (docs/deploy.md, the console's step).",
    "CONSOLE_CSRF_KEY": "An administrator writes the Key Vault secret console-csrf-key (CONSOLE_CSRF_KEY; "
    "docs/deploy.md step 11).",
    "CONSOLE_JWKS_URL": "The identity provider's keys could not be read: try again in a minute; if it lasts, an "
    "administrator checks CONSOLE_JWKS_URL and the app's outbound network.",
    "401": "Sign in again: your sign-in expired or could not be verified.",
    "404": "It may have another id: search for the order id, event id or SKU.",
    "503": "Thor's storage or a setting is unavailable: try again in a minute.",
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


def _wants_html(req: func.HttpRequest) -> bool:
    return "text/html" in (req.headers.get("accept") or "").lower()


def _error_page(req: func.HttpRequest, response: func.HttpResponse) -> func.HttpResponse:
    """A problem answered as an HTML page that says what to do (a browser asked for HTML)."""
    from functions._console_security import login_url

    try:
        problem = json.loads(response.get_body() or b"{}")
    except ValueError:
        return response
    status = response.status_code
    field = str(problem.get("field") or "")
    todo = WHAT_TO_DO.get(field) or WHAT_TO_DO.get(str(status)) or "Go back to the overview and try again."
    html = (
        _templates()
        .get_template("error.html")
        .render(
            user=None,
            status=status,
            title=problem.get("title") or "Error",
            detail=problem.get("detail") or "",
            todo=todo,
            sign_in=login_url(_path(req)) if status == 401 else None,
            search=status == 404,
        )
    )
    page = func.HttpResponse(html, status_code=status, mimetype="text/html", charset="utf-8")
    for name in ("Retry-After", "WWW-Authenticate"):
        if response.headers.get(name):
            page.headers[name] = response.headers[name]
    return page


def console_page(
    handler: Callable[[func.HttpRequest, Principal], func.HttpResponse],
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    """Signs the user in from a verified token (or redirects to the sign-in), answers problems as
    problem+json or, to a browser, as an HTML page saying what to do, and puts the security headers on
    every answer."""

    @endpoint
    def signed_in(req: func.HttpRequest) -> func.HttpResponse:
        from functions._console_security import NotSignedIn, SignInRefused, login_redirect, principal

        try:
            user = principal(req, get_context().settings)
        except NotSignedIn:
            if req.method == "GET":
                return login_redirect(_path(req))
            raise Problem(401, "Not signed in", "sign in to the console first", "x-ms-token-aad-id-token") from None
        except SignInRefused as refused:
            raise Problem(
                401,
                "Sign-in refused",
                str(refused),
                "x-ms-token-aad-id-token",
                headers={"WWW-Authenticate": 'Bearer realm="thor-console"'},
            ) from None
        return handler(req, user)

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        response = signed_in(req)
        if response.status_code >= 400 and (response.mimetype or "").endswith("problem+json") and _wants_html(req):
            response = _error_page(req, response)
        return _secured(response)

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
            csrf=csrf_token(key, user) if key and user.can_act else "",
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


def _may_act(user: Principal) -> None:
    if not user.can_act:
        raise Problem(
            403,
            "You may read, not act",
            f"{user.name} is signed in but is not one of the console's operators, so cannot replay or re-sync",
            "operator",
        )


def _checked_action(req: func.HttpRequest, user: Principal) -> None:
    from functions._console_security import check_csrf, check_same_origin

    _may_act(user)
    check_same_origin(req)
    check_csrf(get_context().settings.console_csrf_key, user, _form(req).get("csrf", ""))


def _tenant(req: func.HttpRequest) -> str:
    return require_tenant(req.route_params.get("tenant"), "tenant")


def _done(req: func.HttpRequest) -> str | None:
    done = req.params.get("done", "")
    if done == "replayed-many":
        count, errors = req.params.get("count", "0"), req.params.get("errors", "0")
        if not (count.isdigit() and errors.isdigit()):
            return None
        said = f"{count} event{'s' if count != '1' else ''} replayed: queued again with fresh attempts"
        return said + (f"; {errors} could not be replayed (see the logs)." if errors != "0" else ".")
    return DONE.get(done)


def _route(req: func.HttpRequest, name: str) -> tuple[str, str]:
    """The page's tenant and the id its route names (`eventId`, `internalOrderId`)."""
    return _tenant(req), req.route_params.get(name, "")


T = TypeVar("T")
_NOT_FOUND = {"eventId": ("Event not found", "event"), "internalOrderId": ("Order not found", "order")}


def _found(found: T | None, name: str, tenant: str, item_id: str) -> T:
    """What the route's id names, or a 404 naming it."""
    if found is None:
        title, what = _NOT_FOUND[name]
        raise Problem(404, title, f"no {what} {item_id!r} in {tenant}", name)
    return found


def _replay_status(req: func.HttpRequest) -> str:
    status = str(req.params.get("status") or "failed")
    if status not in REPLAY_STATUSES:
        raise Problem(400, "Bad request", f"status must be one of {', '.join(REPLAY_STATUSES)}", "status")
    return status


# --- pages ------------------------------------------------------------------------------------


@bp.function_name("console_overview")
@bp.route(route="console", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_overview(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import overview, overview_totals

    tenants = overview(get_context())
    return render("overview.html", user, tenants=tenants, totals=overview_totals(tenants), done=_done(req))


@bp.function_name("console_search")
@bp.route(route="console/search", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_search(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import QUERY_AT_MOST, search

    query = (req.params.get("q") or "").strip()[:QUERY_AT_MOST]
    return render("search.html", user, query=query, hits=search(get_context(), query) if query else [])


@bp.function_name("console_radar")
@bp.route(route="console/radar", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_radar(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import sla_radar

    return render("radar.html", user, radar=sla_radar(get_context()))


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

    return render("at_risk.html", user, risk=at_risk(get_context(), _tenant(req)), done=_done(req))


@bp.function_name("console_order")
@bp.route(
    route="console/tenants/{tenant}/orders/{internalOrderId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS
)
@console_page
def console_order(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import order_journey

    tenant, order_id = _route(req, "internalOrderId")
    journey = _found(order_journey(get_context(), tenant, order_id), "internalOrderId", tenant, order_id)
    return render("order.html", user, tenant=tenant, journey=journey, done=_done(req))


@bp.function_name("console_event")
@bp.route(route="console/tenants/{tenant}/events/{eventId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_event(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.services.console import event_summary

    tenant, event_id = _route(req, "eventId")
    event = _found(event_summary(get_context(), tenant, event_id), "eventId", tenant, event_id)
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
    tenant, event_id = _route(req, "eventId")
    event = _found(event_summary(context, tenant, event_id), "eventId", tenant, event_id)
    _may_act(user)
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Replay 1 event of {tenant}?",
            detail=f"The {event.kind} event {event_id}, now {event.status}, is queued again with fresh attempts.",
            count=1,
            action=_path(req).split("?", 1)[0],
            back=f"/console/tenants/{tenant}/events/{quote(event_id)}",
        )
    _checked_action(req, user)
    replay_event_action(context, tenant, event_id, user.who)
    if event.internal_order_id:
        return see_other(f"/console/tenants/{tenant}/orders/{quote(event.internal_order_id)}?done=replayed")
    return see_other(f"/console/tenants/{tenant}/events/{quote(event_id)}?done=replayed")


def _replay_many(
    req: func.HttpRequest, user: Principal, tenants: list[str], action: str, back: str
) -> func.HttpResponse:
    from shared.services.console import REPLAY_AT_MOST, replay_many_action, to_replay

    context = get_context()
    status = _replay_status(req)
    _may_act(user)
    scope = f"{tenants[0]}'s" if len(tenants) == 1 else "every tenant's"
    if req.method == "GET":
        waiting = to_replay(context, tenants, status)
        per_tenant: dict[str, int] = {}
        for event in waiting:
            per_tenant[event.tenant] = per_tenant.get(event.tenant, 0) + 1
        count = len(waiting)
        return render(
            "confirm.html",
            user,
            title=f"Replay {count} {status} event{'s' if count != 1 else ''} ({scope})?",
            detail=f"Each is queued again with fresh attempts, oldest first (at most {REPLAY_AT_MOST} per tenant).",
            count=count,
            per_tenant=per_tenant,
            action=f"{action}?{urlencode({'status': status})}",
            back=back,
        )
    _checked_action(req, user)
    done = replay_many_action(context, tenants, user.who, status)
    errors = sum(1 for replayed in done if replayed.error)
    query = urlencode({"done": "replayed-many", "count": len(done) - errors, "errors": errors})
    return see_other(f"{back}?{query}")


@bp.function_name("console_replay_failed")
@bp.route(route="console/tenants/{tenant}/replay-failed", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_replay_failed(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    tenant = _tenant(req)
    return _replay_many(req, user, [tenant], f"/console/tenants/{tenant}/replay-failed", f"/console/tenants/{tenant}")


@bp.function_name("console_replay_all")
@bp.route(route="console/replay", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@console_page
def console_replay_all(req: func.HttpRequest, user: Principal) -> func.HttpResponse:
    from shared.tenants import TENANTS

    return _replay_many(req, user, list(TENANTS), "/console/replay", "/console")


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
    tenant, order_id = _route(req, "internalOrderId")
    _found(context.orders.get(tenant, order_id), "internalOrderId", tenant, order_id)
    _may_act(user)
    back = f"/console/tenants/{tenant}/orders/{quote(order_id)}"
    if req.method == "GET":
        return render(
            "confirm.html",
            user,
            title=f"Re-sync order {order_id}?",
            detail="The order is read again from the marketplace and sent to the OMS.",
            count=1,
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
            recorded_where="Recorded on the SKU's price history",
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
