"""What the integrity service decides: keys, filing sealed reports, the commission's inbox.

Keyword-only functions; they never commit (the route's session or the consumer's batch does).
Events about reports carry the report's day, never an instant (`shared.sealing.day_stamp`).

What it must never do: hold or accept a private key, open an envelope, keep a receipt (only its
digest), change a filed envelope, or tell anyone but the commission anything of its inbox.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.integrity import repository
from services.integrity.exceptions import (
    AlreadyAcknowledged,
    AlreadyDeclaredCannotBeOpened,
    BadCursor,
    DevelopmentKeyRefused,
    FingerprintMismatch,
    InvalidPublicKey,
    KeyAlreadyRegistered,
    NoCommissionKey,
    NoIdentityEnvelope,
    NotAReceipt,
    ReportNotFound,
)
from services.integrity.models import Acknowledgement, CannotBeOpened, CommissionKey, StatusNote
from services.integrity.schemas import (
    AcknowledgementPublic,
    CannotBeOpenedPublic,
    CurrentKey,
    InboxItem,
    InboxPage,
    KeyPublic,
    KeyRegistration,
    NoteCreate,
    NotePublic,
    ReceiptNote,
    ReceiptStatus,
    ReportDetails,
    Words,
)
from shared.auth import DEV_KID_PREFIX, Principal
from shared.bus import Outbox, Received
from shared.clock import Clock
from shared.events.catalog import (
    ReportAcknowledged,
    ReportCannotBeOpened,
    ReportForwarded,
    ReportSealed,
)
from shared.events.vocabulary import ReportStatus
from shared.sealing import (
    CommissionPublicKey,
    EnvelopeRefused,
    check_sealed_report,
    normalise_fingerprint,
    receipt_digest,
    report_day,
    start_of,
    strict_b64decode,
)

log = logging.getLogger(__name__)

STATUS_WORDS: dict[ReportStatus, Words] = {
    ReportStatus.sealed: Words(
        ar="خُتم البلاغ وهو في طريقه إلى هيئة النزاهة ومكافحة الفساد.",
        en="Sealed and on its way to the Integrity and Anti-Corruption Commission.",
    ),
    ReportStatus.forwarded: Words(
        ar="وصل البلاغ إلى حساب هيئة النزاهة ومكافحة الفساد.",
        en="Delivered to the account of the Integrity and Anti-Corruption Commission.",
    ),
    ReportStatus.acknowledged: Words(
        ar="أكدت هيئة النزاهة ومكافحة الفساد استلام البلاغ.",
        en="The Integrity and Anti-Corruption Commission has confirmed receiving the report.",
    ),
    ReportStatus.cannot_be_opened: Words(
        ar="تعذّر على هيئة النزاهة ومكافحة الفساد فتح بلاغك: وصل تالفاً ولا يستطيع أحد قراءته. "
           "نرجو أن ترسل بلاغك مرة أخرى بلاغاً جديداً، وستحصل على إيصال جديد.",
        en="The Integrity and Anti-Corruption Commission could not open your report: it "
           "arrived damaged, and nobody can read it. Please send your report again as a new "
           "report; you will get a new receipt.",
    ),
}


# --- keys ---------------------------------------------------------------------------------------


def _key_public(key: CommissionKey, *, current: bool) -> KeyPublic:
    return KeyPublic(
        key_id=key.key_id,
        public_key=base64.b64encode(key.public_key).decode("ascii"),
        fingerprint=key.fingerprint,
        registered_at=key.registered_at,
        current=current,
    )


async def register_key(
    session: AsyncSession, *, registration: KeyRegistration, principal: Principal, clock: Clock,
    production: bool,
) -> KeyPublic:
    if production and registration.key_id.startswith(DEV_KID_PREFIX):
        # A development key's private half lies unguarded in a developer's var/ folder.
        raise DevelopmentKeyRefused(DevelopmentKeyRefused.detail_text)
    try:
        public = CommissionPublicKey.from_base64(registration.key_id, registration.public_key)
    except ValueError:
        raise InvalidPublicKey(InvalidPublicKey.detail_text) from None
    if normalise_fingerprint(registration.fingerprint) != public.fingerprint:
        raise FingerprintMismatch(FingerprintMismatch.detail_text)
    key = CommissionKey(
        key_id=public.key_id,
        public_key=public.key,
        fingerprint=public.fingerprint,
        registered_at=clock.now(),
        registered_by=principal.subject,
    )
    if not await repository.add_key(session, key):
        raise KeyAlreadyRegistered()
    log.info("commission key registered", extra={"key_id": key.key_id})
    return _key_public(key, current=True)


async def list_keys(session: AsyncSession) -> list[KeyPublic]:
    keys = await repository.keys_newest_first(session)
    return [_key_public(key, current=index == 0) for index, key in enumerate(keys)]


async def current_key(session: AsyncSession) -> CurrentKey:
    key = await repository.newest_key(session)
    if key is None:
        raise NoCommissionKey()
    return CurrentKey(
        key_id=key.key_id,
        public_key=base64.b64encode(key.public_key).decode("ascii"),
        fingerprint=key.fingerprint,
    )


# --- filing -------------------------------------------------------------------------------------


def _checked(sealed: ReportSealed, known_key_ids: frozenset[str]) -> dict[str, Any]:
    """The row of a sealed report, after everything a server can check without the key."""
    try:
        envelope = strict_b64decode(sealed.envelope)
        identity = (
            None if sealed.identity_envelope is None
            else strict_b64decode(sealed.identity_envelope)
        )
    except ValueError:
        raise EnvelopeRefused("not-base64") from None
    info, _ = check_sealed_report(envelope, identity, known_key_ids=known_key_ids)
    header = info.header
    if (header.envelope_id, header.key_id, header.day) != (
        sealed.envelope_id, sealed.key_id, sealed.created_day
    ):
        raise EnvelopeRefused("event-mismatch")
    return {
        "envelope_id": header.envelope_id,
        "key_id": header.key_id,
        "created_day": header.day,
        "size_bucket": info.size_bucket,
        "envelope": envelope,
        "identity_envelope": identity,
        "has_identity": identity is not None,
        "receipt_digest": sealed.receipt_digest,
    }


async def file_sealed_reports(session: AsyncSession,
                              events: Sequence[Received[ReportSealed]]) -> None:
    """File sealed reports in the commission's inbox, once each, and say so
    (`report.forwarded`). A batch is one statement; one bad report fails the batch, and the
    consumer then files the others one by one.

    Everything a server can check is checked again here (intake checked it too): a report
    this service files is one the commission's tool can at least try to open.
    """
    known_key_ids = await repository.key_ids(session)
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    for sealed in (event.payload for event in events):
        row = _checked(sealed, known_key_ids)
        rows.setdefault(row["envelope_id"], row)
        if rows[row["envelope_id"]]["envelope"] != row["envelope"]:
            raise EnvelopeRefused("envelope-id-taken")
    filed = await repository.file_reports(session, list(rows.values()))
    for envelope_id in rows.keys() - filed:
        # The same report published again (intake's relay may repeat): already filed. Another
        # envelope under a filed id is no repeat, and must not pass silently.
        if await repository.filed_envelope(session, envelope_id) != rows[envelope_id]["envelope"]:
            raise EnvelopeRefused("envelope-id-taken")
    by_day: dict[date, list[ReportForwarded]] = {}
    for envelope_id in filed:
        by_day.setdefault(rows[envelope_id]["created_day"], []).append(
            ReportForwarded(envelope_id=envelope_id)
        )
    for day, forwarded in sorted(by_day.items()):
        await events[0].outbox.at(start_of(day)).add_many(session, forwarded)
    # No log line names a report: its time beside the id would date the reporter's sending.


# --- the commission's inbox ---------------------------------------------------------------------


def _cursor(item: repository.Filed) -> str:
    return f"{item.created_day.isoformat()}.{item.envelope_id}"


def _parse_cursor(cursor: str) -> tuple[date, uuid.UUID]:
    day, _, envelope_id = cursor.partition(".")
    try:
        return date.fromisoformat(day), uuid.UUID(envelope_id)
    except ValueError:
        raise BadCursor() from None


def _item(filed: repository.Filed) -> InboxItem:
    return InboxItem.model_validate(filed, from_attributes=True)


async def inbox(
    session: AsyncSession, *, limit: int, cursor: str | None, acknowledged: bool | None
) -> InboxPage:
    older_than = _parse_cursor(cursor) if cursor else None
    rows = await repository.inbox_page(
        session, limit=limit + 1, older_than=older_than, acknowledged=acknowledged
    )
    page = rows[:limit]
    return InboxPage(
        items=[_item(row) for row in page],
        next_cursor=_cursor(page[-1]) if len(rows) > limit else None,
    )


async def _existing(session: AsyncSession, envelope_id: uuid.UUID) -> repository.Filed:
    found = await repository.filed(session, envelope_id)
    if found is None:
        raise ReportNotFound()
    return found


def _note_public(note: StatusNote) -> NotePublic:
    return NotePublic(id=note.id, text=note.text, posted_on=note.posted_on)


async def details(session: AsyncSession, *, envelope_id: uuid.UUID) -> ReportDetails:
    found = await _existing(session, envelope_id)
    notes = await repository.notes_of(session, envelope_id)
    return ReportDetails(
        **_item(found).model_dump(), status_notes=[_note_public(note) for note in notes]
    )


async def download(session: AsyncSession, *, envelope_id: uuid.UUID, identity: bool) -> bytes:
    exists, data = await repository.envelope_bytes(session, envelope_id, identity=identity)
    if not exists:
        raise ReportNotFound()
    if data is None:
        raise NoIdentityEnvelope()
    log.info(
        "sealed envelope downloaded",
        extra={"envelope_id": str(envelope_id), "identity": identity},
    )
    return data


async def acknowledge(
    session: AsyncSession,
    *,
    envelope_id: uuid.UUID,
    principal: Principal,
    clock: Clock,
    outbox: Outbox,
) -> AcknowledgementPublic:
    await _existing(session, envelope_id)
    acknowledgement = Acknowledgement(
        envelope_id=envelope_id,
        acknowledged_on=report_day(clock),
        acknowledged_by=principal.subject,
    )
    if not await repository.acknowledge(session, acknowledgement):
        raise AlreadyAcknowledged()
    await outbox.add(session, ReportAcknowledged(envelope_id=envelope_id))
    return AcknowledgementPublic(
        envelope_id=envelope_id, acknowledged_on=acknowledgement.acknowledged_on
    )


async def declare_cannot_be_opened(
    session: AsyncSession,
    *,
    envelope_id: uuid.UUID,
    principal: Principal,
    clock: Clock,
    outbox: Outbox,
) -> CannotBeOpenedPublic:
    """The commission's tool could not open the report (damaged, or badly sealed): say so to
    the reporter, whose receipt then asks for a new report. Once per report."""
    await _existing(session, envelope_id)
    declaration = CannotBeOpened(
        envelope_id=envelope_id, declared_on=report_day(clock), declared_by=principal.subject
    )
    if not await repository.declare_cannot_be_opened(session, declaration):
        raise AlreadyDeclaredCannotBeOpened()
    await outbox.add(session, ReportCannotBeOpened(envelope_id=envelope_id))
    return CannotBeOpenedPublic(envelope_id=envelope_id, declared_on=declaration.declared_on)


async def post_note(
    session: AsyncSession,
    *,
    envelope_id: uuid.UUID,
    note: NoteCreate,
    principal: Principal,
    clock: Clock,
) -> NotePublic:
    await _existing(session, envelope_id)
    stored = await repository.add_note(
        session,
        StatusNote(
            envelope_id=envelope_id,
            text=note.text,
            posted_on=report_day(clock),
            posted_by=principal.subject,
        ),
    )
    return _note_public(stored)


# --- receipts -----------------------------------------------------------------------------------


async def receipt_status(session: AsyncSession, *, receipt: str) -> ReceiptStatus:
    """A receipt's status. One that matches nothing answers `sealed`: a report is sealed before
    it is filed, so the answer cannot tell a receipt that exists from one that does not."""
    try:
        digest = receipt_digest(receipt)
    except ValueError:
        raise NotAReceipt(NotAReceipt.detail_text) from None
    found, notes = await repository.by_receipt(session, digest)
    if found is None:
        status = ReportStatus.sealed
    elif found.cannot_be_opened_on is not None:  # whatever came before, it will not be read
        status = ReportStatus.cannot_be_opened
    elif found.acknowledged_on is None:
        status = ReportStatus.forwarded
    else:
        status = ReportStatus.acknowledged
    return ReceiptStatus(
        status=status,
        label=STATUS_WORDS[status],
        notes=[ReceiptNote(text=note.text, day=note.posted_on) for note in notes],
    )
