"""openapi.json matches the code: same routes and methods, and its schemas accept and reject
what the pydantic models accept and reject."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from localdev.openapi import render
from localdev.sandboxes.zort import SEED_EXAMPLES
from shared.models.webhooks import OrderCreatedWebhook, RefundRequest
from shared.zort.webhooks import EVENT_MODELS
from tests.conftest import app_functions

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "openapi.json").read_text())


def test_committed_document_is_up_to_date() -> None:
    assert (ROOT / "openapi.json").read_text() == render(), "run: python -m localdev.openapi > openapi.json"


# The operations console's HTML pages (functions/console.py) are for people signed in through App
# Service authentication, not part of Thor's API: not in the OpenAPI document, not fuzzed.
NOT_IN_THE_API = "console"


def test_routes_and_methods_agree_with_function_app() -> None:
    served = set()
    for function in app_functions():
        trigger = function.get_trigger().get_dict_repr()
        if trigger.get("type") == "httpTrigger" and trigger["route"].split("/")[0] != NOT_IN_THE_API:
            for method in trigger["methods"]:
                served.add(("/" + trigger["route"], str(getattr(method, "value", method)).lower()))
    documented = {(path, method) for path, item in DOC["paths"].items() for method in item}
    assert documented == served


def validator(name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:thor", Resource.from_contents(DOC, default_specification=DRAFT202012))
    schema = {"$ref": f"urn:thor#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry)


def agrees(model: type[BaseModel], schema_name: str, value: object) -> tuple[bool, bool]:
    try:
        model.model_validate(value)
        model_ok = True
    except ValidationError:
        model_ok = False
    return model_ok, validator(schema_name).is_valid(value)


@pytest.mark.parametrize("method", sorted(EVENT_MODELS))
def test_zort_seed_examples_fit_the_document(method: str) -> None:
    model = EVENT_MODELS[method]
    assert validator(f"Zort{model.__name__}").is_valid(SEED_EXAMPLES[method])


@pytest.mark.parametrize(
    "body",
    [
        {"event": "onOrderCreated", "payload": {"OrderId": 3272813}},
        {"event": "onOrderCreated", "payload": {"OrderId": "3272813"}},
        {"event": "onOrderCreated", "payload": {}},
        {"event": "nope", "payload": {"OrderId": 1}},
    ],
)
def test_order_created_schema_agrees(body: dict[str, Any]) -> None:
    model_ok, schema_ok = agrees(OrderCreatedWebhook, "OrderCreatedWebhook", body)
    assert model_ok == schema_ok


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "products": st.lists(
                st.fixed_dictionaries({"sku": st.sampled_from(["A1", ""]), "quantity": st.integers(-1, 3)}), max_size=2
            ),
            "action": st.sampled_from(["REFUND", "SAME_PRODUCT", "OTHER_PRODUCT", "GIFT"]),
            "value": st.sampled_from([0, 1, 234.12, -1]),
        }
    )
)
def test_refund_schema_agrees_with_the_model(body: dict[str, Any]) -> None:
    model_ok, schema_ok = agrees(RefundRequest, "RefundRequest", body)
    if model_ok:
        assert schema_ok, body  # the document never rejects what Thor accepts


def test_host_401_is_documented_as_an_empty_body_everywhere_health_included() -> None:
    """The Functions host answers a missing/wrong key before Thor runs: no problem+json to promise."""
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            answer = operation["responses"].get("401")
            assert answer, f"{method.upper()} {path} lists no 401"
            assert "empty body" in answer["description"].lower(), f"{method.upper()} {path}"
            if path != "/webhooks/{tenantId}/zort":  # only ZORT's key1 check is Thor's own 401
                assert "content" not in answer, f"{method.upper()} {path} promises a 401 body"


def test_document_says_the_trailing_slash_is_not_part_of_the_key() -> None:
    text = DOC["info"]["description"]
    assert "?code={token}/" in text and "not part of" in text
