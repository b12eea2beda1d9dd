"""Routes for the staff who hold a request: who is asking, the files, and who read them.

    GET /api/v1/requests/{reference}/requester         the requester's contact details (recorded)
    GET /api/v1/requests/{reference}/attachments       the request's files (`GET /attachments/{id}`
                                                       reads one, recorded)
    GET /api/v1/requests/{reference}/requester/views   who on the staff read what (the CMU)

Parse, call `services.intake.staff_reads`, return. Every answer is `Cache-Control: no-store`:
personal data must not linger in a browser's or a proxy's cache.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Response

from services.intake import staff_reads
from services.intake.schemas import AttachmentList, RequesterContact, StaffAccessList
from shared.auth import Principal
from shared.dependencies import ClockDep, SessionDep, principal_in

router = APIRouter(prefix="/api/v1", tags=["staff"])

# Judged before the request is read: a role that handles no request is refused whatever it sent.
Handler = Annotated[Principal, principal_in(*staff_reads.HANDLING_ROLES)]
Auditor = Annotated[Principal, principal_in(*staff_reads.AUDITORS)]

NO_STORE: Final = {"Cache-Control": "no-store"}
_OUTSIDE = ("403 for roles that handle no request (decision makers, citizens, agents, clerks, "
            "the commission); 404 for a request outside the caller's scope, as for none.")


@router.get("/requests/{reference}/requester", description=_OUTSIDE)
async def requester_contact(
    reference: str, session: SessionDep, clock: ClockDep, principal: Handler,
    response: Response,
) -> RequesterContact:
    """Who is asking: name, phone, email, this request's governorate and city, language, and
    whether they have an account. For the staff whose scope holds the request and the CMU;
    each read is recorded."""
    response.headers.update(NO_STORE)
    return await staff_reads.requester_contact(session, clock, principal=principal,
                                               reference=reference)


@router.get("/requests/{reference}/attachments", description=_OUTSIDE)
async def request_attachments(
    reference: str, session: SessionDep, principal: Handler, response: Response,
) -> AttachmentList:
    """The request's files, those added with requested information too, oldest first."""
    response.headers.update(NO_STORE)
    return await staff_reads.attachments_of(session, principal=principal, reference=reference)


@router.get("/requests/{reference}/requester/views")
async def staff_access(
    reference: str, session: SessionDep, principal: Auditor, response: Response,
    before: Annotated[int | None, Query(ge=1, description="From a page's `next_before`.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StaffAccessList:
    """Every recorded staff read of the request's requester and files (and its keying in or
    look-up by the call center), newest first. CMU staff and administrators only."""
    response.headers.update(NO_STORE)
    return await staff_reads.access_to(session, principal=principal, reference=reference,
                                       before=before, limit=limit)
