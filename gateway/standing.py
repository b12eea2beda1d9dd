"""Staff standing at the edge: a deactivation or a role change counts at the next request.

Staff tokens live ten minutes, and carry the role and scope the person had when signing in.
For every token of a role that signs in at routing (`STAFF_ROLES`), the gateway asks routing
whether the person still stands as the token says (`GET /internal/v1/staff/standing`, the
token forwarded) before forwarding the request to any other service. A request for routing
itself is not asked about first: routing checks the standing on every one of its staff routes
as it serves them (the same question of the same directory), and asking twice doubled the cost
of every officer's page. Either way each staff request is checked once, when it is served.

It fails closed: when routing cannot answer, a staff request is refused with 503, never let
through. Citizens, operators and services have no standing to check and are not slowed.

What it must never do: remember an answer (the next request must see today's directory), or be
reachable from outside (its path is not in the route table: only the gateway calls it).
"""

from __future__ import annotations

import logging
from typing import Final

import httpx

from shared.auth import Principal
from shared.errors import ServiceUnavailable, Text, Unauthorized
from shared.events.vocabulary import STAFF_ROLES
from shared.logging import request_id

log = logging.getLogger(__name__)

STANDING_PATH: Final = "/internal/v1/staff/standing"


class StandingLost(Unauthorized):
    code = "staff-standing-lost"
    title = Text("تغيّرت صلاحيات حسابك", "Your account's standing has changed")


_LOST = Text("أُوقف حسابك أو تغيّر دورك أو نطاقه منذ تسجيل الدخول؛ سجّل الدخول من جديد.",
             "Your account was deactivated, or its role or scope changed, since you signed in; "
             "sign in again.")
_UNKNOWN = Text("تعذّر التحقق من صلاحيات حسابك الآن؛ حاول بعد قليل.",
                "Your account's standing cannot be checked right now; try again shortly.")


STANDING_SERVICE: Final = "routing"
"""Owns the directory, answers the standing call, and checks standing on its own staff routes."""


def needs_standing(principal: Principal | None, served_by: str | None = None) -> bool:
    """Whether the gateway must ask routing before letting this request through."""
    return (principal is not None and principal.role in STAFF_ROLES
            and served_by != STANDING_SERVICE)


async def check_standing(routing: httpx.AsyncClient, authorization: str, *,
                         timeout_s: float) -> None:
    """Return when routing says the token's person stands; raise 401 or 503 otherwise."""
    headers = {"authorization": authorization}
    rid = request_id.get()
    if rid:
        headers["x-request-id"] = rid
    try:
        response = await routing.get(STANDING_PATH, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        log.warning("staff standing unknown: routing unreachable",
                    extra={"error": type(exc).__name__})
        raise ServiceUnavailable(_UNKNOWN, headers={"Retry-After": "5"}) from None
    if response.status_code == 200:
        return
    if response.status_code in (401, 403):
        raise StandingLost(_LOST)
    log.warning("staff standing unknown", extra={"status": response.status_code})
    raise ServiceUnavailable(_UNKNOWN, headers={"Retry-After": "5"})
