"""Signing staff in and keeping them signed in.

A sign-in checks the argon2id hash (off the event loop, with the same work for an unknown
username), then issues a short access token carrying the person's current role and scope and a
refresh token. Refreshing rotates: the presented token is spent and a new one of the same
family is returned; presenting a spent one again means it was copied, so the whole family is
revoked. A family lives at most `staff_session_max` after the sign-in that began it. Sessions
and lockouts are timed in real time (the routes pass `Routing.wall_clock`), never by the
simulated business clock, which an operator may move by days.

What it must never do: say whether a username exists (every failure is the same 401), store or
log a password or a refresh token (only its SHA-256), or issue a token for a person who has no
current role or is not active.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.config import RoutingSettings
from services.routing.directory import repository
from services.routing.directory.repository import Standing
from services.routing.directory.service import revoke_sessions, set_password
from services.routing.exceptions import InvalidInput, SignInFailed, SignInUnavailable
from services.routing.models import Person, StaffSession
from services.routing.staff.schemas import TokenPair
from shared.auth import REFRESH_REUSE_GRACE, RefreshTokenJustRotated, TokenIssuer
from shared.clock import Clock
from shared.errors import Text
from shared.passwords import needs_rehash, password_problem, verify_password

log = logging.getLogger(__name__)

_SESSION_ENDED = Text("انتهت الجلسة؛ سجّل الدخول من جديد.",
                      "The session has ended; sign in again.")
_NOT_AVAILABLE = Text("لا يوجد مفتاح توقيع لرموز الموظفين في هذه الخدمة.",
                      "No signing key for staff tokens is configured here.")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _usable(standing: Standing | None) -> bool:
    return standing is not None and standing.active and standing.role is not None


async def sign_in(
    session: AsyncSession, *, username: str, password: str, issuer: TokenIssuer | None,
    settings: RoutingSettings, clock: Clock,
) -> TokenPair:
    if issuer is None:
        raise SignInUnavailable(_NOT_AVAILABLE)
    person = await repository.person_by_username(session, username)
    # Always one argon2 check, so an unknown username answers as slowly as a known one.
    matches = await verify_password(person.password_hash if person else None, password)
    now = clock.now()
    if person is None:
        raise SignInFailed()
    if person.locked_until is not None and person.locked_until > now:
        log.info("sign-in refused: account locked", extra={"person_id": str(person.id)})
        raise SignInFailed()
    if not matches:
        person.failed_sign_ins += 1
        if person.failed_sign_ins >= settings.sign_in_attempts:
            person.failed_sign_ins = 0
            person.locked_until = now + settings.sign_in_lockout
            log.warning("account locked after failed sign-ins",
                        extra={"person_id": str(person.id)})
        await _keep_failure(session, person)
        raise SignInFailed()
    standing = await repository.standing(session, person.id)
    if not _usable(standing):
        raise SignInFailed()
    person.failed_sign_ins = 0
    person.locked_until = None
    if person.password_hash and needs_rehash(person.password_hash):
        await set_password(session, person, password, now=now)
    assert standing is not None
    return await _issue(session, person=person, standing=standing, family_id=uuid.uuid4(),
                        family_expires_at=now + settings.staff_session_max, issuer=issuer,
                        settings=settings, now=now)


async def _keep_failure(session: AsyncSession, person: Person) -> None:
    """The count of failures must survive the 401 that rolls the request back: it is written
    in a transaction of its own (a savepoint would be rolled back with the request)."""
    bind = session.bind
    async with AsyncSession(bind=bind) as own, own.begin():
        await own.execute(
            update(Person).where(Person.id == person.id)
            .values(failed_sign_ins=person.failed_sign_ins, locked_until=person.locked_until)
        )


async def refresh(
    session: AsyncSession, *, refresh_token: str, issuer: TokenIssuer | None,
    settings: RoutingSettings, clock: Clock,
) -> TokenPair:
    if issuer is None:
        raise SignInUnavailable(_NOT_AVAILABLE)
    now = clock.now()
    presented = await session.scalar(
        select(StaffSession).where(StaffSession.token_hash == _digest(refresh_token))
    )
    if presented is None or presented.revoked_at is not None:
        raise SignInFailed(_SESSION_ENDED)
    if presented.rotated_at is not None:
        if now - presented.rotated_at < REFRESH_REUSE_GRACE:
            raise RefreshTokenJustRotated()  # the same app, refreshing from two calls at once
        # A spent token came back: someone kept a copy. End the whole family, for good (before
        # this transaction writes anything, so the revocation's own transaction never waits).
        await _revoke_family(presented.family_id, session=session, now=now)
        log.warning("refresh token reused; session family revoked",
                    extra={"person_id": str(presented.person_id)})
        raise SignInFailed(_SESSION_ENDED)
    if presented.expires_at <= now or presented.family_expires_at <= now:
        raise SignInFailed(_SESSION_ENDED)
    # Spend it atomically: of two uses at the same moment, exactly one goes on.
    spent = await session.execute(
        update(StaffSession)
        .where(StaffSession.id == presented.id, StaffSession.rotated_at.is_(None),
               StaffSession.revoked_at.is_(None))
        .values(rotated_at=now).returning(StaffSession.id)
    )
    if spent.first() is None:  # another call spent it a moment ago
        raise RefreshTokenJustRotated()
    person = await repository.person(session, presented.person_id)
    standing = await repository.standing(session, presented.person_id)
    if person is None or not _usable(standing):
        raise SignInFailed(_SESSION_ENDED)
    assert standing is not None
    return await _issue(session, person=person, standing=standing,
                        family_id=presented.family_id,
                        family_expires_at=presented.family_expires_at, issuer=issuer,
                        settings=settings, now=now)


async def _revoke_family(family_id: uuid.UUID, *, session: AsyncSession, now: datetime) -> None:
    # Like a failed sign-in, this must outlive the 401 that follows.
    async with AsyncSession(bind=session.bind) as own, own.begin():
        await own.execute(
            update(StaffSession)
            .where(StaffSession.family_id == family_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def sign_out(session: AsyncSession, *, refresh_token: str, clock: Clock) -> None:
    """End the family of this refresh token (the access token dies within minutes)."""
    presented = await session.scalar(
        select(StaffSession).where(StaffSession.token_hash == _digest(refresh_token))
    )
    if presented is not None:
        await session.execute(
            update(StaffSession)
            .where(StaffSession.family_id == presented.family_id,
                   StaffSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


async def _issue(
    session: AsyncSession, *, person: Person, standing: Standing, family_id: uuid.UUID,
    family_expires_at: datetime, issuer: TokenIssuer, settings: RoutingSettings, now: datetime,
) -> TokenPair:
    assert standing.role is not None
    access = issuer.issue(str(person.id), standing.role, entity_ids=standing.entity_codes,
                          sector_ids=standing.sector_codes)
    refresh_token = secrets.token_urlsafe(32)
    expires_at = min(now + settings.staff_refresh_lifetime, family_expires_at)
    session.add(StaffSession(
        id=uuid.uuid4(), family_id=family_id, person_id=person.id,
        token_hash=_digest(refresh_token), issued_at=now, expires_at=expires_at,
        family_expires_at=family_expires_at, rotated_at=None, revoked_at=None,
    ))
    return TokenPair(
        access_token=access, expires_in=int(issuer.lifetime.total_seconds()),
        refresh_token=refresh_token,
        refresh_expires_in=int((expires_at - now).total_seconds()),
        person_id=person.id, role=standing.role, sectors=sorted(standing.sector_codes),
        entities=sorted(standing.entity_codes),
    )


async def change_own_password(
    session: AsyncSession, *, person_id: uuid.UUID, current_password: str, new_password: str,
    clock: Clock,
) -> None:
    person = await repository.person(session, person_id)
    assert person is not None, "the caller's standing was checked"
    if not await verify_password(person.password_hash, current_password):
        raise InvalidInput(Text("كلمة المرور الحالية غير صحيحة.",
                                "The current password is wrong."), field="current_password")
    problem = password_problem(new_password, personal=tuple(
        p for p in (person.username, person.full_name, person.phone, person.email,
                    current_password) if p))
    if problem is not None:
        raise InvalidInput(problem, field="new_password")
    await set_password(session, person, new_password, now=clock.now())


__all__ = ["change_own_password", "refresh", "revoke_sessions", "sign_in", "sign_out"]
