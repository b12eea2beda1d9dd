"""Staff sign-in and the signed-in person's own account; the internal standing check.

Sign-in and refresh take no Idempotency-Key: a replayed answer would have to be stored, and
it holds tokens. They create nothing a retry could duplicate (a new session at most).
`/internal/v1/staff/standing` is not under `/api/v1`: the gateway's route table never
exposes it; the gateway calls it directly for every staff token it forwards.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.routing.access import StaffDep, check_standing
from services.routing.context import RoutingDep
from services.routing.directory import repository
from services.routing.staff import service
from services.routing.staff.schemas import (
    Me,
    PasswordChange,
    Refresh,
    SignIn,
    StandingAnswer,
    TokenPair,
)
from shared.dependencies import PrincipalDep, SessionDep
from shared.events.vocabulary import STAFF_ROLES

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
internal = APIRouter(prefix="/internal/v1/staff", include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/auth/token")
async def sign_in(body: SignIn, session: SessionDep, routing: RoutingDep,
                  response: Response) -> TokenPair:
    """Sign in with username and password: a 10-minute access token and a refresh token."""
    response.headers.update(_NO_STORE)
    return await service.sign_in(session, username=body.username, password=body.password,
                                 issuer=routing.issuer, settings=routing.settings,
                                 clock=routing.wall_clock)


@router.post("/auth/refresh")
async def refresh(body: Refresh, session: SessionDep, routing: RoutingDep,
                  response: Response) -> TokenPair:
    """Trade a refresh token for new tokens; each refresh token works once. Presented again
    within seconds (two calls of one app at once) it gets 409 and the session lives on; later,
    the whole session ends."""
    response.headers.update(_NO_STORE)
    return await service.refresh(session, refresh_token=body.refresh_token,
                                 issuer=routing.issuer, settings=routing.settings,
                                 clock=routing.wall_clock)


@router.post("/auth/sign-out", status_code=204)
async def sign_out(body: Refresh, session: SessionDep, routing: RoutingDep) -> None:
    """End this session: its refresh tokens stop working."""
    await service.sign_out(session, refresh_token=body.refresh_token, clock=routing.wall_clock)


@router.get("/me")
async def me(staff: StaffDep, session: SessionDep) -> Me:
    """Who I am now: role, scope and permissions (they may have changed since sign-in)."""
    person = await repository.person(session, staff.person_id)
    assert person is not None
    return Me(id=person.id, username=person.username, full_name=person.full_name,
              role=staff.role, sectors=sorted(staff.principal.sector_ids),
              entities=sorted(staff.principal.entity_ids),
              permissions=sorted(staff.permissions))


@router.post("/me/password", status_code=204)
async def change_password(body: PasswordChange, staff: StaffDep, session: SessionDep,
                          routing: RoutingDep) -> None:
    """Change my password; every session of mine ends (sign in again elsewhere)."""
    await service.change_own_password(
        session, person_id=staff.person_id, current_password=body.current_password,
        new_password=body.new_password, clock=routing.clock,
    )


@internal.get("/standing")
async def standing(principal: PrincipalDep, session: SessionDep) -> StandingAnswer:
    """200 while the token's person is active with the token's role and scope; 401 otherwise.
    A token of a role that does not sign in here (citizen, operator, service) has no standing
    to lose: 200, `not_staff`."""
    if principal.role not in STAFF_ROLES:
        return StandingAnswer(person_id=None, standing="not_staff")
    return StandingAnswer(person_id=await check_standing(session, principal))
