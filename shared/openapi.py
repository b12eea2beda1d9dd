"""What every app's OpenAPI document says beyond what FastAPI writes by itself.

FastAPI documents a request that breaks the schema as a 422 `application/json`
`HTTPValidationError`; ours answer RFC 9457 `application/problem+json` (`shared.errors`), for
that and for every other error. `describe_truthfully` makes each app's document say so: every
error response it declares is a `Problem`, and every operation has a `default` response that is
one too (401, 403, 404, 409, 429, 503… are possible almost everywhere). The `Idempotency-Key`
header is required where it is taken: its dependency answers its own problems (400) when it is
missing or malformed, so FastAPI believes it optional. The bearer scheme is declared where it
is used, by `shared.dependencies.BEARER`.

What it must never do: describe a route differently from how it behaves — it only rewrites
what the kernel does the same way for every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.errors import PROBLEM_CONTENT_TYPE, ProblemDetails
from shared.idempotency import HEADER as IDEMPOTENCY_KEY
from shared.idempotency import KEY_PATTERN

_SCHEMAS = "#/components/schemas/"
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_DEFAULT_DESCRIPTION = (
    "An error, as RFC 9457 problem details in Arabic or English by Accept-Language"
)
_INVALID_DESCRIPTION = "The request breaks the schema: each field that does, in `errors`"


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _SCHEMAS + "Problem"}}}


def _is_error(status: str) -> bool:
    return status[:1] in ("4", "5")


def _describe_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        # A page's own error (an HTML answer a phone opens) stays as the route declared it.
        if _is_error(status) and set(response.get("content") or {}) <= {"application/json"}:
            response["content"] = _problem_content()
            if status == "422":
                response["description"] = _INVALID_DESCRIPTION
    responses.setdefault("default", {"description": _DEFAULT_DESCRIPTION,
                                     "content": _problem_content()})
    for parameter in operation.get("parameters", ()):
        if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_KEY:
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "pattern": f"^{KEY_PATTERN}$"}


def described(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its errors and its Idempotency-Key as they are (changed in place)."""
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                _describe_operation(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        schemas.pop(name, None)  # referenced only by the 422s just rewritten
    problem = ProblemDetails.model_json_schema(ref_template=_SCHEMAS + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    return document


def describe_truthfully(app: FastAPI) -> None:
    """Make `app.openapi()` describe errors and the Idempotency-Key as they are."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = described(generate())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # FastAPI's documented extension point
