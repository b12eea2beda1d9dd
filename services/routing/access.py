"""Who is calling a staff route, whether they still stand, and what they may do.

Every staff route depends on `requires(permission)`: the token is verified (401), the role must
be a staff role (403), the person's standing is checked against the directory right now (401:
deactivated, or role or scope changed since the token was issued), and the permission must be
theirs (403). Scope (which requests) is decided afterwards by the route's own lookups, where
another entity's object answers 404.

`check_standing` is also what the gateway asks through `/internal/v1/staff/standing`, so the
rule lives here once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.directory import repository
from services.routing.directory.repository import Standing
from services.routing.exceptions import PermissionDenied, StandingLost
from services.routing.permissions import Permission, effective
from shared.auth import Principal
from shared.dependencies import PrincipalDep, SessionDep
from shared.events.vocabulary import STAFF_ROLES, Role


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member in good standing, with the permissions they hold now."""

    principal: Principal
    person_id: uuid.UUID
    permissions: frozenset[str]

    @property
    def role(self) -> Role:
        return self.principal.role

    def may(self, permission: Permission) -> bool:
        return permission.value in self.permissions

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise PermissionDenied(permission.value)


def _person_id(principal: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise StandingLost() from None


def _require_standing(principal: Principal, now: Standing | None) -> None:
    """Compared, not remembered: the person is active, and holds the token's role with exactly
    the token's sectors and entities. Any change in the directory shows at the next request."""
    if (
        now is None
        or not now.active
        or now.role is not principal.role
        or now.sector_codes != principal.sector_ids
        or now.entity_codes != principal.entity_ids
    ):
        raise StandingLost()


async def check_standing(session: AsyncSession, principal: Principal) -> uuid.UUID:
    """The person's id when the token still says what the directory says; else StandingLost."""
    person_id = _person_id(principal)
    _require_standing(principal, await repository.standing(session, person_id))
    return person_id


async def current_staff(principal: PrincipalDep, session: SessionDep) -> Staff:
    if principal.role not in STAFF_ROLES:
        raise PermissionDenied("staff")
    person_id = _person_id(principal)
    now = await repository.access(session, person_id, principal.role)  # one round trip
    _require_standing(principal, now.standing)
    return Staff(principal=principal, person_id=person_id,
                 permissions=effective(now.role_permissions, now.overrides))


StaffDep = Annotated[Staff, Depends(current_staff)]


def requires(permission: Permission) -> Any:
    """A dependency: the calling staff member, who must hold `permission`."""

    async def holding(staff: StaffDep) -> Staff:
        staff.require(permission)
        return staff

    return Depends(holding)
