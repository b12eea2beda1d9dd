"""Intake's composition root: the outside connections it holds, opened and closed with the app.

The kernel's runtime gives every service its database, bus and clock; intake also holds a client
for the civil registry, its rate-limit storage, the signing key for citizens' tokens and the
link signer. They are opened in a router lifespan (FastAPI runs it inside the kernel's, so the
runtime exists) and reached by routes through `IntakeDep`.

What it must never do: open anything at import time, or outlive the app (every connection it
opens is closed on shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.civil_registry import CivilRegistry
from services.intake.config import IntakeSettings
from services.intake.deadlines import RulesCache
from services.intake.directory import EntityCache
from services.intake.housekeeping import keep_tidy
from services.intake.schemas import RequestReceipt
from services.intake.submissions import REQUESTERS, CheckedSubmission, write_submissions
from services.intake.throttle import Budgets, Throttle
from shared.auth import Principal, Role, TokenIssuer, load_keys
from shared.clock import Clock
from shared.dependencies import principal_in
from shared.group_commit import GroupCommit
from shared.links import LinkSigner
from shared.service import Runtime


@dataclass(frozen=True, slots=True)
class Intake:
    settings: IntakeSettings
    clock: Clock
    wall_clock: Clock  # citizens' tokens and sessions live in real time (`shared.clock`)
    registry: CivilRegistry
    throttle: Throttle
    issuer: TokenIssuer
    links: LinkSigner
    rules: RulesCache
    entities: EntityCache
    # For a route that keeps its reads and its write in separate transactions (submitting).
    sessionmaker: async_sessionmaker[AsyncSession]
    # Submissions arriving together are written in one transaction (shared.group_commit).
    submissions: GroupCommit[CheckedSubmission, RequestReceipt | None]


@asynccontextmanager
async def _open_intake(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    settings = runtime.settings
    assert isinstance(settings, IntakeSettings), "intake runs with IntakeSettings"
    _keys, signing_key = load_keys(settings)
    if signing_key is None:
        raise RuntimeError("intake signs citizens' tokens: set BKH_JWT_SIGNING_KEY_FILE")
    registry = CivilRegistry(
        url=settings.civil_registry_url,
        client_id=settings.civil_registry_client_id,
        secret=settings.civil_registry_secret,
        timeout_s=settings.civil_registry_timeout_s,
    )
    throttle = Throttle(
        storage_uri=settings.rate_limit_storage_uri,
        prefix=settings.rate_limit_prefix,
        key_secret=settings.code_secret,
        budgets=Budgets(
            codes_per_phone=settings.codes_per_phone,
            codes_per_identity=settings.codes_per_identity,
            codes_per_address=settings.codes_per_address,
            codes_everywhere=settings.codes_everywhere,
            sign_ins_per_identity=settings.sign_ins_per_identity,
        ),
    )
    app.state.intake = Intake(
        settings=settings,
        clock=runtime.clock,
        wall_clock=runtime.wall_clock,
        registry=registry,
        throttle=throttle,
        issuer=TokenIssuer(
            signing_key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            clock=runtime.wall_clock,
        ),
        links=LinkSigner(settings.link_secret, clock=runtime.clock),
        rules=RulesCache(),
        entities=EntityCache(),
        sessionmaker=runtime.sessionmaker,
        submissions=GroupCommit(
            "intake-submissions", runtime.sessionmaker,
            functools.partial(
                write_submissions, outbox=runtime.outbox, clock=runtime.clock,
                keys=runtime.definition.metadata.tables["idempotency_keys"],
            ),
        ),
    )
    chores = asyncio.create_task(
        keep_tidy(runtime.sessionmaker, runtime.clock, runtime.wall_clock),
        name="intake-housekeeping")
    try:
        yield
    finally:
        await app.state.intake.submissions.aclose()
        chores.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await chores
        await registry.aclose()
        await throttle.aclose()


resources = APIRouter(lifespan=_open_intake)
"""Carries no routes: included first in `DEFINITION.routers` for its lifespan."""


async def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, a hop that
# costs more than the function itself on the submission path.
IntakeDep = Annotated[Intake, Depends(get_intake)]


async def client_address(request: Request, intake: IntakeDep) -> str:
    """The caller's address as the gateway vouched for it in X-Forwarded-For.

    The gateway replaces whatever a client wrote with the chain it trusts, its own peer last;
    intake is reached only through it, so the entry `trusted_proxies` from the end is the
    caller (the direct peer when there is no gateway, as in a service's own tests).
    """
    chain = [
        part.strip()
        for part in request.headers.get("x-forwarded-for", "").split(",")
        if part.strip()
    ]
    if not chain:
        return request.client.host if request.client else "unknown"
    return chain[max(len(chain) - 1 - intake.settings.trusted_proxies, 0)]


ClientAddressDep = Annotated[str, Depends(client_address)]


# Who may call a route, judged before its parameters and body are (`principal_in`).
CitizenDep = Annotated[Principal, principal_in(Role.citizen)]
RequesterDep = Annotated[Principal, principal_in(*REQUESTERS)]
CallCenterAgentDep = Annotated[Principal, principal_in(Role.call_center_agent)]
