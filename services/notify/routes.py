"""The notify API: the delivery log, retrying a dead letter, and the SMS gateway's receipts.

    GET  /api/v1/notifications                 the CMU: every message (filters); anyone else:
                                               the messages sent to them, and only those
    GET  /api/v1/notifications/{id}            one message, on the same terms (404 otherwise)
    POST /api/v1/notifications/{id}/retry      the CMU: queue a dead-lettered message again
    POST /api/v1/notifications/sms/receipts    the SMS gateway: delivery receipts, signed
    POST /api/v1/notifications/previews/response  officers and the CMU: the message the
                                               requester will get for an answer (`previews`)

Addresses are masked and texts never shown. Identifiers in the query never widen what a caller
sees: a citizen asking for someone else's messages gets their own, filtered.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.notify import delivery, previews, repository
from services.notify.config import NotifySettings
from services.notify.context import NotifyDep
from services.notify.exceptions import (
    InvalidCursor,
    InvalidReceiptSignature,
    MessageForgotten,
    NotDeadLettered,
    NotificationNotFound,
    UnknownMessages,
)
from services.notify.models import DeliveryStatus
from services.notify.process import wake_dispatchers_after_commit
from services.notify.providers.sms_gateway import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)
from services.notify.repository import AnyRow
from services.notify.schemas import (
    DeliveryReceipts,
    NotificationPage,
    NotificationPublic,
    ReceiptsApplied,
    ResponsePreview,
    ResponsePreviewCreate,
)
from shared.auth import Principal, Role
from shared.dependencies import (
    ClockDep,
    OutboxDep,
    PrincipalDep,
    RuntimeDep,
    SessionDep,
    principal_in,
)
from shared.events.vocabulary import NoticeChannel

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

_CMU = (Role.cmu_staff, Role.cmu_admin)
CmuDep = Annotated[Principal, principal_in(*_CMU)]


def _sees_every_message(principal: Principal) -> bool:
    return principal.role in _CMU


def _own_id(principal: Principal) -> uuid.UUID | None:
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        return None


def _encode_cursor(row: AnyRow) -> str:
    return base64.urlsafe_b64encode(
        f"{row.created_at.isoformat()}|{row.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, _, last_id = raw.partition("|")
        instant = datetime.fromisoformat(created_at)
        if instant.tzinfo is None:
            raise ValueError("naive")
        return instant, uuid.UUID(last_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor() from None


@router.get("")
async def delivery_log(
    session: SessionDep,
    principal: PrincipalDep,
    reference: Annotated[str | None, Query(max_length=40)] = None,
    status: DeliveryStatus | None = None,
    channel: NoticeChannel | None = None,
    recipient_id: Annotated[uuid.UUID | None, Query(description="The CMU only.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """The delivery log, newest first: everything for the CMU, one's own for anyone else."""
    if not _sees_every_message(principal):
        recipient_id = _own_id(principal)
        if recipient_id is None:
            return NotificationPage(items=[], next_cursor=None)
    rows = await repository.find_notifications(
        session, recipient_id=recipient_id, reference=reference,
        status=status.value if status else None, channel=channel.value if channel else None,
        before=_decode_cursor(cursor) if cursor else None, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return NotificationPage(items=[NotificationPublic.of(row) for row in page],
                            next_cursor=_encode_cursor(page[-1]) if more else None)


async def _visible(session: SessionDep, principal: Principal, notification_id: uuid.UUID
                   ) -> AnyRow:
    row = (await repository.notifications_by_id(session, [notification_id])).get(
        notification_id)
    if row is None or not (_sees_every_message(principal)
                           or (row.recipient_id is not None
                               and row.recipient_id == _own_id(principal))):
        raise NotificationNotFound()  # someone else's message is not there, for this caller
    return row


@router.get("/{notification_id}")
async def one_message(
    notification_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> NotificationPublic:
    return NotificationPublic.of(await _visible(session, principal, notification_id))


@router.post("/{notification_id}/retry")
async def retry_dead_letter(
    notification_id: uuid.UUID, session: SessionDep, principal: CmuDep, clock: ClockDep
) -> NotificationPublic:
    """Queue a dead-lettered message again, with a fresh set of attempts (the CMU).

    Repeating it is harmless: a message already queued again answers 409 and changes nothing;
    one past its retention period (its address and words forgotten) answers 410.
    """
    if repository.is_forgotten(await _visible(session, principal, notification_id)):
        raise MessageForgotten()
    if not await repository.requeue_dead_letter(session, notification_id, now=clock.now()):
        raise NotDeadLettered()
    wake_dispatchers_after_commit(session)
    log.info("dead letter queued again", extra={"notification_id": str(notification_id),
                                                "by": principal.subject})
    row = (await repository.notifications_by_id(session, [notification_id]))[notification_id]
    return NotificationPublic.of(row)


@router.post("/sms/receipts")
async def sms_delivery_receipts(
    request: Request, session: SessionDep, runtime: RuntimeDep, outbox: OutboxDep,
    clock: ClockDep,
) -> ReceiptsApplied:
    """Delivery receipts from the SMS gateway, signed with the shared receipt secret.

    A forged or stale signature is refused (401) before the body is read as JSON. Receipts for
    messages already delivered or failed change nothing; when none names a message we sent,
    the answer is 404 and nothing changes.
    """
    settings = runtime.settings_as(NotifySettings)
    body = await request.body()
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    secret = settings.sms_receipt_secret.get_secret_value()
    if not (timestamp.isdigit() and len(signature) <= 100
            and abs(clock.now().timestamp() - int(timestamp)) <= settings.sms_receipt_max_age_s
            and signature_matches(secret, timestamp, body, signature)):
        raise InvalidReceiptSignature()
    try:
        batch = DeliveryReceipts.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None

    known = await repository.notifications_by_id(
        session, (r.client_reference for r in batch.receipts))
    moves, unknown = [], []
    for receipt in batch.receipts:
        row = known.get(receipt.client_reference)
        if (row is None or row.channel != NoticeChannel.sms
                or (row.provider_message_id and row.provider_message_id != receipt.message_id)):
            unknown.append(receipt.client_reference)
            continue
        reason = None if receipt.status == "delivered" else _receipt_reason(receipt.status,
                                                                            receipt.error)
        moves.append(delivery.Move(row.id, receipt.status, reason))
    if not moves:
        raise UnknownMessages()
    moved = await delivery.apply(
        session, outbox, moves, now=clock.now(), policy=_NO_RETRIES,
        movable=(DeliveryStatus.queued, DeliveryStatus.submitted))
    if unknown:
        log.warning("receipts for unknown messages", extra={"count": len(unknown)})
    return ReceiptsApplied(applied=len(moved), already_final=len(moves) - len(moved),
                           unknown=unknown)


_NO_RETRIES = delivery.RetryPolicy(max_attempts=1, base_s=1, cap_s=1)  # receipts never retry


def _receipt_reason(status: str, error: str | None) -> str:
    detail = "".join(ch for ch in (error or "").lower() if ch.isalnum() or ch == "_")[:40]
    return f"sms_{status}" + (f"_{detail}" if detail else "")


@router.post("/previews/response")
async def preview_response(
    body: ResponsePreviewCreate, session: SessionDep,
    principal: Annotated[Principal, principal_in(*previews.RESPONDERS)], clock: ClockDep,
    notify: NotifyDep, response: Response,
) -> ResponsePreview:
    """The message the requester will get when this answer is sent: its channel, language and
    words (the rating link's token aside). Main and sub-liaison officers and the CMU, for a
    request their scope holds (404 otherwise); 409 when the requester cannot be reached.
    Nothing is sent or stored."""
    response.headers["Cache-Control"] = "no-store"
    return await previews.response(session, notify.renderer, clock, principal=principal, body=body)
