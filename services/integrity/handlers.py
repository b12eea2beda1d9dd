"""Event handlers of the integrity service: sealed reports arrive from intake to be filed.

A report that fails the checks (an unknown key, a malformed or mismatched envelope) raises, so
the consumer retries it and finally dead-letters it with the reason's code; the reason never
repeats the envelope.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.integrity import service
from shared.bus import ReceivedEvent
from shared.events.catalog import ReportSealed


async def on_reports_sealed(session: AsyncSession, events: list[ReceivedEvent]) -> None:
    reports = []
    for event in events:
        assert isinstance(event.payload, ReportSealed)
        reports.append(event.payload)
    await service.file_sealed_reports(session, reports=reports)
