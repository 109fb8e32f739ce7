"""Reading a ZORT webhook call in every shape ZORT (and what sits in front of it) sends.

ZORT's webhook documentation (v3 seeds/001, v4 developers.zortout.com/overview/webhook) says:
``POST {url}?method=EVENT``, headers ``Authorization: Basic {key1}``, ``key1``, ``key2``, ``key3``,
and the event's JSON in a body field ``payload``. It does not say how the body is encoded, nor what
the portal's "Verify and Save" sends. What public receivers handle (shared/reference/zort.md) and
what this module therefore accepts:

- key1 from ``Authorization: Basic …`` or from the ``key1`` header, either as key1 itself or as
  base64(key1); every candidate is compared in constant time;
- ``application/x-www-form-urlencoded`` and ``multipart/form-data`` forms, with or without a
  ``payload`` field (without one, the whole form is the event), and JSON bodies (the event itself,
  or ``{"payload": …}``);
- a body without Content-Type: JSON when it starts with ``{`` or ``[``, a form when it holds ``=``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

import azure.functions as func

from functions._http import FORM_TYPE, JSON_TYPES, Problem, body_bytes, content_type, parse_json_text

MULTIPART_TYPE = "multipart/form-data"


# --- key1 ---------------------------------------------------------------------------------------


def _candidates(req: func.HttpRequest) -> list[str]:
    """The values that may carry key1: the Authorization token (after ``Basic``) and the key1 header."""
    found = []
    authorization = (req.headers.get("authorization") or "").strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if token and scheme.lower() == "basic":
            found.append(token.strip())
        elif not token:
            found.append(scheme)  # a bare key1 in Authorization
    header = (req.headers.get("key1") or "").strip()
    if header:
        found.append(header)
    return found


def _decoded(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def key1_presented(req: func.HttpRequest) -> bool:
    return bool(_candidates(req))


def key1_matches(req: func.HttpRequest, expected: str) -> bool:
    """Whether any candidate is key1 or base64(key1). Every comparison runs: no early exit to time."""
    wanted = expected.encode("utf-8")
    matched = False
    for candidate in _candidates(req):
        plain = hmac.compare_digest(candidate.encode("utf-8"), wanted)
        decoded = _decoded(candidate)
        encoded = hmac.compare_digest(decoded if decoded is not None else b"", wanted) and decoded is not None
        matched = matched | plain | encoded
    return matched


# --- the body -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZortBody:
    form: dict[str, str]  # form fields (empty for JSON); may carry ``method``, ``id``, ``number``…
    payload: object  # the event: the decoded ``payload`` field, the JSON body, or the whole form
    whole_form: bool = False  # True when a form had no ``payload`` field: the form itself is the event
    empty: bool = False  # no body at all (a ping when there is no method either)


def _form(text: bytes) -> dict[str, str]:
    try:
        pairs = parse_qs(text.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
    except (UnicodeDecodeError, ValueError) as error:
        raise Problem(400, "Malformed form", f"the form body could not be read: {error}", "body") from None
    return {key: values[-1] for key, values in pairs.items()}


def _multipart(req: func.HttpRequest, body: bytes) -> dict[str, str]:
    """The form's fields; {} for an empty form (only the close delimiter `--{boundary}--`, what a
    browser and urllib3 send for a form without fields: as an empty urlencoded form, an empty body)."""
    header = req.headers.get("content-type") or ""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + body)
    boundary = message.get_boundary()
    if boundary and body.strip() == f"--{boundary}--".encode("latin-1"):
        return {}
    if not message.is_multipart():
        raise Problem(400, "Malformed form", "the multipart body could not be read (boundary?)", "body")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True)  # None for a part that is itself multipart
            raw = payload if isinstance(payload, bytes) else b""
            try:
                fields[str(name)] = raw.decode(part.get_content_charset() or "utf-8")
            except (UnicodeDecodeError, LookupError):
                raise Problem(400, "Malformed form", f"the field {name!r} is not UTF-8", str(name)) from None
    if not fields:  # a body that is no form part at all carries nothing to record
        raise Problem(400, "Malformed form", "the multipart body has no named field", "body")
    return fields


def _sniffed(body: bytes) -> str:
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return "application/json"
    if b"=" in body:
        return FORM_TYPE
    raise Problem(
        415,
        "Unsupported content type",
        "a body without Content-Type must be JSON or a form "
        "(payload=…); send Content-Type application/x-www-form-urlencoded or application/json",
        "content-type",
    )


def read_body(req: func.HttpRequest) -> ZortBody:
    body = body_bytes(req)
    if not body.strip():
        return ZortBody({}, None, empty=True)
    kind = content_type(req) or _sniffed(body)
    if kind in (FORM_TYPE, MULTIPART_TYPE):
        form = _form(body) if kind == FORM_TYPE else _multipart(req, body)
        if not form:  # an empty form is an empty body
            return ZortBody({}, None, empty=True)
        if "payload" not in form:
            return ZortBody(form, dict(form), whole_form=True)
        return ZortBody(form, parse_json_text(form["payload"], "payload"))
    if kind not in JSON_TYPES and not kind.endswith("+json"):
        raise Problem(
            415,
            "Unsupported content type",
            f"send a form (application/x-www-form-urlencoded or multipart/form-data) or application/json, not {kind}",
            "content-type",
        )
    value = parse_json_text(body)
    if isinstance(value, dict) and set(value) == {"payload"}:  # {"payload": …} wrapper
        inner = value["payload"]
        value = parse_json_text(inner, "payload") if isinstance(inner, str) else inner
    return ZortBody({}, value)
