"""Routes of citizens' accounts: registration, phone codes, sign-in, refresh, profile.

Parse, call `services.intake.accounts`, return. Creating POSTs take an Idempotency-Key; the
token endpoints do not (their answers hold secrets that must never be stored for a replay) and
answer `Cache-Control: no-store`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.intake import accounts
from services.intake.codes import keyed_digest
from services.intake.context import CitizenDep, ClientAddressDep, IntakeDep
from services.intake.exceptions import RefreshTokenRefused
from services.intake.schemas import (
    CitizenProfile,
    CodeSubmission,
    PhoneChangeCreate,
    PhoneChangeStarted,
    ProfileUpdate,
    RefreshRequest,
    RegistrationCompleted,
    RegistrationCreate,
    RegistrationStarted,
    SignIn,
    Tokens,
)
from shared.dependencies import IdempotencyKeyDep, OutboxDep, RuntimeDep, SessionDep
from shared.events.vocabulary import CodePurpose
from shared.idempotency import ANONYMOUS

router = APIRouter(prefix="/api/v1", tags=["citizens"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/citizens/registrations", status_code=status.HTTP_202_ACCEPTED)
async def start_registration(
    body: RegistrationCreate, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    idempotency: IdempotencyKeyDep, response: Response, address: ClientAddressDep,
) -> RegistrationStarted:
    """Check the identity with the civil registry and text a code to the phone.

    The answer is the same whoever the identity number belongs to; what the registry said is
    told once the phone is proven (`…/verify`).
    """
    # The fingerprint holds a keyed digest of the passwords, never the passwords themselves.
    fingerprint = body.model_dump_json(exclude={"password", "password_confirmation"}) + (
        keyed_digest(intake.settings.code_secret, body.password, body.password_confirmation)
    )
    return await idempotency.once(
        session, owner=ANONYMOUS, request=fingerprint, response=response,
        result_type=RegistrationStarted, status_code=status.HTTP_202_ACCEPTED,
        create=lambda: accounts.start_registration(
            session, outbox, intake, body=body, address=address
        ),
    )


@router.post("/citizens/registrations/{registration_id}/code",
             status_code=status.HTTP_202_ACCEPTED)
async def resend_registration_code(
    registration_id: uuid.UUID, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    address: ClientAddressDep,
) -> RegistrationStarted:
    """A new code (the old one stops working), within the same send limits."""
    return await accounts.resend_registration_code(
        session, outbox, intake, registration_id=registration_id, address=address
    )


@router.post("/citizens/registrations/{registration_id}/verify",
             status_code=status.HTTP_201_CREATED)
async def verify_registration(
    registration_id: uuid.UUID, body: CodeSubmission, session: SessionDep, outbox: OutboxDep,
    intake: IntakeDep, idempotency: IdempotencyKeyDep, response: Response,
) -> RegistrationCompleted:
    """Prove the phone with the code; the account exists once this answers 201."""

    async def create() -> RegistrationCompleted:
        await accounts.use_code(
            session, intake, challenge_id=registration_id,
            purpose=CodePurpose.registration, code=body.code,
        )
        return await accounts.complete_registration(
            session, outbox, intake, registration_id=registration_id
        )

    return await idempotency.once(
        session, owner=ANONYMOUS, request=body, response=response,
        result_type=RegistrationCompleted, create=create,
    )


@router.post("/auth/token")
async def sign_in(
    body: SignIn, session: SessionDep, intake: IntakeDep, response: Response
) -> Tokens:
    """Sign in with the identity number and password: a 10-minute access token and a
    refresh token that rotates at every use."""
    response.headers.update(NO_STORE)
    return await accounts.sign_in(session, intake, body=body)


@router.post("/auth/refresh")
async def refresh(
    body: RefreshRequest, runtime: RuntimeDep, intake: IntakeDep, response: Response
) -> Tokens:
    """Trade a refresh token for new tokens. A token used twice ends the whole session, unless
    the second use comes within seconds of the first (two calls of one app refreshing at once):
    that one gets 409 and should use the tokens the other call received."""
    response.headers.update(NO_STORE)
    # Its own transaction: revoking a reused token's family must commit before the 401.
    async with runtime.sessionmaker.begin() as session:
        outcome = await accounts.refresh(session, intake, token=body.refresh_token)
    if isinstance(outcome, accounts.Refused):
        raise RefreshTokenRefused()
    return outcome


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(body: RefreshRequest, session: SessionDep, intake: IntakeDep) -> None:
    """Sign out: the refresh token and every token rotated from it stop working."""
    await accounts.sign_out(session, intake, token=body.refresh_token)


@router.get("/citizens/me")
async def my_profile(session: SessionDep, principal: CitizenDep) -> CitizenProfile:
    return accounts.profile(await accounts.registered_citizen(session, principal.subject))


@router.patch("/citizens/me")
async def update_my_profile(
    body: ProfileUpdate, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    principal: CitizenDep,
) -> CitizenProfile:
    """Email, city, address, language and notice channel. The phone changes with a code."""
    return await accounts.update_profile(
        session, outbox, intake, citizen_id=principal.subject, body=body
    )


@router.post("/citizens/me/phone-changes", status_code=status.HTTP_202_ACCEPTED)
async def start_phone_change(
    body: PhoneChangeCreate, session: SessionDep, outbox: OutboxDep, intake: IntakeDep,
    principal: CitizenDep, idempotency: IdempotencyKeyDep, response: Response,
    address: ClientAddressDep,
) -> PhoneChangeStarted:
    """Changing the phone needs the password and a code sent to the new number."""
    fingerprint = body.phone + keyed_digest(intake.settings.code_secret, body.password)
    return await idempotency.once(
        session, owner=principal.subject, request=fingerprint, response=response,
        result_type=PhoneChangeStarted, status_code=status.HTTP_202_ACCEPTED,
        create=lambda: accounts.start_phone_change(
            session, outbox, intake, citizen_id=principal.subject, body=body, address=address
        ),
    )


@router.post("/citizens/me/phone-changes/{challenge_id}/verify")
async def verify_phone_change(
    challenge_id: uuid.UUID, body: CodeSubmission, session: SessionDep, outbox: OutboxDep,
    intake: IntakeDep, principal: CitizenDep,
) -> CitizenProfile:
    citizen = await accounts.registered_citizen(session, principal.subject)
    code = await accounts.use_code(
        session, intake, challenge_id=challenge_id,
        purpose=CodePurpose.contact_change, code=body.code, citizen_id=citizen.id,
    )
    return await accounts.complete_phone_change(
        session, outbox, intake, citizen_id=principal.subject, phone=code.phone
    )
