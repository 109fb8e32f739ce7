"""Builds Thor's OpenAPI 3.1 document from the code: routes from function_app, schemas from the
pydantic models. `python -m localdev.openapi > openapi.json` refreshes the committed copy; a test
fails when the two differ, so the document always matches the code.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from shared.domain.refunds import RULES_SUMMARY as REFUND_RULES
from shared.models.marketplace_events import MARKETPLACE_EVENT_MODELS, MARKETPLACE_EVENTS
from shared.models.webhooks import DocumentRequest, RefundRequest
from shared.tenants import TENANTS
from shared.zort.webhooks import EVENT_MODELS, RECORDED_ONLY_EVENTS

PROBLEM: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "problem": {"type": "string"}}},
        },
    },
}
ACK: dict[str, Any] = {
    "type": "object",
    "required": ["status", "eventId"],
    "properties": {
        "status": {"enum": ["accepted", "duplicate"]},
        "eventId": {"type": "string"},
        "internalOrderId": {"type": "string"},
    },
}
READY: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"const": "ready"}, "detail": {"type": "string"}},
}
ZORT_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "payload": {"type": "string", "description": "the event's JSON; a form without it is recorded whole"},
        "method": {"type": "string"},
    },
}
TENANT_PARAM: dict[str, Any] = {"name": "tenantId", "in": "path", "required": True, "schema": {"enum": list(TENANTS)}}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["status", "storage"],
    "additionalProperties": False,
    "properties": {"status": {"enum": ["ok", "degraded"]}, "storage": {"enum": ["reachable", "unreachable"]}},
}
# The Functions host (and the local runner) checks the function key before anything else and answers
# 401 with an empty body; ZORT's key1 is checked by Thor, which answers a problem.
FUNCTION_KEY: list[dict[str, list[str]]] = [{"code": []}, {"functionsKey": []}]


class _NumbersAsText(GenerateJsonSchema):
    """ZORT's models read a number where they expect text (`coerce_numbers_to_str`): say so."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        return {"anyOf": [super().str_schema(schema), {"type": "number"}]}


def _schema(model: Any, generator: type[GenerateJsonSchema] = GenerateJsonSchema) -> dict[str, Any]:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    return adapter.json_schema(
        ref_template="#/components/schemas/{model}", mode="validation", schema_generator=generator
    )


HOST_401 = (
    "Missing or wrong function key (`?code=` or `x-functions-key`). The Functions host answers this "
    "itself, before Thor runs, with an EMPTY body: no problem document. A key copied with a trailing "
    "`/` (as in `?code={token}/`) is a wrong key."
)
HOST_401_ANSWER = {"description": HOST_401}
KEY_NOTE = (
    "Every operation needs a function key: `?code={key}` or the `x-functions-key` header. The key is "
    "exactly the value Thor's operators gave you: the `/` that ends the example URL "
    "`/v1/orders/{internalOrderId}/status?code={token}/` is not part of it, and a key sent with it "
    "is refused with 401 by the Functions host (empty body)."
)


DOCUMENT_RULES = (
    "Idempotency-Key is required (400 naming it when missing). Refused with 422 naming the rule, never "
    "stored nor sent: `documents-off` (MARKETPLACE_DOCUMENTS_<T> not on), `invoiced-by-marketplace` "
    "(MARKETPLACE_INVOICED_BY_MARKETPLACE_<T>), `country-not-documented` (SetInvoicePDF documents Chile, "
    "Colombia and Peru only), `type-not-allowed-in-country` (Chile and Peru: BOLETA, FACTURA, NOTA_DE_CREDITO; "
    "Colombia: FACTURA, NOTA_DE_CREDITO), `items-not-ready-to-ship` (every item must have gone through "
    "ready_to_ship), `not-a-pdf`, `pdf-too-large` (over 10 MiB decoded); an item not in the order is a 422 "
    "naming `itemIds`. The same key and body again answers the same; the same key with another body is a 422."
)
DOCUMENT_ACCEPTED: dict[str, Any] = {
    "type": "object",
    "required": ["documentId", "internalOrderId", "type", "number", "date", "itemIds", "size", "status"],
    "properties": {
        "documentId": {"type": "string"},
        "internalOrderId": {"type": "string"},
        "type": {"enum": ["BOLETA", "FACTURA", "NOTA_DE_CREDITO"]},
        "number": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "itemIds": {"type": "array", "items": {"type": "string"}},
        "size": {"type": "integer", "minimum": 0},
        "status": {"enum": ["recorded", "uploaded", "failed"]},
        "recordedAt": {"type": "string", "format": "date-time"},
        "eventId": {"type": "string"},
    },
}


SMOKE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["eventId", "status"],
    "properties": {"eventId": {"type": "string"}, "status": {"type": "string"}},
}


def _json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _order_action_parameters(key_description: str | None = None) -> list[dict[str, Any]]:
    """An action on one order: its id, its tenant and the Idempotency-Key it is done once per."""
    key: dict[str, Any] = {"name": "Idempotency-Key", "in": "header", "required": True}
    if key_description:
        key["description"] = key_description
    key["schema"] = {"type": "string", "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"}
    return [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "tenant", "in": "query", "required": True, "schema": {"enum": list(TENANTS)}},
        key,
    ]


def _problems(*statuses: int) -> dict[str, Any]:
    """Problem answers; every operation also has the host's 401, 413 (any body over 1 MiB) and 503."""
    described = {
        400: "Malformed request (the problem names the field)",
        404: "Unknown tenant or order",
        409: "State conflict",
        413: "Body over 1 MiB",
        415: "Unsupported content type",
        422: "A rule is broken",
        503: "Storage unreachable: retry after Retry-After seconds",
    }
    answers = {
        str(s): {
            "description": described[s],
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in sorted({*statuses, 413, 503})
        if s != 401
    }
    answers["503"]["headers"] = RETRY_AFTER
    answers["401"] = dict(HOST_401_ANSWER)
    return answers


MARKETPLACE_EVENT: dict[str, Any] = {
    "oneOf": [{"$ref": f"#/components/schemas/{model.__name__}"} for model in MARKETPLACE_EVENT_MODELS],
    "discriminator": {
        "propertyName": "event",
        "mapping": {name: f"#/components/schemas/{entry.model.__name__}" for name, entry in MARKETPLACE_EVENTS.items()},
    },
    "description": "Any documented marketplace webhook event; each route accepts every one. Acted on: "
    + ", ".join(name for name, entry in MARKETPLACE_EVENTS.items() if entry.acted_on)
    + ". Recorded as `ignored`: "
    + ", ".join(name for name, entry in MARKETPLACE_EVENTS.items() if not entry.acted_on)
    + ".",
}


def _webhook(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [TENANT_PARAM],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MarketplaceEvent"}}},
            },
            "responses": {
                "200": {
                    "description": "Recorded (or a duplicate of a recorded event)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}},
                },
                **_problems(400, 404, 415),
            },
        }
    }


def build() -> dict[str, Any]:
    components: dict[str, dict[str, Any]] = {"Problem": PROBLEM, "Ack": ACK}
    models: tuple[type[BaseModel], ...] = (*MARKETPLACE_EVENT_MODELS, RefundRequest, DocumentRequest)
    for model in models:
        schema = _schema(model)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["MarketplaceEvent"] = MARKETPLACE_EVENT
    zort_refs = []
    for _method, model in sorted(EVENT_MODELS.items()):
        name = f"Zort{model.__name__}"
        if name not in components:
            schema = _schema(model, _NumbersAsText)
            components.update({f"Zort{k}": v for k, v in schema.pop("$defs", {}).items()})
            components[name] = json.loads(
                json.dumps(schema).replace("#/components/schemas/", "#/components/schemas/Zort")
            )
            zort_refs.append({"$ref": f"#/components/schemas/{name}"})
    paths = {
        "/webhooks/{tenantId}/orders": _webhook("Marketplace events (subscribe onOrderCreated here)"),
        "/webhooks/{tenantId}/orders/status": _webhook(
            "Marketplace events (subscribe onOrderItemsStatusChanged, onReturnStatusChanged here)"
        ),
        "/webhooks/{tenantId}/products": _webhook(
            "Marketplace events (subscribe the product, feed, statistics and metrics events here)"
        ),
        "/webhooks/{tenantId}/zort": {
            "get": {
                "summary": "ZORT's verification / a probe: 200 without recording anything",
                "parameters": [TENANT_PARAM],
                "responses": {
                    "200": {"description": "Ready", "content": {"application/json": {"schema": READY}}},
                    **_problems(401, 404, 503),
                },
            },
            "post": {
                "summary": "Every ZORT event; key1 of the tenant as `Authorization: Basic {key1}` or the `key1` header "
                "(key1 or base64 of it). Without `method` and without a body: a ping, 200, nothing recorded.",
                "parameters": [
                    TENANT_PARAM,
                    {
                        "name": "method",
                        "in": "query",
                        "schema": {"enum": ["", *sorted(set(EVENT_MODELS) | RECORDED_ONLY_EVENTS)]},
                        "description": "The event; may come as a form field instead; empty is the same as absent (a ping without a body). Contact and warehouse "
                        "events (ZORT v4) are recorded as sent.",
                    },
                    {"name": "id", "in": "query", "schema": {"type": "string"}},
                    {"name": "number", "in": "query", "schema": {"type": "string"}},
                    {"name": "paymentstatus", "in": "query", "schema": {"type": "string"}},
                ],
                "security": [{**alternative, "zortKey1": []} for alternative in FUNCTION_KEY],
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": ZORT_FORM},
                        "multipart/form-data": {"schema": ZORT_FORM},
                        "application/json": {
                            "schema": {
                                "anyOf": [
                                    {"oneOf": zort_refs},
                                    {
                                        "description": "Contact and warehouse events (ZORT v4) are recorded as sent, any JSON"
                                    },
                                ]
                            }
                        },
                    }
                },
                "responses": {
                    "200": {
                        "description": "Recorded, or a ping",
                        "content": {
                            "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/Ack"}, READY]}}
                        },
                    },
                    **_problems(400, 401, 404, 413, 415, 503),
                    "401": {
                        "description": HOST_401 + " Also Thor's own answer, with a problem document, when "
                        "key1 is missing or wrong.",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                },
            },
        },
        "/v1/orders/{internalOrderId}/status": {
            "get": {
                "summary": "Webtracking: the order's status, items, tracking and timeline (no personal data)",
                "parameters": [
                    {"name": "internalOrderId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "The order",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["internalOrderId", "tenant", "status", "items", "timeline"],
                                }
                            }
                        },
                    },
                    **_problems(404),
                },
            }
        },
        "/v1/smoke/events/{eventId}": {
            **{
                method: {
                    "summary": summary,
                    "description": "Only the smoke test's synthetic event (`onStatisticsUpdated` whose payload "
                    "carries `thorSmoke`, sent by `make smoke`): any other event id is 404.",
                    "parameters": [
                        {"name": "eventId", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "tenant", "in": "query", "required": True, "schema": {"enum": list(TENANTS)}},
                    ],
                    "responses": {"200": _json_answer(answer, SMOKE_EVENT)} | _problems(*statuses),
                }
                for method, summary, answer, statuses in (
                    ("get", "The smoke test's synthetic event: its status", "Its status", (400, 404)),
                    (
                        "delete",
                        "Removes the smoke test's synthetic event once processed",
                        "Removed",
                        (400, 404, 409),
                    ),
                )
            }
        },
        "/v1/orders/{id}/refund": {
            "post": {
                "summary": "Refund or exchange some of an order's products",
                "description": REFUND_RULES,
                "parameters": _order_action_parameters(
                    "One key per refund: a retry with the same key and body gets the first answer and never "
                    "refunds twice; the same key with another body is a 422, one still in flight a 409. "
                    "Missing: 400 naming Idempotency-Key."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefundRequest"}}},
                },
                "responses": {
                    "201": {
                        "description": "The refund and the order's refund totals",
                        "content": {
                            "application/json": {"schema": {"type": "object", "required": ["refund", "order"]}}
                        },
                    },
                    **_problems(400, 404, 409, 415, 422),
                },
            }
        },
        "/v1/orders/{id}/documents": {
            "post": {
                "summary": "A tax document for the marketplace (SetInvoicePDF): checked, recorded, uploaded from the queue",
                "description": DOCUMENT_RULES,
                "parameters": _order_action_parameters(),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentRequest"}}},
                },
                "responses": {
                    "202": {
                        "description": "Recorded; its upload to the marketplace is queued (the order's status shows it)",
                        "content": {"application/json": {"schema": DOCUMENT_ACCEPTED}},
                    },
                    **_problems(400, 404, 409, 415, 422),
                    "413": {
                        "description": "Body over 16 MiB",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Storage reachability",
                "responses": {
                    "200": {"description": "Storage reachable", "content": {"application/json": {"schema": HEALTH}}},
                    "401": HOST_401_ANSWER,
                    "413": _problems(413)["413"],
                    "503": {
                        "description": "Storage unreachable",
                        "headers": RETRY_AFTER,
                        "content": {"application/json": {"schema": HEALTH}},
                    },
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Thor",
            "version": "1.0.0",
            "description": "Marketplace integration hub: webhooks in, webtracking and refunds out. "
            + KEY_NOTE
            + " The key is checked before anything else (401); a method a path does not serve "
            "answers 405 with `Allow`.",
        },
        "servers": [
            {"url": "https://thorfunctionstest.azurewebsites.net"},
            {"url": "https://thorfunctionsprod.azurewebsites.net"},
            {"url": "http://localhost:7071"},
        ],
        "security": FUNCTION_KEY,
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "code": {"type": "apiKey", "in": "query", "name": "code"},
                "functionsKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "zortKey1": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Basic {key1}`: the tenant's ZORT key1, as ZORT sends it",
                },
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
