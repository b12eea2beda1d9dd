"""The integrity service's API models: keys, the commission's inbox, receipt status.

None of them carries anything of a report in the clear: the inbox knows ids, days, key ids
and size buckets; the envelope bytes themselves are downloaded as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.events.vocabulary import Reason, ReportStatus
from shared.sealing import ALGORITHM, KEY_ID_PATTERN, VERSION


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


KeyId = Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)]


class KeyRegistration(_Model):
    """A public key as the commission's tool prints it, with its fingerprint as a check."""

    key_id: KeyId = Field(examples=["commission-2026-01"])
    public_key: str = Field(
        min_length=44, max_length=44, description="32 bytes of X25519, standard base64."
    )
    fingerprint: str = Field(
        min_length=64, max_length=100,
        description="SHA-256 of the key in hex, as the tool prints it (spaces allowed).",
    )


class KeyPublic(_Model):
    key_id: str
    public_key: str
    fingerprint: str
    registered_at: AwareDatetime
    current: bool = Field(description="The newest key: the one new reports are sealed to.")


class CurrentKey(_Model):
    """What a sealer needs: intake, or a reporter's device that seals by itself."""

    key_id: str
    public_key: str = Field(description="X25519, standard base64.")
    fingerprint: str = Field(description="SHA-256 of the raw key, hex.")
    algorithm: str = ALGORITHM
    envelope_version: int = Field(
        default=VERSION,
        description="The envelope version to seal in (shared/sealing.py); envelopes of the "
        "earlier versions are still accepted.",
    )


class InboxItem(_Model):
    envelope_id: UUID
    created_day: date
    key_id: str
    size_bucket: int = Field(description="Padded size of the content in bytes.")
    has_identity: bool = Field(description="Whether the reporter attached a sealed identity.")
    acknowledged_on: date | None
    cannot_be_opened_on: date | None = Field(
        description="When the commission declared it cannot be opened (damaged or badly "
        "sealed): the reporter is asked for a new report."
    )
    notes: int = Field(description="How many status notes were released to the reporter.")


class InboxPage(_Model):
    items: list[InboxItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class NoteCreate(_Model):
    text: Reason = Field(description="Plain text the reporter will see with their receipt.")


class NotePublic(_Model):
    id: int
    text: str
    posted_on: date


class ReportDetails(InboxItem):
    status_notes: list[NotePublic]


class AcknowledgementPublic(_Model):
    envelope_id: UUID
    acknowledged_on: date


class CannotBeOpenedPublic(_Model):
    envelope_id: UUID
    declared_on: date


class Words(_Model):
    ar: str
    en: str


class ReceiptNote(_Model):
    text: str
    day: date


class ReceiptStatus(_Model):
    """What a receipt's holder sees; the same shape whether or not the receipt exists."""

    status: ReportStatus
    label: Words
    notes: list[ReceiptNote]
