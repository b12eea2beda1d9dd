"""What intake holds beside the kernel's runtime, and how its routes reach it.

The kernel's runtime gives every service its database, bus and clock; intake also holds a client
for the civil registry, its rate-limit storage, the signing key for citizens' tokens, the link
signer, the caches of rules and entities, the commission's key and the group commit of
submissions. `main.open_intake` builds them from the runtime (the composition root: it alone
imports the writers) and routes reach them typed through `IntakeDep`.

This module imports no writer of intake's, so every writer may import it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake.civil_registry import CivilRegistry
from services.intake.commission_keys import CommissionKeys
from services.intake.config import IntakeSettings
from services.intake.deadlines import Rules, RulesCache
from services.intake.directory import EntityCache
from services.intake.schemas import RequestCreate, RequestReceipt
from services.intake.throttle import Throttle
from shared.auth import Principal, Role, TokenIssuer
from shared.clock import Clock
from shared.dependencies import principal_in, resources
from shared.events.vocabulary import Channel
from shared.group_commit import GroupCommit
from shared.idempotency import KeyClaim
from shared.links import LinkSigner

# Who may submit a request: a citizen, or staff keying one in for a caller or a paper form.
REQUESTERS: Final = frozenset({Role.citizen, Role.call_center_agent, Role.complaint_box_clerk})


@dataclass(frozen=True, slots=True)
class CheckedSubmission:
    """A submission that passed every check, ready for `submissions.write_submissions` (the
    group commit's item, declared here so that this module needs no writer)."""

    claim: KeyClaim
    body: RequestCreate
    principal: Principal
    requester_id: uuid.UUID | None  # None: a paper form's requester not seen before
    channel: Channel
    submitted_by: uuid.UUID | None
    sector: str | None
    search_key: str
    received_at: datetime
    rules: Rules


@dataclass(frozen=True, slots=True)
class Intake:
    settings: IntakeSettings
    clock: Clock
    wall_clock: Clock  # citizens' tokens and sessions live in real time (`shared.clock`)
    registry: CivilRegistry
    throttle: Throttle
    issuer: TokenIssuer | None  # None in a worker process: it holds no signing key
    links: LinkSigner
    rules: RulesCache
    entities: EntityCache
    # For a route that keeps its reads and its write in separate transactions (submitting).
    sessionmaker: async_sessionmaker[AsyncSession]
    # Submissions arriving together are written in one transaction (shared.group_commit).
    submissions: GroupCommit[CheckedSubmission, RequestReceipt | None]
    commission_keys: CommissionKeys  # the key reports are sealed to, from integrity

    def token_issuer(self) -> TokenIssuer:
        if self.issuer is None:
            raise RuntimeError("this process holds no signing key: it serves no sign-in")
        return self.issuer


# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, a hop that
# costs more than the function itself on the submission path.
IntakeDep = Annotated[Intake, resources(Intake)]


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
