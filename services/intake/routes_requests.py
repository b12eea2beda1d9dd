"""Routes of requests: submit, follow (also by reference and tracking code), rate (also by a
one-tap link), answer, attachments, and the call center's identity checks and look-ups.

Parse, call `services.intake.submissions` (or `attachments`), return. Creating POSTs take an
Idempotency-Key scoped to the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from fastapi.responses import RedirectResponse

from services.intake import attachments, chasing, submissions
from services.intake.context import (
    CallCenterAgentDep,
    CitizenDep,
    ClientAddressDep,
    IntakeDep,
    RequesterDep,
)
from services.intake.schemas import (
    AttachmentStored,
    CallerCheck,
    CallerCheckCreate,
    CallerLookup,
    ChaseCreate,
    ChaseRecorded,
    InformationCreate,
    InformationRecorded,
    RatingCreate,
    RatingLinkState,
    RatingRecorded,
    RequestCreate,
    RequestList,
    RequestReceipt,
    RequestView,
    TrackedChaseCreate,
    TrackedRequest,
    TrackingQuery,
)
from shared.auth import Principal, Role
from shared.dependencies import ClockDep, IdempotencyKeyDep, OutboxDep, PrincipalDep, SessionDep
from shared.errors import NotFound
from shared.links import InvalidLink

router = APIRouter(prefix="/api/v1", tags=["requests"])

RATE_PURPOSE = "rate"


@router.post("/requests", status_code=status.HTTP_201_CREATED)
async def submit(
    body: RequestCreate, intake: IntakeDep, principal: RequesterDep,
    idempotency: IdempotencyKeyDep, response: Response,
) -> RequestReceipt:
    """Submit a complaint, suggestion, inquiry or praise: the reference number at once.

    Citizens submit for themselves; call-center agents name the caller's identity check;
    complaint-box clerks give the paper form's requester. With open similar requests to the
    same entity the answer is 409 listing them; send again with `confirm_despite_similar`.
    """
    return await submissions.submit(intake, principal=principal, body=body,
                                    idempotency=idempotency, response=response)


@router.get("/requests")
async def list_requests(
    session: SessionDep, principal: RequesterDep,
    before: Annotated[datetime | None, Query(description="From a page's `next_before`.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = submissions.PAGE_SIZE,
) -> RequestList:
    """One's own requests, newest first (agents and clerks: those they keyed in)."""
    return await submissions.list_requests(session, principal=principal, before=before,
                                           limit=limit)


@router.get("/requests/{reference}")
async def view_request(
    reference: str, session: SessionDep, intake: IntakeDep, principal: PrincipalDep
) -> RequestView:
    """Where one's own request stands, in plain words, with its timeline and deadlines."""
    return await submissions.view(session, intake, principal=principal, reference=reference)


@router.post("/tracking")
async def track(body: TrackingQuery, session: SessionDep, intake: IntakeDep,
                address: ClientAddressDep) -> TrackedRequest:
    """Where a request stands and its answer, opened by its reference and tracking code (on
    the receipt and in the acknowledgement): for requesters without an account, such as paper,
    complaint-box and phone ones. A wrong code is a 404, as an unknown reference is; tries are
    limited per address and per reference (429)."""
    return await submissions.track(session, intake, query=body, address=address)


@router.post("/tracking/chase", status_code=status.HTTP_201_CREATED)
async def chase_tracked(
    body: TrackedChaseCreate, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    address: ClientAddressDep, idempotency: IdempotencyKeyDep, response: Response,
) -> ChaseRecorded:
    """Chase a request opened by its reference and tracking code (see `POST /requests/
    {reference}/chase`): the code is checked, and each try counted, as for `POST /tracking`."""
    request = await submissions.tracked_request(session, intake, query=body, address=address)
    return await chasing.chase_once(session, outbox, intake, idempotency, response,
                                    owner=f"tracking:{request.reference}", request=request,
                                    body=body)


@router.post("/requests/{reference}/chase", status_code=status.HTTP_201_CREATED)
async def chase(
    reference: str, body: ChaseCreate, session: SessionDep, outbox: OutboxDep,
    intake: IntakeDep, principal: CitizenDep, idempotency: IdempotencyKeyDep,
    response: Response,
) -> ChaseRecorded:
    """Chase one's own request (تذكير) once a deadline promised to you has passed: its officer
    and the entity's head are told, with your note. Once per working day; 409 `chase-refused`
    says when it opens (`opens_at`) or when the next is allowed (`next_at`)."""
    request = await submissions.own_request(session, principal=principal, reference=reference)
    return await chasing.chase_once(session, outbox, intake, idempotency, response,
                                    owner=principal.subject, request=request, body=body)


@router.post("/requests/{reference}/rating", status_code=status.HTTP_201_CREATED)
async def rate(
    reference: str, body: RatingCreate, session: SessionDep, outbox: OutboxDep,
    intake: IntakeDep, principal: CitizenDep, idempotency: IdempotencyKeyDep,
    response: Response,
) -> RatingRecorded:
    """Rate the answer 1–5 (1 sends it to the complaints unit's review)."""
    request = await submissions.own_request(session, principal=principal, reference=reference)
    return await idempotency.once(
        session, owner=principal.subject, request=body, response=response,
        result_type=RatingRecorded,
        create=lambda: submissions.rate(session, outbox, intake, request=request, body=body),
    )


@router.post("/requests/{reference}/information", status_code=status.HTTP_201_CREATED)
async def provide_information(
    reference: str, body: InformationCreate, session: SessionDep, outbox: OutboxDep,
    intake: IntakeDep, principal: CitizenDep, idempotency: IdempotencyKeyDep,
    response: Response,
) -> InformationRecorded:
    """Answer the officer's question; the request's clocks run again."""
    request = await submissions.own_request(session, principal=principal, reference=reference)
    return await idempotency.once(
        session, owner=principal.subject, request=body, response=response,
        result_type=InformationRecorded,
        create=lambda: submissions.provide_information(
            session, outbox, intake, principal=principal, request=request, body=body
        ),
    )


# --- the one-tap rating link (notify puts it in the response notice) ---------------------------


@dataclass(frozen=True, slots=True)
class RatingLink:
    """What a one-tap link allows: its requester rates that answer of the request."""

    principal: Principal
    answer_round: int | None  # None: a link made before answers were numbered (the latest)


def _rating_link(intake: IntakeDep, reference: str, token: str) -> RatingLink:
    """The requester and answer the link was made for; a bad link answers like a missing
    request."""
    try:
        claims = intake.links.verify(RATE_PURPOSE, token)
    except InvalidLink:
        raise NotFound() from None
    answer_round = claims.get("round")
    if (claims.get("ref") != reference or not isinstance(claims.get("sub"), str)
            or not isinstance(answer_round, int | None)):
        raise NotFound()
    return RatingLink(
        Principal(subject=claims["sub"], role=Role.citizen, token_id="rating-link",
                  expires_at=datetime.fromtimestamp(claims["exp"], UTC)),
        answer_round,
    )


LinkToken = Annotated[str, Query(min_length=10, max_length=2048,
                                 description="The signed token of the link (`shared.links`).")]


# Where the web app serves a link's page (services/web/public/rating.py); notify sends links
# there. Links sent before it did still name the API's path below, which sends them on.
RATING_PAGE = "/rate/{reference}"


@router.get("/requests/{reference}/rating/link", status_code=status.HTTP_303_SEE_OTHER,
            response_class=RedirectResponse)
async def rating_page(reference: str, token: LinkToken) -> RedirectResponse:
    """A link sent before the web app served its page: on to the page (`/rate/{reference}`)."""
    page = RATING_PAGE.format(reference=quote(reference, safe=""))
    return RedirectResponse(f"{page}?{urlencode({'token': token})}",
                            status_code=status.HTTP_303_SEE_OTHER,
                            headers={"Referrer-Policy": "no-referrer"})


@router.get("/requests/{reference}/rating/link/state")
async def rating_link_state(reference: str, token: LinkToken, session: SessionDep,
                            intake: IntakeDep) -> RatingLinkState:
    """What the link's page shows: the answer it was sent with and whether it can be rated now
    (else why not). Opening it changes nothing: link previews open links too."""
    link = _rating_link(intake, reference, token)
    request = await submissions.own_request(session, principal=link.principal,
                                            reference=reference)
    return await submissions.rating_link_state(session, intake, request=request,
                                               link_round=link.answer_round)


@router.post("/requests/{reference}/rating/link", status_code=status.HTTP_201_CREATED)
async def rate_by_link(
    reference: str, token: LinkToken, body: RatingCreate, session: SessionDep,
    outbox: OutboxDep, intake: IntakeDep,
) -> RatingRecorded:
    """Rate through the link (`{"score": 4}`): the answer the link was sent with. A repeat with
    the same rating answers as the first (a page's form cannot send an Idempotency-Key)."""
    link = _rating_link(intake, reference, token)
    own = await submissions.own_request(session, principal=link.principal, reference=reference)
    if link.answer_round is not None:
        body = body.model_copy(update={"round": link.answer_round})
    return await submissions.rate(session, outbox, intake, request=own, body=body)


# --- attachments --------------------------------------------------------------------------------


@router.post("/attachments", status_code=status.HTTP_201_CREATED)
async def upload_attachment(
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image, or a PDF.")],
    session: SessionDep, intake: IntakeDep, principal: RequesterDep,
    idempotency: IdempotencyKeyDep, response: Response,
) -> AttachmentStored:
    """Upload one file; name its id in the submission's `attachment_ids`."""
    content = await file.read(intake.settings.attachment_max_bytes + 1)
    file_name = attachments.clean_file_name(file.filename)
    return await idempotency.once(
        # The name is part of what is stored: the same key with another name is another upload.
        session, owner=principal.subject, request=f"{file_name or ''}\0".encode() + content,
        response=response, result_type=AttachmentStored,
        create=lambda: attachments.store(session, intake, principal=principal,
                                         content=content, file_name=file_name),
    )


@router.get("/attachments/{attachment_id}", response_class=Response)
async def download_attachment(
    attachment_id: uuid.UUID, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> Response:
    """One file: for its uploader, the requester of its request, and the staff who hold that
    request (each of their reads recorded)."""
    found = await attachments.fetch(session, clock, principal=principal,
                                    attachment_id=attachment_id)
    return Response(found.content, media_type=found.media_type, headers={
        "Content-Disposition": f'attachment; filename="{attachment_id}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })


# --- the call center ----------------------------------------------------------------------------


@router.post("/citizens/caller-checks", status_code=status.HTTP_201_CREATED)
async def check_caller(
    body: CallerCheckCreate, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    principal: CallCenterAgentDep, idempotency: IdempotencyKeyDep, response: Response,
) -> CallerCheck:
    """A call-center agent checks the caller with the civil registry (good for one call)."""
    return await idempotency.once(
        session, owner=principal.subject, request=body, response=response,
        result_type=CallerCheck,
        create=lambda: submissions.check_caller(session, outbox, intake, principal=principal,
                                                body=body),
    )


@router.post("/requests/{reference}/caller-lookup")
async def look_up_for_caller(
    reference: str, body: CallerLookup, session: SessionDep, intake: IntakeDep,
    principal: CallCenterAgentDep,
) -> RequestView:
    """A call-center agent reads a request to its caller: the reference number together with
    the caller's identity number (a POST, so the number stays out of URLs and logs)."""
    return await submissions.look_up_for_caller(
        session, intake, principal=principal, reference=reference, id_number=body.id_number
    )

