"""Previews: the message a requester will get, shown to the officer before they send it.

An officer about to answer sees the very words of `requester.responded`, on the channel and in
the language notify will pick (`service.reach`, as for the real notice), rendered with the
templates the dispatcher uses (`Renderer.compose`). Nothing is queued, stored or sent.

Who may see it, and why that is safe: the text holds only what the officer typed, the request's
reference and subject, and the template; the channel and language say a little about the
requester. So it is answered only to the roles that answer requests (main and sub-liaison
officers) and the CMU, and only for a request their scope holds, judged by the kernel's rule
(`Principal.sees_request`) over who notify knows holds it (entity, sector, distribution, from
routing's events); any other request is 404, as if absent. Never revealed: the address, whether
email fell back to SMS, or anything of the contact book. The rating link carries a token that
rates nothing (`Renderer.sample_rating_link`): a preview must never let staff rate in the
requester's name.

What it must never do: queue, store or log what it renders.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import repository, service
from services.notify.dispatcher import Renderer
from services.notify.exceptions import RequesterUnreachable
from services.notify.messages import MessageKind
from services.notify.schemas import ResponsePreview, ResponsePreviewCreate
from shared.auth import Principal, Role
from shared.clock import Clock
from shared.errors import Forbidden, NotFound, Text

RESPONDERS: Final = frozenset({
    Role.main_liaison_officer, Role.sub_liaison_officer, Role.cmu_staff, Role.cmu_admin,
})
"""The roles that answer requests (officers) or oversee every answer (the CMU)."""

_NOT_RESPONDING = Text("تُعرض معاينة الرد على من يجيب عن الطلبات فقط.",
                       "Only those who answer requests preview an answer.")


async def response(session: AsyncSession, renderer: Renderer, clock: Clock, *,
                   principal: Principal, body: ResponsePreviewCreate) -> ResponsePreview:
    if principal.role not in RESPONDERS:
        raise Forbidden(_NOT_RESPONDING)
    request = (await repository.request_facts(session, [body.reference])).get(body.reference)
    if request is None or not principal.sees_request(
            entity_id=request.entity, sector_id=request.sector,
            distributed_to=request.distributed_to):
        raise NotFound()
    notice = service.to_requester(
        request, MessageKind.responded, source_event_id=uuid.uuid4(), occurred_at=clock.now(),
        actions_taken=body.actions_taken, solution=body.solution,
        action_url=renderer.sample_rating_link(request.reference))
    contact = (await repository.contacts_of(session, [request.requester_id])).get(
        request.requester_id)
    if contact is None or not contact.active:
        raise RequesterUnreachable()
    language, channels = service.reach(notice, contact)
    if not channels:
        raise RequesterUnreachable()
    channel, _fell_back = channels[0]
    message = renderer.compose(notice.source_event_id, channel, "", notice.kind, language,
                               dict(notice.facts))
    return ResponsePreview(channel=channel, language=language, text=message.text,
                           subject=message.subject or None)
