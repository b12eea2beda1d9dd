"""The notify API's models: the delivery log as people see it, the gateway's receipts, and the
preview of a response."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.notify.models import DeliveryStatus
from services.notify.providers import mask_address
from services.notify.repository import AnyRow, is_forgotten
from shared.events.vocabulary import (
    ClosingCode,
    Language,
    LongText,
    NoticeChannel,
    ReferenceNumber,
)


class NotificationPublic(BaseModel):
    """One message in the delivery log; its address masked, its text never shown."""

    id: uuid.UUID
    reference: str | None
    template: str
    channel: NoticeChannel
    to: str = Field(description="The address, masked: +962•••67, a***@example.jo; empty once "
                                "forgotten.")
    forgotten: bool = Field(description="Past its retention period: its address and words are "
                                        "no longer kept, only this record.")
    status: DeliveryStatus
    fell_back: bool = Field(description="Email was asked for, but SMS carried it (no email).")
    attempts: int
    reason_code: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    submitted_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, row: AnyRow) -> NotificationPublic:
        forgotten = is_forgotten(row)
        return cls(
            id=row.id, reference=row.reference, template=row.kind,
            channel=NoticeChannel(row.channel), to="" if forgotten else mask_address(row.address),
            forgotten=forgotten,
            status=DeliveryStatus(row.status), fell_back=row.fell_back, attempts=row.attempts,
            reason_code=row.reason_code, created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.queued else None,
            submitted_at=row.submitted_at, delivered_at=row.delivered_at,
            failed_at=row.failed_at,
        )


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


ProviderText = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(extra="ignore")  # gateways add fields of their own

    message_id: ProviderText
    client_reference: uuid.UUID
    status: Literal["delivered", "undeliverable", "expired"]
    error: Annotated[str, StringConstraints(max_length=64)] | None = None


class DeliveryReceipts(BaseModel):
    model_config = ConfigDict(extra="ignore")

    receipts: list[DeliveryReceipt] = Field(min_length=1, max_length=1000)


class ReceiptsApplied(BaseModel):
    applied: int = Field(description="Receipts that moved a message to delivered or failed.")
    already_final: int = Field(description="Receipts for messages already delivered or failed.")
    unknown: list[uuid.UUID] = Field(description="Client references we never sent.")


class ResponsePreviewCreate(BaseModel):
    """What an officer is about to answer: the body of routing's `respond`, as it is."""

    model_config = ConfigDict(extra="forbid")

    reference: ReferenceNumber
    actions_taken: LongText
    solution: LongText
    outcome: ClosingCode = Field(
        default=ClosingCode.resolved,
        description="As `respond` takes it; the requester's message does not show it.")


class ResponsePreview(BaseModel):
    """The message the requester will get once the answer is sent, word for word, except the
    rating link's token (a preview's link rates nothing)."""

    channel: NoticeChannel = Field(description="The request's choice, else the requester's "
                                               "(SMS when email was chosen but no address is "
                                               "known).")
    language: Language
    text: str = Field(description="The SMS, or the email's plain text.")
    subject: str | None = Field(description="The email's subject; None for an SMS.")
