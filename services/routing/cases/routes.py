"""Case handling over HTTP: inboxes, their counters and queues, the search, the case view with
what the caller may do to it, similar requests, its timeline, the actions and comments.

Each action is one row of `ACTIONS`: its path segment, body and decision; the permission it
needs is the policy's (`PERMISSION`, shown in OpenAPI as `x-permission`). Actions answer the
case as it now is, with its new ETag; they take `If-Match` (412 when stale) and answer 409 to
the loser of a race. A comment creates a timeline entry and takes an `Idempotency-Key` too.

This module keeps runtime annotations (no `from __future__ import annotations`): the action
routes are built in a loop and FastAPI reads their parameter types from the function objects.
"""

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import AfterValidator, BaseModel

from services.routing.access import Staff, requires
from services.routing.cases import repository, schemas, service
from services.routing.cases.audit import verify
from services.routing.cases.policy import PERMISSION, Action
from services.routing.cases.repository import Filters
from services.routing.cases.schemas import (
    CaseDetail,
    CaseSummary,
    ChainVerification,
    CommentBody,
    Cursor,
    DistributionTarget,
    DistributionTargets,
    InboxCounters,
    InboxPage,
    SimilarCase,
    SimilarCases,
    SubOfficer,
    Timeline,
    TimelineEntry,
)
from services.routing.cases.scope import visible
from services.routing.cases.search import SearchTerms
from services.routing.context import RoutingDep
from services.routing.models import AuditEntry, Case
from services.routing.permissions import Permission
from shared.dependencies import IdempotencyKeyDep, SessionDep
from shared.errors import Problem, Text, field_error
from shared.events.vocabulary import (
    Channel,
    ClassificationCode,
    EntityCode,
    RequestKind,
    RequestStatus,
)

router = APIRouter(prefix="/api/v1", tags=["case handling"])

Reference = Annotated[str, Path(max_length=40, description="The request's reference number.")]
_NO_STORE = {"Cache-Control": "no-store"}


class BadIfMatch(Problem):
    status = 400
    code = "bad-if-match"
    title = Text("ترويسة If-Match غير صالحة", "Malformed If-Match header")


def expected_version(
    if_match: Annotated[str | None, Header(
        alias="If-Match", description='The ETag of the version you act on, e.g. "4".')] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/")
    if len(tag) < 3 or tag[0] != '"' or tag[-1] != '"' or not tag[1:-1].isdigit():
        raise BadIfMatch(Text('أرسل وسم نسخة واحداً، مثل "4".', 'Send one version tag, e.g. "4".'))
    return int(tag[1:-1])



def _detail(case: Case, staff: Staff, response: Response) -> CaseDetail:
    response.headers["ETag"] = service.etag(case)
    response.headers.update(_NO_STORE)
    return CaseDetail.full(case, service.actions(case, staff))


# --- reading ------------------------------------------------------------------------------------


def _page(found: Sequence[Any], limit: int, *, newest_first: bool = False) -> InboxPage:
    """A page of `limit` from `limit + 1` rows, its cursor at the last (by deadline, or by
    submission for the search)."""
    items, more = found[:limit], len(found) > limit
    last = items[-1] if items else None
    return InboxPage(
        items=[CaseSummary.of(c) for c in items],
        next_cursor=Cursor(at=last.submitted_at if newest_first else last.due_at,
                           reference=last.reference).encode() if more and last else None,
    )


def _searchable(typed: str | None) -> str | None:
    if typed is not None and SearchTerms.of(typed) is None:
        raise field_error("search_without_words", Text(
            "اكتب حرفاً أو رقماً واحداً على الأقل للبحث", "Type at least one letter or digit"))
    return typed


class DueWindow(StrEnum):
    overdue = "overdue"  # past its deadline
    today = "today"      # not overdue, due by the end of today (Amman)
    week = "week"        # not overdue, due by the end of the 7th day, today the first (Amman)


Limit = Annotated[int, Query(ge=1, le=100)]
CursorParam = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]
Statuses = Annotated[list[RequestStatus], Query(max_length=20)]
Kinds = Annotated[list[RequestKind], Query(max_length=20)]
SearchQuery = Annotated[str | None, Query(
    min_length=1, max_length=200, description=(
        "Words to find in the reference, subject, description and the requester's name; each "
        "typed word must begin a word there (Arabic spellings folded: tashkeel, tatweel, hamza "
        "forms, taa marbuta, alef maqsura, Arabic-Indic digits). From 6 characters, a reference "
        "also matches the references that begin with it.")), AfterValidator(_searchable)]
_Reader = Annotated[Staff, requires(Permission.read_cases)]
_READ = {"x-permission": Permission.read_cases.value}


@router.get("/inbox", openapi_extra=_READ)
async def inbox(
    staff: _Reader, session: SessionDep, routing: RoutingDep,
    status: Statuses = [],  # noqa: B006 (FastAPI copies it)
    kind: Kinds = [],  # noqa: B006
    entity: EntityCode | None = None,
    classification: Annotated[list[ClassificationCode], Query(max_length=20)] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query(max_length=10)] = [],  # noqa: B006
    escalation_level: Annotated[int | None, Query(
        ge=0, le=2, description="Exactly this level: 0 none, 1 the head, 2 the minister.")] = None,
    overdue: bool | None = None, escalated: bool | None = None,
    due: Annotated[DueWindow | None, Query(description=(
        "`overdue`; or not overdue and due by the end of `today`, or of the 7th day counting "
        "today (`week`), in Amman."))] = None,
    q: SearchQuery = None, cursor: CursorParam = None, limit: Limit = 25,
) -> InboxPage:
    """The requests I hold or oversee, by deadline (open ones unless `status` says otherwise).

    Scope comes from my token: my sector, my entity, or what was distributed to me."""
    now = routing.clock.now()
    filters = Filters(
        statuses=status, kinds=kind, entity=entity, classifications=classification,
        channels=channel, escalation_level=escalation_level, escalated=escalated,
        overdue=True if due is DueWindow.overdue else overdue,
        due_before={DueWindow.today: service.day_ends(now, 1),
                    DueWindow.week: service.day_ends(now, 7)}.get(due) if due else None,
        terms=SearchTerms.of(q) if q else None,
    )
    return await _inbox(session, staff, filters, cursor=cursor, limit=limit)


async def _inbox(session: SessionDep, staff: Staff, filters: Filters, *, cursor: str | None,
                 limit: int) -> InboxPage:
    found = await repository.inbox(session, visible=visible(staff.principal), filters=filters,
                                   after=Cursor.decode(cursor) if cursor else None,
                                   limit=limit + 1)
    return _page(found, limit)


@router.get("/inbox/counters", openapi_extra=_READ)
async def inbox_counters(staff: _Reader, session: SessionDep, routing: RoutingDep,
                         response: Response) -> InboxCounters:
    """How many of the open requests in my scope are new, due today, overdue, escalated,
    waiting for the requester: the same scope and words as `/inbox`'s filters."""
    response.headers.update(_NO_STORE)
    row = await repository.counters(session, visible=visible(staff.principal),
                                    today_ends=service.day_ends(routing.clock.now(), 1))
    return InboxCounters(**row._mapping)


@router.get("/inbox/triage", openapi_extra={"x-permission": Permission.triage.value})
async def triage_queue(staff: Annotated[Staff, requires(Permission.triage)],
                       session: SessionDep, cursor: CursorParam = None,
                       limit: Limit = 25) -> InboxPage:
    """The CMU's triage queue: requests with no entity, refused, or past the transfer limit."""
    return await _inbox(session, staff, Filters(statuses=[RequestStatus.triage]),
                        cursor=cursor, limit=limit)


@router.get("/inbox/review", openapi_extra={"x-permission": Permission.review.value})
async def review_queue(staff: Annotated[Staff, requires(Permission.review)],
                       session: SessionDep, cursor: CursorParam = None,
                       limit: Limit = 25) -> InboxPage:
    """The CMU's review queue: responses rated 1, to reopen or confirm."""
    return await _inbox(session, staff, Filters(statuses=[RequestStatus.under_review]),
                        cursor=cursor, limit=limit)


@router.get("/cases", openapi_extra=_READ)
async def search_cases(
    staff: _Reader, session: SessionDep, response: Response, q: SearchQuery = None,
    status: Statuses = [],  # noqa: B006
    kind: Kinds = [],  # noqa: B006
    entity: EntityCode | None = None, cursor: CursorParam = None, limit: Limit = 25,
) -> InboxPage:
    """Search the requests in my scope in every status, closed ones too, newest first (the CMU:
    all of government)."""
    response.headers.update(_NO_STORE)
    found = await repository.search(
        session, visible=visible(staff.principal),
        filters=Filters(statuses=status, kinds=kind, entity=entity,
                        terms=SearchTerms.of(q) if q else None),
        after=Cursor.decode(cursor) if cursor else None, limit=limit + 1)
    return _page(found, limit, newest_first=True)


@router.get("/cases/{reference}", openapi_extra=_READ)
async def read_case(reference: Reference, staff: _Reader, session: SessionDep,
                    response: Response) -> CaseDetail:
    """The request in full, with its ETag (send it back as If-Match to act on it) and the
    actions I may take on it now."""
    return _detail(await service.load(session, staff, reference, expected=None), staff,
                   response)


@router.get("/cases/{reference}/similar", openapi_extra=_READ)
async def similar_cases(reference: Reference, staff: _Reader, session: SessionDep,
                        response: Response) -> SimilarCases:
    """Up to 5 open requests in my scope at the same entity whose subject shares words with
    this one's, the most alike first: duplicates to merge, perhaps."""
    response.headers.update(_NO_STORE)
    found = await service.similar(session, staff, reference)
    return SimilarCases(reference=reference, items=[
        SimilarCase(**CaseSummary.of(row).model_dump(), similarity=round(score, 3))
        for row, score in found])


@router.get("/cases/{reference}/distribution-targets", openapi_extra=_READ)
async def distribution_targets(reference: Reference, staff: _Reader, session: SessionDep,
                               response: Response) -> DistributionTargets:
    """The entities of this request's sector I may distribute it to, each with its sub-liaison
    officers, for the distribute action's choices."""
    response.headers.update(_NO_STORE)
    found = await service.distribution_targets(session, staff, reference)
    return DistributionTargets(reference=reference, items=[
        DistributionTarget(entity=code, officers=[SubOfficer(id=i, full_name=name)
                                                  for i, name in officers])
        for code, officers in found])


def _verification(case: Case, entries: Sequence[AuditEntry]) -> ChainVerification:
    return ChainVerification.of(case.reference, verify(entries, head_seq=case.audit_seq,
                                                       head_hash=case.audit_head))


@router.get("/cases/{reference}/timeline", openapi_extra=_READ)
async def read_timeline(reference: Reference, staff: _Reader, session: SessionDep,
                        response: Response) -> Timeline:
    """Every step of the request: who, when, what, from which channel; and whether its hash
    chain holds (the badge for whoever reads it)."""
    case = await service.load(session, staff, reference, expected=None)
    response.headers.update(_NO_STORE)
    entries = await repository.entries(session, case.reference)
    return Timeline(reference=case.reference, entries=[TimelineEntry.of(e) for e in entries],
                    verification=_verification(case, entries))


@router.get("/cases/{reference}/timeline/verification",
            openapi_extra={"x-permission": Permission.verify_audit.value})
async def verify_timeline(reference: Reference,
                          staff: Annotated[Staff, requires(Permission.verify_audit)],
                          session: SessionDep) -> ChainVerification:
    """Recompute the hash chain: `intact`, or where it was tampered with."""
    case = await service.load(session, staff, reference, expected=None)
    return _verification(case, await repository.entries(session, case.reference))


# --- acting ------------------------------------------------------------------------------------

Decide = Callable[..., Awaitable[Case]]

ACTIONS: tuple[tuple[Action, type[BaseModel], Decide, str], ...] = (
    (Action.accept, schemas.AcceptBody, service.accept,
     "Accept jurisdiction: classify and set the processing time (→ in progress)."),
    (Action.refuse_jurisdiction, schemas.RefuseJurisdictionBody, service.refuse_jurisdiction,
     "Not this entity's: with a reason, to the CMU's triage (never a way to close)."),
    (Action.distribute, schemas.DistributeBody, service.distribute,
     "Hand to the sub-liaison officers of an entity or department of the sector."),
    (Action.transfer, schemas.TransferBody, service.transfer,
     "Move to another entity (officers at most 3 times), or place a triaged request (CMU)."),
    (Action.ask_info, schemas.AskInfoBody, service.ask_info,
     "Ask the requester for information; the clocks pause until they answer."),
    (Action.extend, schemas.ExtendBody, service.extend,
     "Extend the deadline (at most twice), with a reason the requester sees."),
    (Action.respond, schemas.RespondBody, service.respond,
     "Answer: actions taken and the solution (→ responded; the rating window opens)."),
    (Action.reject, schemas.RejectBody, service.reject,
     "Inadmissible, on a legal ground (malicious: the CMU only)."),
    (Action.close, schemas.CloseBody, service.close,
     "Close with a closing code (resolved and partly resolved only after a response)."),
    (Action.merge, schemas.MergeBody, service.merge,
     "Merge duplicates into this request: they close, and its response answers them all."),
    (Action.review_decision, schemas.ReviewDecisionBody, service.review_decision,
     "Decide a review (CMU): reopen to the same entity, or confirm closed."),
)


def _add_action(action: Action, body_type: type[BaseModel], decide: Decide,
                summary: str) -> None:
    permission = PERMISSION[action]

    async def act(
        reference: Reference,
        body: body_type,  # type: ignore[valid-type]
        staff: Annotated[Staff, requires(permission)],
        session: SessionDep,
        routing: RoutingDep,
        response: Response,
        if_match: Annotated[str | None, Header(
            alias="If-Match", description='The ETag you act on, e.g. "4".')] = None,
    ) -> CaseDetail:
        case = await decide(session, outbox=routing.outbox, at=routing.clock.now(),
                            staff=staff, reference=reference,
                            expected=expected_version(if_match), body=body)
        return _detail(case, staff, response)

    extra: dict[str, Any] = {"x-permission": permission.value}
    router.add_api_route(
        f"/requests/{{reference}}/{action.value}", act, methods=["POST"], summary=summary,
        name=f"case_{action.name}", operation_id=f"case_{action.name}", openapi_extra=extra,
        response_model=CaseDetail,
    )


for _row in ACTIONS:
    _add_action(*_row)


@router.post("/requests/{reference}/comment", status_code=201, response_model=CaseDetail,
             openapi_extra={"x-permission": PERMISSION[Action.comment].value},
             operation_id="case_comment")
async def comment(
    reference: Reference, body: CommentBody,
    staff: Annotated[Staff, requires(PERMISSION[Action.comment])], session: SessionDep,
    routing: RoutingDep, response: Response, idempotency: IdempotencyKeyDep,
    if_match: Annotated[str | None, Header(
        alias="If-Match", description='The ETag you comment on, e.g. "4".')] = None,
) -> CaseDetail:
    """A comment for the record on the request's timeline (heads, ministers, the CMU, main
    officers): no status changes and the requester is not told."""
    expected = expected_version(if_match)

    async def leave() -> CaseDetail:
        case = await service.comment(session, outbox=routing.outbox, at=routing.clock.now(),
                                     staff=staff, reference=reference, expected=expected,
                                     body=body)
        return _detail(case, staff, response)

    return await idempotency.once(session, owner=str(staff.person_id), request=body,
                                  response=response, result_type=CaseDetail, create=leave)
