"""What staff may do in routing: the permissions, and what each role (group) may do by default.

Permissions live in the database (`role_permissions` per role, `person_permissions` per person,
a grant or a denial), seeded from `DEFAULTS` and edited by CMU administrators at run time: a
change takes effect on the person's next request. Tokens carry role and scope, never
permissions, so nothing stale travels with them.

Scope is separate from permission: a permission says *what*, the token's sectors and entities
say *where* (see `services.routing.cases.scope`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from shared.events.vocabulary import Role


class Permission(StrEnum):
    read_cases = "cases.read"
    accept = "cases.accept"
    refuse_jurisdiction = "cases.refuse_jurisdiction"
    distribute = "cases.distribute"
    transfer = "cases.transfer"
    ask_info = "cases.ask_info"
    extend = "cases.extend"
    respond = "cases.respond"
    reject = "cases.reject"
    reject_malicious = "cases.reject_malicious"  # only the CMU decides a request is malicious
    close = "cases.close"
    merge = "cases.merge"
    triage = "cases.triage"  # place triaged requests; transfer past the officers' limit
    review = "cases.review"  # decide on dissatisfied ratings
    comment = "cases.comment"  # a comment for the record on the timeline (changes nothing)
    verify_audit = "audit.verify"
    manage_directory = "directory.manage"  # sectors, entities, departments, classifications
    manage_staff = "directory.staff"  # people, their roles and permissions


_OFFICER: Final = frozenset({
    Permission.read_cases, Permission.accept, Permission.ask_info, Permission.extend,
    Permission.respond,
})
_CMU_STAFF: Final = frozenset({
    Permission.read_cases, Permission.transfer, Permission.triage, Permission.review,
    Permission.reject, Permission.reject_malicious, Permission.close, Permission.merge,
    Permission.verify_audit, Permission.comment,
})

DEFAULTS: Final[Mapping[Role, frozenset[Permission]]] = {
    # The sector's main liaison officer works the request end to end.
    Role.main_liaison_officer: _OFFICER | {
        Permission.refuse_jurisdiction, Permission.distribute, Permission.transfer,
        Permission.reject, Permission.close, Permission.merge, Permission.comment,
    },
    # A sub-liaison officer handles what was distributed to them.
    Role.sub_liaison_officer: _OFFICER,
    # Heads and ministers receive the escalations: they read their scope's requests and may
    # leave a comment for the record.
    Role.entity_head: frozenset({Permission.read_cases, Permission.comment}),
    Role.minister: frozenset({Permission.read_cases, Permission.comment}),
    # Decision makers watch figures (analytics), not people's requests: personal data is for
    # those who handle them. The CMU can grant it, to a person or to the role, if ever needed.
    Role.decision_maker: frozenset(),
    Role.cmu_staff: _CMU_STAFF,
    Role.cmu_admin: _CMU_STAFF | {Permission.manage_directory, Permission.manage_staff},
    # Agents, clerks and the commission work in intake and integrity, not here.
    Role.call_center_agent: frozenset(),
    Role.complaint_box_clerk: frozenset(),
    Role.integrity_commission: frozenset(),
}


def effective(role_permissions: Iterable[str],
              person_overrides: Mapping[str, bool]) -> frozenset[str]:
    """The role's permissions, plus the person's grants, minus the person's denials."""
    granted = set(role_permissions)
    for permission, allowed in person_overrides.items():
        if allowed:
            granted.add(permission)
        else:
            granted.discard(permission)
    return frozenset(granted)
