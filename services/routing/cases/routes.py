"""Case handling over HTTP: inboxes and queues, the case view, its timeline, and the actions.

Each action is one row of `ACTIONS`: its path segment, body, decision and the permission it
needs (OpenAPI shows it as `x-permission`). Actions answer the case as it now is, with its new
ETag; they take `If-Match` (412 when stale) and answer 409 to the loser of a race.

This module keeps runtime annotations (no `from __future__ import annotations`): the action
routes are built in a loop and FastAPI reads their parameter types from the function objects.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel

from services.routing.access import Staff, requires
from services.routing.cases import repository, schemas, service
from services.routing.cases.audit import verify
from services.routing.cases.policy import Action
from services.routing.cases.schemas import (
    CaseDetail,
    CaseSummary,
    ChainVerification,
    Cursor,
    InboxPage,
    Timeline,
    TimelineEntry,
)
from services.routing.cases.scope import visible
from services.routing.context import RoutingDep
from services.routing.models import Case
from services.routing.permissions import Permission
from shared.dependencies import SessionDep
from shared.errors import Problem, Text
from shared.events.vocabulary import EntityCode, RequestKind, RequestStatus

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



def _detail(case: Case, response: Response) -> CaseDetail:
    response.headers["ETag"] = service.etag(case)
    response.headers.update(_NO_STORE)
    return CaseDetail.full(case)


# --- reading ------------------------------------------------------------------------------------


async def _page(session: SessionDep, staff: Staff, *, statuses: list[RequestStatus],
                kinds: list[RequestKind], entity: str | None, overdue: bool | None,
                escalated: bool | None, cursor: str | None, limit: int) -> InboxPage:
    found = await repository.inbox(
        session, visible=visible(staff.principal), statuses=statuses, kinds=kinds,
        entity=entity, overdue=overdue, escalated=escalated,
        after=Cursor.decode(cursor) if cursor else None, limit=limit + 1,
    )
    items, more = found[:limit], len(found) > limit
    last = items[-1] if items else None
    return InboxPage(
        items=[CaseSummary.of(c) for c in items],
        next_cursor=Cursor(due_at=last.due_at, reference=last.reference).encode()
        if more and last else None,
    )


Limit = Annotated[int, Query(ge=1, le=100)]
CursorParam = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]


@router.get("/inbox", openapi_extra={"x-permission": Permission.read_cases.value})
async def inbox(
    staff: Annotated[Staff, requires(Permission.read_cases)], session: SessionDep,
    status: Annotated[list[RequestStatus], Query()] = [],  # noqa: B006 (FastAPI copies it)
    kind: Annotated[list[RequestKind], Query()] = [],  # noqa: B006
    entity: EntityCode | None = None, overdue: bool | None = None,
    escalated: bool | None = None, cursor: CursorParam = None, limit: Limit = 25,
) -> InboxPage:
    """The requests I hold or oversee, by deadline (open ones unless `status` says otherwise).

    Scope comes from my token: my sector, my entity, or what was distributed to me."""
    return await _page(session, staff, statuses=status, kinds=kind, entity=entity,
                       overdue=overdue, escalated=escalated, cursor=cursor, limit=limit)


@router.get("/inbox/triage", openapi_extra={"x-permission": Permission.triage.value})
async def triage_queue(staff: Annotated[Staff, requires(Permission.triage)],
                       session: SessionDep, cursor: CursorParam = None,
                       limit: Limit = 25) -> InboxPage:
    """The CMU's triage queue: requests with no entity, refused, or past the transfer limit."""
    return await _page(session, staff, statuses=[RequestStatus.triage], kinds=[], entity=None,
                       overdue=None, escalated=None, cursor=cursor, limit=limit)


@router.get("/inbox/review", openapi_extra={"x-permission": Permission.review.value})
async def review_queue(staff: Annotated[Staff, requires(Permission.review)],
                       session: SessionDep, cursor: CursorParam = None,
                       limit: Limit = 25) -> InboxPage:
    """The CMU's review queue: responses rated 1, to reopen or confirm."""
    return await _page(session, staff, statuses=[RequestStatus.under_review], kinds=[],
                       entity=None, overdue=None, escalated=None, cursor=cursor, limit=limit)


@router.get("/cases/{reference}", openapi_extra={"x-permission": Permission.read_cases.value})
async def read_case(reference: Reference, staff: Annotated[Staff, requires(Permission.read_cases)],
                    session: SessionDep, response: Response) -> CaseDetail:
    """The request in full, with its ETag (send it back as If-Match to act on it)."""
    return _detail(await service.load(session, staff, reference, expected=None), response)


@router.get("/cases/{reference}/timeline",
            openapi_extra={"x-permission": Permission.read_cases.value})
async def read_timeline(reference: Reference,
                        staff: Annotated[Staff, requires(Permission.read_cases)],
                        session: SessionDep, response: Response) -> Timeline:
    """Every step of the request: who, when, what, from which channel."""
    case = await service.load(session, staff, reference, expected=None)
    response.headers.update(_NO_STORE)
    entries = await repository.entries(session, case.reference)
    return Timeline(reference=case.reference, entries=[TimelineEntry.of(e) for e in entries])


@router.get("/cases/{reference}/timeline/verification",
            openapi_extra={"x-permission": Permission.verify_audit.value})
async def verify_timeline(reference: Reference,
                          staff: Annotated[Staff, requires(Permission.verify_audit)],
                          session: SessionDep) -> ChainVerification:
    """Recompute the hash chain: `intact`, or where it was tampered with."""
    case = await service.load(session, staff, reference, expected=None)
    entries = await repository.entries(session, case.reference)
    return ChainVerification.of(case.reference, verify(entries, head_seq=case.audit_seq,
                                                       head_hash=case.audit_head))


# --- acting ------------------------------------------------------------------------------------

Decide = Callable[..., Awaitable[Case]]

ACTIONS: tuple[tuple[Action, type[BaseModel], Decide, Permission, str], ...] = (
    (Action.accept, schemas.AcceptBody, service.accept, Permission.accept,
     "Accept jurisdiction: classify and set the processing time (→ in progress)."),
    (Action.refuse_jurisdiction, schemas.RefuseJurisdictionBody, service.refuse_jurisdiction,
     Permission.refuse_jurisdiction,
     "Not this entity's: with a reason, to the CMU's triage (never a way to close)."),
    (Action.distribute, schemas.DistributeBody, service.distribute, Permission.distribute,
     "Hand to the sub-liaison officers of an entity or department of the sector."),
    (Action.transfer, schemas.TransferBody, service.transfer, Permission.transfer,
     "Move to another entity (officers at most 3 times), or place a triaged request (CMU)."),
    (Action.ask_info, schemas.AskInfoBody, service.ask_info, Permission.ask_info,
     "Ask the requester for information; the clocks pause until they answer."),
    (Action.extend, schemas.ExtendBody, service.extend, Permission.extend,
     "Extend the deadline (at most twice), with a reason the requester sees."),
    (Action.respond, schemas.RespondBody, service.respond, Permission.respond,
     "Answer: actions taken and the solution (→ responded; the rating window opens)."),
    (Action.reject, schemas.RejectBody, service.reject, Permission.reject,
     "Inadmissible, on a legal ground (malicious: the CMU only)."),
    (Action.close, schemas.CloseBody, service.close, Permission.close,
     "Close with a closing code (resolved and partly resolved only after a response)."),
    (Action.merge, schemas.MergeBody, service.merge, Permission.merge,
     "Merge duplicates into this request: they close, and its response answers them all."),
    (Action.review_decision, schemas.ReviewDecisionBody, service.review_decision,
     Permission.review, "Decide a review (CMU): reopen to the same entity, or confirm closed."),
)


def _add_action(action: Action, body_type: type[BaseModel], decide: Decide,
                permission: Permission, summary: str) -> None:
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
        return _detail(case, response)

    extra: dict[str, Any] = {"x-permission": permission.value}
    router.add_api_route(
        f"/requests/{{reference}}/{action.value}", act, methods=["POST"], summary=summary,
        name=f"case_{action.name}", operation_id=f"case_{action.name}", openapi_extra=extra,
        response_model=CaseDetail,
    )


for _row in ACTIONS:
    _add_action(*_row)
