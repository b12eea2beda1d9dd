"""FastAPI dependencies every service uses: `SessionDep`, `ClockDep`, `OutboxDep`, principals.

Every dependency here is `async def` on purpose: FastAPI runs a plain `def` dependency in a
thread pool, a hand-off that cost several percent of a request's CPU for no I/O at all.

Who may call a route is judged by dependencies (`PrincipalDep`, `principal_in(...)`), never in
the route's body: FastAPI resolves dependencies before it reports the request's own parameter
and body errors, so a caller who may not use a route gets 401 or 403 and learns nothing of its
fields. The token is read through `BEARER`, which also declares the bearer scheme in the OpenAPI
document of every route that depends on it.

The session dependency owns the transaction: it commits when the route returns and rolls back
when it raises, before the response leaves (`scope="function"`), so a client never sees a 201
for something that was not stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, bearer_token, require_role
from shared.bus.outbox import Outbox
from shared.clock import Clock
from shared.errors import Text, Unauthorized, ValidationFailed
from shared.idempotency import HEADER as IDEMPOTENCY_KEY
from shared.idempotency import IdempotencyKey, key_from_header
from shared.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
R = TypeVar("R")


def resources(kind: type[R]) -> Any:
    """A dependency on the service's own resources (`ServiceDefinition.resources`), typed:
    `IntakeDep = Annotated[Intake, resources(Intake)]`."""

    async def of_this_service(runtime: RuntimeDep) -> R:
        return runtime.resources_as(kind)

    return Depends(of_this_service)


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker.begin() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_outbox(runtime: RuntimeDep) -> Outbox:
    return runtime.outbox


OutboxDep = Annotated[Outbox, Depends(get_outbox)]


class BearerToken(SecurityBase):
    """The token of the `Authorization: Bearer …` header, None without the header."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="An access token: a citizen's from `/api/v1/auth/token`, staff's "
                        "from `/api/v1/staff/auth/token`.",
        )
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> str | None:
        return bearer_token(request.headers.get("authorization"))


BEARER = BearerToken()


async def get_optional_principal(
    runtime: RuntimeDep, token: Annotated[str | None, Depends(BEARER)]
) -> Principal | None:
    return runtime.verifier.verify(token) if token else None


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized()
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def principal_in(*roles: Role) -> Any:
    """A dependency: the caller, who must hold one of `roles` (401 without a token, else 403).

        CmuAdminDep = Annotated[Principal, principal_in(Role.cmu_admin)]
    """

    async def holding(principal: PrincipalDep) -> Principal:
        require_role(principal, *roles)
        return principal

    return Depends(holding)


_NUL = "\x00"
_NUL_REFUSED = Text("لا يجوز أن يحوي النص المحرف الصفري (U+0000).",
                    "Text cannot contain the NUL character (U+0000).")


def _places_with_nul(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, str):
        if _NUL in value:
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _places_with_nul(key, where)
            yield from _places_with_nul(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places_with_nul(item, f"{where}.{index}")


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


async def storable_text(request: Request) -> None:
    """Every service's first dependency: no text the API takes holds U+0000 (422).

    PostgreSQL cannot store that character, so a NUL in any string that reaches a query
    failed there, as a 500, wherever it was sent: a query or path parameter, or a JSON body
    (already parsed by FastAPI when the route takes one; read from its cache here). Being
    first, it refuses such text before authorization, as FastAPI refuses malformed JSON.
    """
    places = [
        *(f"query.{name}" for name, value in request.query_params.multi_items()
          if _NUL in name or _NUL in value),
        *_places_with_nul(request.path_params, "path"),
    ]
    route = request.scope.get("route")
    if (getattr(route, "body_field", None) is not None
            and _is_json(request.headers.get("content-type", ""))):
        places += _places_with_nul(await request.json(), "body")
    if places:
        raise ValidationFailed(errors=[{"field": place, "code": "nul_character",
                                        "message": _NUL_REFUSED} for place in places])


# --- idempotency keys (`shared.idempotency`) -------------------------------------------------


async def require_idempotency_key(
    request: Request,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY,
            description="A unique key per creating request (e.g. a UUID); reuse it to retry.",
        ),
    ] = None,
) -> IdempotencyKey:
    """The request's `Idempotency-Key`, checked (400 when missing or malformed)."""
    return key_from_header(idempotency_key, path=request.url.path,
                           table=runtime.definition.metadata.tables["idempotency_keys"],
                           clock=runtime.clock)


IdempotencyKeyDep = Annotated[IdempotencyKey, Depends(require_idempotency_key)]
