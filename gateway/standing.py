"""Staff standing at the edge: a deactivation or a role change counts at the next request.

Staff tokens live ten minutes, and carry the role and scope the person had when signing in.
For every token of a role that signs in at routing (`STAFF_ROLES`), the gateway asks routing
whether the person still stands as the token says (`GET /internal/v1/staff/standing`, the
token forwarded) before forwarding the request to any other service. A request for routing
itself is not asked about first: routing checks the standing on every one of its staff routes
as it serves them (the same question of the same directory), and asking twice doubled the cost
of every officer's page. Either way each staff request is checked once, when it is served.

When routing cannot answer (down, restarting, overloaded), it degrades rather than stops: a
token routing vouched for within the last `BKH_STAFF_STANDING_GRACE_S` (60 s) goes through, and
any other is refused with 503, never let through unchecked. So a routing restart no longer stops
every complaint-box clerk and officer, and the bound is stated: a person deactivated while
routing is away keeps working at most that long after routing last vouched for them (with
routing up, the next request is refused). Citizens, operators and services have no standing to
check and are not slowed.

What it must never do: let a remembered answer stand in for one routing can give (a request is
always asked about first), or be reachable from outside (its path is not in the route table:
only the gateway calls it).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
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


class StandingRecord:
    """When routing last vouched for each token, kept `grace_s` (tokens by digest, never as
    they are); at most `size` of them, the stale ones dropped first."""

    def __init__(self, grace_s: float, *, size: int = 200_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.grace_s, self.size, self._clock = grace_s, size, clock
        self._vouched_at: dict[bytes, float] = {}
        self.routing_silent = False  # routing's last answer was none: said once, not per request

    def answered(self) -> None:
        if self.routing_silent:
            self.routing_silent = False
            log.info("staff standing: routing answers again")

    @staticmethod
    def _key(authorization: str) -> bytes:
        return hashlib.blake2b(authorization.encode(), digest_size=16).digest()

    def vouched(self, authorization: str) -> None:
        now = self._clock()
        if len(self._vouched_at) >= self.size:
            self._vouched_at = {k: at for k, at in self._vouched_at.items()
                                if now - at < self.grace_s}
            if len(self._vouched_at) >= self.size:
                self._vouched_at.clear()
        self._vouched_at[self._key(authorization)] = now

    def lost(self, authorization: str) -> None:
        self._vouched_at.pop(self._key(authorization), None)

    def recently_vouched(self, authorization: str) -> bool:
        at = self._vouched_at.get(self._key(authorization))
        return at is not None and self._clock() - at < self.grace_s


async def check_standing(routing: httpx.AsyncClient, authorization: str, *,
                         timeout_s: float, record: StandingRecord) -> None:
    """Return when routing says the token's person stands, or cannot say and vouched for it
    within the grace; raise 401 or 503 otherwise."""
    headers = {"authorization": authorization}
    rid = request_id.get()
    if rid:
        headers["x-request-id"] = rid
    try:
        response = await routing.get(STANDING_PATH, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        _unknown(record, authorization, error=type(exc).__name__)
        return
    if response.status_code == 200:
        record.answered()
        record.vouched(authorization)
        return
    if response.status_code in (401, 403):
        record.answered()
        record.lost(authorization)
        raise StandingLost(_LOST)
    _unknown(record, authorization, status=response.status_code)


def _unknown(record: StandingRecord, authorization: str, **why: object) -> None:
    """Routing could not answer: through if it vouched for the token lately, else 503."""
    if not record.routing_silent:
        record.routing_silent = True
        log.warning("staff standing: routing cannot answer; tokens it vouched for within %g s "
                    "go through, others are refused", record.grace_s, extra=why)
    if not record.recently_vouched(authorization):
        raise ServiceUnavailable(_UNKNOWN, headers={"Retry-After": "5"})
