"""The intake service: its definition, its resources and its app factory (`create_app`, for
uvicorn --factory).

This is intake's composition root, the one module that imports every part: a new route goes in
a `routes_*` module's router (listed below), a new handler in `handlers` (registered by its
payload class), a new table in `models` with its migration, and a new client or cache in
`context.Intake`, built here by `open_intake`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.intake import reports, routes_accounts, routes_requests, routes_staff
from services.intake.civil_registry import CivilRegistry
from services.intake.commission_keys import CommissionKeys
from services.intake.config import IntakeSettings
from services.intake.context import Intake
from services.intake.deadlines import RulesCache
from services.intake.directory import EntityCache
from services.intake.handlers import DIRECTORY, LIFECYCLE
from services.intake.housekeeping import keep_tidy
from services.intake.models import metadata
from services.intake.submissions import write_submissions
from services.intake.throttle import Budgets, Throttle
from shared.auth import TokenIssuer, load_keys
from shared.group_commit import GroupCommit
from shared.links import LinkSigner
from shared.runtime import Runtime, ServiceDefinition, Subscription
from shared.service import create_service_app


@asynccontextmanager
async def open_intake(runtime: Runtime) -> AsyncIterator[Intake]:
    """What intake holds beside the runtime, open while it runs; closed in reverse."""
    settings = runtime.settings_as(IntakeSettings)
    _keys, signing_key = load_keys(settings)
    if signing_key is None and runtime.definition.routers:  # a worker (no routes) signs nothing
        raise RuntimeError("intake signs citizens' tokens: set BKH_JWT_SIGNING_KEY_FILE")
    # In one process (embedded mode, end-to-end tests) integrity is reached in memory.
    to_integrity = runtime.peers.get("integrity")
    async with (
        aclosing(CivilRegistry(
            url=settings.civil_registry_url,
            client_id=settings.civil_registry_client_id,
            secret=settings.civil_registry_secret,
            timeout_s=settings.civil_registry_timeout_s,
        )) as registry,
        aclosing(Throttle(
            storage_uri=settings.rate_limit_storage_uri,
            prefix=settings.rate_limit_prefix,
            key_secret=settings.code_secret,
            budgets=Budgets(
                codes_per_phone=settings.codes_per_phone,
                codes_per_identity=settings.codes_per_identity,
                codes_per_address=settings.codes_per_address,
                codes_everywhere=settings.codes_everywhere,
                sign_ins_per_identity=settings.sign_ins_per_identity,
                tracking_tries_per_address=settings.tracking_tries_per_address,
                tracking_tries_per_reference=settings.tracking_tries_per_reference,
            ),
        )) as throttle,
        httpx.AsyncClient(
            base_url="http://integrity" if to_integrity else settings.integrity_url,
            transport=to_integrity, timeout=settings.integrity_timeout_s,
        ) as integrity,
        aclosing(GroupCommit(
            "intake-submissions", runtime.sessionmaker,
            functools.partial(
                write_submissions, outbox=runtime.outbox, clock=runtime.clock,
                keys=runtime.definition.metadata.tables["idempotency_keys"],
            ),
        )) as submissions,
    ):
        yield Intake(
            settings=settings,
            clock=runtime.clock,
            wall_clock=runtime.wall_clock,
            registry=registry,
            throttle=throttle,
            issuer=TokenIssuer(signing_key, issuer=settings.jwt_issuer,
                               audience=settings.jwt_audience, clock=runtime.wall_clock)
            if signing_key is not None else None,
            links=LinkSigner(settings.link_secret, clock=runtime.clock),
            rules=RulesCache(),
            entities=EntityCache(),
            sessionmaker=runtime.sessionmaker,
            submissions=submissions,
            commission_keys=CommissionKeys(integrity,
                                           max_age_s=settings.commission_key_max_age_s),
        )


async def housekeeping(runtime: Runtime) -> None:
    """Intake's chores (expired codes, sign-ups, unattached uploads), wherever its workers run."""
    await keep_tidy(runtime.sessionmaker, runtime.clock, runtime.wall_clock)


DEFINITION = ServiceDefinition(
    name="intake",
    title="Intake — citizens, submissions, reference numbers",
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    settings_class=IntakeSettings,
    routers=(routes_accounts.router, routes_requests.router, routes_staff.router,
             reports.router),
    subscriptions=(Subscription("directory", DIRECTORY), Subscription("lifecycle", LIFECYCLE)),
    background=(housekeeping,),
    resources=open_intake,
)


def create_app() -> FastAPI:
    return create_service_app(DEFINITION)
