"""Chasing an overdue request (تذكير): once a deadline promised to the requester has passed,
they may chase it, once per working day, with a few words for the officer.

A deadline promised to the requester is a running one they are shown (`sla.deadline_set`, on
the holding entity's clock or their own): the first answer, the handling, the complaints
unit's review; never the window in which they themselves rate. A chase counts for the working
day it falls on (a Friday's for the Sunday after), and the next is allowed from the next
working day. The `chases` table's key (request, working day) keeps two chases at once from
both counting.

`request.chased` tells the request's holding officers and its entity's head (notify), its
timeline (routing's, and intake's own) and the figures (analytics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.context import Intake
from services.intake.exceptions import ChaseRefused
from services.intake.models import Deadline, Request
from services.intake.references import AMMAN
from services.intake.schemas import (
    Bilingual,
    ChaseCreate,
    ChaseRecorded,
    Chasing,
    TrackedChaseCreate,
)
from shared.bus import Outbox
from shared.calendar import WorkingCalendar
from shared.errors import Text
from shared.events.catalog import RequestChased
from shared.events.vocabulary import RequestStatus, SlaStage
from shared.idempotency import IdempotencyKey

PROMISED: Final = frozenset({SlaStage.first_response, SlaStage.processing, SlaStage.review})
ENDED: Final = frozenset({RequestStatus.closed, RequestStatus.rejected})

_TOLD = Text("أُبلغ الموظف الذي يعالج طلبك ورئيس الجهة بتذكيرك.",
             "The officer handling your request and the head of the entity have been told.")
_NOT_YET = Text("لم يحن موعد الرد الموعود بعد؛ يمكنك التذكير بعد {at}.",
                "The promised answer is not due yet; you may chase it after {at}.")
_CHASED_TODAY = Text("ذكّرت بهذا الطلب اليوم؛ يمكنك التذكير مجدداً يوم العمل التالي، من {at}.",
                     "You chased this request today; you may chase it again on the next working "
                     "day, from {at}.")
_NOTHING_DUE = Text("لا ينتظر هذا الطلب الآن رداً موعوداً لك، فلا يُذكَّر به.",
                    "No answer promised to you is awaited on this request now, so it cannot be "
                    "chased.")


@dataclass(frozen=True, slots=True)
class ChaseState:
    overdue: Deadline | None  # the earliest promised deadline that has passed
    opens_at: datetime | None  # none passed yet: when the first one will
    next_at: datetime | None  # chased in this working day: when the next may be

    @property
    def open(self) -> bool:
        return self.overdue is not None and self.next_at is None

    def view(self) -> Chasing:
        return Chasing(open=self.open, opens_at=_amman(self.opens_at),
                       next_at=_amman(self.next_at))


def _amman(at: datetime | None) -> datetime | None:
    return at.astimezone(AMMAN) if at is not None else None


def working_day(calendar: WorkingCalendar, at: datetime) -> date:
    """The working day a moment counts for: its own date in Amman, else the next working one."""
    day = at.astimezone(AMMAN).date()
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def next_working_day_start(calendar: WorkingCalendar, day: date) -> datetime:
    """Midnight in Amman at the start of the working day after `day`."""
    return datetime.combine(working_day(calendar, datetime.combine(
        day + timedelta(days=1), time(12), AMMAN)), time(0), AMMAN)


async def state(session: AsyncSession, calendar: WorkingCalendar, *, request: Request,
                deadlines: Sequence[Deadline], now: datetime) -> ChaseState:
    promised = [d for d in deadlines if d.stage in PROMISED]
    if RequestStatus(request.status) in ENDED or not promised:
        return ChaseState(overdue=None, opens_at=None, next_at=None)
    passed = [d for d in promised if d.due_at <= now]
    if not passed:
        return ChaseState(overdue=None, opens_at=min(d.due_at for d in promised), next_at=None)
    today = working_day(calendar, now)
    chased = await repository.chased_on(session, reference=request.reference, day=today)
    return ChaseState(overdue=min(passed, key=lambda d: d.due_at), opens_at=None,
                      next_at=next_working_day_start(calendar, today) if chased else None)


async def chase(session: AsyncSession, outbox: Outbox, intake: Intake, *, request: Request,
                note: str | None) -> ChaseRecorded:
    """Record a chase and tell everyone it concerns, or say in the caller's language why not
    (409: not due yet, when it will be; chased today, when next; nothing promised awaited)."""
    now = intake.clock.now()
    calendar = (await intake.rules.current(session)).calendar
    deadlines = await repository.running_deadlines(session, reference=request.reference)
    found = await state(session, calendar, request=request, deadlines=deadlines, now=now)
    day = working_day(calendar, now)
    if found.next_at is not None or (found.overdue is not None and not await
                                     repository.add_chase(session, reference=request.reference,
                                                          day=day, at=now, note=note)):
        next_at = next_working_day_start(calendar, day)
        raise ChaseRefused(_said(_CHASED_TODAY, next_at), reason="chased_today",
                           next_at=next_at.astimezone(AMMAN).isoformat())
    if found.overdue is None:
        if found.opens_at is not None:
            raise ChaseRefused(_said(_NOT_YET, found.opens_at), reason="not_yet",
                               opens_at=found.opens_at.astimezone(AMMAN).isoformat())
        raise ChaseRefused(_NOTHING_DUE, reason="nothing_due")
    count = await repository.chase_count(session, reference=request.reference)
    envelope = await outbox.add(session, RequestChased(
        reference=request.reference, entity=request.entity, sector=request.sector,
        stage=SlaStage(found.overdue.stage), due_at=found.overdue.due_at, note=note,
        chase=count,
    ), correlation_id=request.reference)
    await repository.add_timeline_entry(
        session, reference=request.reference, event_id=envelope.id, step="request.chased",
        at=now, details={"chase": count},
    )
    return ChaseRecorded(reference=request.reference, chased_at=now.astimezone(AMMAN),
                         chase=count, next_at=next_working_day_start(calendar, day)
                         .astimezone(AMMAN), told=Bilingual.of(_TOLD))


async def chase_once(session: AsyncSession, outbox: Outbox, intake: Intake,
                     idempotency: IdempotencyKey, response: Response, *, owner: str,
                     request: Request, body: ChaseCreate | TrackedChaseCreate
                     ) -> ChaseRecorded:
    """`chase` once per Idempotency-Key of `owner`: a retry is answered as the first time."""
    return await idempotency.once(
        session, owner=owner, request=body, response=response, result_type=ChaseRecorded,
        create=lambda: chase(session, outbox, intake, request=request, note=body.note),
    )


def _said(text: Text, at: datetime) -> Text:
    """A sentence with its moment written the way each language reads it."""
    local = at.astimezone(AMMAN)
    return Text(text.ar.replace("{at}", local.strftime("%Y-%m-%d %H:%M")),
                text.en.replace("{at}", local.strftime("%Y-%m-%d %H:%M")))
