"""Citizens' accounts: registration with a verified identity and phone, sign-in, refresh, profile.

Registration asks the civil registry at once (so a registry outage is a clear "try again" with
nothing kept) but tells the outcome only to whoever proves the phone: the first answer is the
same whoever the identity number belongs to, registered or not, known to the registry or not,
so the endpoint cannot be used to learn who is who. Codes go out through notify
(`citizen.code_requested`); contact points reach notify only through `citizen.registered` and
`citizen.contact_changed`.

Refresh tokens rotate at every use and are stored as SHA-256 hashes; presenting a rotated one
again means it was stolen (or the thief already used it), so the whole family is revoked —
unless it comes within seconds of its rotation, which is an app refreshing from two calls at
once: that one is refused with 409 and the session lives on. Tokens and refresh tokens live in
real time (`Intake.wall_clock`), never by the simulated business clock, which an operator may
move by days; codes and registrations follow the business clock, like the events that carry them.

What it must never do: store or log a password, a code or a refresh token in the clear; answer
faster or differently for an unknown account; create a half account when the registry is down.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.civil_registry import Identity, IdentityOutcome, IdType
from services.intake.codes import code_hmac, code_matches, new_code
from services.intake.context import Intake
from services.intake.exceptions import (
    AlreadyRegistered,
    CodeInvalid,
    IdentityNotVerified,
    InvalidCredentials,
    InvalidInput,
    PasswordRefused,
)
from services.intake.models import Citizen, PhoneCode, RefreshToken, Registration
from services.intake.references import AMMAN
from services.intake.schemas import (
    Bilingual,
    CitizenProfile,
    PhoneChangeCreate,
    PhoneChangeStarted,
    ProfileUpdate,
    RegistrationCompleted,
    RegistrationCreate,
    RegistrationStarted,
    SignIn,
    Tokens,
)
from services.intake.words import SIGN_IN_NEXT
from shared.auth import DEFAULT_LIFETIME, REFRESH_REUSE_GRACE, RefreshTokenJustRotated, Role
from shared.bus import Outbox
from shared.errors import NotFound, Text
from shared.events.catalog import CitizenCodeRequested, CitizenContactChanged, CitizenRegistered
from shared.events.vocabulary import CodePurpose, Language, NoticeChannel
from shared.passwords import hash_password, needs_rehash, password_problem, verify_password

log = logging.getLogger(__name__)

OLDEST_AGE_YEARS = 130

_PASSWORDS_DIFFER = Text("كلمتا المرور غير متطابقتين.", "The two passwords do not match.")
_POLICY = Text(
    "يلزم قبول سياسة الاستخدام لإتمام التسجيل.",
    "The usage policy must be accepted to register.",
)
_BORN_IN_FUTURE = Text("تاريخ الميلاد في المستقبل.", "The date of birth is in the future.")
_BORN_TOO_LONG_AGO = Text("تاريخ الميلاد غير معقول.", "The date of birth is not plausible.")
_EMAIL_NEEDED = Text(
    "اخترت البريد الإلكتروني للإشعارات دون إدخال عنوان بريد.",
    "You chose email for notices but gave no email address.",
)
_WRONG_PASSWORD = Text("كلمة المرور غير صحيحة.", "The password is wrong.")
_REGISTRATION_GONE = Text(
    "انتهت صلاحية طلب التسجيل أو لا وجود له؛ ابدأ التسجيل من جديد.",
    "This registration has expired or does not exist; start again.",
)
_ALREADY_REGISTERED = Text(
    "هذه الهوية مسجّلة بحساب قائم: سجّل الدخول، أو اتصل بمركز الاتصال الوطني إن لم يكن "
    "الحساب لك.",
    "This identity already has an account: sign in, or call the national contact center if "
    "the account is not yours.",
)
_CODE_WRONG = Text("الرمز غير صحيح.", "The code is wrong.")
_CODE_EXPIRED = Text(
    "انتهت صلاحية الرمز؛ اطلب رمزاً جديداً.", "The code has expired; ask for a new one."
)
_CODE_SPENT = Text(
    "استُنفدت محاولات هذا الرمز أو استُخدم؛ اطلب رمزاً جديداً.",
    "This code has been used or tried too often; ask for a new one.",
)
IDENTITY_REASONS: dict[IdentityOutcome, Text] = {
    IdentityOutcome.name_mismatch: Text(
        "الاسم الرباعي لا يطابق سجل الأحوال المدنية.",
        "The four-part name does not match the civil registry.",
    ),
    IdentityOutcome.date_of_birth_mismatch: Text(
        "تاريخ الميلاد لا يطابق سجل الأحوال المدنية.",
        "The date of birth does not match the civil registry.",
    ),
    IdentityOutcome.name_and_date_of_birth_mismatch: Text(
        "الاسم وتاريخ الميلاد لا يطابقان سجل الأحوال المدنية.",
        "Neither the name nor the date of birth matches the civil registry.",
    ),
    IdentityOutcome.not_found: Text(
        "رقم الهوية غير موجود في سجل الأحوال المدنية.",
        "The identity number is not in the civil registry.",
    ),
    IdentityOutcome.deceased: Text(
        "لا يمكن التسجيل بهذه الهوية.", "This identity cannot be registered.",
    ),
}


def identity_key(id_type: IdType | str, id_number: str) -> str:
    return f"{IdType(id_type).value}:{id_number}"


def mask_phone(phone: str) -> str:
    return phone[:6] + "*" * max(len(phone) - 8, 0) + phone[-2:]


def check_date_of_birth(born: date, *, now: datetime, field: str = "date_of_birth") -> None:
    today = now.astimezone(AMMAN).date()
    if born > today:
        raise InvalidInput(field, "date_of_birth_future", _BORN_IN_FUTURE)
    if born.year < today.year - OLDEST_AGE_YEARS:
        raise InvalidInput(field, "date_of_birth_implausible", _BORN_TOO_LONG_AGO)


# --- codes ----------------------------------------------------------------------------------------


async def send_code(
    session: AsyncSession,
    outbox: Outbox,
    intake: Intake,
    *,
    challenge_id: uuid.UUID,
    purpose: CodePurpose,
    phone: str,
    language: Language,
    citizen_id: uuid.UUID | None = None,
) -> datetime:
    """Replace the challenge's code with a fresh one and have notify text it; returns expiry."""
    settings = intake.settings
    now = intake.clock.now()
    code = new_code(settings.code_length)
    expires_at = now + timedelta(seconds=settings.code_lifetime_s)
    existing = await session.get(PhoneCode, challenge_id)
    if existing is None:
        session.add(PhoneCode(
            challenge_id=challenge_id, purpose=purpose.value, citizen_id=citizen_id, phone=phone,
            code_hmac=code_hmac(settings.code_secret, challenge_id, code),
            sent_at=now, expires_at=expires_at, used_at=None,
        ))
    else:
        existing.code_hmac = code_hmac(settings.code_secret, challenge_id, code)
        existing.sent_at = now
        existing.expires_at = expires_at
        existing.used_at = None
    await outbox.add(session, CitizenCodeRequested(
        challenge_id=challenge_id, phone=phone, code=code, purpose=purpose, language=language,
        expires_at=expires_at,
    ))
    return expires_at


async def use_code(
    session: AsyncSession,
    intake: Intake,
    *,
    challenge_id: uuid.UUID,
    purpose: CodePurpose,
    code: str,
    citizen_id: uuid.UUID | None = None,
) -> PhoneCode:
    """Spend one try of the challenge's code: the code, or `CodeInvalid`.

    Every try counts, right or wrong (in the rate-limit storage, which a failed request does
    not roll back), so after `code_max_wrong_attempts` wrong ones the code is dead.
    """
    settings = intake.settings
    stored = await repository.phone_code(session, challenge_id=challenge_id)
    if (stored is None or stored.purpose != purpose.value
            or (citizen_id is not None and stored.citizen_id != citizen_id)):
        raise NotFound(_REGISTRATION_GONE)
    if stored.used_at is not None:
        raise CodeInvalid(_CODE_SPENT, attempts_left=0)
    if stored.expires_at <= intake.clock.now():
        raise CodeInvalid(_CODE_EXPIRED, attempts_left=0)
    tries = settings.code_max_wrong_attempts
    tries_left = await intake.throttle.spend_code_try(
        code_key=stored.code_hmac, tries=tries, window_s=settings.code_lifetime_s
    )
    if tries_left is None:
        raise CodeInvalid(_CODE_SPENT, attempts_left=0)
    if not code_matches(settings.code_secret, challenge_id, code, stored.code_hmac):
        raise CodeInvalid(_CODE_WRONG, attempts_left=tries_left)
    stored.used_at = intake.clock.now()
    return stored


# --- registration ---------------------------------------------------------------------------------


async def start_registration(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, body: RegistrationCreate,
    address: str,
) -> RegistrationStarted:
    if body.password != body.password_confirmation:
        raise PasswordRefused("password_confirmation", "passwords_differ", _PASSWORDS_DIFFER)
    if not body.policy_accepted:
        raise InvalidInput("policy_accepted", "policy_not_accepted", _POLICY)
    personal = (body.id_number, body.phone, body.phone.removeprefix("+"), body.first_name,
                body.family_name)
    if problem := password_problem(body.password, personal=personal):
        raise PasswordRefused("password", "password_weak", problem)
    now = intake.clock.now()
    check_date_of_birth(body.date_of_birth, now=now)
    if body.notice_channel is NoticeChannel.email and body.email is None:
        raise InvalidInput("email", "email_required", _EMAIL_NEEDED)

    # Budgets first: the registry and the SMS are the costly parts.
    await intake.throttle.spend_code(
        phone=body.phone, identity=identity_key(body.id_type, body.id_number), address=address
    )
    outcome = await intake.registry.verify(Identity(
        id_type=body.id_type, id_number=body.id_number, full_name=body.full_name,
        date_of_birth=body.date_of_birth,
    ))
    registration = Registration(
        id=uuid.uuid4(), id_type=body.id_type.value, id_number=body.id_number,
        full_name=body.full_name, nationality=body.nationality, date_of_birth=body.date_of_birth,
        phone=body.phone, email=body.email, country=body.country, city=body.city,
        address=body.address, language=body.language.value,
        notice_channel=body.notice_channel.value,
        password_hash=await hash_password(body.password),
        identity_outcome=outcome.value, created_at=now,
        expires_at=now + timedelta(seconds=intake.settings.registration_lifetime_s),
        completed_at=None,
    )
    session.add(registration)
    await session.flush()  # the code refers to the registration
    expires_at = await send_code(
        session, outbox, intake, challenge_id=registration.id,
        purpose=CodePurpose.registration, phone=body.phone, language=body.language,
    )
    log.info("registration started", extra={"registration_id": str(registration.id)})
    return RegistrationStarted(
        registration_id=registration.id, code_sent_to=mask_phone(body.phone),
        code_expires_at=expires_at.astimezone(AMMAN), code_length=intake.settings.code_length,
    )


async def _live_registration(
    session: AsyncSession, intake: Intake, registration_id: uuid.UUID
) -> Registration:
    registration = await repository.registration(
        session, registration_id=registration_id, for_update=True
    )
    if (registration is None or registration.completed_at is not None
            or registration.expires_at <= intake.clock.now()):
        raise NotFound(_REGISTRATION_GONE)
    return registration


async def resend_registration_code(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, registration_id: uuid.UUID,
    address: str,
) -> RegistrationStarted:
    registration = await _live_registration(session, intake, registration_id)
    await intake.throttle.spend_code(
        phone=registration.phone,
        identity=identity_key(registration.id_type, registration.id_number), address=address,
    )
    expires_at = await send_code(
        session, outbox, intake, challenge_id=registration.id,
        purpose=CodePurpose.registration, phone=registration.phone,
        language=Language(registration.language),
    )
    return RegistrationStarted(
        registration_id=registration.id, code_sent_to=mask_phone(registration.phone),
        code_expires_at=expires_at.astimezone(AMMAN), code_length=intake.settings.code_length,
    )


async def complete_registration(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, registration_id: uuid.UUID,
) -> RegistrationCompleted:
    """Called once the phone code was accepted: tell the registry's verdict, or make the
    account (claiming the unregistered record a call-center agent made for this identity)."""
    registration = await _live_registration(session, intake, registration_id)
    now = intake.clock.now()
    registration.completed_at = now
    outcome = IdentityOutcome(registration.identity_outcome)
    if outcome is not IdentityOutcome.verified:
        raise IdentityNotVerified(IDENTITY_REASONS[outcome], reason=outcome.value)
    existing = await repository.citizen_by_identity(
        session, id_type=registration.id_type, id_number=registration.id_number, for_update=True
    )
    if existing is not None and existing.account == "registered":
        raise AlreadyRegistered(_ALREADY_REGISTERED)
    citizen = existing or Citizen(id=uuid.uuid4(), created_at=now)
    citizen.account = "registered"
    for name in ("id_type", "id_number", "full_name", "nationality", "date_of_birth", "phone",
                 "email", "country", "city", "address", "language", "notice_channel",
                 "password_hash"):
        setattr(citizen, name, getattr(registration, name))
    citizen.updated_at = now
    if existing is None:
        session.add(citizen)
    await outbox.add(session, CitizenRegistered(
        citizen_id=citizen.id, phone=citizen.phone, email=citizen.email,
        language=Language(citizen.language), notice_channel=NoticeChannel(citizen.notice_channel),
    ))
    log.info("citizen registered", extra={"citizen_id": str(citizen.id)})
    return RegistrationCompleted(citizen_id=citizen.id, next=Bilingual.of(SIGN_IN_NEXT))


# --- sign-in and refresh ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue(session: AsyncSession, intake: Intake, citizen_id: uuid.UUID,
                 family_id: uuid.UUID) -> Tokens:
    now = intake.wall_clock.now()
    lifetime = timedelta(seconds=intake.settings.refresh_token_lifetime_s)
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        id=uuid.uuid4(), family_id=family_id, citizen_id=citizen_id,
        token_hash=_token_hash(refresh), issued_at=now, expires_at=now + lifetime,
        rotated_at=None, revoked_at=None,
    ))
    return Tokens(
        access_token=intake.token_issuer().issue(str(citizen_id), Role.citizen),
        expires_in=int(DEFAULT_LIFETIME.total_seconds()),
        refresh_token=refresh,
        refresh_expires_in=int(lifetime.total_seconds()),
    )


async def sign_in(session: AsyncSession, intake: Intake, *, body: SignIn) -> Tokens:
    await intake.throttle.spend_sign_in(identity_key(body.id_type, body.id_number))
    citizen = await repository.citizen_by_identity(
        session, id_type=body.id_type.value, id_number=body.id_number
    )
    stored_hash = citizen.password_hash if citizen is not None else None
    if not await verify_password(stored_hash, body.password) or citizen is None:
        raise InvalidCredentials()
    if needs_rehash(stored_hash or ""):
        citizen.password_hash = await hash_password(body.password)
    return await _issue(session, intake, citizen.id, family_id=uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Refused:
    """A refresh that must be refused after its transaction commits (a revoked family)."""


async def refresh(session: AsyncSession, intake: Intake, *, token: str) -> Tokens | Refused:
    """Rotate a refresh token; `Refused` for anything but the live one of a live family.

    Returned rather than raised: revoking a family on reuse must commit before the refusal.
    """
    stored = await repository.refresh_token(session, token_hash=_token_hash(token))
    now = intake.wall_clock.now()
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        return Refused()
    if stored.rotated_at is not None:
        if now - stored.rotated_at < REFRESH_REUSE_GRACE:
            raise RefreshTokenJustRotated()
        log.warning("refresh token reused: family revoked",
                    extra={"family_id": str(stored.family_id)})
        await repository.revoke_family(session, family_id=stored.family_id, now=now)
        return Refused()
    citizen = await repository.citizen(session, citizen_id=stored.citizen_id)
    if citizen is None or citizen.account != "registered":
        return Refused()
    stored.rotated_at = now
    return await _issue(session, intake, stored.citizen_id, family_id=stored.family_id)


async def sign_out(session: AsyncSession, intake: Intake, *, token: str) -> None:
    stored = await repository.refresh_token(session, token_hash=_token_hash(token))
    if stored is not None:
        await repository.revoke_family(session, family_id=stored.family_id,
                                       now=intake.wall_clock.now())


# --- the profile ----------------------------------------------------------------------------------


async def registered_citizen(session: AsyncSession, citizen_id: str, *,
                             for_update: bool = False) -> Citizen:
    try:
        key = uuid.UUID(citizen_id)
    except ValueError:
        raise NotFound() from None
    citizen = await repository.citizen(session, citizen_id=key, for_update=for_update)
    if citizen is None or citizen.account != "registered":
        raise NotFound()
    return citizen


def profile(citizen: Citizen) -> CitizenProfile:
    return CitizenProfile(
        citizen_id=citizen.id, full_name=citizen.full_name, id_type=citizen.id_type,
        id_number_last_digits=citizen.id_number[-3:] if citizen.id_number else None,
        phone=citizen.phone, email=citizen.email, country=citizen.country, city=citizen.city,
        address=citizen.address, language=Language(citizen.language),
        notice_channel=NoticeChannel(citizen.notice_channel),
    )


async def announce_contact(session: AsyncSession, outbox: Outbox, citizen: Citizen) -> None:
    await outbox.add(session, CitizenContactChanged(
        citizen_id=citizen.id, phone=citizen.phone, email=citizen.email,
        language=Language(citizen.language), notice_channel=NoticeChannel(citizen.notice_channel),
    ))


async def update_profile(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, citizen_id: str,
    body: ProfileUpdate,
) -> CitizenProfile:
    citizen = await registered_citizen(session, citizen_id, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    contact_before = (citizen.email, citizen.language, citizen.notice_channel)
    for name, value in changes.items():
        if value is None and name != "email":
            continue
        setattr(citizen, name, value.value if hasattr(value, "value") else value)
    if citizen.notice_channel == NoticeChannel.email.value and citizen.email is None:
        raise InvalidInput("email", "email_required", _EMAIL_NEEDED)
    citizen.updated_at = intake.clock.now()
    if (citizen.email, citizen.language, citizen.notice_channel) != contact_before:
        await announce_contact(session, outbox, citizen)
    return profile(citizen)


async def start_phone_change(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, citizen_id: str,
    body: PhoneChangeCreate, address: str,
) -> PhoneChangeStarted:
    citizen = await registered_citizen(session, citizen_id)
    identity = identity_key(citizen.id_type or "", citizen.id_number or "")
    await intake.throttle.spend_sign_in(identity)
    if not await verify_password(citizen.password_hash, body.password):
        raise InvalidInput("password", "password_wrong", _WRONG_PASSWORD)
    await intake.throttle.spend_code(
        phone=body.phone, identity=identity, address=address,
    )
    challenge_id = uuid.uuid4()
    expires_at = await send_code(
        session, outbox, intake, challenge_id=challenge_id, purpose=CodePurpose.contact_change,
        phone=body.phone, language=Language(citizen.language), citizen_id=citizen.id,
    )
    return PhoneChangeStarted(
        challenge_id=challenge_id, code_sent_to=mask_phone(body.phone),
        code_expires_at=expires_at.astimezone(AMMAN), code_length=intake.settings.code_length,
    )


async def complete_phone_change(
    session: AsyncSession, outbox: Outbox, intake: Intake, *, citizen_id: str, phone: str,
) -> CitizenProfile:
    citizen = await registered_citizen(session, citizen_id, for_update=True)
    citizen.phone = phone
    citizen.updated_at = intake.clock.now()
    # Sessions on other devices were opened under the old number: end them.
    await repository.revoke_all_of(session, citizen_id=citizen.id, now=citizen.updated_at)
    await announce_contact(session, outbox, citizen)
    return profile(citizen)
