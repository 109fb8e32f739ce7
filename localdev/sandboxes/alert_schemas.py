"""The published rules each alert channel's payload must keep, as checks the alert sandbox (and the
unit tests) run on what Thor sends. No stricter and no looser than the sources, except where said.

Teams (an Adaptive Card in a message): the Adaptive Card schema 1.5 (microsoft/AdaptiveCards,
`schemas/1.5.0/adaptive-card.json`, JSON Schema draft-06; Teams renders up to 1.5), transcribed
here for the parts Thor sends: `AdaptiveCard`, `TextBlock`, `FactSet`/`Fact`, `Container`,
`Action.OpenUrl`, and the enums they use, each with the schema's `additionalProperties: false` and
`required`. Stricter than the schema in one way, on purpose: an element or action of another type
(Image, ColumnSet, Action.Submit…) is refused, since this transcription does not describe it; the
npm `adaptivecards` package (3.0.6) ships no schema file, and the repository's schema is not
vendored. The message around the card: `type` `message`, `attachments` of
`{contentType: "application/vnd.microsoft.card.adaptive", contentUrl, content}`
(MicrosoftDocs/msteams-docs connectors-using.md, "Send adaptive cards using an incoming webhook").

Slack (incoming webhook, Block Kit; docs.slack.dev block reference): at most 50 blocks; header
`plain_text` 1-150 characters; section text 1-3,000 (`plain_text` or `mrkdwn`) or fields, at most
10 of at most 2,000; actions at most 25 elements, a button's `plain_text` text at most 75 and url
at most 3,000; context at most 10 elements; `block_id` at most 255; a message has `text` or
`blocks`. Only the block types Thor sends (header, section, actions, context, divider) are known
here: another type is refused (stricter, as above).

ACS e-mail (Azure/azure-rest-api-specs, Email stable/2023-03-31): `senderAddress`, `content` with
`subject`, `recipients` with `to` (each `{address}`) are required; and HMAC-SHA256 access-key
authentication (learn.microsoft.com communication-services hmac-header-tutorial): `x-ms-date`,
`x-ms-content-sha256` = base64(SHA-256(body)) and `Authorization: HMAC-SHA256
SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…` over
`METHOD\\npath?query\\ndate;host;hash`; the date within 15 minutes of now (the App Configuration
HMAC page states 15 minutes for the same scheme; ACS's tolerance is not stated: assumed equal).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match

SOURCE = "microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json (transcribed: the parts Thor sends)"


def _enum(*values: str) -> dict[str, Any]:
    """The schema's enums: the listed values, or any capitalisation of them (its `pattern` alternative)."""
    pattern = "^(" + "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in v) for v in values) + ")$"
    return {"anyOf": [{"enum": list(values)}, {"pattern": pattern}]}


_ELEMENT_COMMON = {
    "fallback": {},
    "height": {"$ref": "#/definitions/BlockElementHeight"},
    "separator": {"type": "boolean"},
    "spacing": {"$ref": "#/definitions/Spacing"},
    "id": {"type": "string"},
    "isVisible": {"type": "boolean"},
    "requires": {"type": "object", "additionalProperties": {"type": "string"}},
}
_ACTION_COMMON = {
    "title": {"type": "string"},
    "iconUrl": {"type": "string", "format": "uri-reference"},
    "id": {"type": "string"},
    "style": {"$ref": "#/definitions/ActionStyle"},
    "fallback": {},
    "tooltip": {"type": "string"},
    "isEnabled": {"type": "boolean"},
    "mode": {"$ref": "#/definitions/ActionMode"},
    "requires": {"type": "object", "additionalProperties": {"type": "string"}},
}


def _nullable(ref: str) -> dict[str, Any]:
    return {"anyOf": [{"$ref": f"#/definitions/{ref}"}, {"type": "null"}]}


ADAPTIVE_CARD_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "definitions": {
        "AdaptiveCard": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"enum": ["AdaptiveCard"]},
                "version": {"type": "string"},
                "body": {"type": "array", "items": {"$ref": "#/definitions/ImplementationsOf.Element"}},
                "actions": {"type": "array", "items": {"$ref": "#/definitions/ImplementationsOf.Action"}},
                "selectAction": {},
                "fallbackText": {"type": "string"},
                "backgroundImage": {},
                "minHeight": {"type": "string"},
                "rtl": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
                "speak": {"type": "string"},
                "lang": {"type": "string"},
                "verticalContentAlignment": {"$ref": "#/definitions/VerticalContentAlignment"},
                "refresh": {},
                "authentication": {},
                "$schema": {"type": "string", "format": "uri"},
            },
        },
        "TextBlock": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "type": {"enum": ["TextBlock"]},
                "text": {"type": "string"},
                "color": _nullable("Colors"),
                "fontType": _nullable("FontType"),
                "horizontalAlignment": _nullable("HorizontalAlignment"),
                "isSubtle": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
                "maxLines": {"type": "number"},
                "size": _nullable("FontSize"),
                "weight": _nullable("FontWeight"),
                "wrap": {"type": "boolean"},
                "style": _nullable("TextBlockStyle"),
                **_ELEMENT_COMMON,
            },
        },
        "Fact": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title", "value"],
            "properties": {"type": {"enum": ["Fact"]}, "title": {"type": "string"}, "value": {"type": "string"}},
        },
        "FactSet": {
            "type": "object",
            "additionalProperties": False,
            "required": ["facts"],
            "properties": {
                "type": {"enum": ["FactSet"]},
                "facts": {"type": "array", "items": {"$ref": "#/definitions/Fact"}},
                **_ELEMENT_COMMON,
            },
        },
        "Container": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "type": {"enum": ["Container"]},
                "items": {"type": "array", "items": {"$ref": "#/definitions/ImplementationsOf.Element"}},
                "selectAction": {},
                "style": _nullable("ContainerStyle"),
                "verticalContentAlignment": _nullable("VerticalContentAlignment"),
                "bleed": {"type": "boolean"},
                "backgroundImage": {},
                "minHeight": {"type": "string"},
                "rtl?": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
                **_ELEMENT_COMMON,
            },
        },
        "Action.OpenUrl": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "type": {"enum": ["Action.OpenUrl"]},
                "url": {"type": "string", "format": "uri-reference"},
                **_ACTION_COMMON,
            },
        },
        "ImplementationsOf.Element": {
            "anyOf": [
                {"required": ["type"], "allOf": [{"$ref": f"#/definitions/{name}"}]}
                for name in ("Container", "FactSet", "TextBlock")
            ]
        },
        "ImplementationsOf.Action": {
            "anyOf": [{"required": ["type"], "allOf": [{"$ref": "#/definitions/Action.OpenUrl"}]}]
        },
        "ActionMode": _enum("primary", "secondary"),
        "ActionStyle": _enum("default", "positive", "destructive"),
        "BlockElementHeight": _enum("auto", "stretch"),
        "Colors": _enum("default", "dark", "light", "accent", "good", "warning", "attention"),
        "ContainerStyle": _enum("default", "emphasis", "good", "attention", "warning", "accent"),
        "FontSize": _enum("default", "small", "medium", "large", "extraLarge"),
        "FontType": _enum("default", "monospace"),
        "FontWeight": _enum("default", "lighter", "bolder"),
        "HorizontalAlignment": _enum("left", "center", "right"),
        "Spacing": _enum("default", "none", "small", "medium", "large", "extraLarge", "padding"),
        "TextBlockStyle": _enum("default", "heading"),
        "VerticalContentAlignment": _enum("top", "center", "bottom"),
    },
    "anyOf": [{"allOf": [{"$ref": "#/definitions/AdaptiveCard"}]}],
}
SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")  # Teams renders up to 1.5
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_CARD = Draft6Validator(ADAPTIVE_CARD_SCHEMA)


def _leaf(error: ValidationError) -> ValidationError:
    """The reason under an `anyOf`, from the alternative whose `type` matched (the element the
    sender meant), else the best match."""
    while error.context:
        alternatives: dict[object, list[ValidationError]] = {}
        for inner in error.context:
            alternatives.setdefault(inner.relative_schema_path[0], []).append(inner)
        meant = [
            errors
            for errors in alternatives.values()
            if not any(e.validator == "enum" and list(e.relative_path)[-1:] == ["type"] for e in errors)
        ]
        error = (best_match(meant[0]) if len(meant) == 1 else best_match(error.context)) or error.context[0]
    return error


def adaptive_card_errors(card: Any) -> list[str]:
    errors = []
    for error in _CARD.iter_errors(card):
        leaf = _leaf(error)
        errors.append(f"{'/'.join(map(str, leaf.absolute_path)) or '(card)'}: {leaf.message}")
    if isinstance(card, dict):
        if card.get("type") != "AdaptiveCard":
            errors.append("type: the top-level card must be `AdaptiveCard`")
        if card.get("version") not in SUPPORTED_VERSIONS:
            errors.append(f"version: {card.get('version')!r} is not one Teams renders (1.0-1.5; required at top level)")
    return errors


def teams_errors(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    errors = []
    if body.get("type") != "message":
        errors.append("type: must be `message`")
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return [*errors, "attachments: a non-empty array of cards is required"]
    for number, attachment in enumerate(attachments):
        if not isinstance(attachment, dict):
            errors.append(f"attachments/{number}: not an object")
            continue
        if attachment.get("contentType") != CARD_CONTENT_TYPE:
            errors.append(f"attachments/{number}/contentType: must be {CARD_CONTENT_TYPE}")
        errors += [f"attachments/{number}/content/{e}" for e in adaptive_card_errors(attachment.get("content"))]
    return errors


# --- Slack ------------------------------------------------------------------------------------------

BLOCKS_MAX, HEADER_MAX, SECTION_MAX, FIELDS_MAX, FIELD_MAX = 50, 150, 3000, 10, 2000
ACTIONS_MAX, BUTTON_TEXT_MAX, URL_MAX, CONTEXT_MAX, BLOCK_ID_MAX = 25, 75, 3000, 10, 255


def _text_errors(where: str, text: Any, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in kinds:
        return [f"{where}: a text object of type {' or '.join(kinds)} is required"]
    value = text.get("text")
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        return [f"{where}.text: 1 to {limit} characters (got {len(value) if isinstance(value, str) else value!r})"]
    return []


def slack_errors(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    blocks = body.get("blocks")
    if not body.get("text") and not blocks:
        return ["a message needs `text` or `blocks`"]
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    errors = [] if len(blocks) <= BLOCKS_MAX else [f"blocks: at most {BLOCKS_MAX} (got {len(blocks)})"]
    for number, block in enumerate(blocks):
        where = f"blocks/{number}"
        if not isinstance(block, dict):
            errors.append(f"{where}: not an object")
            continue
        if len(str(block.get("block_id", ""))) > BLOCK_ID_MAX:
            errors.append(f"{where}.block_id: at most {BLOCK_ID_MAX} characters")
        kind = block.get("type")
        if kind == "header":
            errors += _text_errors(f"{where}.text", block.get("text"), HEADER_MAX, ("plain_text",))
        elif kind == "section":
            if "text" in block:
                errors += _text_errors(f"{where}.text", block["text"], SECTION_MAX)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > FIELDS_MAX:
                    errors.append(f"{where}.fields: at most {FIELDS_MAX} items")
                else:
                    for i, item in enumerate(fields):
                        errors += _text_errors(f"{where}.fields/{i}", item, FIELD_MAX)
            if "text" not in block and not fields:
                errors.append(f"{where}: a section needs text or fields")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= ACTIONS_MAX:
                errors.append(f"{where}.elements: 1 to {ACTIONS_MAX} elements")
                continue
            for i, element in enumerate(elements):
                if not isinstance(element, dict) or element.get("type") != "button":
                    errors.append(f"{where}.elements/{i}: only buttons are known here")
                    continue
                errors += _text_errors(
                    f"{where}.elements/{i}.text", element.get("text"), BUTTON_TEXT_MAX, ("plain_text",)
                )
                if len(str(element.get("url", ""))) > URL_MAX:
                    errors.append(f"{where}.elements/{i}.url: at most {URL_MAX} characters")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= CONTEXT_MAX:
                errors.append(f"{where}.elements: 1 to {CONTEXT_MAX} elements")
        elif kind != "divider":
            errors.append(f"{where}.type: {kind!r} is not a block type known here")
    return errors


# --- ACS e-mail -----------------------------------------------------------------------------------

DATE_TOLERANCE_SECONDS = 15 * 60


def acs_body_errors(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    errors = []
    if not isinstance(body.get("senderAddress"), str) or "@" not in body.get("senderAddress", ""):
        errors.append("senderAddress: required, an e-mail address")
    content = body.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("subject"), str):
        errors.append("content.subject: required")
    recipients = body.get("recipients")
    to = recipients.get("to") if isinstance(recipients, dict) else None
    if not isinstance(to, list) or not to:
        errors.append("recipients.to: required, at least one address")
    else:
        for i, address in enumerate(to):
            if not isinstance(address, dict) or not isinstance(address.get("address"), str):
                errors.append(f"recipients.to/{i}.address: required")
    return errors


def acs_auth_errors(
    method: str, path_and_query: str, host: str, headers: dict[str, str], body: bytes, access_key: str, now: datetime
) -> list[str]:
    """Checks the HMAC-SHA256 headers (names lower-cased) as ACS would, with the resource's key."""
    date, content_hash = headers.get("x-ms-date", ""), headers.get("x-ms-content-sha256", "")
    authorization = headers.get("authorization", "")
    if not date or not content_hash or not authorization:
        return ["x-ms-date, x-ms-content-sha256 and Authorization are required"]
    errors = []
    try:
        sent = parsedate_to_datetime(date)
        if abs((now.astimezone(timezone.utc) - sent).total_seconds()) > DATE_TOLERANCE_SECONDS:
            errors.append("x-ms-date: more than 15 minutes from now")
    except (TypeError, ValueError):
        errors.append("x-ms-date: not an RFC 1123 date")
    if content_hash != base64.b64encode(hashlib.sha256(body).digest()).decode():
        errors.append("x-ms-content-sha256: not the SHA-256 of the body")
    prefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
    if not authorization.startswith(prefix):
        return [*errors, "Authorization: must be " + prefix + "<signature>"]
    to_sign = f"{method}\n{path_and_query}\n{date};{host};{content_hash}"
    expected = base64.b64encode(hmac.new(base64.b64decode(access_key), to_sign.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(authorization.removeprefix(prefix).encode(), expected):
        errors.append("Authorization: the signature does not match")
    return errors
