"""Events as the other services publish them, with plausible defaults."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import catalog as c
from shared.events.vocabulary import (
    Channel,
    CodePurpose,
    DirectoryChange,
    Language,
    NoticeChannel,
    RequestKind,
    Role,
)

_numbers = itertools.count(1)


def phone() -> str:
    return f"+96279{next(_numbers):07d}"


def reference() -> str:
    return f"BKH-2026-{next(_numbers):06d}"


def citizen(*, channel: NoticeChannel = NoticeChannel.sms, language: Language = Language.ar,
            email: str | None = None, number: str | None = None,
            citizen_id: uuid.UUID | None = None) -> c.CitizenRegistered:
    return c.CitizenRegistered(citizen_id=citizen_id or uuid.uuid4(), phone=number or phone(),
                               email=email, language=language, notice_channel=channel)


def official(*, channel: NoticeChannel = NoticeChannel.sms, language: Language = Language.ar,
             email: str | None = "official@gov.jo", number: str | None = None,
             change: DirectoryChange = DirectoryChange.created,
             person_id: uuid.UUID | None = None) -> c.DirectoryPersonChanged:
    return c.DirectoryPersonChanged(person_id=person_id or uuid.uuid4(),
                                    phone=number or phone(), email=email, language=language,
                                    notice_channel=channel, change=change)


def role(person_id: uuid.UUID, role: Role, *, sector: str | None = None,
         entity: str | None = None, granted: bool = True) -> c.DirectoryRoleChanged:
    return c.DirectoryRoleChanged(person_id=person_id, role=role, sector=sector, entity=entity,
                                  granted=granted)


def submitted(requester_id: uuid.UUID, *, ref: str | None = None, **fields: Any
              ) -> c.RequestSubmitted:
    values: dict[str, Any] = {
        "reference": ref or reference(), "kind": RequestKind.complaint, "entity": "MWI",
        "sector": "MWI", "governorate": "JO-AM", "channel": Channel.mobile_app,
        "subject": "انقطاع المياه عن الحي منذ أسبوع", "description": "لا تصل المياه منذ أسبوع.",
        "requester_id": requester_id, "submitted_at": datetime.now(UTC),
    }
    return c.RequestSubmitted(**{**values, **fields})


def code(number: str, *, secret: str = "482913", minutes: int = 10,
         now: datetime | None = None) -> c.CitizenCodeRequested:
    return c.CitizenCodeRequested(
        challenge_id=uuid.uuid4(), phone=number, code=secret,
        purpose=CodePurpose.registration, language=Language.ar,
        expires_at=(now or datetime.now(UTC)) + timedelta(minutes=minutes))
