"""Every service's OpenAPI document says what the kernel does for every route: errors are
problem+json, a token is sent as a bearer token, the Idempotency-Key is required. (The whole
platform's merged document is held to its answers by `tests/e2e/test_api_contract.py`.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from shared.db import service_metadata
from shared.dependencies import IdempotencyKeyDep, OptionalPrincipalDep, PrincipalDep
from shared.errors import PROBLEM_CONTENT_TYPE
from shared.runtime import ServiceDefinition
from shared.service import create_service_app


class NewThing(BaseModel):
    name: str


router = APIRouter()


@router.post("/things", status_code=201)
async def make_thing(body: NewThing, principal: PrincipalDep,
                     idempotency: IdempotencyKeyDep) -> NewThing:
    return body


@router.get("/things/{name}", openapi_extra={"security": [{}]})
async def read_thing(name: str, principal: OptionalPrincipalDep) -> NewThing:
    return NewThing(name=name)


@router.get("/open")
async def open_to_all() -> dict[str, str]:
    return {}


def document() -> dict[str, Any]:
    definition = ServiceDefinition(name="things", title="Things", metadata=service_metadata(),
                                   migrations=Path(__file__).parent, routers=[router])
    return create_service_app(definition).openapi()


def test_every_error_of_every_operation_is_documented_as_a_problem() -> None:
    doc = document()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path in ("/things", "/things/{name}", "/open"):
        for operation in doc["paths"][path].values():
            responses = operation["responses"]
            assert responses["default"]["content"] == {PROBLEM_CONTENT_TYPE: {"schema": problem}}
            errors = {status: r for status, r in responses.items() if status[0] in "45"}
            assert all(r["content"] == {PROBLEM_CONTENT_TYPE: {"schema": problem}}
                       for r in errors.values())
    assert "422" in doc["paths"]["/things"]["post"]["responses"]
    schemas = doc["components"]["schemas"]
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(schemas)
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status"}
    assert schemas["FieldProblem"]["required"] == ["field", "code", "message"]


def test_the_bearer_scheme_is_declared_where_a_token_is_taken() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"] == {"bearer": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"]}}
    paths = doc["paths"]
    assert paths["/things"]["post"]["security"] == [{"bearer": []}]
    assert paths["/things/{name}"]["get"]["security"] == [{"bearer": []}, {}]  # optional
    assert "security" not in paths["/open"]["get"]
    headers = [p["name"].lower() for p in paths["/things"]["post"]["parameters"]]
    assert "authorization" not in headers  # a scheme, not a parameter to fill in


def test_the_idempotency_key_is_documented_as_required_and_its_form() -> None:
    (key,) = [p for p in document()["paths"]["/things"]["post"]["parameters"]
              if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header"
    assert key["required"] is True
    assert key["schema"] == {"type": "string", "pattern": r"^[\x21-\x7e]{8,255}$"}
