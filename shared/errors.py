"""Errors as RFC 9457 problem+json, titled in Arabic or English by `Accept-Language`.

Every service raises `Problem` subclasses and never builds an error response by hand; one set of
handlers (`install_problem_handlers`) renders them, FastAPI's own errors and anything unexpected.
An unexpected error says nothing of its internals to the caller.

    Problem                      400 and friends, a bilingual title and an optional detail
    ├── NotFound                 404
    ├── Conflict                 409
    ├── Unauthorized             401
    ├── Forbidden                403
    ├── TooManyRequests          429 (sets Retry-After)
    ├── PayloadTooLarge          413
    ├── UnsupportedMediaType     415
    └── ServiceUnavailable       503
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import is_infrastructure_failure

Language = Literal["ar", "en"]
PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/problems/"

log = logging.getLogger(__name__)

P = TypeVar("P", bound="Problem")


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence in both languages the platform speaks."""

    ar: str
    en: str

    def in_(self, language: Language) -> str:
        return self.ar if language == "ar" else self.en


def preferred_language(accept_language: str | None) -> Language:
    """Arabic unless the caller prefers English (q-values honoured; Arabic wins ties)."""
    best: tuple[float, Language] = (0.0, "ar")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("ar", "en"):
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > best[0] or (quality == best[0] and primary == "ar"):
            best = (quality, "ar" if primary == "ar" else "en")
    return best[1]


class Problem(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[Text] = Text("طلب غير صالح", "Bad request")

    def __init__(
        self,
        detail: Text | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail.en if detail else self.title.en)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, language: Language, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title.in_(language),
            "status": self.status,
        }
        if self.detail is not None:
            body["detail"] = self.detail.in_(language)
        if instance:
            body["instance"] = instance
        body.update({name: _in_language(value, language)
                     for name, value in self.extensions.items()})
        return body


def _in_language(value: Any, language: Language) -> Any:
    """An extension as the caller reads it: every `Text` in it in their language."""
    if isinstance(value, Text):
        return value.in_(language)
    if isinstance(value, list):
        return [_in_language(item, language) for item in value]
    if isinstance(value, dict):
        return {key: _in_language(item, language) for key, item in value.items()}
    return value


class FieldProblem(BaseModel):
    """One field of a request that broke the schema (never the value sent: it may be personal)."""

    field: str = Field(description="Where: `body.score`, `query.month`, `path.reference`…")
    code: str = Field(description="What, for programs: pydantic's error type, or ours")
    message: str = Field(description="What, for people, in the response's language")


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`), in Arabic or English
    by Accept-Language. Some problems add members of their own."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str = Field(description="`/problems/<code>`: what went wrong, for programs")
    title: str = Field(description="What went wrong, for people, in Arabic or English")
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = Field(default=None, description="The path that was asked")
    errors: list[FieldProblem] | None = Field(
        default=None, description="The fields that broke the schema (422)")


class NotFound(Problem):
    status = 404
    code = "not-found"
    title = Text("غير موجود", "Not found")


class MethodNotAllowed(Problem):
    status = 405
    code = "method-not-allowed"
    title = Text("الطريقة غير مسموح بها", "Method not allowed")


class Conflict(Problem):
    status = 409
    code = "conflict"
    title = Text("تعارض مع الحالة الحالية", "Conflict with the current state")


class Unauthorized(Problem):
    status = 401
    code = "unauthorized"
    title = Text("يلزم تسجيل الدخول", "Authentication required")

    def __init__(self, detail: Text | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(Problem):
    status = 403
    code = "forbidden"
    title = Text("غير مسموح", "Forbidden")


class PayloadTooLarge(Problem):
    status = 413
    code = "payload-too-large"
    title = Text("حجم الطلب أكبر من المسموح", "Request body too large")


class UnsupportedMediaType(Problem):
    status = 415
    code = "unsupported-media-type"
    title = Text("نوع المحتوى غير مدعوم", "Unsupported content type")


class ValidationFailed(Problem):
    status = 422
    code = "validation-failed"
    title = Text("البيانات المدخلة غير صحيحة", "The submitted data is not valid")


class MalformedJson(Problem):
    status = 400
    code = "malformed-json"
    title = Text("نص JSON غير سليم", "Malformed JSON")


class TooManyRequests(Problem):
    status = 429
    code = "too-many-requests"
    title = Text("طلبات كثيرة، حاول لاحقاً", "Too many requests, try again later")

    def __init__(self, retry_after_s: int, detail: Text | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_s))})


class ServiceUnavailable(Problem):
    status = 503
    code = "service-unavailable"
    title = Text("الخدمة غير متاحة مؤقتاً، حاول لاحقاً", "Service temporarily unavailable")


class InternalError(Problem):
    status = 500
    code = "internal-error"
    title = Text("حدث خطأ غير متوقع", "An unexpected error occurred")


_BY_STATUS: dict[int, type[Problem]] = {
    cls.status: cls
    for cls in (NotFound, MethodNotAllowed, Unauthorized, Forbidden, PayloadTooLarge,
                UnsupportedMediaType, TooManyRequests, ServiceUnavailable)
}


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    language = preferred_language(request.headers.get("accept-language"))
    return JSONResponse(
        problem.body(language, instance=request.url.path),
        status_code=problem.status,
        headers={**problem.headers, "Content-Language": language},
        media_type=PROBLEM_CONTENT_TYPE,
    )


def on_field(problem: P, field: str | None) -> P:
    """The problem, named as one about `field` of the request body (`errors`, as validation
    errors name theirs), so a form shows its message beside that field; unchanged for None."""
    if field is not None:
        problem.extensions.setdefault("errors", []).append({
            "field": field, "code": problem.code.replace("-", "_"),
            "message": problem.detail or problem.title,
        })
    return problem


def field_error(code: str, message: Text) -> PydanticCustomError:
    """A validator's own error about a field, said in both languages: raise it."""
    return PydanticCustomError(code, message.en, {_ARABIC: message.ar})


_ARABIC = "message_ar"  # where `field_error` keeps the Arabic, in the error's context

#: Arabic for pydantic's own errors (its English `msg` is kept for English), with the
#: constraint from the error's context where one is named, e.g. {max_length}.
FIELD_MESSAGES_AR: dict[str, str] = {
    "missing": "هذا الحقل مطلوب",
    "extra_forbidden": "هذا الحقل غير معروف هنا",
    "string_type": "يجب أن تكون القيمة نصاً",
    "string_too_short": "يجب ألا يقل النص عن {min_length} من الأحرف",
    "string_too_long": "يجب ألا يزيد النص على {max_length} من الأحرف",
    "string_pattern_mismatch": "صيغة القيمة غير صحيحة",
    "int_type": "يجب أن تكون القيمة عدداً صحيحاً",
    "int_parsing": "يجب أن تكون القيمة عدداً صحيحاً",
    "int_from_float": "يجب أن تكون القيمة عدداً صحيحاً",
    "float_type": "يجب أن تكون القيمة رقماً",
    "float_parsing": "يجب أن تكون القيمة رقماً",
    "bool_type": "يجب أن تكون القيمة true أو false",
    "bool_parsing": "يجب أن تكون القيمة true أو false",
    "greater_than": "يجب أن تكون القيمة أكبر من {gt}",
    "greater_than_equal": "يجب ألا تقل القيمة عن {ge}",
    "less_than": "يجب أن تكون القيمة أصغر من {lt}",
    "less_than_equal": "يجب ألا تزيد القيمة على {le}",
    "literal_error": "يجب أن تكون القيمة إحدى القيم: {expected}",
    "enum": "يجب أن تكون القيمة إحدى القيم: {expected}",
    "date_type": "يجب أن تكون القيمة تاريخاً بالصيغة YYYY-MM-DD",
    "date_parsing": "يجب أن تكون القيمة تاريخاً بالصيغة YYYY-MM-DD",
    "date_from_datetime_parsing": "يجب أن تكون القيمة تاريخاً بالصيغة YYYY-MM-DD",
    "datetime_type": "يجب أن تكون القيمة وقتاً بصيغة ISO 8601",
    "datetime_parsing": "يجب أن تكون القيمة وقتاً بصيغة ISO 8601",
    "datetime_from_date_parsing": "يجب أن تكون القيمة وقتاً بصيغة ISO 8601",
    "timezone_aware": "يجب أن يذكر الوقت فرقه عن التوقيت العالمي (مثل +03:00)",
    "uuid_type": "يجب أن تكون القيمة معرّفاً بصيغة UUID",
    "uuid_parsing": "يجب أن تكون القيمة معرّفاً بصيغة UUID",
    "too_short": "يجب ألا يقل عدد العناصر عن {min_length}",
    "too_long": "يجب ألا يزيد عدد العناصر على {max_length}",
    "list_type": "يجب أن تكون القيمة قائمة",
    "dict_type": "يجب أن تكون القيمة كائن JSON",
    "model_type": "يجب أن تكون القيمة كائن JSON",
    "model_attributes_type": "يجب أن تكون القيمة كائن JSON",
    "value_error": "القيمة غير صالحة",
    "assertion_error": "القيمة غير صالحة",
}


def _arabic(error: Mapping[str, Any]) -> str:
    context = error.get("ctx") or {}
    if _ARABIC in context:
        return str(context[_ARABIC])
    template = FIELD_MESSAGES_AR.get(error["type"], FIELD_MESSAGES_AR["value_error"])
    try:
        return template.format(**context)
    except (KeyError, IndexError):  # a constraint this error does not name
        return FIELD_MESSAGES_AR["value_error"]


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: never echo the submitted value, it may be personal data.
    return [
        {"field": ".".join(str(p) for p in error["loc"]), "code": error["type"],
         "message": Text(_arabic(error), error["msg"])}
        for error in exc.errors()
    ]


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(error["type"] == "json_invalid" for error in exc.errors()):
        return problem_response(MalformedJson(), request)
    return problem_response(ValidationFailed(errors=_field_errors(exc)), request)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    problem_class = _BY_STATUS.get(exc.status_code)
    problem = problem_class() if problem_class is not None else Problem()
    if problem_class is None:
        problem.extensions["status"] = exc.status_code
    response = problem_response(problem, request)
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


_DATABASE_UNAVAILABLE = Text(
    "تعذّر الوصول إلى قاعدة البيانات لحظياً؛ أعد المحاولة (بمفتاح Idempotency-Key نفسه).",
    "The database could not be reached for a moment; try again (with the same Idempotency-Key).",
)


def unexpected_problem(exc: BaseException) -> Problem:
    """What to tell a caller about an error nobody raised on purpose: 503 when the database or
    the network failed under the request (trying again will work), else a bare 500."""
    if is_infrastructure_failure(exc):
        return ServiceUnavailable(_DATABASE_UNAVAILABLE, headers={"Retry-After": "2"})
    return InternalError()


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    problem = unexpected_problem(exc)
    if isinstance(problem, ServiceUnavailable):
        log.warning("infrastructure failure under a request",
                    extra={"path": request.url.path, "error": type(exc).__name__})
    else:
        log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(problem, request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
