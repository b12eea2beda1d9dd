"""Intake's copy of routing's directory, as the submission path reads it: from memory.

Every submission names an entity (or none); looking it up in the database each time would be
one more round trip on the busiest path for data that changes a few times a year. The active
entities are read whole every few seconds; a code not among them is looked up at once, so an
entity routing has just announced is usable immediately, while one just retired may still be
accepted for a few seconds (routing then handles it like any request to a retired entity).

What it must never do: accept a code the database never held.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.models import Entity

ENTITIES_CACHE_S = 10.0


class EntityCache:
    def __init__(self) -> None:
        self._sectors: dict[str, str] = {}
        self._read_at = float("-inf")

    async def sector_of(self, session: AsyncSession, code: str) -> str | None:
        """The sector of the active entity `code`, or None when there is no such entity."""
        # A cache's age, not a time of the domain: the monotonic clock is right here.
        if time.monotonic() - self._read_at >= ENTITIES_CACHE_S:
            rows = await session.execute(
                select(Entity.code, Entity.sector).where(Entity.retired.is_(False))
            )
            self._sectors = {row.code: row.sector for row in rows}
            self._read_at = time.monotonic()
        sector = self._sectors.get(code)
        if sector is None:
            entity = await repository.active_entity(session, code=code)
            if entity is not None:
                self._sectors[code] = sector = entity.sector
        return sector
