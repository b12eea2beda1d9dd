"""Staff web sessions: the only thing the web app keeps.

A session is found by the cookie's random id and holds what a signed-in person's pages need: the
platform's access and refresh tokens (they never reach the browser), who the person is, and the
CSRF token of their forms. The store keeps it under a digest of the id (a dump of Redis gives no
usable cookie), for the idle timeout from its last use.

What it must never do: log or return a token; keep a session past its idle timeout; let one id
name two people (signing in always starts a new id).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.ratelimit import STORE_TIMEOUT_S

KEY_PREFIX = "bkh:web:session:"


@dataclass(frozen=True, slots=True)
class Person:
    """Who signed in, as `GET /api/v1/staff/me` says."""

    id: str
    username: str
    full_name: str
    role: str
    permissions: Sequence[str] = ()
    sectors: Sequence[str] = ()
    entities: Sequence[str] = ()

    def may(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(slots=True)
class OfficeSession:
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token: str | None = None
    access_expires_at: float = 0.0  # real time (epoch seconds), never the business clock
    refresh_token: str | None = None
    person: Person | None = None
    # The tracking codes of the requests this person just keyed in (reference → code), for
    # their receipts: the platform shows a code once, and it must not travel in an address.
    tracking_codes: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        return self.person is not None and self.refresh_token is not None

    def access_fresh(self, *, margin_s: float = 30.0) -> bool:
        return self.access_token is not None and time.time() + margin_s < self.access_expires_at

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> OfficeSession:
        data = json.loads(text)
        person = data.pop("person")
        return cls(**data, person=Person(**person) if person else None)


def _key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    async def load(self, session_id: str) -> OfficeSession | None: ...
    async def save(self, session: OfficeSession) -> None: ...
    async def delete(self, session_id: str) -> None: ...
    async def healthy(self) -> bool: ...
    async def close(self) -> None: ...


class MemorySessionStore:
    """One process's sessions (the embedded mode and a developer's machine)."""

    def __init__(self, idle: timedelta) -> None:
        self._idle_s = idle.total_seconds()
        self._sessions: dict[str, tuple[float, str]] = {}

    async def load(self, session_id: str) -> OfficeSession | None:
        key = _key(session_id)
        found = self._sessions.get(key)
        if found is None:
            return None
        expires_at, text = found
        if expires_at <= time.monotonic():
            del self._sessions[key]
            return None
        session = OfficeSession.from_json(text)
        await self.save(session)  # each use restarts the idle timeout
        return session

    async def save(self, session: OfficeSession) -> None:
        now = time.monotonic()
        if len(self._sessions) > 10_000:  # forget the expired now and then
            self._sessions = {k: v for k, v in self._sessions.items() if v[0] > now}
        self._sessions[_key(session.id)] = (now + self._idle_s, session.to_json())

    async def delete(self, session_id: str) -> None:
        self._sessions.pop(_key(session_id), None)

    async def healthy(self) -> bool:
        return True

    async def close(self) -> None:
        self._sessions.clear()


class SessionStoreAway(Exception):
    """The session store refused, or did not answer in time: the page is a 503, to try again."""


@contextmanager
def _away_as_503() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as away:
        raise SessionStoreAway(type(away).__name__) from away


class RedisSessionStore:
    """Sessions every replica sees; Redis expires them after the idle timeout."""

    def __init__(self, url: str, idle: timedelta) -> None:
        # A store gone without a word (a node lost) would otherwise hold every page for the
        # operating system's minutes.
        self._redis = Redis.from_url(url, socket_connect_timeout=STORE_TIMEOUT_S,
                                     socket_timeout=STORE_TIMEOUT_S)
        self._idle_s = int(idle.total_seconds())

    async def load(self, session_id: str) -> OfficeSession | None:
        with _away_as_503():
            # GETEX reads and restarts the idle timeout in one round trip.
            text = await self._redis.getex(_key(session_id), ex=self._idle_s)
        return OfficeSession.from_json(text) if text is not None else None

    async def save(self, session: OfficeSession) -> None:
        with _away_as_503():
            await self._redis.set(_key(session.id), session.to_json(), ex=self._idle_s)

    async def delete(self, session_id: str) -> None:
        with _away_as_503():
            await self._redis.delete(_key(session_id))

    async def healthy(self) -> bool:
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def open_store(uri: str, idle: timedelta) -> SessionStore:
    if uri.startswith(("redis://", "rediss://")):
        return RedisSessionStore(uri, idle)
    if uri.startswith("memory://"):
        return MemorySessionStore(idle)
    raise ValueError(f"unsupported session store {uri.split(':')[0]!r}: memory:// or redis://")


class RefreshLocks:
    """One refresh at a time per session in this process: two pages opened at once must not
    both spend the same single-use refresh token."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def of(self, session_id: str) -> asyncio.Lock:
        if len(self._locks) > 10_000:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(session_id, asyncio.Lock())
