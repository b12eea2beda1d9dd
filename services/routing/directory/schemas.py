"""API models of the directory: what is read publicly, what CMU administrators send."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.routing.models import Classification, DirectoryLog, Entity, Governorate, Sector
from services.routing.permissions import Permission
from shared.errors import Text, field_error
from shared.events.vocabulary import (
    EmailAddress,
    EntityCode,
    Language,
    NoticeChannel,
    PhoneNumber,
    RequestKind,
    Role,
    SectorCode,
    ShortText,
)


class EntityKind(StrEnum):
    ministry = "ministry"
    department = "department"
    authority = "authority"
    commission = "commission"
    corporation = "corporation"
    municipality = "municipality"


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _dialable(value: str) -> str:
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise field_error("phone_format", Text("رقم الهاتف غير صحيح",
                                              "The phone number is not a valid phone number"))
    return value


Username = Annotated[
    str, BeforeValidator(_lower),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$"),
]
"""Lower case letters, digits, `.`, `_`, `-`; 3 to 64 characters (compared case-insensitively)."""
StaffPhone = Annotated[PhoneNumber, AfterValidator(_dialable)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
"""Length and quality are judged by `shared.passwords.password_problem`, with a clear answer."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Update(_Input):
    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise field_error("nothing_to_change", Text("أرسل حقلاً واحداً على الأقل لتغييره",
                                                     "Send at least one field to change"))
        return self


# --- sectors -------------------------------------------------------------------------------------


class SectorPublic(BaseModel):
    code: str
    name_ar: str
    name_en: str
    retired_at: datetime | None

    @classmethod
    def of(cls, sector: Sector) -> SectorPublic:
        return cls(code=sector.code, name_ar=sector.name_ar, name_en=sector.name_en,
                   retired_at=sector.retired_at)


class SectorCreate(_Input):
    code: SectorCode
    name_ar: ShortText
    name_en: ShortText


class SectorUpdate(_Update):
    name_ar: ShortText | None = None
    name_en: ShortText | None = None


# --- entities ------------------------------------------------------------------------------------


class EntityPublic(BaseModel):
    code: str
    sector: str
    parent: str | None = Field(description="Set for a department: the entity it belongs to.")
    kind: str
    name_ar: str
    name_en: str
    receives_reports: bool
    retired_at: datetime | None

    @classmethod
    def of(cls, entity: Entity) -> EntityPublic:
        return cls(code=entity.code, sector=entity.sector_code, parent=entity.parent_code,
                   kind=entity.kind, name_ar=entity.name_ar, name_en=entity.name_en,
                   receives_reports=entity.receives_reports, retired_at=entity.retired_at)


class EntityCreate(_Input):
    code: EntityCode
    sector: SectorCode
    parent: EntityCode | None = None
    kind: EntityKind
    name_ar: ShortText
    name_en: ShortText


class EntityUpdate(_Update):
    sector: SectorCode | None = None
    parent: EntityCode | None = Field(default=None, description="Send null to make it top-level.")
    kind: EntityKind | None = None
    name_ar: ShortText | None = None
    name_en: ShortText | None = None


class GovernoratePublic(BaseModel):
    code: str
    name_ar: str
    name_en: str

    @classmethod
    def of(cls, governorate: Governorate) -> GovernoratePublic:
        return cls(code=governorate.code, name_ar=governorate.name_ar,
                   name_en=governorate.name_en)


# --- classifications -----------------------------------------------------------------------------

ClassificationCodeIn = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9._-]*$")
]
WorkingDays = Annotated[int, Field(ge=1, le=250)]


class ClassificationPublic(BaseModel):
    code: str
    kind: RequestKind
    name_ar: str
    name_en: str
    max_working_days: int
    retired_at: datetime | None

    @classmethod
    def of(cls, classification: Classification) -> ClassificationPublic:
        return cls(code=classification.code, kind=classification.kind,
                   name_ar=classification.name_ar, name_en=classification.name_en,
                   max_working_days=classification.max_working_days,
                   retired_at=classification.retired_at)


class ClassificationCreate(_Input):
    code: ClassificationCodeIn
    kind: RequestKind
    name_ar: ShortText
    name_en: ShortText
    max_working_days: WorkingDays

    @model_validator(mode="after")
    def _kind_is_classified(self) -> Self:
        if self.kind in (RequestKind.report, RequestKind.praise):
            raise field_error("kind_not_classified", Text("البلاغات والإشادات لا تُصنَّف",
                                                       "Reports and praise are not classified"))
        return self


class ClassificationUpdate(_Update):
    name_ar: ShortText | None = None
    name_en: ShortText | None = None
    max_working_days: WorkingDays | None = None


# --- people, roles, permissions -----------------------------------------------------------------


class AssignmentPublic(BaseModel):
    id: uuid.UUID
    role: Role
    sector: str | None
    entity: str | None
    granted_at: datetime
    granted_by: uuid.UUID | None
    revoked_at: datetime | None


class PersonPublic(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str
    phone: str | None
    email: str | None
    language: Language
    notice_channel: NoticeChannel
    active: bool
    role: Role | None = Field(description="The current role (None: none at present).")
    assignments: list[AssignmentPublic] = Field(description="The current role's scopes.")


class PersonPage(BaseModel):
    items: list[PersonPublic]
    next_after: str | None = Field(description="Pass as `after` for the next page.")


class RoleGrant(_Input):
    role: Role
    sector: SectorCode | None = None
    entity: EntityCode | None = None


class PersonCreate(_Input):
    username: Username
    full_name: ShortText
    phone: StaffPhone | None = None
    email: EmailAddress | None = None
    language: Language = Language.ar
    notice_channel: NoticeChannel = NoticeChannel.sms
    password: Password
    role: RoleGrant | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        wanted = self.phone if self.notice_channel is NoticeChannel.sms else self.email
        if wanted is None:
            raise field_error("contact_point_missing", Text(
                "قناة الإشعار المختارة تحتاج إلى رقم الهاتف أو البريد الإلكتروني الخاص بها",
                f"The notice channel {self.notice_channel.value} needs its contact point"))
        return self


class PersonUpdate(_Update):
    full_name: ShortText | None = None
    phone: StaffPhone | None = None
    email: EmailAddress | None = None
    language: Language | None = None
    notice_channel: NoticeChannel | None = None
    active: bool | None = None


class PasswordReset(_Input):
    new_password: Password


class PermissionCatalog(BaseModel):
    permissions: list[Permission]
    roles: dict[Role, list[str]] = Field(description="What each role (group) may do.")


class RolePermissionsUpdate(_Input):
    permissions: list[Permission] = Field(max_length=len(Permission))


class PersonPermissionsUpdate(_Input):
    grants: list[Permission] = Field(default_factory=list, max_length=len(Permission))
    denials: list[Permission] = Field(default_factory=list, max_length=len(Permission))

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        if set(self.grants) & set(self.denials):
            raise field_error("permission_conflict", Text(
                "لا تُمنح الصلاحية وتُحجب في آن واحد",
                "A permission cannot be both granted and denied"))
        return self


class PersonPermissionsPublic(BaseModel):
    person_id: uuid.UUID
    role: Role | None
    grants: list[str]
    denials: list[str]
    effective: list[str]


class LogEntryPublic(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: uuid.UUID | None = Field(description="None: the initial seed.")
    subject: str
    key: str
    change: str
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: DirectoryLog) -> LogEntryPublic:
        return cls(id=entry.id, occurred_at=entry.occurred_at, actor_id=entry.actor_id,
                   subject=entry.subject, key=entry.key, change=entry.change,
                   details=json.loads(entry.details))


class LogPage(BaseModel):
    items: list[LogEntryPublic]
    next_before: int | None = Field(description="Pass as `before` for older entries.")


class Announcement(BaseModel):
    sectors: int
    entities: int
    people: int
    roles: int
