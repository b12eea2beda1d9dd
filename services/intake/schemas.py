"""The API's shapes: what citizens, agents and clerks send, and what they get back.

Formats are checked here (a national number is 10 digits, a phone is a mobile number, a name has
no markup or direction controls); rules that need the clock, the database or the registry are the
service layer's. Field errors carry stable codes (`national_number_format`, `phone_not_mobile`, …)
that apps can show in the person's language.

What it must never do: echo a submitted value in an error, or accept a field it does not know
(`extra="forbid"`: a typo must not silently drop what the citizen meant to say).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.intake.civil_registry import IdType
from services.intake.text import (
    InvalidPhone,
    clean_name,
    free_text_problem,
    mobile_e164,
    name_problem,
)
from shared.errors import Text, field_error
from shared.events.catalog import SubmittableKind
from shared.events.vocabulary import (
    GOVERNORATES,
    Channel,
    ClockKind,
    EmailAddress,
    EntityCode,
    Language,
    NoticeChannel,
    RequestStatus,
    SlaStage,
)
from shared.text import compact_identifier

PHONE_REGION = "JO"
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _phone(value: str) -> str:
    try:
        return mobile_e164(value, region=PHONE_REGION)
    except InvalidPhone as exc:
        raise field_error(exc.code, exc.message) from None


def _name(value: str) -> str:
    if problem := name_problem(value):
        raise field_error("name_characters", problem)
    return clean_name(value)


def _free_text(value: str) -> str:
    if problem := free_text_problem(value):
        raise field_error("text_characters", problem)
    return value


def _identifier(value: object) -> object:
    return compact_identifier(value) if isinstance(value, str) else value


def _country(value: str) -> str:
    value = value.upper()
    if not _COUNTRY.fullmatch(value):
        raise field_error("country_code", Text("البلد رمزه من حرفين وفق ISO 3166 (مثل JO)",
                                               "A country is its ISO 3166 two-letter code"))
    return value


def _governorate(value: str) -> str:
    if value not in GOVERNORATES:
        raise field_error("unknown_governorate", Text("ليست إحدى المحافظات الاثنتي عشرة",
                                                      "Not one of the twelve governorates"))
    return value


MobilePhone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]
PersonName = Annotated[
    str, StringConstraints(min_length=1, max_length=50), AfterValidator(_name)
]
IdNumber = Annotated[
    str, BeforeValidator(_identifier), StringConstraints(min_length=5, max_length=20)
]
Country = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_country)]
Place = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_free_text)]
Address = Annotated[
    str, StringConstraints(min_length=1, max_length=300), AfterValidator(_free_text)
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Code = Annotated[str, BeforeValidator(_identifier), StringConstraints(pattern=r"^[0-9]{4,8}$")]
Governorate = Annotated[str, AfterValidator(_governorate)]
Subject = Annotated[
    str, StringConstraints(min_length=3, max_length=200), AfterValidator(_free_text)
]
Description = Annotated[
    str, StringConstraints(min_length=10, max_length=5000), AfterValidator(_free_text)
]
Comment = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_free_text)
]


def check_id_number(id_type: IdType, id_number: str) -> None:
    """National and personal numbers are 10 digits; passports 6–12 letters and digits."""
    if id_type is IdType.passport:
        if not re.fullmatch(r"[A-Z0-9]{6,12}", id_number):
            raise field_error("passport_format", Text(
                "رقم جواز السفر من 6 إلى 12 من الحروف اللاتينية والأرقام",
                "A passport number is 6 to 12 letters and digits"))
    elif not re.fullmatch(r"[0-9]{10}", id_number):
        raise field_error(f"{id_type.value}_format",
                          Text("هذا الرقم من 10 أرقام بالضبط", "This number is exactly 10 digits"))


class Bilingual(BaseModel):
    ar: str
    en: str

    @classmethod
    def of(cls, text: Text) -> Bilingual:
        return cls(ar=text.ar, en=text.en)


class FullName(_In):
    """The four-part name, as on the national ID card."""

    first_name: PersonName
    father_name: PersonName
    grandfather_name: PersonName
    family_name: PersonName

    @property
    def full_name(self) -> str:
        return " ".join(
            (self.first_name, self.father_name, self.grandfather_name, self.family_name)
        )


class IdentityDocument(FullName):
    """Who a person is: their four-part name and the number of their identity document."""

    id_type: IdType = IdType.national_number
    id_number: IdNumber

    @field_validator("id_number")
    @classmethod
    def _fits_its_type(cls, id_number: str, info: ValidationInfo) -> str:
        # A field validator (not the model's), so that the problem names `id_number` and a form
        # can show it beside that field; the type is checked first, being declared first.
        if (id_type := info.data.get("id_type")) is not None:
            check_id_number(id_type, id_number)
        return id_number


# --- registration and sign-in ------------------------------------------------------------------


class RegistrationCreate(IdentityDocument):
    nationality: Country
    date_of_birth: date
    phone: MobilePhone
    email: EmailAddress | None = None
    country: Country
    city: Place
    address: Address
    password: Password = Field(repr=False)
    password_confirmation: Password = Field(repr=False)
    policy_accepted: bool
    language: Language = Language.ar
    notice_channel: NoticeChannel = NoticeChannel.sms

    @model_validator(mode="after")
    def _national_number_for_jordanians(self) -> RegistrationCreate:
        if self.id_type is IdType.national_number and self.nationality != "JO":
            raise field_error("nationality_mismatch", Text(
                "الرقم الوطني لحامل الجنسية الأردنية (JO)",
                "A national number belongs to a Jordanian (JO)"))
        return self


class RegistrationStarted(BaseModel):
    """The same answer whoever the identity number belongs to."""

    registration_id: uuid.UUID
    code_sent_to: str = Field(description="The phone, masked: the code goes there by SMS.")
    code_expires_at: datetime
    code_length: int


class CodeSubmission(_In):
    code: Code


class RegistrationCompleted(BaseModel):
    citizen_id: uuid.UUID
    next: Bilingual


class SignIn(_In):
    id_type: IdType = IdType.national_number
    id_number: IdNumber
    password: Password = Field(repr=False)


class RefreshRequest(_In):
    refresh_token: str = Field(min_length=20, max_length=200, repr=False)


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class CitizenProfile(BaseModel):
    citizen_id: uuid.UUID
    full_name: str
    id_type: str | None
    id_number_last_digits: str | None
    phone: str
    email: str | None
    country: str | None
    city: str | None
    address: str | None
    language: Language
    notice_channel: NoticeChannel


class ProfileUpdate(_In):
    email: EmailAddress | None = None
    city: Place | None = None
    address: Address | None = None
    language: Language | None = None
    notice_channel: NoticeChannel | None = None


class PhoneChangeCreate(_In):
    phone: MobilePhone
    password: Password = Field(repr=False)


class PhoneChangeStarted(BaseModel):
    challenge_id: uuid.UUID
    code_sent_to: str
    code_expires_at: datetime
    code_length: int


# --- call center and complaint box -------------------------------------------------------------


class CallerCheckCreate(IdentityDocument):
    """What a call-center agent asks the caller, checked against the civil registry."""

    date_of_birth: date
    phone: MobilePhone | None = Field(
        default=None, description="Where to send notices when the caller has no account."
    )
    language: Language = Language.ar


class CallerCheck(BaseModel):
    check_id: uuid.UUID
    requester_id: uuid.UUID
    has_account: bool
    expires_at: datetime


class PaperRequester(_In):
    """The requester of a paper form, as a complaint-box clerk keys them in."""

    full_name: Annotated[str, StringConstraints(min_length=2, max_length=200),
                         AfterValidator(_name)]
    phone: MobilePhone
    language: Language = Language.ar


class CallerLookup(_In):
    id_number: IdNumber


# --- requests ------------------------------------------------------------------------------------


class RequestCreate(_In):
    kind: SubmittableKind
    entity: EntityCode | None = Field(
        default=None, description="None when unknown: the complaints unit routes it."
    )
    subject: Subject
    description: Description
    governorate: Governorate
    city: Place | None = None
    latitude: float | None = Field(default=None, ge=29.0, le=33.5)
    longitude: float | None = Field(default=None, ge=34.8, le=39.5)
    channel: Channel = Channel.mobile_app
    notice_channel: NoticeChannel | None = None
    language: Language | None = None
    not_before_court: bool = Field(
        description="The requester declares the matter is not before a court or the public "
        "prosecution and not already judged."
    )
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    confirm_despite_similar: bool = False
    caller_check_id: uuid.UUID | None = Field(
        default=None, description="Call-center agents: the identity check of the caller."
    )
    requester: PaperRequester | None = Field(
        default=None, description="Complaint-box clerks: the requester of the paper form."
    )

    @model_validator(mode="after")
    def _coordinates_come_in_pairs(self) -> RequestCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise field_error("coordinates_pair", Text("أدخل خط العرض وخط الطول معاً",
                                                       "Give both latitude and longitude"))
        return self


class StatusView(BaseModel):
    code: RequestStatus
    label: Bilingual


class DeadlineView(BaseModel):
    stage: SlaStage
    clock: ClockKind
    due_at: datetime = Field(description="Asia/Amman time.")
    provisional: bool = Field(
        description="Estimated by intake at submission; the SLA service's figure replaces it."
    )


class SimilarRequest(BaseModel):
    reference: str
    subject: str
    status: StatusView
    submitted_at: datetime


class RequestReceipt(BaseModel):
    reference: str
    kind: str
    status: StatusView
    submitted_at: datetime
    deadlines: list[DeadlineView]
    acknowledgement: Bilingual
    tracking_code: str | None = Field(
        default=None, description="Shown once, here and in the acknowledgement: with the "
        "reference it opens the request without an account (`POST /api/v1/tracking`). None "
        "only in the stored answers of submissions made before codes existed.")


class TimelineStep(BaseModel):
    step: str
    label: Bilingual
    at: datetime
    details: dict[str, str | int | None] = Field(default_factory=dict)


class RequestView(BaseModel):
    reference: str
    kind: str
    kind_label: Bilingual
    status: StatusView
    subject: str
    description: str
    entity: str | None
    entity_name: Bilingual | None
    governorate: str
    city: str | None
    channel: str
    submitted_at: datetime
    timeline: list[TimelineStep]
    actions_taken: str | None = Field(description="Of the latest answer (each one: `timeline`).")
    solution: str | None = Field(description="Of the latest answer (each one: `timeline`).")
    outcome: str | None
    deadlines: list[DeadlineView]
    answer_round: int | None = Field(
        description="Which answer is the latest: 1, then one more each time the request is "
        "reopened and answered again; None before the first answer."
    )
    rating: int | None = Field(description="Your rating of the latest answer, once given.")
    next_step: Bilingual
    chasing: Chasing
    attachment_ids: list[uuid.UUID]


class TrackingQuery(_In):
    reference: str = Field(min_length=1, max_length=40, description="As printed or sent.")
    code: str = Field(min_length=1, max_length=40,
                      description="The tracking code, as printed or sent (any case, dash or not).")


ChaseNote = Annotated[str, StringConstraints(min_length=1, max_length=1000),
                     AfterValidator(_free_text)]


class ChaseCreate(_In):
    note: ChaseNote | None = Field(default=None, description="A few words for the officer.")


class TrackedChaseCreate(TrackingQuery):
    note: ChaseNote | None = Field(default=None, description="A few words for the officer.")


class Chasing(BaseModel):
    """Whether the requester may chase the request now, else from when."""

    open: bool
    opens_at: datetime | None = Field(description="Not open yet: when the first deadline "
                                      "promised to the requester passes (Asia/Amman).")
    next_at: datetime | None = Field(description="Chased today: from when the next chase is "
                                     "allowed, the next working day (Asia/Amman).")


class ChaseRecorded(BaseModel):
    reference: str
    chased_at: datetime
    chase: int = Field(description="How many times the request was chased, this one included.")
    next_at: datetime = Field(description="From when the next chase is allowed (Asia/Amman).")
    told: Bilingual


class TrackedRequest(BaseModel):
    """What a reference and its tracking code open: where the request stands and its answer,
    never who sent it or from where."""

    reference: str
    kind: str
    kind_label: Bilingual
    status: StatusView
    subject: str
    entity: str | None
    entity_name: Bilingual | None
    submitted_at: datetime
    timeline: list[TimelineStep]
    actions_taken: str | None
    solution: str | None
    outcome: str | None
    deadlines: list[DeadlineView]
    answer_round: int | None
    next_step: Bilingual
    chasing: Chasing


class RequestSummary(BaseModel):
    reference: str
    kind: str
    subject: str
    status: StatusView
    entity: str | None
    submitted_at: datetime


class RequestList(BaseModel):
    items: list[RequestSummary]
    next_before: datetime | None = Field(
        description="Pass as `before` for the next page; None on the last."
    )


class RatingCreate(_In):
    score: int = Field(ge=1, le=5, strict=True)  # a number: the string "5" is refused
    comment: Comment | None = None
    round: int | None = Field(
        default=None, ge=1, le=1000,
        description="The answer rated (the view's `answer_round` when it was read); the "
        "latest when left out. A rating of an answer that a newer one replaced is refused.",
    )


class RatingRecorded(BaseModel):
    reference: str
    # Answers stored for an Idempotency-Key replay before answers were numbered rated the first.
    round: int = Field(default=1, description="The answer rated.")
    score: int
    comment: str | None
    rated_at: datetime
    next_step: Bilingual


RatingRefusal = Literal["superseded", "already_rated", "under_review", "closed", "not_answered"]


class RatingLinkState(BaseModel):
    """What a one-tap rating link opens: the answer it was sent with, and whether that answer
    can be rated now (`rateable`), else why not (`why_not`)."""

    reference: str
    subject: str
    status: StatusView
    link_round: int | None = Field(description="The answer the link was sent with.")
    answer_round: int | None = Field(description="The latest answer.")
    actions_taken: str | None = Field(description="Of the latest answer.")
    solution: str | None = Field(description="Of the latest answer.")
    rateable: bool
    why_not: RatingRefusal | None = Field(
        description="superseded: a newer answer was sent (rate that one); already_rated: this "
        "answer was rated (`rating`); under_review: a rating of 1 sent it to the complaints "
        "unit; closed; not_answered: the request is being handled again.")
    rating: int | None = Field(description="The score given to the link's answer, if any.")
    next_step: Bilingual


class InformationCreate(_In):
    answer: Annotated[str, StringConstraints(min_length=1, max_length=5000),
                      AfterValidator(_free_text)]
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class InformationRecorded(BaseModel):
    reference: str
    status: StatusView
    provided_at: datetime


class AttachmentStored(BaseModel):
    attachment_id: uuid.UUID
    media_type: str
    size: int
    sha256: str
    file_name: str | None = Field(
        default=None, description="The name the file was uploaded with, cleaned; shown only.")


# --- what the staff who hold a request read of it ------------------------------------------------


class RequesterContact(BaseModel):
    """Who is asking, for the staff who hold the request (each read is recorded)."""

    reference: str
    full_name: str
    phone: str = Field(description="E.164.")
    email: str | None
    governorate: str = Field(description="Of this request (ISO 3166-2:JO).")
    city: str | None = Field(description="Of this request.")
    language: Language = Field(description="The language they hear from the platform in, for "
                                           "this request.")
    has_account: bool = Field(
        description="A registered account; false for a requester a call-center agent or a "
        "complaint-box clerk keyed in.")


class AttachmentInfo(BaseModel):
    attachment_id: uuid.UUID
    file_name: str | None = Field(description="As uploaded, cleaned; None for older files.")
    media_type: str = Field(description="Judged by the content, not the name.")
    size: int
    uploaded_at: datetime


class AttachmentList(BaseModel):
    """A request's files: those sent with it and those added with the requested information,
    oldest first. Read one with `GET /api/v1/attachments/{attachment_id}`."""

    reference: str
    items: list[AttachmentInfo]


class StaffAction(StrEnum):
    """What a staff member did with a request or a requester (`models.StaffAccess`)."""

    contact_viewed = "contact_viewed"    # read the requester's contact details
    attachment_read = "attachment_read"  # read one of the request's files
    looked_up = "looked_up"              # a call-center agent read the request to its caller
    submitted = "submitted"              # an agent or a clerk keyed the request in
    identity_checked = "identity_checked"  # an agent checked a caller (no request yet)


class StaffAccessEntry(BaseModel):
    id: int
    actor_id: str
    actor_role: str
    action: StaffAction = Field(
        description="`contact_viewed`: the requester's contact details; `attachment_read`: "
        "one file (`attachment_id`); `looked_up`: a call-center agent read the request to its "
        "caller; `submitted`: an agent or a clerk keyed it in.")
    attachment_id: uuid.UUID | None
    at: datetime


class StaffAccessList(BaseModel):
    reference: str
    items: list[StaffAccessEntry] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="Pass as `before` for the next page; None on the last.")
