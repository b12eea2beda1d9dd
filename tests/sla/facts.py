"""Lifecycle events for SLA's tests, as the producers publish them, with instants in Amman time.

`Story` writes one request's life: `story.submitted(at=...)`, `story.assigned(at=...)`, … each
returns the envelope and payload as they travel on the bus; `fact(...)` turns one into the fact
that `derive_deadlines` reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.sla.deadlines import Fact, fact_of
from shared.calendar import AMMAN
from shared.clock import FixedClock
from shared.events import catalog as c
from shared.events.envelope import Envelope, EventPayload, new_envelope
from shared.events.vocabulary import (
    Channel,
    ClosedBy,
    ClosingCode,
    LegalGround,
    RequestKind,
    Role,
)

ACTOR = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
ENTITY, SECTOR = "MOH-HOSP", "MOH"
OTHER_ENTITY, OTHER_SECTOR = "MOE-SCH", "MOE"


def amman(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMMAN)


@dataclass(frozen=True)
class Event:
    envelope: Envelope
    payload: EventPayload

    @property
    def fact(self) -> Fact:
        return fact_of(self.envelope, self.payload)[1]

    @property
    def body(self) -> bytes:
        return self.envelope.model_dump_json().encode()


@dataclass
class Story:
    reference: str = field(default_factory=lambda: f"BKH-2026-{uuid.uuid4().int % 10**6:06d}")
    kind: RequestKind = RequestKind.complaint

    def event(self, payload: EventPayload, at: datetime, producer: str = "routing") -> Event:
        envelope = new_envelope(payload, producer=producer, clock=FixedClock(at),
                                correlation_id=self.reference)
        return Event(envelope, payload)

    def submitted(self, at: datetime) -> Event:
        return self.event(c.RequestSubmitted(
            reference=self.reference, kind=self.kind, entity=ENTITY, sector=SECTOR,
            governorate="JO-AM", channel=Channel.portal, subject="subject",
            description="description", requester_id=uuid.uuid4(), submitted_at=at,
        ), at, producer="intake")

    def assigned(self, at: datetime, entity: str = ENTITY, sector: str = SECTOR) -> Event:
        return self.event(c.RequestAssigned(reference=self.reference, entity=entity,
                                            sector=sector, officer_ids=[ACTOR]), at)

    def distributed(self, at: datetime) -> Event:
        return self.event(c.RequestDistributed(reference=self.reference, entity=ENTITY,
                                               sector=SECTOR, officer_ids=[ACTOR],
                                               actor_id=ACTOR), at)

    def accepted(self, at: datetime, days: int = 5) -> Event:
        return self.event(c.RequestAccepted(reference=self.reference, classification="general",
                                            processing_working_days=days, actor_id=ACTOR), at)

    def refused(self, at: datetime) -> Event:
        return self.event(c.RequestJurisdictionRefused(
            reference=self.reference, from_entity=ENTITY, reason="not ours", transfer_count=0,
            actor_id=ACTOR), at)

    def transferred(self, at: datetime, to: str = OTHER_ENTITY, sector: str = OTHER_SECTOR,
                    count: int = 1) -> Event:
        return self.event(c.RequestTransferred(
            reference=self.reference, from_entity=ENTITY, to_entity=to, to_sector=sector,
            reason="theirs", transfer_count=count, actor_id=ACTOR), at)

    def info_requested(self, at: datetime) -> Event:
        return self.event(c.RequestInfoRequested(reference=self.reference,
                                                 question="which hospital?", actor_id=ACTOR), at)

    def info_provided(self, at: datetime) -> Event:
        return self.event(c.RequestInfoProvided(reference=self.reference, answer="the north one"),
                          at, producer="intake")

    def extended(self, at: datetime, number: int = 1, days: int = 2) -> Event:
        return self.event(c.RequestExtended(reference=self.reference, extension_number=number,
                                            added_working_days=days, reason="needs a visit",
                                            actor_id=ACTOR), at)

    def responded(self, at: datetime, round: int = 1) -> Event:
        return self.event(c.RequestResponded(reference=self.reference, actions_taken="visited",
                                             solution="fixed", actor_id=ACTOR, round=round), at)

    def rated(self, at: datetime, score: int = 4, round: int = 1) -> Event:
        return self.event(c.RequestRated(reference=self.reference, score=score, round=round),
                          at, producer="intake")

    def review_opened(self, at: datetime) -> Event:
        return self.event(c.RequestReviewOpened(reference=self.reference, entity=ENTITY,
                                                sector=SECTOR), at)

    def reopened(self, at: datetime) -> Event:
        return self.event(c.RequestReopened(reference=self.reference, entity=ENTITY,
                                            sector=SECTOR, decision="look again",
                                            actor_id=ACTOR), at)

    def closed(self, at: datetime) -> Event:
        return self.event(c.RequestClosed(reference=self.reference,
                                          closing_code=ClosingCode.resolved,
                                          closed_by=ClosedBy.requester), at)

    def rejected(self, at: datetime) -> Event:
        return self.event(c.RequestRejected(reference=self.reference,
                                            legal_ground=LegalGround.before_court,
                                            reason="in court", actor_id=ACTOR), at)


def role_changed(person: uuid.UUID, role: Role, at: datetime, *, granted: bool = True,
                 **scope: Any) -> Event:
    payload = c.DirectoryRoleChanged(person_id=person, role=role, granted=granted, **scope)
    envelope = new_envelope(payload, producer="routing", clock=FixedClock(at))
    return Event(envelope, payload)
