"""Corruption reports at intake: `POST /api/v1/reports`, sealed in memory the moment they arrive.

A report comes in the clear over TLS (text, attachments, and the reporter's identity if they
give it) or already sealed by the reporter's device. Either way only sealed envelopes leave
this module: the content is sealed at once to the commission's current public key (fetched
from integrity's `GET /api/v1/integrity/public-key` and kept for a minute), published as
`report.sealed` through intake's outbox, and the reporter gets a random receipt to follow it
(`GET /api/v1/reports/{receipt}`, answered by integrity). Each envelope's id is taken in
intake's own table in the receipt's transaction: integrity files one envelope per id, so a
second envelope under a taken id is refused here (409) rather than given a receipt that would
never move.

The idempotency record of a report links nobody to anything: it is kept under one shared owner
(never the caller's account), under a hash of the Idempotency-Key, with a fingerprint keyed by
the Idempotency-Key itself and the receipt encrypted under it. Only whoever holds the key (the
reporter's device) can replay the answer or test a guess of what was sent.

What it must never do: write a report's plaintext, or anything derived from it without a key
only the reporter holds, to a table, a log, a temporary file or the broker; record which
account sent a report (the account id travels only inside the sealed identity envelope, and
only when the reporter asks for it); stamp a report's events with more than the day.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Request, Response
from nacl import secret
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.attachments import inspect as inspect_attachment
from services.intake.commission_keys import CommissionKeys
from services.intake.context import IntakeDep
from services.intake.exceptions import InvalidInput
from shared.auth import Principal
from shared.bus import Outbox
from shared.clock import Clock
from shared.dependencies import (
    ClockDep,
    IdempotencyKeyDep,
    OptionalPrincipalDep,
    RuntimeDep,
    SessionDep,
)
from shared.errors import Conflict, PayloadTooLarge, Problem, Text
from shared.events.catalog import ReportSealed
from shared.events.vocabulary import ReportStatus, Role
from shared.idempotency import IdempotencyKey
from shared.sealing import (
    Attachment,
    EnvelopeRefused,
    ReportContent,
    ReporterIdentity,
    SealedReport,
    check_sealed_report,
    day_stamp,
    new_receipt,
    receipt_digest,
    report_day,
    seal_report,
    strict_b64decode,
)

log = logging.getLogger(__name__)

IDEMPOTENCY_OWNER: Final = "corruption-reports"  # one shared owner: never the reporter's id
MAX_TEXT_CHARS: Final = 20_000
MAX_ATTACHMENTS: Final = 5
MAX_ATTACHMENT_BYTES: Final = 5 * 1024 * 1024
MAX_ATTACHMENTS_TOTAL_BYTES: Final = 7 * 1024 * 1024  # with the text, fits the 8 MiB bucket

# --- problems -----------------------------------------------------------------------------------


class EnvelopeNotAccepted(Problem):
    """`reason` is `shared.sealing.EnvelopeRefused`'s code (or `day`)."""

    status = 422
    code = "envelope-refused"
    title = Text("الظرف المختوم غير صالح", "The sealed envelope is not valid")
    detail_text = Text(
        "اختم البلاغ بالمفتاح العام الحالي للهيئة (GET /api/v1/integrity/public-key) وبصيغة "
        "الظرف المعتمدة، ثم أعد الإرسال.",
        "Seal the report to the commission's current public key (GET "
        "/api/v1/integrity/public-key) in the agreed envelope format, and send it again.",
    )
    damaged_text = Text(
        "تلف الظرف بعد ختمه (لا يطابق ملخّصه محتواه). اختم البلاغ من جديد ثم أعد الإرسال.",
        "The envelope was damaged after it was sealed (its digest does not match it). Seal "
        "the report again and send it.",
    )

    def __init__(self, reason: str) -> None:
        super().__init__(self.damaged_text if reason == "damaged" else self.detail_text,
                         reason=reason)


class EnvelopeIdTaken(Conflict):
    code = "envelope-id-taken"
    title = Text("استُلم من قبل ظرف بمعرّف هذا الظرف", "An envelope with this id was received before")
    detail_text = Text(
        "إن كنت أرسلت هذا البلاغ من قبل فتابعه بالإيصال الذي أُعطيته حينها. وإلا فاختمه من "
        "جديد: لكل ظرف معرّف جديد.",
        "If you sent this report before, follow it with the receipt you were given then. "
        "Otherwise seal it again: every envelope has a new id.",
    )


router = APIRouter(tags=["corruption reports"])
"""`POST /api/v1/reports`."""


# --- what a reporter sends ----------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EvidenceIn(_In):
    name: str = Field(min_length=1, max_length=255)
    content: str = Field(min_length=4, description="The file's bytes, standard base64.")


class IdentityIn(_In):
    """Who the reporter is, if they choose to say; sealed apart from the report."""

    name: str | None = Field(default=None, max_length=200)
    national_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    note: str | None = Field(default=None, max_length=1000,
                             description="How and when the commission may contact them.")


class PlaintextReport(_In):
    """A report in the clear (over TLS); sealed in memory before anything else happens."""

    subject: str | None = Field(default=None, max_length=200)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    attachments: list[EvidenceIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    identity: IdentityIn | None = None
    attach_account: bool = Field(
        default=False,
        description="Seal the signed-in citizen's account id into the identity envelope.",
    )


class ClientSealedReport(_In):
    """A report the reporter's device sealed itself (format: shared/sealing.py)."""

    envelope: str = Field(
        min_length=4,
        description="The report envelope, standard base64: version 2 (or 1, still accepted).",
    )
    identity_envelope: str | None = Field(default=None, min_length=4, max_length=64 * 1024)


def _form(body: Any) -> str:
    if isinstance(body, dict):
        return "sealed" if "envelope" in body else "plaintext"
    return "sealed" if isinstance(body, ClientSealedReport) else "plaintext"


ReportIn = Annotated[
    Annotated[PlaintextReport, Tag("plaintext")] | Annotated[ClientSealedReport, Tag("sealed")],
    Discriminator(_form),
]


class ReportReceipt(BaseModel):
    """What the reporter keeps: the receipt is the only way to follow the report."""

    receipt: str = Field(examples=["7K3QD-M2X9P-4WQ8R-Z1C5N"])
    status: ReportStatus
    message: Text


class _StoredReceipt(BaseModel):
    """The idempotency record's answer: the receipt sealed under the Idempotency-Key."""

    sealed: str


# --- sealing ------------------------------------------------------------------------------------


def _decode(field: str, text: str) -> bytes:
    try:
        return strict_b64decode(text)
    except ValueError:
        raise InvalidInput(field, "not_base64", Text("ليست بترميز base64 القياسي.",
                                                 "Not standard base64.")) from None


async def _evidence(attachments: list[EvidenceIn]) -> tuple[Attachment, ...]:
    files = [(a.name, _decode("attachments", a.content)) for a in attachments]
    if sum(len(data) for _, data in files) > MAX_ATTACHMENTS_TOTAL_BYTES:
        raise PayloadTooLarge(Text(
            "مجموع المرفقات حتى 7 ميغابايت.", "All attachments together up to 7 MB."
        ))
    checked = []
    for name, data in files:
        # Judged by content and images cleaned as every attachment is: a photo's camera, place
        # and time would point at the reporter.
        clean = await asyncio.to_thread(inspect_attachment, data, max_bytes=MAX_ATTACHMENT_BYTES)
        checked.append(Attachment(name=name, media_type=clean.media_type, data=clean.content))
    return tuple(checked)


def _identity(body: PlaintextReport, principal: Principal | None) -> ReporterIdentity | None:
    account = None
    if body.attach_account:
        if principal is None or principal.role is not Role.citizen:
            raise InvalidInput("attach_account", "not_signed_in", Text(
                "سجّل الدخول لإرفاق حسابك بالبلاغ، أو أرسله دون حساب.",
                "Sign in to attach your account, or send the report without it.",
            ))
        account = principal.subject
    given = body.identity.model_dump() if body.identity else {}
    if not any(given.values()) and account is None:
        return None
    return ReporterIdentity(**given, citizen_id=account)


async def _seal_plaintext(
    body: PlaintextReport, principal: Principal | None, *, keys: CommissionKeys, clock: Clock,
    receipt: str,
) -> SealedReport:
    content = ReportContent(
        text=body.text, subject=body.subject, attachments=await _evidence(body.attachments),
        receipt_digest=receipt_digest(receipt),
    )
    return seal_report(content, _identity(body, principal), to=await keys.current(),
                       day=report_day(clock))


async def _check_client_sealed(
    body: ClientSealedReport, *, keys: CommissionKeys, clock: Clock
) -> SealedReport:
    envelope = _decode("envelope", body.envelope)
    identity = None if body.identity_envelope is None else _decode(
        "identity_envelope", body.identity_envelope
    )
    key = await keys.current()
    try:
        try:
            info, _ = check_sealed_report(envelope, identity, known_key_ids=frozenset({key.key_id}))
        except EnvelopeRefused as refused:
            if refused.reason != "unknown-key":
                raise
            # The commission may have rotated since we last asked: ask once more.
            key = await keys.refresh(stale=key)
            info, _ = check_sealed_report(envelope, identity, known_key_ids=frozenset({key.key_id}))
    except EnvelopeRefused as refused:
        raise EnvelopeNotAccepted(refused.reason) from None
    today = report_day(clock)
    if abs(info.header.day - today) > timedelta(days=1):
        # A day far from today would be a precise marker of this reporter among the others.
        raise EnvelopeNotAccepted("day")
    return SealedReport(info.header.envelope_id, info.header.key_id, info.header.day, envelope,
                        identity)


# --- idempotency without a link -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReporterKey:
    """Keys derived from the reporter's Idempotency-Key; the key itself is never stored."""

    record: IdempotencyKey
    mac_key: bytes
    box_key: bytes

    @classmethod
    def of(cls, key: IdempotencyKey) -> _ReporterKey:
        def derive(purpose: bytes, size: int) -> bytes:
            return hashlib.blake2b(key.value.encode(), digest_size=size,
                                   person=purpose).digest()

        return cls(
            record=replace(key, value=derive(b"bkh-report-key", 32).hex()),
            mac_key=derive(b"bkh-report-mac", 32),
            box_key=derive(b"bkh-report-box", secret.SecretBox.KEY_SIZE),
        )

    def fingerprint(self, body: bytes) -> bytes:
        return hmac.new(self.mac_key, body, hashlib.sha256).digest()

    def seal_receipt(self, receipt: str) -> _StoredReceipt:
        sealed = secret.SecretBox(self.box_key).encrypt(receipt.encode("ascii"))
        return _StoredReceipt(sealed=base64.b64encode(bytes(sealed)).decode("ascii"))

    def open_receipt(self, stored: _StoredReceipt) -> str:
        opened: bytes = secret.SecretBox(self.box_key).decrypt(base64.b64decode(stored.sealed))
        return opened.decode("ascii")


# --- the route ----------------------------------------------------------------------------------

RECEIVED: Final = Text(
    "خُتم بلاغك ولا يقرؤه أحد غير هيئة النزاهة ومكافحة الفساد. احتفظ بالإيصال: هو الطريقة "
    "الوحيدة لمتابعة بلاغك.",
    "Your report is sealed: nobody but the Integrity and Anti-Corruption Commission can read "
    "it. Keep the receipt: it is the only way to follow your report.",
)


async def _publish(
    session: AsyncSession, sealed: SealedReport, receipt: str, *, outbox: Outbox
) -> None:
    await outbox.add(
        session,
        ReportSealed(
            envelope_id=sealed.envelope_id,
            key_id=sealed.key_id,
            envelope=base64.b64encode(sealed.envelope).decode("ascii"),
            created_day=sealed.day,
            identity_envelope=(base64.b64encode(sealed.identity_envelope).decode("ascii")
                               if sealed.identity_envelope else None),
            receipt_digest=receipt_digest(receipt),
        ),
    )


@router.post("/api/v1/reports", status_code=201,
             responses={201: {"description": "Sealed; the receipt follows the report."}},
             # Added to the bearer scheme `principal` declares: a token is optional here.
             openapi_extra={"security": [{}]})
async def submit_report(
    body: ReportIn,
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    runtime: RuntimeDep,
    intake: IntakeDep,
    idempotency: IdempotencyKeyDep,
    principal: OptionalPrincipalDep,
) -> ReportReceipt:
    """Report corruption, anonymously or not: sealed for the integrity commission at once."""
    reporter_key = _ReporterKey.of(idempotency)
    keys = intake.commission_keys
    outbox = runtime.outbox.at(day_stamp(clock))

    async def create() -> _StoredReceipt:
        receipt = new_receipt()
        if isinstance(body, PlaintextReport):
            sealed = await _seal_plaintext(body, principal, keys=keys, clock=clock,
                                           receipt=receipt)
        else:
            sealed = await _check_client_sealed(body, keys=keys, clock=clock)
        if not await repository.take_envelope_id(session, envelope_id=sealed.envelope_id):
            # Integrity files one envelope per id: a receipt for this one would never move.
            raise EnvelopeIdTaken(EnvelopeIdTaken.detail_text)
        # Not logged, not even its id: a log line's time beside an id would say when this
        # reporter pressed send.
        await _publish(session, sealed, receipt, outbox=outbox)
        return reporter_key.seal_receipt(receipt)

    stored = await reporter_key.record.once(
        session, owner=IDEMPOTENCY_OWNER, request=reporter_key.fingerprint(await request.body()),
        response=response, result_type=_StoredReceipt, create=create,
    )
    response.headers["Cache-Control"] = "no-store"
    return ReportReceipt(receipt=reporter_key.open_receipt(stored), status=ReportStatus.sealed,
                         message=RECEIVED)
