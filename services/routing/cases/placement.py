"""Placing submitted requests: each goes to its sector's main liaison officers, or to the CMU.

- a known, current entity whose sector has active main liaison officers: `assigned` to them
  (`request.assigned`: notify tells them by SMS and email);
- no entity, or one the directory does not know (or has retired): `triage` (`no_entity`);
- an entity whose sector has no active main liaison officer: `triage` (`no_liaison_officer`).

Praise is placed the same way (see `policy`). The timeline starts with two entries: received
(by the requester, or the agent or clerk who keyed it in, on its channel) and the placement.
Each case is indexed for the staff's search as it is inserted (`search.case_keys`: the
requester's name goes there and nowhere else).

A whole batch of events is placed with a few statements: one directory lookup, one INSERT of
the cases (a reference already there is skipped, so a re-submitted event changes nothing),
one of their timelines, and their events. This is the path that must keep up with the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.cases import audit, repository
from services.routing.cases.audit import Actor
from services.routing.cases.policy import OFFICERS_TOLD
from services.routing.cases.search import case_keys
from services.routing.directory import repository as directory
from services.routing.models import Entity
from shared.bus import Received
from shared.events.catalog import RequestAssigned, RequestSubmitted, RequestTriaged, TriageReason
from shared.events.envelope import EventPayload
from shared.events.vocabulary import RequestStatus, Role


async def place_submitted(session: AsyncSession,
                          events: Sequence[Received[RequestSubmitted]]) -> None:
    """Place every new submission of the run (a reference already placed is skipped).

    Each request is received at its own submission's instant; the run is placed at one
    instant, the latest of them (its events and timeline entries say so)."""
    if not events:
        return
    latest = max(events, key=lambda e: e.at)
    placed_at = latest.at
    submissions = [(e.at, e.payload) for e in events]
    entities = {
        code: entity
        for code, entity in (await directory.entities_by_code(
            session, {s.entity for _, s in submissions if s.entity})).items()
        if entity.retired_at is None
    }
    officers = await directory.officers(
        session, Role.main_liaison_officer,
        sector_codes={e.sector_code for e in entities.values()})

    cases: list[dict[str, Any]] = []
    timelines: dict[str, list[dict[str, Any]]] = {}
    announcements: dict[str, EventPayload] = {}
    for at, submitted in submissions:
        entity = entities.get(submitted.entity) if submitted.entity else None
        holders = officers.get(entity.sector_code, [])[:OFFICERS_TOLD] if entity else []
        announcement = _placement(submitted, entity, holders)
        status = (RequestStatus.assigned if isinstance(announcement, RequestAssigned)
                  else RequestStatus.triage)
        received = audit.entry_row(
            reference=submitted.reference, seq=1, prev_hash=audit.GENESIS, at=at,
            actor=Actor(id=submitted.submitted_by or submitted.requester_id,
                        role=Role.citizen.value if submitted.submitted_by is None
                        else "staff", channel=submitted.channel.value),
            action="received", from_status=None, to_status=RequestStatus.received.value,
            details={"kind": submitted.kind.value, "entity": submitted.entity,
                     "subject": submitted.subject},
        )
        placed = audit.entry_row(
            reference=submitted.reference, seq=2, prev_hash=received["hash"], at=placed_at,
            actor=audit.PLATFORM, action=status.value,
            from_status=RequestStatus.received.value, to_status=status.value,
            details=announcement.model_dump(mode="json", exclude={"reference"}),
        )
        timelines[submitted.reference] = [received, placed]
        announcements[submitted.reference] = announcement
        cases.append({
            "reference": submitted.reference, "kind": submitted.kind, "status": status,
            "channel": submitted.channel, "requested_entity": submitted.entity,
            "entity_code": entity.code if entity else None,
            "sector_code": entity.sector_code if entity else None, "distributed_to": None,
            "officer_ids": [str(o) for o in holders], "governorate": submitted.governorate,
            "subject": submitted.subject, "description": submitted.description,
            "attachment_ids": [str(a) for a in submitted.attachment_ids],
            "requester_id": submitted.requester_id, "submitted_by": submitted.submitted_by,
            "submitted_at": submitted.submitted_at, "placed_at": placed_at, "extensions": 0,
            "transfer_count": 0, "answer_round": 0, "escalation_level": 0, "updated_at": placed_at,
            "audit_seq": placed["seq"], "audit_head": placed["hash"],
            **case_keys(reference=submitted.reference, subject=submitted.subject,
                        description=submitted.description,
                        requester_name=submitted.requester_name),
        })

    new = sorted(await repository.insert_new_cases(session, cases))
    await repository.add_entries(session, [row for ref in new for row in timelines[ref]])
    await latest.outbox.add_each(session, [(announcements[ref], ref) for ref in new])


def _placement(submitted: RequestSubmitted, entity: Entity | None,
               holders: list[Any]) -> EventPayload:
    if entity is None:
        return RequestTriaged(reference=submitted.reference, reason=TriageReason.no_entity)
    if not holders:
        return RequestTriaged(reference=submitted.reference,
                              reason=TriageReason.no_liaison_officer)
    return RequestAssigned(reference=submitted.reference, entity=entity.code,
                           sector=entity.sector_code, officer_ids=holders)
