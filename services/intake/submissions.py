"""Requests: submitting from every channel, following one's own, rating, answering questions.

Who the requester is depends on who calls: a citizen submits for themselves (app, portal,
chatbot, service center); a call-center agent for the caller whose identity they checked with
the registry (`check_caller`, once per call); a complaint-box clerk for the person on a paper
form, who is found by phone or recorded as an unregistered requester (announced to notify by
`citizen.contact_changed`, so they hear about their request). Staff record who keyed it in.

The submission path checks first (reads only), then hands the checked submission to a group
commit (`shared.group_commit`): submissions arriving together are numbered, their keys claimed
with their receipts, and their requests and `request.submitted` events written in one
transaction on intake's own database, one statement per table. The caller is answered once that
has committed. Nothing on it calls another service.

What it must never do: show a request to anyone but its requester (an agent sees one only with
the caller's identity number, and that look is audited); let an identifier in a body widen who
the caller acts for; store a request that breaks a rule.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import Response
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import chasing, repository, tracking
from services.intake.accounts import IDENTITY_REASONS, announce_contact, check_date_of_birth
from services.intake.civil_registry import Identity, IdentityOutcome
from services.intake.context import CheckedSubmission, Intake
from services.intake.deadlines import Rules, shown_deadlines
from services.intake.exceptions import (
    AttachmentRefused,
    IdentityNotVerified,
    InvalidInput,
    RequestNotAwaitingInformation,
    RequestNotRateable,
    SimilarRequestsOpen,
    UnknownEntity,
)
from services.intake.models import CallerCheck as CallerCheckRow
from services.intake.models import Citizen, Rating, Request
from services.intake.references import AMMAN, format_reference, parse_reference
from services.intake.schemas import (
    Bilingual,
    CallerCheck,
    CallerCheckCreate,
    InformationCreate,
    InformationRecorded,
    PaperRequester,
    RatingCreate,
    RatingLinkState,
    RatingRecorded,
    RatingRefusal,
    RequestCreate,
    RequestList,
    RequestReceipt,
    RequestSummary,
    RequestView,
    SimilarRequest,
    StaffAction,
    StatusView,
    TimelineStep,
    TrackedRequest,
    TrackingQuery,
)
from services.intake.words import ACKNOWLEDGEMENT, KIND, NEXT_STEP, STATUS, STEP
from shared.auth import Principal, Role
from shared.bus import Outbox
from shared.clock import Clock
from shared.errors import Forbidden, NotFound, Problem, Text
from shared.events.catalog import RequestInfoProvided, RequestRated, RequestSubmitted
from shared.events.envelope import EventPayload
from shared.events.vocabulary import Channel, NoticeChannel, RequestKind, RequestStatus
from shared.idempotency import IdempotencyKey, KeyClaim, claim_answered
from shared.text import search_key, similarity

log = logging.getLogger(__name__)

# Who submits requests (and uploads their files): citizens for themselves, call-center agents
# and complaint-box clerks for the people they serve.
CITIZEN_CHANNELS = frozenset({
    Channel.mobile_app, Channel.portal, Channel.chatbot, Channel.service_center,
})
SIMILAR_ENOUGH = 0.5
PAGE_SIZE = 20

_DECLARATION = Text(
    "يلزم الإقرار بأن الموضوع ليس منظوراً أمام القضاء أو النيابة العامة ولم يصدر فيه حكم.",
    "You must declare that the matter is not before a court or the public prosecution and has "
    "not been judged.",
)
_CHANNEL = Text(
    "هذه القناة لا تُستخدم من حساب المواطن.", "This channel is not used from a citizen account."
)
_NO_EMAIL = Text(
    "اخترت الإشعار بالبريد الإلكتروني ولا يوجد بريد في حسابك.",
    "You chose email notices but your account has no email address.",
)
_CALLER_CHECK = Text(
    "تحقق من هوية المتصل أولاً (التحقق صالح لمكالمة واحدة).",
    "Check the caller's identity first (a check is good for one call).",
)
_PAPER_REQUESTER = Text(
    "أدخل اسم مقدم الطلب الورقي ورقم هاتفه.", "Enter the paper form's requester name and phone.",
)
_NOT_FOR_THIS_ROLE = Text(
    "لا يقدّم هذا الدور الطلبات.", "This role does not submit requests.",
)
_CALLER_PHONE = Text(
    "المتصل ليس لديه حساب: أدخل رقم هاتفه المحمول لتصله الإشعارات.",
    "The caller has no account: enter their mobile number so that notices reach them.",
)
_TOO_MANY_FILES = Text("عدد المرفقات أكبر من المسموح.", "Too many attachments.")
_UNKNOWN_FILES = Text(
    "بعض المرفقات غير موجودة أو ليست لك أو مرفقة بطلب آخر.",
    "Some attachments do not exist, are not yours, or are on another request.",
)
_ALREADY_RATED = Text(
    "قيّمت هذا الرد من قبل بتقييم آخر.", "You already rated this answer differently."
)
_SUPERSEDED = Text(
    "تلقّيت رداً أحدث على هذا الطلب بعد إعادة فتحه؛ قيّم الرد الأحدث.",
    "This answer was followed by a newer one after the request was reopened; rate the newest "
    "answer.",
)
_NOT_ANSWERED = Text(
    "يُقيَّم الطلب بعد الرد عليه وقبل إغلاقه.",
    "A request is rated once it is answered and before it is closed.",
)
_RATED_ONE = Text(
    "شكراً لك. سيُحال الطلب إلى وحدة إدارة الشكاوى لمراجعة الرد.",
    "Thank you. The request goes to the complaints unit, which will review the answer.",
)
_RATED = Text("شكراً لتقييمك. سيُغلق الطلب.", "Thank you for your rating. The request will close.")


def status_view(status: str) -> StatusView:
    code = RequestStatus(status)
    return StatusView(code=code, label=Bilingual.of(STATUS[code]))


def _subject_uuid(principal: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise Forbidden() from None


# --- who is asking ------------------------------------------------------------------------------


async def _paper_requester(
    session: AsyncSession, outbox: Outbox, now: datetime, requester: PaperRequester
) -> Citizen:
    """The unregistered requester with this phone, or a new one (announced to notify)."""
    known = await repository.unregistered_by_phone(session, phone=requester.phone)
    if known is not None:
        if (known.full_name, known.language) == (requester.full_name, requester.language.value):
            return known
        known.full_name, known.language, known.updated_at = (
            requester.full_name, requester.language.value, now
        )
        await announce_contact(session, outbox, known)
        return known
    citizen = Citizen(
        id=uuid.uuid4(), account="unregistered", id_type=None, id_number=None,
        full_name=requester.full_name, phone=requester.phone, language=requester.language.value,
        notice_channel=NoticeChannel.sms.value, created_at=now, updated_at=now,
    )
    session.add(citizen)
    await announce_contact(session, outbox, citizen)
    return citizen


async def _requester(
    session: AsyncSession, now: datetime, principal: Principal, body: RequestCreate
) -> tuple[uuid.UUID | None, Channel, uuid.UUID | None]:
    """(requester id, channel, who keyed it in) for this caller and body. Reads only: a paper
    form's requester not seen before (id None) is recorded when the request is written."""
    if principal.role is Role.citizen:
        if body.caller_check_id is not None or body.requester is not None:
            raise Forbidden(_NOT_FOR_THIS_ROLE)
        if body.channel not in CITIZEN_CHANNELS:
            raise InvalidInput("channel", "channel_not_for_citizens", _CHANNEL)
        return _subject_uuid(principal), body.channel, None
    if principal.role is Role.call_center_agent:
        if body.caller_check_id is None:
            raise InvalidInput("caller_check_id", "caller_check_required", _CALLER_CHECK)
        check = await repository.caller_check(
            session, check_id=body.caller_check_id, agent_id=principal.subject, now=now
        )
        if check is None:
            raise InvalidInput("caller_check_id", "caller_check_required", _CALLER_CHECK)
        return check.requester_id, Channel.call_center, _subject_uuid(principal)
    if principal.role is Role.complaint_box_clerk:
        if body.requester is None:
            raise InvalidInput("requester", "requester_required", _PAPER_REQUESTER)
        known = await repository.unregistered_by_phone(session, phone=body.requester.phone)
        return (known.id if known else None), Channel.complaint_box, _subject_uuid(principal)
    raise Forbidden(_NOT_FOR_THIS_ROLE)


# --- submitting ---------------------------------------------------------------------------------


async def _warn_of_similar(
    session: AsyncSession, requester_id: uuid.UUID, entity: str, key: str
) -> None:
    similar = [
        request
        for request in await repository.open_requests_to(
            session, requester_id=requester_id, entity=entity
        )
        if similarity(search_key(request.subject), key) >= SIMILAR_ENOUGH
    ]
    if similar:
        raise SimilarRequestsOpen(
            Text(
                "لديك طلب مفتوح مشابه لدى هذه الجهة. إن كان طلبك مختلفاً فأعد الإرسال مع "
                "confirm_despite_similar.",
                "You have a similar open request with this entity. If yours is different, "
                "send it again with confirm_despite_similar.",
            ),
            similar=[
                SimilarRequest(
                    reference=r.reference, subject=r.subject, status=status_view(r.status),
                    submitted_at=r.submitted_at.astimezone(AMMAN),
                ).model_dump(mode="json")
                for r in sorted(similar, key=lambda r: r.submitted_at)
            ],
        )


async def submit(
    intake: Intake, *, principal: Principal, body: RequestCreate, idempotency: IdempotencyKey,
    response: Response,
) -> RequestReceipt:
    """Check the submission (reads only, on a connection given back before the write), then
    write it with the submissions arriving alongside it (`intake.submissions`, a group commit)
    and answer once it is stored."""
    claim = idempotency.claim(principal.subject, body)
    async with intake.sessionmaker() as session:
        try:
            checked = await _check(session, intake, principal, body, claim)
        except Problem:
            # A retry of a submission stored before may no longer pass the checks it passed
            # then (its own request is now a similar open one): the stored answer comes first.
            replayed = await idempotency.replay(session, claim, response=response,
                                                result_type=RequestReceipt)
            if replayed is not None:
                return replayed
            raise
    receipt = await intake.submissions.submit(checked)
    if receipt is not None:
        return receipt
    async with intake.sessionmaker() as session:  # the key was claimed before: replay it
        replayed = await idempotency.replay(session, claim, response=response,
                                            result_type=RequestReceipt)
    assert replayed is not None, "a key claimed before has its stored answer"
    return replayed


async def _check(
    session: AsyncSession, intake: Intake, principal: Principal, body: RequestCreate,
    claim: KeyClaim,
) -> CheckedSubmission:
    if not body.not_before_court:
        raise InvalidInput("not_before_court", "declaration_required", _DECLARATION)
    now = intake.clock.now()
    if len(body.attachment_ids) > intake.settings.attachments_per_request:
        raise AttachmentRefused(_TOO_MANY_FILES, reason="too_many")
    sector = None
    if body.entity is not None:
        sector = await intake.entities.sector_of(session, body.entity)
        if sector is None:
            raise UnknownEntity()
    requester_id, channel, submitted_by = await _requester(session, now, principal, body)
    if body.notice_channel is NoticeChannel.email:
        requester = (None if requester_id is None
                     else await repository.citizen(session, citizen_id=requester_id))
        if requester is None or requester.email is None:
            raise InvalidInput("notice_channel", "email_missing", _NO_EMAIL)
    subject_key = search_key(body.subject)
    if requester_id is not None and body.entity is not None and not body.confirm_despite_similar:
        await _warn_of_similar(session, requester_id, body.entity, subject_key)
    return CheckedSubmission(
        claim=claim, body=body, principal=principal, requester_id=requester_id,
        channel=channel, submitted_by=submitted_by, sector=sector,
        search_key=f"{subject_key} {search_key(body.description)}", received_at=now,
        rules=await intake.rules.current(session),
    )


def _receipt(checked: CheckedSubmission, reference: str) -> RequestReceipt:
    kind, now = checked.body.kind, checked.received_at
    return RequestReceipt(
        reference=reference, kind=kind.value, status=status_view(RequestStatus.received),
        submitted_at=now.astimezone(AMMAN),
        deadlines=checked.rules.provisional(RequestKind(kind), now),
        acknowledgement=Bilingual.of(ACKNOWLEDGEMENT), tracking_code=tracking.new_code(),
    )


async def write_submissions(
    session: AsyncSession, batch: Sequence[CheckedSubmission], *, outbox: Outbox,
    keys: Table, clock: Clock,
) -> list[RequestReceipt | None]:
    """Store checked submissions in one transaction: each key claimed with its receipt, the
    requests and their `request.submitted` events, one statement per table for them all.
    None for a submission whose key was claimed before (replay it once this commits)."""
    numbers = await repository.next_request_numbers(session, len(batch))
    answered = [
        (checked, _receipt(checked, format_reference(number, checked.received_at)))
        for checked, number in zip(batch, numbers, strict=True)
    ]
    claimed = await claim_answered(
        session, keys, [(checked.claim, receipt) for checked, receipt in answered],
        now=clock.now(),
    )
    fresh: list[tuple[CheckedSubmission, RequestReceipt]] = []  # written here
    outcomes: list[RequestReceipt | None] = []
    for checked, receipt in answered:
        key = (checked.claim.owner, checked.claim.key)
        # The first with this key in the batch claimed it; a repeat replays (None).
        first = key in claimed
        claimed.discard(key)
        if first:
            fresh.append((checked, receipt))
        outcomes.append(receipt if first else None)
    rows: list[dict[str, Any]] = []
    events: list[tuple[EventPayload, str | None]] = []
    # Routing indexes the requester's name for its staff's search (`requester_name`).
    names = await repository.full_names(
        session, {c.requester_id for c, _ in fresh if c.requester_id is not None})
    for checked, receipt in fresh:
        body, reference, now = checked.body, receipt.reference, checked.received_at
        requester_id = checked.requester_id
        if body.requester is not None:  # a paper form: its requester, recorded or updated
            paper = await _paper_requester(session, outbox, now, body.requester)
            requester_id, names[paper.id] = paper.id, paper.full_name
        assert requester_id is not None
        rows.append({
            "reference": reference, "kind": body.kind.value, "entity": body.entity,
            "sector": checked.sector, "governorate": body.governorate, "city": body.city,
            "latitude": body.latitude, "longitude": body.longitude,
            "channel": checked.channel.value, "subject": body.subject,
            "description": body.description, "search_key": checked.search_key,
            "notice_channel": body.notice_channel.value if body.notice_channel else None,
            "language": body.language.value if body.language else None,
            "requester_id": requester_id,
            "submitted_by": checked.principal.subject if checked.submitted_by else None,
            "tracking_digest": tracking.digest(receipt.tracking_code or ""),
            "declared_not_before_court": True, "submitted_at": now,
            "status": RequestStatus.received.value, "status_at": now,
        })
        events.append((RequestSubmitted(
            reference=reference, kind=body.kind, entity=body.entity, sector=checked.sector,
            governorate=body.governorate, city=body.city, channel=checked.channel,
            subject=body.subject,
            description=body.description, attachment_ids=body.attachment_ids,
            requester_id=requester_id, submitted_by=checked.submitted_by, submitted_at=now,
            notice_channel=body.notice_channel, language=body.language,
            requester_name=names.get(requester_id), tracking_code=receipt.tracking_code,
        ), reference))
    if rows:
        await repository.add_requests(session, rows)
    for (checked, _), row in zip(fresh, rows, strict=True):
        if checked.body.attachment_ids:
            linked = await repository.attach(
                session, attachment_ids=checked.body.attachment_ids,
                owner_id=checked.principal.subject, reference=row["reference"],
            )
            if linked != len(set(checked.body.attachment_ids)):
                raise AttachmentRefused(_UNKNOWN_FILES, reason="unknown_attachment")
        if checked.submitted_by is not None:
            await audit(session, checked.principal, StaffAction.submitted, checked.received_at,
                        reference=row["reference"], requester_id=row["requester_id"])
    await outbox.add_each(session, events)
    return outcomes


async def audit(session: AsyncSession, principal: Principal, action: StaffAction,
                now: datetime, *, reference: str | None = None,
                requester_id: uuid.UUID | None = None,
                attachment_id: uuid.UUID | None = None) -> None:
    """Record that a staff member did `action` on a request or a requester (`StaffAccess`)."""
    await repository.record_staff_access(session, values={
        "actor_id": principal.subject, "actor_role": principal.role.value,
        "action": action.value, "reference": reference, "requester_id": requester_id,
        "attachment_id": attachment_id, "occurred_at": now,
    })


# --- the call center ----------------------------------------------------------------------------


async def check_caller(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, principal: Principal,
    body: CallerCheckCreate,
) -> CallerCheck:
    """Check a caller with the registry; the answer names the requester to submit for."""
    now = intake.clock.now()
    check_date_of_birth(body.date_of_birth, now=now)
    outcome = await intake.registry.verify(Identity(
        id_type=body.id_type, id_number=body.id_number, full_name=body.full_name,
        date_of_birth=body.date_of_birth,
    ))
    if outcome is not IdentityOutcome.verified:
        raise IdentityNotVerified(IDENTITY_REASONS[outcome], reason=outcome.value)
    citizen = await repository.citizen_by_identity(
        session, id_type=body.id_type.value, id_number=body.id_number, for_update=True
    )
    if citizen is None:
        if body.phone is None:
            raise InvalidInput("phone", "phone_required", _CALLER_PHONE)
        citizen = Citizen(
            id=uuid.uuid4(), account="unregistered", id_type=body.id_type.value,
            id_number=body.id_number, full_name=body.full_name, date_of_birth=body.date_of_birth,
            phone=body.phone, language=body.language.value,
            notice_channel=NoticeChannel.sms.value, created_at=now, updated_at=now,
        )
        session.add(citizen)
        await announce_contact(session, outbox, citizen)
    elif citizen.account == "unregistered" and body.phone and body.phone != citizen.phone:
        citizen.phone, citizen.updated_at = body.phone, now
        await announce_contact(session, outbox, citizen)
    check = CallerCheckRow(
        id=uuid.uuid4(), agent_id=principal.subject, requester_id=citizen.id, created_at=now,
        expires_at=now + timedelta(seconds=intake.settings.caller_check_lifetime_s),
    )
    session.add(check)
    await audit(session, principal, StaffAction.identity_checked, now, requester_id=citizen.id)
    return CallerCheck(
        check_id=check.id, requester_id=citizen.id,
        has_account=citizen.account == "registered", expires_at=check.expires_at.astimezone(AMMAN),
    )


async def look_up_for_caller(
    session: AsyncSession, intake: Intake, *, principal: Principal, reference: str,
    id_number: str,
) -> RequestView:
    """An agent sees a request when the caller gives its reference and their identity number."""
    request = await find_request(session, reference)
    requester = await repository.citizen(session, citizen_id=request.requester_id)
    if requester is None or requester.id_number != id_number:
        raise NotFound()
    await audit(session, principal, StaffAction.looked_up, intake.clock.now(),
                 reference=request.reference, requester_id=request.requester_id)
    return await _view(session, intake, request)


# --- following ----------------------------------------------------------------------------------


async def find_request(session: AsyncSession, typed_reference: str) -> Request:
    """The request a typed reference names (as `references.parse_reference` reads it), or
    NotFound."""
    reference = parse_reference(typed_reference)
    request = await repository.request(session, reference=reference) if reference else None
    if request is None:
        raise NotFound()
    return request


async def own_request(session: AsyncSession, *, principal: Principal, reference: str) -> Request:
    """The caller's own request; anyone else's answers exactly like a missing one."""
    if principal.role is not Role.citizen:
        raise NotFound()
    request = await find_request(session, reference)
    if str(request.requester_id) != principal.subject:
        raise NotFound()
    return request


def _step(step: str, at: datetime, details: dict[str, str | int | None]) -> TimelineStep:
    return TimelineStep(step=step, label=Bilingual.of(STEP[step]), at=at.astimezone(AMMAN),
                        details=details)


def _after_rating(score: int) -> Text:
    return _RATED_ONE if score == 1 else _RATED


def _next_step(status: RequestStatus, rating: Rating | None) -> Text:
    if status is RequestStatus.responded and rating is not None:
        return _after_rating(rating.score)  # rated: nothing left to do
    return NEXT_STEP[status]


async def _latest_rating(session: AsyncSession, request: Request) -> Rating | None:
    if request.answer_round is None:
        return None
    return await repository.rating(session, reference=request.reference,
                                   round=request.answer_round)


async def _view(session: AsyncSession, intake: Intake, request: Request) -> RequestView:
    status = RequestStatus(request.status)
    rating = await _latest_rating(session, request)
    entity = await repository.entity(session, code=request.entity) if request.entity else None
    timeline = [_step("request.submitted", request.submitted_at, {})]
    timeline += [
        _step(entry.step, entry.occurred_at, entry.details)
        for entry in await repository.timeline(session, reference=request.reference)
        if entry.step in STEP
    ]
    rules: Rules = await intake.rules.current(session)
    running = await repository.running_deadlines(session, reference=request.reference)
    chase = await chasing.state(session, rules.calendar, request=request, deadlines=running,
                                now=intake.clock.now())
    return RequestView(
        reference=request.reference, kind=request.kind,
        kind_label=Bilingual.of(KIND[RequestKind(request.kind)]), status=status_view(status),
        subject=request.subject, description=request.description, entity=request.entity,
        entity_name=Bilingual(ar=entity.name_ar, en=entity.name_en) if entity else None,
        governorate=request.governorate, city=request.city, channel=request.channel,
        submitted_at=request.submitted_at.astimezone(AMMAN), timeline=timeline,
        actions_taken=request.actions_taken, solution=request.solution, outcome=request.outcome,
        deadlines=shown_deadlines(
            rules, kind=RequestKind(request.kind), status=status,
            received_at=request.submitted_at, announced=running,
        ),
        answer_round=request.answer_round, rating=rating.score if rating else None,
        next_step=Bilingual.of(_next_step(status, rating)), chasing=chase.view(),
        attachment_ids=await repository.attachment_ids(session, reference=request.reference),
    )


async def view(
    session: AsyncSession, intake: Intake, *, principal: Principal, reference: str
) -> RequestView:
    return await _view(session, intake, await own_request(
        session, principal=principal, reference=reference
    ))


_NOT_TRACKED = Text(
    "لا يوجد طلب بهذا الرقم وهذا الرمز؛ تحقق منهما كما طُبعا على الإيصال أو وصلا في الرسالة.",
    "No request has this reference and this code; check them as printed on the receipt or "
    "sent in the message.",
)


async def tracked_request(session: AsyncSession, intake: Intake, *, query: TrackingQuery,
                          address: str) -> Request:
    """The request a reference and its tracking code open; a wrong code answers exactly as an
    unknown reference does (`services.intake.tracking`). Each try counts."""
    reference = parse_reference(query.reference)
    await intake.throttle.spend_tracking_try(reference=reference or query.reference,
                                             address=address)
    request = await repository.request(session, reference=reference) if reference else None
    if not tracking.opens(request.tracking_digest if request else None, query.code) \
            or request is None:
        raise NotFound(_NOT_TRACKED)
    return request


async def track(session: AsyncSession, intake: Intake, *, query: TrackingQuery,
                address: str) -> TrackedRequest:
    """What a reference and its tracking code open: where the request stands, not who sent it."""
    request = await tracked_request(session, intake, query=query, address=address)
    view = await _view(session, intake, request)
    return TrackedRequest.model_validate(view.model_dump(include=set(TrackedRequest.model_fields)))


async def list_requests(
    session: AsyncSession, *, principal: Principal, before: datetime | None,
    limit: int = PAGE_SIZE,
) -> RequestList:
    """A citizen's own requests; for agents and clerks, those they keyed in."""
    if principal.role is Role.citizen:
        rows: Sequence[Request] = await repository.requests_of(
            session, requester_id=_subject_uuid(principal), before=before, limit=limit + 1
        )
    elif principal.role in (Role.call_center_agent, Role.complaint_box_clerk):
        rows = await repository.requests_of(
            session, submitted_by=principal.subject, before=before, limit=limit + 1
        )
    else:
        raise Forbidden(_NOT_FOR_THIS_ROLE)
    page = rows[:limit]
    return RequestList(
        items=[
            RequestSummary(reference=r.reference, kind=r.kind, subject=r.subject,
                           status=status_view(r.status), entity=r.entity,
                           submitted_at=r.submitted_at.astimezone(AMMAN))
            for r in page
        ],
        next_before=page[-1].submitted_at if len(rows) > limit else None,
    )


# --- the requester acts -------------------------------------------------------------------------


async def rate(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, request: Request,
    body: RatingCreate,
) -> RatingRecorded:
    """Record the requester's 1–5 for an answer: the one `body.round` names, else the latest.
    Each answer is rated once; the same rating of it again is answered as the first time."""
    answer = body.round or request.answer_round
    if answer is None:
        raise RequestNotRateable(_NOT_ANSWERED, reason="not_answered")
    rating = await repository.rating(session, reference=request.reference, round=answer)
    if rating is None:
        rating = await _record_rating(session, outbox, intake, request=request, answer=answer,
                                      body=body)
    if (rating.score, rating.comment) != (body.score, body.comment):
        _refuse_newer_answer(request, answer)
        raise RequestNotRateable(_ALREADY_RATED, reason="already_rated")
    return RatingRecorded(
        reference=request.reference, round=rating.round, score=rating.score,
        comment=rating.comment, rated_at=rating.rated_at.astimezone(AMMAN),
        next_step=Bilingual.of(_after_rating(rating.score)),
    )


async def rating_link_state(session: AsyncSession, intake: Intake, *, request: Request,
                            link_round: int | None) -> RatingLinkState:
    """What a one-tap link's page shows: the answer, and whether it can be rated now."""
    view = await _view(session, intake, request)
    answer = link_round or view.answer_round
    given = (await repository.rating(session, reference=request.reference, round=answer)
             if answer is not None else None)
    status = RequestStatus(request.status)
    why_not: RatingRefusal | None = None
    if answer is not None and view.answer_round is not None and answer < view.answer_round:
        why_not = "superseded"
    elif given is not None:
        why_not = "already_rated"
    elif status is RequestStatus.under_review:
        why_not = "under_review"
    elif status is RequestStatus.closed:
        why_not = "closed"
    elif status is not RequestStatus.responded or answer is None:
        why_not = "not_answered"
    return RatingLinkState(
        reference=view.reference, subject=view.subject, status=view.status,
        link_round=answer, answer_round=view.answer_round, actions_taken=view.actions_taken,
        solution=view.solution, rateable=why_not is None, why_not=why_not,
        rating=given.score if given else None, next_step=view.next_step,
    )


def _refuse_newer_answer(request: Request, answer: int) -> None:
    """A newer answer replaced this one: the requester is pointed to it."""
    if request.answer_round is not None and answer < request.answer_round:
        raise RequestNotRateable(_SUPERSEDED, reason="answer_superseded",
                                 answer_round=request.answer_round)


async def _record_rating(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, request: Request, answer: int,
    body: RatingCreate,
) -> Rating:
    """The first rating of `answer`, if it is the latest answer and still awaits one."""
    _refuse_newer_answer(request, answer)
    if answer != request.answer_round or request.status != RequestStatus.responded.value:
        raise RequestNotRateable(_NOT_ANSWERED, reason="not_answered")
    rating = Rating(reference=request.reference, round=answer, score=body.score,
                    comment=body.comment, rated_at=intake.clock.now())
    if not await repository.add_rating(session, values={
        "reference": rating.reference, "round": rating.round, "score": rating.score,
        "comment": rating.comment, "rated_at": rating.rated_at,
    }):  # rated at this very moment by another call: that rating stands
        stored = await repository.rating(session, reference=request.reference, round=answer)
        assert stored is not None
        return stored
    envelope = await outbox.add(session, RequestRated(
        reference=request.reference, score=body.score, comment=body.comment, round=answer,
    ), correlation_id=request.reference)
    await repository.add_timeline_entry(
        session, reference=request.reference, event_id=envelope.id, step="request.rated",
        at=rating.rated_at, details={"score": body.score, "round": answer},
    )
    return rating


async def provide_information(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, principal: Principal,
    request: Request, body: InformationCreate,
) -> InformationRecorded:
    if request.status != RequestStatus.awaiting_information.value:
        raise RequestNotAwaitingInformation()
    now = intake.clock.now()
    on_request = await repository.attachments_on(session, reference=request.reference)
    if on_request + len(body.attachment_ids) > intake.settings.attachments_per_request:
        raise AttachmentRefused(_TOO_MANY_FILES, reason="too_many")
    if body.attachment_ids:
        linked = await repository.attach(
            session, attachment_ids=body.attachment_ids, owner_id=principal.subject,
            reference=request.reference,
        )
        if linked != len(set(body.attachment_ids)):
            raise AttachmentRefused(_UNKNOWN_FILES, reason="unknown_attachment")
    resumed = RequestStatus(request.status_before_pause or RequestStatus.in_progress)
    await repository.set_status(session, reference=request.reference, status=resumed, at=now,
                                status_before_pause=None)
    envelope = await outbox.add(session, RequestInfoProvided(
        reference=request.reference, answer=body.answer, attachment_ids=body.attachment_ids,
    ), correlation_id=request.reference)
    await repository.add_timeline_entry(
        session, reference=request.reference, event_id=envelope.id,
        step="request.info_provided", at=now, details={},
    )
    return InformationRecorded(reference=request.reference, status=status_view(resumed),
                               provided_at=now.astimezone(AMMAN))
