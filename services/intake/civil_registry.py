"""The civil registry, over HTTP: is this person who they say they are, and alive?

The registry answers a question; it never hands us a record. We send the identity number, the
four-part name and the date of birth; it says `match`, `mismatch` (and which fields),
`not_found` or `deceased` (protocol in `simulators.civil_registry`, the stand-in used
by `make run` and the tests).

What it must never do: wait without bound (every call has a timeout), turn a registry outage
into anything but `RegistryUnavailable` (the caller then keeps nothing half-done), or log the
person it asked about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import httpx

from services.intake.exceptions import RegistryUnavailable

log = logging.getLogger(__name__)

VERIFY_PATH = "/v1/verifications"


class IdType(StrEnum):
    """The document a person is known by: Jordanians by national number, residents otherwise."""

    national_number = "national_number"
    personal_number = "personal_number"  # non-Jordanian residents
    passport = "passport"


class IdentityOutcome(StrEnum):
    verified = "verified"
    name_mismatch = "name_mismatch"
    date_of_birth_mismatch = "date_of_birth_mismatch"
    name_and_date_of_birth_mismatch = "name_and_date_of_birth_mismatch"
    not_found = "not_found"
    deceased = "deceased"


@dataclass(frozen=True, slots=True)
class Identity:
    id_type: IdType
    id_number: str
    full_name: str
    date_of_birth: date


def _outcome(body: object) -> IdentityOutcome:
    if not isinstance(body, dict):
        raise ValueError("not an object")
    result = body.get("result")
    if result == "match":
        return IdentityOutcome.verified
    if result in ("not_found", "deceased"):
        return IdentityOutcome(result)
    if result == "mismatch":
        fields = set(body.get("mismatches") or ())
        if fields == {"name"}:
            return IdentityOutcome.name_mismatch
        if fields == {"date_of_birth"}:
            return IdentityOutcome.date_of_birth_mismatch
        if fields == {"name", "date_of_birth"}:
            return IdentityOutcome.name_and_date_of_birth_mismatch
    raise ValueError("unexpected answer")


class CivilRegistry:
    """One pooled client to the registry, opened with the service and closed with it."""

    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        secret: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=url,
            auth=httpx.BasicAuth(client_id, secret),
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            trust_env=False,  # never through an HTTP(S)_PROXY from the environment
            follow_redirects=False,
        )

    async def verify(self, identity: Identity) -> IdentityOutcome:
        try:
            response = await self._client.post(
                VERIFY_PATH,
                json={
                    "id_type": identity.id_type.value,
                    "id_number": identity.id_number,
                    "full_name": identity.full_name,
                    "date_of_birth": identity.date_of_birth.isoformat(),
                },
            )
        except httpx.HTTPError as exc:
            log.warning("civil registry unreachable", extra={"error": type(exc).__name__})
            raise RegistryUnavailable() from None
        if response.status_code != 200:
            # 401/403 mean our credentials are wrong: an operator's problem, loudly logged.
            level = logging.ERROR if response.status_code in (401, 403) else logging.WARNING
            log.log(level, "civil registry refused", extra={"status": response.status_code})
            raise RegistryUnavailable()
        try:
            return _outcome(response.json())
        except ValueError:
            log.error("civil registry answered something unexpected")
            raise RegistryUnavailable() from None

    async def aclose(self) -> None:
        await self._client.aclose()
