"""Intake's chores: forget what has expired (data kept no longer than it serves).

Expired sign-ups (they hold a password hash and a person's details), spent or expired codes,
refresh tokens past their life, call-center checks, and uploads no request ever named. Every
replica may run them; the deletes are idempotent.

What it must never do: delete anything still usable, or anything of a request.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import repository
from services.intake.attachments import UNATTACHED_FOR
from services.intake.models import CallerCheck, PhoneCode, RefreshToken, Registration
from shared.clock import Clock

log = logging.getLogger(__name__)

INTERVAL_S = 15 * 60
# Kept a little past their end, so that a late verdict ("expired", "reused") still has a row.
GRACE = timedelta(days=1)


async def forget_expired(session: AsyncSession, *, now: datetime, wall_now: datetime) -> None:
    """`now` on the business clock; refresh tokens live in real time (`wall_now`), so that an
    operator's jump of the simulated clock does not sign everyone out."""
    cutoff = now - GRACE
    await session.execute(delete(Registration).where(
        or_(Registration.expires_at < cutoff, Registration.completed_at < cutoff)))
    await session.execute(delete(PhoneCode).where(PhoneCode.expires_at < cutoff))
    await session.execute(delete(RefreshToken).where(RefreshToken.expires_at < wall_now - GRACE))
    await session.execute(delete(CallerCheck).where(CallerCheck.expires_at < cutoff))
    await repository.purge_unattached(session, older_than=now - UNATTACHED_FOR)


async def keep_tidy(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                    wall_clock: Clock) -> None:
    """Run the chores now and every `INTERVAL_S`, until cancelled."""
    while True:
        try:
            async with sessionmaker.begin() as session:
                await forget_expired(session, now=clock.now(), wall_now=wall_clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database comes back; the next round catches up
            log.warning("intake housekeeping failed", extra={"error": type(exc).__name__})
        await asyncio.sleep(INTERVAL_S)
