"""Deadlines as the requester sees them: provisional at submission, then the SLA service's own.

SLA owns the time rules and announces them whole (`sla.rules_changed`); intake keeps the latest
and counts with the same `shared.calendar`, so the deadline shown the moment a request is
received is the one SLA will set. Once SLA's `sla.deadline_set` arrives, its figure replaces
the estimate; once `sla.deadline_ended` says its stage is over (answered, a new holder, a new
answer round, closed), it is no longer shown: the requester sees only running deadlines.

What it must never do: read the time itself (it is handed `now`), or make a submission wait on
anything but its own database (the rules are cached; a stale copy for a few seconds only
moves a provisional estimate).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Deadline, SlaRules
from services.intake.references import AMMAN
from services.intake.schemas import DeadlineView
from shared.calendar import WorkingCalendar
from shared.events.catalog import SlaPolicy, SlaRulesChanged
from shared.events.vocabulary import ClockKind, RequestKind, RequestStatus, SlaStage

RULES_CACHE_S = 10.0


@dataclass(frozen=True, slots=True)
class Rules:
    revision: int
    policy: SlaPolicy
    calendar: WorkingCalendar

    def provisional(self, kind: RequestKind, received_at: datetime) -> list[DeadlineView]:
        """What the rules promise from the moment of receipt, on the requester's clock."""
        due = [(SlaStage.first_response, self.policy.first_response_working_days)]
        if kind is RequestKind.inquiry:
            due.append((SlaStage.processing, self.policy.inquiry_working_days))
        elif kind is RequestKind.suggestion:
            due.append((SlaStage.processing, self.policy.suggestion_working_days))
        return [
            DeadlineView(
                stage=stage, clock=ClockKind.requester, provisional=True,
                due_at=self.calendar.add_working_days(received_at, days).astimezone(AMMAN),
            )
            for stage, days in due
        ]


DEFAULT_RULES = Rules(revision=0, policy=SlaPolicy(), calendar=WorkingCalendar())


class RulesCache:
    """The latest announced rules, re-read from the database at most every few seconds."""

    def __init__(self) -> None:
        self._rules = DEFAULT_RULES
        self._read_at = float("-inf")

    async def current(self, session: AsyncSession) -> Rules:
        """Read through the caller's session: a second connection per request could starve
        the pool under load."""
        # A cache's age, not a time of the domain: the monotonic clock is right here.
        if time.monotonic() - self._read_at < RULES_CACHE_S:
            return self._rules
        row = (
            await session.execute(
                select(SlaRules.revision, SlaRules.rules)
                .order_by(SlaRules.revision.desc()).limit(1)
            )
        ).one_or_none()
        if row is not None and row.revision != self._rules.revision:
            announced = SlaRulesChanged.model_validate(row.rules)
            self._rules = Rules(row.revision, announced.policy, announced.calendar())
        self._read_at = time.monotonic()
        return self._rules

    def forget(self) -> None:
        self._read_at = float("-inf")


def shown_deadlines(
    rules: Rules, *, kind: RequestKind, status: RequestStatus, received_at: datetime,
    announced: Sequence[Deadline],
) -> list[DeadlineView]:
    """SLA's running deadlines once it has set any; until then the provisional ones."""
    if announced:
        return [
            DeadlineView(stage=SlaStage(d.stage), clock=ClockKind(d.clock),
                         due_at=d.due_at.astimezone(AMMAN), provisional=False)
            for d in announced
        ]
    if status is RequestStatus.received:
        return rules.provisional(kind, received_at)
    return []
