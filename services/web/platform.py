"""The platform as the web app reaches it: the gateway's public API, like any other client.

Every call carries the person's access token (refreshed here, on the server, shortly before it
expires or when the gateway answers 401), the page's language (so problems come back in it), the
browser's address (the gateway counts sign-in attempts by it) and the request id.

What it must never do: reach a service but through the gateway; hand a token to a template or a
log; retry a call that changes something (only the token refresh is retried, and only once).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.web.sessions import OfficeSession, Person, RefreshLocks, SessionStore
from shared.errors import Language

log = logging.getLogger(__name__)

REFRESH_PATH = "/api/v1/staff/auth/refresh"
SIGN_IN_PATH = "/api/v1/staff/auth/token"
SIGN_OUT_PATH = "/api/v1/staff/auth/sign-out"
ME_PATH = "/api/v1/staff/me"


class SignInRequired(Exception):
    """No session, or one the platform no longer honours: sign in again."""


@dataclass
class ApiProblem(Exception):
    """The gateway's problem+json answer, kept whole for the page that shows it."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.body.get("title") or "")

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or "")

    @property
    def code(self) -> str:
        return str(self.body.get("type", "")).rsplit("/", 1)[-1]

    def field_messages(self) -> dict[str, str]:
        """Each invalid field's message by its form name (`body.closing_code` → `closing_code`)."""
        messages: dict[str, str] = {}
        for error in self.body.get("errors") or ():
            path = str(error.get("field", "")).split(".")
            name = ".".join(path[1:] if path and path[0] in ("body", "query") else path)
            messages.setdefault(name or "_", str(error.get("message", "")))
        return messages

    @classmethod
    def of(cls, response: httpx.Response) -> ApiProblem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        return cls(response.status_code, body if isinstance(body, dict) else {})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who the call is made for: their session, language, address and request id."""

    session: OfficeSession | None
    language: Language
    address: str
    request_id: str | None = None


class Platform:
    def __init__(self, http: httpx.AsyncClient, store: SessionStore) -> None:
        self.http = http
        self.store = store
        self._locks = RefreshLocks()

    # --- calls ----------------------------------------------------------------------------------

    async def call(self, caller: Caller, method: str, path: str, *,
                   params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
                   json: Any = None, files: Any = None, data: Any = None,
                   headers: Mapping[str, str] | None = None, stream: bool = False,
                   ) -> httpx.Response:
        """The answer when it is a success (2xx); an `ApiProblem` otherwise."""
        response = await self._send(caller, method, path, params=params, json=json,
                                    files=files, data=data, headers=headers, stream=stream)
        if response.status_code == 401 and caller.session is not None:
            if stream:
                await response.aclose()
            await self._refresh(caller, stale=caller.session.access_token)
            response = await self._send(caller, method, path, params=params, json=json,
                                        files=files, data=data, headers=headers, stream=stream)
            if response.status_code == 401:
                raise SignInRequired()
        if response.is_success:
            return response
        if stream:
            await response.aread()
        raise ApiProblem.of(response)

    async def get(self, caller: Caller, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v not in (None, "", [])}
        return (await self.call(caller, "GET", path, params=query)).json()

    async def post(self, caller: Caller, path: str, body: Any = None, *,
                   if_match: str | None = None, idempotency_key: str | None = None) -> Any:
        headers = {}
        if if_match:
            headers["If-Match"] = if_match
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = await self.call(caller, "POST", path, json=body, headers=headers)
        return response.json() if response.content else None

    async def _send(self, caller: Caller, method: str, path: str, *,
                    headers: Mapping[str, str] | None, stream: bool, **kwargs: Any,
                    ) -> httpx.Response:
        sent = {"Accept-Language": caller.language, "X-Forwarded-For": caller.address,
                **(headers or {})}
        if caller.request_id:
            sent["X-Request-Id"] = caller.request_id
        session = caller.session
        if session is not None and session.refresh_token is not None:
            if not session.access_fresh():
                await self._refresh(caller, stale=session.access_token)
            sent["Authorization"] = f"Bearer {session.access_token}"
        request = self.http.build_request(method, path, headers=sent, **kwargs)
        return await self.http.send(request, stream=stream)

    # --- signing in and out ---------------------------------------------------------------------

    async def sign_in(self, caller: Caller, username: str, password: str) -> OfficeSession:
        """A new session (a new id: never the anonymous one the form was shown in)."""
        response = await self._send(caller, "POST", SIGN_IN_PATH, headers=None, stream=False,
                                    json={"username": username, "password": password})
        if not response.is_success:
            raise ApiProblem.of(response)
        session = OfficeSession()
        self._take_tokens(session, response.json())
        session.person = await self._whoami(caller, session)
        await self.store.save(session)
        return session

    async def sign_out(self, caller: Caller) -> None:
        """Revoke the refresh token (its whole session at the platform) and forget ours."""
        session = caller.session
        if session is None:
            return
        if session.refresh_token:
            try:
                await self._send(caller, "POST", SIGN_OUT_PATH, headers=None, stream=False,
                                 json={"refresh_token": session.refresh_token})
            except httpx.HTTPError:
                log.warning("sign-out could not reach the platform; the session is forgotten "
                            "here and its refresh token expires on its own")
        await self.store.delete(session.id)

    async def _whoami(self, caller: Caller, session: OfficeSession) -> Person:
        response = await self._send(
            Caller(session, caller.language, caller.address, caller.request_id), "GET", ME_PATH,
            headers=None, stream=False)
        if not response.is_success:
            raise ApiProblem.of(response)
        me = response.json()
        return Person(id=str(me["id"]), username=me["username"], full_name=me["full_name"],
                      role=me["role"], permissions=tuple(me["permissions"]),
                      sectors=tuple(me["sectors"]), entities=tuple(me["entities"]))

    async def _refresh(self, caller: Caller, *, stale: str | None) -> None:
        session = caller.session
        assert session is not None
        async with self._locks.of(session.id):
            if session.access_token != stale and session.access_fresh():
                return  # another page of this session refreshed while we waited
            stored = await self.store.load(session.id)
            if stored is None or not stored.signed_in:
                raise SignInRequired()
            if stored.access_token != stale and stored.access_fresh():
                self._adopt(session, stored)  # another replica refreshed it
                return
            response = await self._send(
                Caller(None, caller.language, caller.address, caller.request_id), "POST",
                REFRESH_PATH, headers=None, stream=False,
                json={"refresh_token": stored.refresh_token})
            if response.status_code == 409:
                # Spent a moment ago by another replica: its tokens are in the store by now.
                stored = await self.store.load(session.id)
                if stored is None or stored.access_token == stale:
                    raise SignInRequired()
                self._adopt(session, stored)
                return
            if not response.is_success:
                await self.store.delete(session.id)
                raise SignInRequired()
            self._take_tokens(session, response.json())
            # Role, scope and permissions may have changed since the last refresh.
            session.person = await self._whoami(caller, session)
            await self.store.save(session)

    @staticmethod
    def _take_tokens(session: OfficeSession, pair: dict[str, Any]) -> None:
        session.access_token = pair["access_token"]
        session.refresh_token = pair["refresh_token"]
        session.access_expires_at = time.time() + float(pair["expires_in"])

    @staticmethod
    def _adopt(session: OfficeSession, stored: OfficeSession) -> None:
        session.access_token, session.refresh_token = stored.access_token, stored.refresh_token
        session.access_expires_at, session.person = stored.access_expires_at, stored.person


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
