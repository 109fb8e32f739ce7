"""HTTP glue shared by the functions: JSON bodies in, answers and RFC 9457 problems out.

Anything a caller sends wrong becomes a 4xx `application/problem+json` naming the field; storage
trouble becomes 503 with Retry-After; nothing a caller sends produces a 500 or a stack trace.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, NoReturn

import azure.functions as func
from pydantic import ValidationError

from shared.bootstrap import storage_deadline
from shared.domain.errors import ThorError
from shared.domain.events import STORAGE_BOUND
from shared.domain.times import json_default
from shared.observability import mask
from shared.ports import StorageUnavailable
from shared.settings import SettingsError
from shared.tenants import is_tenant

log = logging.getLogger("thor.http")

MAX_BODY_BYTES = 1024 * 1024
DOCUMENT_BODY_BYTES = 16 * 1024 * 1024
ROUTE_BODY_LIMITS: dict[str, int] = {"documents": DOCUMENT_BODY_BYTES}
"""Functions whose bodies may be larger than MAX_BODY_BYTES (a tax document carries its PDF, base64)."""
RETRY_AFTER_SECONDS = "5"
# All the storage work of one request (recording a webhook, reading an order, a refund) ends within
# this many seconds, or the request answers 503 + Retry-After: senders give up after about 10 s.
STORAGE_BOUND_SECONDS = STORAGE_BOUND.total_seconds()
JSON_TYPES = ("application/json", "text/json", "text/plain")
FORM_TYPE = "application/x-www-form-urlencoded"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.field, self.errors, self.headers = field, errors, headers or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, default=json_default, ensure_ascii=False),
        status_code=status,
        mimetype="application/json",
        headers=headers,
    )


def problem_response(problem: Problem, instance: str | None = None) -> func.HttpResponse:
    """The problem as an `application/problem+json` answer (RFC 9457), its detail masked."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": mask(problem.detail),
    }
    if instance:
        body["instance"] = instance
    if problem.field:
        body["field"] = problem.field
    if problem.errors:
        body["errors"] = problem.errors
    return func.HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status_code=problem.status,
        mimetype="application/problem+json",
        headers=problem.headers,
    )


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    errors = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"])
        errors.append({"field": f"{prefix}{path}" if path else prefix.rstrip(".") or "body", "problem": item["msg"]})
    return errors


def validation_problem(error: ValidationError, prefix: str = "") -> Problem:
    errors = field_errors(error, prefix)
    first = errors[0]
    return Problem(400, "Invalid request body", f"{first['field']}: {first['problem']}", first["field"], errors)


def endpoint(
    handler: Callable[[func.HttpRequest], func.HttpResponse],
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    """Wraps a function so every failure becomes the right problem answer."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        path = _path(req)
        try:
            with storage_deadline(STORAGE_BOUND_SECONDS):
                return handler(req)
        except Problem as problem:
            return problem_response(problem, path)
        except ValidationError as error:
            return problem_response(validation_problem(error), path)
        except ThorError as error:
            return problem_response(Problem(error.status, error.title, error.detail, error.field), path)
        except StorageUnavailable as error:
            log.warning("storage unavailable on %s: %s", path, error)
            unavailable = "Thor's storage is unreachable; retry later."
            return problem_response(
                Problem(503, "Storage unavailable", unavailable, headers={"Retry-After": RETRY_AFTER_SECONDS}), path
            )
        except SettingsError as error:
            log.error("%s", error)
            missing = "Thor is missing required settings; see its logs."
            return problem_response(Problem(503, "Not configured", missing, headers={"Retry-After": "60"}), path)
        except Exception:  # a bug of ours: log it, never show it
            log.exception("unhandled error on %s", path)
            return problem_response(Problem(500, "Internal error", "Thor could not handle this request."), path)

    return wrapper


def _path(req: func.HttpRequest) -> str:
    url = req.url or ""
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else "/"
    return path.split("?", 1)[0]


def require_tenant(tenant: str | None, field: str = "tenantId") -> str:
    if not tenant:
        raise Problem(400, "Missing tenant", f"{field} is required", field)
    if not is_tenant(tenant):
        raise Problem(404, "Unknown tenant", f"{tenant!r} is not one of Thor's tenants", field)
    return tenant


def content_type(req: func.HttpRequest) -> str:
    return (req.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def body_bytes(req: func.HttpRequest, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "Body too large", f"the body is over {limit} bytes", "body")
    body = req.get_body() or b""
    if len(body) > limit:
        raise Problem(413, "Body too large", f"the body is over {limit} bytes", "body")
    return body


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"repeated key {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_text(text: str | bytes, field: str = "body") -> Any:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise Problem(400, "Malformed body", f"{field} is not UTF-8", field) from None
    except RecursionError:
        raise Problem(400, "Malformed body", f"{field} is nested too deeply", field) from None
    except ValueError as error:
        raise Problem(400, "Malformed JSON", f"{field} is not valid JSON: {error}", field) from None


def read_json(req: func.HttpRequest, limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body, checked for size, content type, encoding and syntax."""
    body = body_bytes(req, limit)
    kind = content_type(req)
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise Problem(415, "Unsupported content type", f"send application/json, not {kind}", "content-type")
    if not body.strip():
        raise Problem(400, "Empty body", "a JSON body is required", "body")
    return parse_json_text(body)


def require_object(value: Any, field: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Problem(400, "Invalid request body", f"{field} must be a JSON object", field)
    return value


MAX_IDEMPOTENCY_KEY = 255
_KEY_CHARACTERS = frozenset(map(chr, range(0x20, 0x7F)))  # visible ASCII and space, as openapi.json says


def idempotency_key(req: func.HttpRequest) -> str | None:
    """The request's `Idempotency-Key`, stripped; None when it has none; a 400 naming it when malformed."""
    key: str | None = req.headers.get("idempotency-key")
    if key is None:
        return None
    if not (0 < len(key.strip()) <= MAX_IDEMPOTENCY_KEY and set(key) <= _KEY_CHARACTERS):
        raise Problem(
            400, "Invalid Idempotency-Key", "Idempotency-Key must be 1-255 visible ASCII characters", "Idempotency-Key"
        )
    return key.strip()


def require_idempotency_key(key: str | None, why: str) -> str:
    """An endpoint that creates something a person pays for or acts on takes no request without a key."""
    if key is None:
        raise Problem(400, "Missing Idempotency-Key", f"Idempotency-Key is required: {why}", "Idempotency-Key")
    return key
