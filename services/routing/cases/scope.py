"""Which requests a staff member sees: their token's scope, never anything in the request.

- CMU staff and administrators, decision makers: every request;
- a sub-liaison officer: what was distributed to their entity or department;
- main liaison officers and ministers: their sector's requests;
- entity heads: their entity's requests.

`sees` answers for one request with the kernel's rule (`Principal.sees_request`, which intake
and notify judge by too); `visible` is the same rule as a SQL condition for inboxes. A request
outside the scope is answered 404, as if absent.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from services.routing.models import Case
from shared.auth import Principal
from shared.events.vocabulary import Role


def sees(principal: Principal, case: Case) -> bool:
    return principal.sees_request(entity_id=case.entity_code, sector_id=case.sector_code,
                                  distributed_to=case.distributed_to)


def visible(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_all_entities:
        return true()
    if principal.role is Role.sub_liaison_officer:
        return Case.distributed_to.in_(sorted(principal.entity_ids))
    clauses: list[ColumnElement[bool]] = []
    if principal.sector_ids:
        clauses.append(Case.sector_code.in_(sorted(principal.sector_ids)))
    if principal.entity_ids:
        clauses.append(Case.entity_code.in_(sorted(principal.entity_ids)))
    return or_(*clauses) if clauses else false()
