"""What the staff who hold a request read of it: who is asking, and the files they sent.

A requester's name, phone, email and files are personal data, "seen only by those handling the
request" (DESIGN.md). Here that is the staff whose scope holds the request, judged by the
kernel's one rule (`Principal.sees_request`, as routing judges its cases) over who intake knows
holds it (entity, sector, and the entity or department it was distributed to: `handlers`), and
the CMU, which sees every request. Decision makers watch figures and handle no request: they
are refused (403) like citizens, agents, clerks and the commission. A request outside the
caller's scope answers 404, exactly like one that does not exist.

Each read is recorded in `staff_access` (who, role, when, which request, which file) in the
transaction that answers it, and the CMU lists them (`access_to`).

What it must never do: log what it reads or put it in an error, or answer a read it has not
recorded.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.models import Request
from services.intake.references import AMMAN
from services.intake.schemas import (
    AttachmentInfo,
    AttachmentList,
    RequesterContact,
    StaffAccessEntry,
    StaffAccessList,
    StaffAction,
)
from services.intake.submissions import audit, find_request
from shared.auth import Principal, Role
from shared.clock import Clock
from shared.errors import Forbidden, NotFound, Text
from shared.events.vocabulary import Language

HANDLING_ROLES: Final = frozenset({
    Role.main_liaison_officer, Role.sub_liaison_officer, Role.entity_head, Role.minister,
    Role.cmu_staff, Role.cmu_admin,
})
"""The roles that handle requests: with the request in their scope, they read its requester."""
AUDITORS: Final = (Role.cmu_staff, Role.cmu_admin)

_NOT_HANDLING = Text(
    "لا يطّلع على بيانات مقدّم الطلب ومرفقاته إلا من يعالج الطلب.",
    "Only the staff handling a request see its requester's details and files.",
)


def holds(principal: Principal, request: Request) -> bool:
    """Whether this staff member handles requests and holds this one in their scope."""
    return principal.role in HANDLING_ROLES and principal.sees_request(
        entity_id=request.entity, sector_id=request.sector,
        distributed_to=request.distributed_to)


async def held_request(session: AsyncSession, *, principal: Principal, reference: str
                       ) -> Request:
    """The request, for a staff member who holds it: 403 for a role that handles no request,
    404 for one outside the caller's scope (as if it did not exist)."""
    if principal.role not in HANDLING_ROLES:
        raise Forbidden(_NOT_HANDLING)
    request = await find_request(session, reference)
    if not holds(principal, request):
        raise NotFound()
    return request


async def requester_contact(session: AsyncSession, clock: Clock, *, principal: Principal,
                            reference: str) -> RequesterContact:
    request = await held_request(session, principal=principal, reference=reference)
    requester = await repository.citizen(session, citizen_id=request.requester_id)
    if requester is None:  # every submission names a stored requester; never a guess
        raise NotFound()
    await audit(session, principal, StaffAction.contact_viewed, clock.now(),
                reference=request.reference, requester_id=requester.id)
    return RequesterContact(
        reference=request.reference, full_name=requester.full_name, phone=requester.phone,
        email=requester.email, governorate=request.governorate, city=request.city,
        language=Language(request.language or requester.language),
        has_account=requester.account == "registered",
    )


async def attachments_of(session: AsyncSession, *, principal: Principal, reference: str
                         ) -> AttachmentList:
    """What files the request carries (not their bytes: each read is recorded on its own)."""
    request = await held_request(session, principal=principal, reference=reference)
    return AttachmentList(reference=request.reference, items=[
        AttachmentInfo(attachment_id=row.id, file_name=row.file_name, media_type=row.media_type,
                       size=row.size, uploaded_at=row.created_at.astimezone(AMMAN))
        for row in await repository.attachments_of(session, reference=request.reference)
    ])


async def access_to(session: AsyncSession, *, principal: Principal, reference: str,
                    before: int | None, limit: int) -> StaffAccessList:
    """Who on the staff read or keyed in what of this request, newest first (the CMU: the
    route admits no one else)."""
    request = await find_request(session, reference)
    rows = await repository.staff_access_to(session, reference=request.reference,
                                            before=before, limit=limit + 1)
    page = rows[:limit]
    return StaffAccessList(
        reference=request.reference,
        items=[StaffAccessEntry(id=row.id, actor_id=row.actor_id, actor_role=row.actor_role,
                                action=StaffAction(row.action),
                                attachment_id=row.attachment_id,
                                at=row.occurred_at.astimezone(AMMAN))
               for row in page],
        next_before=page[-1].id if len(rows) > limit else None,
    )
