"""From events to the read model: facts, the request projection and the rollup increments.

An event becomes a `Fact`: its type, when it happened, the request it is about and only the
fields analytics uses (no free text, no person identifiers: `DROPPED_FIELDS`). Facts are kept in
`event_log`, so replaying them rebuilds everything; the live consumer and the rebuild both go
through `Projector.apply`, the one place where the rules of the read model live:

- the request's row changes as its lifecycle says (status, entity, milestones, durations);
- each change adds counters (`services.analytics.measures.COUNTERS`) to the rollup rows of the
  request's dimensions at that hour and day; an open request's place among the open ones
  (`open_counts`, `open_by_day`) moves with its status and entity;
- a request counts once however many rounds it has: its first answer, its one deadline
  verdict (`_judge`), the first time it reaches each escalation level, its first reopening, and
  its latest rating (a new round's rating takes the earlier one back from where it was counted).

A `Projector` works in memory on the rows it was given; `repository.flush` writes the result.
It must never read or write the database itself, nor look at the wall clock.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

from services.analytics.measures import (
    Tally,
    closing_counter,
    duration_bucket,
    first_response_counter,
    rating_counter,
    resolution_counter,
)
from services.analytics.worktime import amman_day, calendar_of
from shared.bus import ReceivedEvent
from shared.calendar import WorkingCalendar
from shared.events.catalog import EventType
from shared.events.envelope import REGISTRY, EventPayload
from shared.events.vocabulary import ClockKind, RequestStatus, SlaStage

DROPPED_FIELDS: Final = frozenset({
    # Free text: may hold anything a person wrote.
    "subject", "description", "answer", "question", "reason", "actions_taken", "solution",
    "comment", "decision",
    # Who: analytics counts requests, never people.
    "requester_id", "requester_name", "submitted_by", "actor_id", "officer_ids",
    "recipient_ids", "assigned_by", "attachment_ids", "notice_channel", "language",
})

CONSUMED: Final[tuple[type[EventPayload], ...]] = tuple(
    payload for payload in REGISTRY.values()
    if payload.event_type.split(".")[0] in ("request", "sla", "notification", "report",
                                            "directory")
    and payload.event_type not in (EventType.report_sealed, EventType.report_cannot_be_opened,
                                   EventType.directory_person_changed,
                                   EventType.directory_role_changed)
)
"""What analytics listens to: the lifecycle, SLA, notifications, report counts and names.

Not `citizen.*` (contact points are notify's), nor `report.sealed` (ciphertext is integrity's),
nor `report.cannot_be_opened` (its report is counted as forwarded already), nor people and
roles in the directory."""

OPEN_STATUSES: Final = frozenset(s.value for s in RequestStatus) - {
    RequestStatus.closed.value, RequestStatus.rejected.value
}
_FIRST_RESPONSE_STAGES: Final = frozenset({SlaStage.first_response.value,
                                           SlaStage.processing.value})


class RequestNotYetKnown(Exception):
    """An event about a request whose `request.submitted` has not arrived yet: retried later."""


@dataclass(frozen=True, slots=True)
class Fact:
    event_id: UUID
    type: str
    occurred_at: datetime
    reference: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: ReceivedEvent) -> Fact:
        data = event.payload.model_dump(mode="json", exclude=set(DROPPED_FIELDS))
        return cls(
            event_id=event.envelope.id,
            type=event.envelope.type,
            occurred_at=event.envelope.occurred_at,
            reference=data.get("reference"),
            data=data,
        )

    def instant(self, name: str) -> datetime:
        return datetime.fromisoformat(self.data[name])


StockKey = tuple[str, str, str, str, str, str, date]
"""(sector, entity, governorate, kind, channel, status, day of receipt) of an open request."""


@dataclass(slots=True)
class RequestRow:
    """One row of `requests` (same names as its columns)."""

    reference: str
    kind: str
    channel: str
    entity: str | None
    sector: str | None
    governorate: str | None
    city: str | None
    status: str
    submitted_at: datetime
    submitted_day: date
    closing_code: str | None = None
    legal_ground: str | None = None
    first_response_at: datetime | None = None
    responded_at: datetime | None = None
    closed_at: datetime | None = None
    due_at: datetime | None = None
    rating: int | None = None
    # Where and when the latest rating was counted, to take it back when a new round is rated.
    rated_at: datetime | None = None
    rated_sector: str | None = None
    rated_entity: str | None = None
    transfers: int = 0
    escalation_level: int = 0
    reopened: int = 0
    chased: int = 0
    breached: bool = False  # the holding entity missed its deadline (reset by a transfer)
    on_time: bool | None = None  # the request's one deadline verdict; None until judged
    paused_since: datetime | None = None
    paused_s: float = 0.0
    first_response_wd: float | None = None
    resolution_wd: float | None = None

    @classmethod
    def from_mapping(cls, row: Any) -> RequestRow:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def stock_key(self) -> StockKey | None:
        """Where this request counts among the open ones; None once closed or rejected."""
        if self.status not in OPEN_STATUSES:
            return None
        return (self.sector or "", self.entity or "", self.governorate or "", self.kind,
                self.channel, self.status, self.submitted_day)


CubeKey = tuple[object, ...]


@dataclass
class Changes:
    """What a batch of facts did, ready for `repository.flush`."""

    rows: dict[str, RequestRow] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    # (cube name, key) -> increments; keys are (grain, *dimensions) in the cube's column order.
    cubes: dict[tuple[str, CubeKey], Tally] = field(default_factory=lambda: defaultdict(Tally))
    # Open requests gained (+) and lost (−) per StockKey: `open_counts` and `open_by_day`.
    open_requests: dict[StockKey, int] = field(default_factory=lambda: defaultdict(int))
    notifications: dict[tuple[date, str], Tally] = field(
        default_factory=lambda: defaultdict(Tally))
    integrity: dict[date, Tally] = field(default_factory=lambda: defaultdict(Tally))
    sectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, Any] | None = None  # the newest `sla.rules_changed` seen, when newer
    events_applied: int = 0
    last_event_at: datetime | None = None


def hour_of(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Projector:
    """Applies facts to the request rows it holds; `parents` maps a department to its entity."""

    def __init__(self, rows: dict[str, RequestRow], *, parents: dict[str, str],
                 rules: dict[str, Any] | None) -> None:
        self.changes = Changes(rows=rows)
        self.parents = parents
        self.revision = int(rules["revision"]) if rules else 0
        self.calendar: WorkingCalendar = calendar_of(rules)

    def apply(self, facts: Iterable[Fact]) -> Changes:
        for fact in facts:
            self._apply(fact)
            self.changes.events_applied += 1
            last = self.changes.last_event_at
            if last is None or fact.occurred_at > last:
                self.changes.last_event_at = fact.occurred_at
        return self.changes

    # --- dispatch ------------------------------------------------------------------------------

    def _apply(self, fact: Fact) -> None:
        kind = fact.type.split(".")[0]
        if fact.type == EventType.request_submitted:
            self._submitted(fact)
        elif fact.type == EventType.sla_rules_changed:
            if fact.data["revision"] > self.revision:  # the highest revision wins
                self.revision = fact.data["revision"]
                self.calendar = calendar_of(fact.data)
                self.changes.rules = fact.data
        elif kind in ("request", "sla"):
            self._about_request(fact)
        elif kind == "notification":
            day = amman_day(fact.occurred_at)
            sent = fact.type == EventType.notification_sent
            self.changes.notifications[(day, fact.data["channel"])].add(
                {"sent" if sent else "failed": 1})
        elif kind == "report":
            column = "forwarded" if fact.type == EventType.report_forwarded else "acknowledged"
            self.changes.integrity[amman_day(fact.occurred_at)].add({column: 1})
        elif fact.type == EventType.directory_sector_changed:
            self.changes.sectors[fact.data["sector"]] = {
                "code": fact.data["sector"], "name_ar": fact.data["name_ar"],
                "name_en": fact.data["name_en"], "retired": fact.data["change"] == "retired",
            }
        elif fact.type == EventType.directory_entity_changed:
            entity = fact.data["entity"]
            if fact.data.get("parent"):
                self.parents[entity] = fact.data["parent"]
            self.changes.entities[entity] = {
                "code": entity, "sector": fact.data["sector"], "parent": fact.data.get("parent"),
                "name_ar": fact.data["name_ar"], "name_en": fact.data["name_en"],
                "retired": fact.data["change"] == "retired",
            }

    def _entity(self, code: str | None) -> str | None:
        """Departments count under their entity: heads and ministers see entities."""
        seen = set()
        while code is not None and code in self.parents and code not in seen:
            seen.add(code)
            code = self.parents[code]
        return code

    def _submitted(self, fact: Fact) -> None:
        data = fact.data
        reference = data["reference"]
        if reference in self.changes.rows:
            return  # the same request announced twice (a re-published event): counted once
        submitted_at = fact.instant("submitted_at")
        row = RequestRow(
            reference=reference, kind=data["kind"], channel=data["channel"],
            entity=self._entity(data.get("entity")), sector=data.get("sector"),
            governorate=data.get("governorate"), city=_city(data.get("city")),
            status=RequestStatus.received.value, submitted_at=submitted_at,
            submitted_day=amman_day(submitted_at),
        )
        self.changes.rows[reference] = row
        self.changes.touched.add(reference)
        self._count(row, submitted_at, received=1)
        self._move_stock(None, row.stock_key())

    def _about_request(self, fact: Fact) -> None:
        row = self.changes.rows.get(fact.reference or "")
        if row is None:
            raise RequestNotYetKnown(f"{fact.type} before request.submitted")
        before = row.stock_key()
        handler = _REQUEST_HANDLERS.get(fact.type)
        if handler is not None:
            handler(self, row, fact, fact.occurred_at)
        self.changes.touched.add(row.reference)
        self._move_stock(before, row.stock_key())

    # --- bookkeeping ---------------------------------------------------------------------------

    def _count(self, row: RequestRow, at: datetime, **counters: int) -> None:
        """Add counters to the rollups of the request's dimensions at `at`, against its entity."""
        self._count_for((row.sector, row.entity), row, at, Tally(counters))

    def _count_for(self, holder: tuple[str | None, str | None], row: RequestRow, at: datetime,
                   tally: Tally) -> None:
        """The same against `holder` (sector, entity): where an earlier count was made."""
        sector, entity = holder[0] or "", holder[1] or ""
        governorate = row.governorate or ""
        day = amman_day(at)
        cubes = self.changes.cubes
        cubes[("rollup_hour_entity", (hour_of(at), sector, entity))].add(tally)
        cubes[("rollup_day_entity", (day, sector, entity))].add(tally)
        cubes[("rollup_day_geo", (day, sector, governorate))].add(tally)
        cubes[("rollup_day_full", (day, sector, entity, governorate, row.kind, row.channel))
              ].add(tally)

    def _move_stock(self, before: StockKey | None, after: StockKey | None) -> None:
        if before == after:
            return
        if before is not None:
            self.changes.open_requests[before] -= 1
        if after is not None:
            self.changes.open_requests[after] += 1

    def _working_days(self, row: RequestRow, until: datetime) -> float:
        """From receipt to `until`, in working days, without the time paused for information."""
        paused = row.paused_s
        if row.paused_since is not None:
            paused += self._working_seconds(row.paused_since, until)
        seconds = self._working_seconds(row.submitted_at, until) - paused
        return max(seconds, 0.0) / self.calendar.day_length.total_seconds()

    def _working_seconds(self, start: datetime, end: datetime) -> float:
        return max(self.calendar.working_time_between(start, end).total_seconds(), 0.0)

    def _first_response(self, row: RequestRow, at: datetime) -> None:
        if row.first_response_at is not None:
            return
        row.first_response_at = at
        row.first_response_wd = self._working_days(row, at)
        self._count(row, at, first_responded=1,
                    **{first_response_counter(duration_bucket(row.first_response_wd)): 1})

    def _answer(self, row: RequestRow, at: datetime) -> None:
        """The entity answers the requester (a response or a reasoned rejection): the first
        answer counts the request as answered and gives its verdict if none was given yet."""
        if row.responded_at is None and row.status != RequestStatus.rejected.value:
            self._count(row, at, answered=1)
        self._judge(row, at, on_time=not row.breached and (row.due_at is None
                                                           or at <= row.due_at))

    def _judge(self, row: RequestRow, at: datetime, *, on_time: bool) -> None:
        """The request's one verdict on its deadline, for or against the entity holding it:
        its first answer, or its first missed deadline when that comes before any answer."""
        if row.on_time is not None:
            return
        row.on_time = on_time
        self._count(row, at, **{"deadline_met" if on_time else "deadline_missed": 1})

    def _place(self, row: RequestRow, entity: str, sector: str, at: datetime) -> None:
        """The request is with `entity` now; its first entity also takes over its receipt."""
        if row.entity is None:
            # Counted as received with no entity (CMU triage) on its day: that receipt is the
            # entity's now, on the same day, so national totals stay the same.
            self._count(row, row.submitted_at, received=-1)
            row.entity, row.sector = self._entity(entity), sector
            self._count(row, row.submitted_at, received=1)
        else:
            row.entity, row.sector = self._entity(entity), sector

    # --- one rule per event type ---------------------------------------------------------------

    def _triaged(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        row.status = RequestStatus.triage.value

    def _assigned(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._place(row, fact.data["entity"], fact.data["sector"], at)
        row.status = RequestStatus.assigned.value

    def _accepted(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._first_response(row, at)
        row.status = RequestStatus.in_progress.value

    def _jurisdiction_refused(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._first_response(row, at)
        row.transfers = fact.data["transfer_count"]
        row.status = RequestStatus.triage.value

    def _transferred(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        if row.entity is not None:
            self._count(row, at, transferred=1)  # against the entity that passed it on
        self._place(row, fact.data["to_entity"], fact.data["to_sector"], at)
        row.transfers = fact.data["transfer_count"]
        row.status = RequestStatus.assigned.value
        # A new entity clock: its deadlines and breaches are its own (the verdict, once given,
        # stays: a request is judged once).
        row.breached, row.due_at = False, None

    def _info_requested(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._first_response(row, at)
        row.status = RequestStatus.awaiting_information.value
        if row.paused_since is None:
            row.paused_since = at

    def _info_provided(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        if row.paused_since is not None:
            row.paused_s += self._working_seconds(row.paused_since, at)
            row.paused_since = None
        row.status = RequestStatus.in_progress.value

    def _responded(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._first_response(row, at)
        self._answer(row, at)
        row.responded_at = at
        row.status = RequestStatus.responded.value

    def _rated(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        """Each answer round is rated on its own; the request counts by its latest rating."""
        if row.rating is not None and row.rated_at is not None:
            if at < row.rated_at:
                return  # an earlier round's rating, delivered late: the latest one stands
            self._count_for((row.rated_sector, row.rated_entity), row, row.rated_at,
                            Tally({"rated": -1, rating_counter(row.rating): -1}))
        row.rating, row.rated_at = fact.data["score"], at
        row.rated_sector, row.rated_entity = row.sector, row.entity
        self._count(row, at, rated=1, **{rating_counter(row.rating): 1})

    def _review_opened(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        row.status = RequestStatus.under_review.value

    def _reopened(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._place(row, fact.data["entity"], fact.data["sector"], at)
        if not row.reopened:
            self._count(row, at, reopened=1)  # requests reopened, once each
        row.reopened += 1
        row.status = RequestStatus.in_progress.value
        row.closing_code, row.closed_at, row.resolution_wd = None, None, None

    def _chased(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        if not row.chased:
            self._count(row, at, chased=1)  # requests chased, once each
        row.chased += 1

    def _closed(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        if row.status in (RequestStatus.closed.value, RequestStatus.rejected.value):
            return  # closing a closed request changes nothing
        row.resolution_wd = self._working_days(row, at)
        row.paused_since = None
        row.status, row.closing_code, row.closed_at = (
            RequestStatus.closed.value, fact.data["closing_code"], at)
        self._count(row, at, closed=1, **{
            closing_counter(row.closing_code): 1,
            resolution_counter(duration_bucket(row.resolution_wd)): 1,
        })

    def _rejected(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        self._first_response(row, at)
        self._answer(row, at)  # a reasoned refusal answers the requester
        row.status, row.legal_ground, row.closed_at = (
            RequestStatus.rejected.value, fact.data["legal_ground"], at)
        self._count(row, at, inadmissible=1)

    def _deadline_set(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        if (fact.data["clock"] == ClockKind.entity.value
                and fact.data["stage"] in _FIRST_RESPONSE_STAGES):
            row.due_at = fact.instant("due_at")

    def _escalated(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        """Requests reaching a level, once each (the minister's level implies the head's)."""
        level = int(fact.data["level"])
        reached = range(row.escalation_level + 1, level + 1)
        if reached:
            self._count(row, at, **{f"escalated_{n}": 1 for n in reached})
            row.escalation_level = level

    def _breached(self, row: RequestRow, fact: Fact, at: datetime) -> None:
        """The holding entity missed its first-response or processing deadline: a breach, and
        the request's verdict when it has none yet (overdue with no answer counts against)."""
        if (fact.data["clock"] != ClockKind.entity.value
                or fact.data["stage"] not in _FIRST_RESPONSE_STAGES):
            return
        if not row.breached:
            row.breached = True
            self._count(row, at, breached=1)
        self._judge(row, at, on_time=False)


def _city(value: str | None) -> str | None:
    """One spelling per city however it was typed: inner runs of spaces collapsed."""
    if not value:
        return None
    return " ".join(value.split())[:200]


_Rule = Callable[[Projector, RequestRow, Fact, datetime], None]
_REQUEST_HANDLERS: Final[dict[str, _Rule]] = {
    EventType.request_triaged: Projector._triaged,
    EventType.request_assigned: Projector._assigned,
    EventType.request_distributed: Projector._assigned,
    EventType.request_accepted: Projector._accepted,
    EventType.request_jurisdiction_refused: Projector._jurisdiction_refused,
    EventType.request_transferred: Projector._transferred,
    EventType.request_info_requested: Projector._info_requested,
    EventType.request_info_provided: Projector._info_provided,
    EventType.request_responded: Projector._responded,
    EventType.request_rated: Projector._rated,
    EventType.request_review_opened: Projector._review_opened,
    EventType.request_reopened: Projector._reopened,
    EventType.request_chased: Projector._chased,
    EventType.request_closed: Projector._closed,
    EventType.request_rejected: Projector._rejected,
    EventType.sla_deadline_set: Projector._deadline_set,
    EventType.sla_escalated: Projector._escalated,
    EventType.sla_breached: Projector._breached,
}
"""Request and SLA events that change the read model; the others (an extension, an expired
rating window) are logged and counted as applied but change nothing here."""
