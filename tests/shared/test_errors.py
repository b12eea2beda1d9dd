"""Errors speak problem+json, in Arabic unless the caller prefers English, and leak nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import OperationalError

from shared.errors import (
    FIELD_MESSAGES_AR,
    Conflict,
    Text,
    field_error,
    install_problem_handlers,
    preferred_language,
)
from shared.web import ContentTypeMiddleware, RequestContextMiddleware


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(max_length=10)
    copies: int = Field(default=1, ge=1)
    city: str = "Amman"

    @field_validator("city")
    @classmethod
    def _no_digits(cls, city: str) -> str:
        if any(c.isdigit() for c in city):
            raise field_error("city_digits", Text("لا أرقام في اسم المدينة",
                                                  "A city's name has no digits"))
        return city


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ContentTypeMiddleware)
    app.add_middleware(RequestContextMiddleware, service="test")

    @app.post("/submissions")
    async def submit(submission: Submission) -> Submission:
        if submission.subject == "taken":
            raise Conflict(Text("الموضوع مستخدم", "Subject already used"), reference="R-1")
        return submission

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/database-gone")
    async def database_gone() -> None:
        raise OperationalError("SELECT 1", {"phone": "+962790000001"}, ConnectionResetError())

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "ar"),
        ("", "ar"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr, en;q=0.5", "en"),
        ("en;q=0.4, ar;q=0.8", "ar"),
        ("ar-JO", "ar"),
        ("de", "ar"),
        ("en;q=bogus", "ar"),
    ],
)
def test_language_follows_accept_language_with_arabic_first(
    header: str | None, language: str
) -> None:
    assert preferred_language(header) == language


async def test_a_domain_problem_is_problem_json_in_arabic_by_default(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/submissions", json={"subject": "taken"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == "ar"
    assert response.json() == {
        "type": "/problems/conflict",
        "title": "تعارض مع الحالة الحالية",
        "status": 409,
        "detail": "الموضوع مستخدم",
        "instance": "/submissions",
        "reference": "R-1",
    }


async def test_the_same_problem_in_english_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/submissions", json={"subject": "taken"}, headers={"Accept-Language": "en"}
    )
    assert response.json()["title"] == "Conflict with the current state"
    assert response.json()["detail"] == "Subject already used"


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/submissions", content=b'{"subject": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-json"


async def test_invalid_fields_are_listed_without_echoing_the_values(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/submissions", json={"subject": "0791234567-too-long"})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation-failed"
    assert body["errors"][0]["field"] == "body.subject"
    assert "0791234567" not in response.text


async def test_each_field_error_is_said_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    invalid = {"subject": "much too long a subject", "copies": 0, "city": "Amman 2",
               "colour": "red"}
    by_language = {}
    for language in ("ar", "en"):
        response = await client.post("/submissions", json=invalid,
                                     headers={"Accept-Language": language})
        assert response.status_code == 422
        by_language[language] = {e["field"]: (e["code"], e["message"])
                                 for e in response.json()["errors"]}
    assert by_language["ar"] == {
        "body.subject": ("string_too_long", "يجب ألا يزيد النص على 10 من الأحرف"),
        "body.copies": ("greater_than_equal", "يجب ألا تقل القيمة عن 1"),
        "body.city": ("city_digits", "لا أرقام في اسم المدينة"),
        "body.colour": ("extra_forbidden", "هذا الحقل غير معروف هنا"),
    }
    assert by_language["en"]["body.subject"] == (
        "string_too_long", "String should have at most 10 characters")
    assert by_language["en"]["body.city"] == ("city_digits", "A city's name has no digits")


def test_every_arabic_field_message_names_only_constraints_pydantic_gives() -> None:
    # A placeholder pydantic never fills would fall back to the generic sentence.
    allowed = {"min_length", "max_length", "gt", "ge", "lt", "le", "expected"}
    for code, template in FIELD_MESSAGES_AR.items():
        named = {part.split("}")[0] for part in template.split("{")[1:]}
        assert named <= allowed, code


async def test_a_body_in_another_content_type_is_refused_with_415(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/submissions", content=b"subject=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json()["title"] == "Not found"
    wrong_method = await client.delete("/submissions")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_says_nothing_of_its_internals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["type"] == "/problems/internal-error"
    assert "hunter2" not in response.text
    assert response.headers["x-request-id"]


async def test_a_database_gone_under_a_request_is_a_503_to_try_again(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/database-gone", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/service-unavailable"
    assert "Idempotency-Key" in response.json()["detail"]
    assert response.headers["retry-after"] == "2"
    assert "962790000001" not in response.text
