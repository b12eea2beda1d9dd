"""Who hears what, on which channel, in which language: turning notices into queued messages.

A handler says *what* must be heard (`Notice`: a kind, a recipient, the facts); this module
decides *how*: it looks the recipient up in the contact book, picks the channel (the request's
choice, else the person's preference; email without an address falls back to SMS, and the
message records it), picks the language, names the message (a uuid5 of source event, recipient
and channel, so a repeat queues nothing) and stores it, queued. It never sends: the dispatcher
does, outside the consumer's transaction. It never logs a person: only their identifier.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import repository
from services.notify.messages import MessageKind
from services.notify.models import DeliveryStatus, Priority
from services.notify.process import CODES, HOLDER, wake_dispatchers_after_commit
from services.notify.repository import AnyRow
from shared.errors import Text
from shared.events.vocabulary import Language, NoticeChannel

log = logging.getLogger(__name__)

NOTIFICATION_NAMESPACE: Final = uuid.UUID("7d3f4c1e-6a0b-5e2d-9c8f-b1a2e3d4c5f6")

UNREACHABLE = Counter(
    "bkh_notify_unreachable_total",
    "Notices not queued because their recipient cannot be reached",
    ["reason"],
)
QUEUED = Counter("bkh_notify_queued_total", "Messages queued", ["kind", "channel"])


def notification_id(source_event_id: uuid.UUID, recipient: str, channel: str) -> uuid.UUID:
    """The one id a (source event, recipient, channel) can ever have."""
    return uuid.uuid5(NOTIFICATION_NAMESPACE, f"{source_event_id}|{recipient}|{channel}")


class Reach(enum.Enum):
    preferred = "preferred"  # one channel: the request's choice, else the person's preference
    every = "every"          # every channel the person has (officers, heads and ministers)


@dataclass(frozen=True, slots=True)
class Notice:
    """Something one person must hear, as a handler sees it."""

    kind: MessageKind
    source_event_id: uuid.UUID
    occurred_at: datetime
    recipient_id: uuid.UUID
    facts: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None
    reach: Reach = Reach.preferred
    channel: NoticeChannel | None = None    # the request's own choice, when it made one
    language: Language | None = None
    priority: int = Priority.notice


def to_requester(request: AnyRow, kind: MessageKind, *, source_event_id: uuid.UUID,
                 occurred_at: datetime, **facts: Any) -> Notice:
    """A notice to a request's requester: on the channel and in the language the request
    chose, else their own (`reach`), with its reference and subject among the facts."""
    return Notice(
        kind=kind, source_event_id=source_event_id, occurred_at=occurred_at,
        recipient_id=request.requester_id, reference=request.reference,
        facts={"reference": request.reference, "subject": request.subject, **facts},
        channel=NoticeChannel(request.notice_channel) if request.notice_channel else None,
        language=Language(request.language) if request.language else None,
    )


def _json_ready(value: Any, language: Language) -> Any:
    """Facts as the context column stores them; bilingual names in the recipient's language."""
    if isinstance(value, Text):
        return value.ar if language is Language.ar else value.en
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _json_ready(v, language) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v, language) for v in value]
    return value


def reach(notice: Notice, contact: AnyRow) -> tuple[Language, list[tuple[NoticeChannel, bool]]]:
    """The language a notice speaks to its recipient, and the (channel, fell back) pairs it
    goes out on (empty when none can carry it)."""
    return notice.language or Language(contact.language), _channels(notice, contact)


def _channels(notice: Notice, contact: AnyRow) -> list[tuple[NoticeChannel, bool]]:
    """(channel, fell back) pairs the notice goes out on; empty when none can carry it."""
    has = {NoticeChannel.sms: bool(contact.phone), NoticeChannel.email: bool(contact.email)}
    if notice.reach is Reach.every:
        return [(channel, False) for channel in NoticeChannel if has[channel]]
    wanted = notice.channel or NoticeChannel(contact.notice_channel)
    if has[wanted]:
        return [(wanted, False)]
    other = NoticeChannel.sms if wanted is NoticeChannel.email else NoticeChannel.email
    return [(other, True)] if has[other] else []


def _row(
    notice: Notice, channel: NoticeChannel, language: Language, address: str, fell_back: bool
) -> dict[str, Any]:
    return {
        "id": notification_id(notice.source_event_id, f"person:{notice.recipient_id}", channel),
        "source_event_id": notice.source_event_id,
        "kind": notice.kind.value,
        "channel": channel.value,
        "recipient_id": notice.recipient_id,
        "reference": notice.reference,
        "address": address,
        "language": language.value,
        "context": _json_ready(dict(notice.facts), language),
        "fell_back": fell_back,
        "status": DeliveryStatus.queued.value,
        "priority": notice.priority,
        "attempts": 0,
        # Due at once; the instant of the event is also where its hand-off latency starts.
        "next_attempt_at": notice.occurred_at,
        "lease_until": None,
        "holder": None,
        "expires_at": None,
        "provider_message_id": None,
        "reason_code": None,
        "created_at": notice.occurred_at,
        "submitted_at": None,
        "delivered_at": None,
        "failed_at": None,
    }


async def queue(session: AsyncSession, notices: Sequence[Notice]) -> int:
    """Queue every notice that can reach its recipient; returns how many messages were new."""
    if not notices:
        return 0
    book = await repository.contacts_of(session, (n.recipient_id for n in notices))
    rows: list[dict[str, Any]] = []
    for notice in notices:
        contact = book.get(notice.recipient_id)
        if contact is None or not contact.active:
            reason = "unknown_recipient" if contact is None else "recipient_deactivated"
            _unreachable(notice, reason)
            continue
        language, channels = reach(notice, contact)
        if not channels:
            _unreachable(notice, "no_contact_point")
            continue
        for channel, fell_back in channels:
            address = contact.phone if channel is NoticeChannel.sms else contact.email
            rows.append(_row(notice, channel, language, address, fell_back))
            QUEUED.labels(notice.kind.value, channel.value).inc()
    return await _store(session, rows)


def _unreachable(notice: Notice, reason: str) -> None:
    UNREACHABLE.labels(reason).inc()
    log.warning(
        "notice not queued",
        extra={"reason": reason, "kind": notice.kind.value,
               "recipient_id": str(notice.recipient_id),
               "source_event_id": str(notice.source_event_id)},
    )


async def queue_code(
    session: AsyncSession,
    *,
    source_event_id: uuid.UUID,
    challenge_id: uuid.UUID,
    phone: str,
    code: str,
    facts: Mapping[str, Any],
    language: Language,
    occurred_at: datetime,
    expires_at: datetime,
) -> None:
    """A one-time code goes by SMS to the number it was asked for, and is never stored.

    The stored message holds everything but the code; the code waits in this process's memory
    for this process's dispatcher, and the message cannot outlive the code.
    """
    row = _row(
        Notice(kind=MessageKind.code, source_event_id=source_event_id, occurred_at=occurred_at,
               recipient_id=challenge_id, facts=facts, priority=Priority.code),
        NoticeChannel.sms, language, phone, fell_back=False,
    )
    row.update(id=notification_id(source_event_id, f"challenge:{challenge_id}", "sms"),
               recipient_id=None, holder=HOLDER, expires_at=expires_at)
    if await _store(session, [row]):
        CODES.put(row["id"], code, expires_at=expires_at)
        QUEUED.labels(MessageKind.code.value, NoticeChannel.sms.value).inc()


async def _store(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    new = await repository.insert_notifications(session, rows)
    if new:
        wake_dispatchers_after_commit(session)
    return len(new)
