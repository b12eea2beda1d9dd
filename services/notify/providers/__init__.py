"""Providers: the one interface behind which email and SMS leave the platform.

    Provider.send(messages) -> one Outcome per message, in any order:
        accepted      the provider took it (its message id, when it gives one)
        refused       the provider said no for good (bad address, 4xx): never retried
        retry         this message failed for now (a 4xx SMTP reply): tried again later
        unavailable   the provider itself failed (down, timeout, 5xx, refused our credentials):
                      tried again later, and counted by the provider's circuit breaker

Implementations: `smtp.SmtpProvider` (aiosmtplib), `sms_gateway.SmsGatewayProvider` (httpx),
`folder.FolderProvider` (development: files and a masked log line). None of them may log an
address or a message's text.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.events.vocabulary import Language, NoticeChannel


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered message, ready for a provider."""

    notification_id: uuid.UUID
    channel: NoticeChannel
    address: str
    language: Language
    text: str
    subject: str = ""   # email only
    html: str = ""      # email only


class Result(enum.Enum):
    accepted = "accepted"
    refused = "refused"
    retry = "retry"
    unavailable = "unavailable"


@dataclass(frozen=True, slots=True)
class Outcome:
    notification_id: uuid.UUID
    result: Result
    reason_code: str | None = None          # machine-readable, never an address
    provider_message_id: str | None = None

    @classmethod
    def accepted(cls, notification_id: uuid.UUID, provider_message_id: str | None) -> Outcome:
        return cls(notification_id, Result.accepted, None, provider_message_id)


class Provider(Protocol):
    name: str
    channel: NoticeChannel

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]: ...

    async def close(self) -> None: ...


def mask_address(address: str) -> str:
    """What a person may be shown of an address (and all a log may ever hold of one)."""
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:4]}•••{address[-2:]}" if len(address) > 6 else "•••"
