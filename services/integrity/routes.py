"""The integrity service's HTTP routes: two public ones, and the commission's account.

Public: the commission's current public key (what sealers need) and a report's status by its
receipt. Everything else belongs to the integrity commission alone: any other caller, signed
in or not, gets the same 404 as for something that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.integrity import service
from services.integrity.exceptions import ReportNotFound
from services.integrity.schemas import (
    AcknowledgementPublic,
    CannotBeOpenedPublic,
    CurrentKey,
    InboxPage,
    KeyPublic,
    KeyRegistration,
    NoteCreate,
    NotePublic,
    ReceiptStatus,
    ReportDetails,
)
from shared.auth import Principal
from shared.dependencies import (
    ClockDep,
    IdempotencyKeyDep,
    OptionalPrincipalDep,
    RuntimeDep,
    SessionDep,
)
from shared.events.vocabulary import Role
from shared.sealing import day_stamp

ENVELOPE_MEDIA_TYPE = "application/octet-stream"


async def commission_only(principal: OptionalPrincipalDep) -> Principal:
    # async: a plain `def` dependency would cost a trip through the thread pool per request
    if principal is None or principal.role is not Role.integrity_commission:
        raise ReportNotFound()
    return principal


CommissionDep = Annotated[Principal, Depends(commission_only)]

public_router = APIRouter(tags=["corruption reports"])
commission_router = APIRouter(
    prefix="/api/v1/integrity",
    tags=["integrity commission"],
    dependencies=[Depends(commission_only)],  # before anything is parsed: 404, not 422
)


@public_router.get("/api/v1/integrity/public-key")
async def get_public_key(session: SessionDep, response: Response) -> CurrentKey:
    """The commission's current public key: seal reports to it (the envelope format is
    `shared/sealing.py`). Rotation adds keys; fetch it again rather than keeping it long."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return await service.current_key(session)


@public_router.get("/api/v1/reports/{receipt}")
async def get_receipt_status(receipt: str, session: SessionDep, response: Response
                             ) -> ReceiptStatus:
    """Where a corruption report stands, by the receipt its reporter was given."""
    response.headers["Cache-Control"] = "no-store"
    return await service.receipt_status(session, receipt=receipt)


# --- the commission's account -------------------------------------------------------------------


@commission_router.post("/keys", status_code=201)
async def register_key(
    registration: KeyRegistration,
    session: SessionDep,
    principal: CommissionDep,
    clock: ClockDep,
    runtime: RuntimeDep,
    idempotency: IdempotencyKeyDep,
    response: Response,
) -> KeyPublic:
    """Register a public key made with the commission's tool; new reports are sealed to it."""

    async def create() -> KeyPublic:
        return await service.register_key(
            session, registration=registration, principal=principal, clock=clock,
            production=runtime.settings.production,
        )

    return await idempotency.once(
        session, owner=principal.subject, request=registration, response=response,
        result_type=KeyPublic, create=create,
    )


@commission_router.get("/keys")
async def list_keys(session: SessionDep) -> list[KeyPublic]:
    return await service.list_keys(session)


@commission_router.get("/inbox")
async def list_inbox(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
    acknowledged: bool | None = None,
) -> InboxPage:
    """Filed reports, newest day first: ids, days, key ids and size buckets, never content."""
    return await service.inbox(
        session, limit=limit, cursor=cursor, acknowledged=acknowledged
    )


@commission_router.get("/inbox/{envelope_id}")
async def get_report(envelope_id: UUID, session: SessionDep) -> ReportDetails:
    return await service.details(session, envelope_id=envelope_id)


def _envelope_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=ENVELOPE_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


_ENVELOPE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {ENVELOPE_MEDIA_TYPE: {}}, "description": "The sealed envelope's bytes."}
}


@commission_router.get("/inbox/{envelope_id}/envelope", responses=_ENVELOPE_DOC,
                       response_class=Response)
async def download_envelope(envelope_id: UUID, session: SessionDep) -> Response:
    """The sealed report as filed; open it offline with `python -m
    services.integrity.commission_cli open`."""
    data = await service.download(session, envelope_id=envelope_id, identity=False)
    return _envelope_response(data, f"{envelope_id}.report.bkhe")


@commission_router.get("/inbox/{envelope_id}/identity-envelope", responses=_ENVELOPE_DOC,
                       response_class=Response)
async def download_identity_envelope(envelope_id: UUID, session: SessionDep) -> Response:
    """The reporter's sealed identity, apart from the report: open it only when the
    commission decides to."""
    data = await service.download(session, envelope_id=envelope_id, identity=True)
    return _envelope_response(data, f"{envelope_id}.identity.bkhe")


@commission_router.post("/inbox/{envelope_id}/acknowledgement", status_code=201)
async def acknowledge_report(
    envelope_id: UUID,
    session: SessionDep,
    principal: CommissionDep,
    clock: ClockDep,
    runtime: RuntimeDep,
    idempotency: IdempotencyKeyDep,
    response: Response,
) -> AcknowledgementPublic:
    """Confirm receipt of a report (once); the reporter sees it with their receipt."""

    async def create() -> AcknowledgementPublic:
        return await service.acknowledge(
            session, envelope_id=envelope_id, principal=principal, clock=clock,
            outbox=runtime.outbox.at(day_stamp(clock)),
        )

    return await idempotency.once(
        session, owner=principal.subject, request=str(envelope_id), response=response,
        result_type=AcknowledgementPublic, create=create,
    )


@commission_router.post("/inbox/{envelope_id}/cannot-be-opened", status_code=201)
async def declare_cannot_be_opened(
    envelope_id: UUID,
    session: SessionDep,
    principal: CommissionDep,
    clock: ClockDep,
    runtime: RuntimeDep,
    idempotency: IdempotencyKeyDep,
    response: Response,
) -> CannotBeOpenedPublic:
    """Declare (once) that the report does not open with the commission's tool: damaged, or
    badly sealed. The reporter's receipt then asks them to send the report again."""

    async def create() -> CannotBeOpenedPublic:
        return await service.declare_cannot_be_opened(
            session, envelope_id=envelope_id, principal=principal, clock=clock,
            outbox=runtime.outbox.at(day_stamp(clock)),
        )

    return await idempotency.once(
        session, owner=principal.subject, request=str(envelope_id), response=response,
        result_type=CannotBeOpenedPublic, create=create,
    )


@commission_router.post("/inbox/{envelope_id}/notes", status_code=201)
async def post_status_note(
    envelope_id: UUID,
    note: NoteCreate,
    session: SessionDep,
    principal: CommissionDep,
    clock: ClockDep,
    idempotency: IdempotencyKeyDep,
    response: Response,
) -> NotePublic:
    """Release a plain-text note to the reporter; they see it with their receipt."""

    async def create() -> NotePublic:
        return await service.post_note(
            session, envelope_id=envelope_id, note=note, principal=principal, clock=clock
        )

    return await idempotency.once(
        session, owner=principal.subject, request=note, response=response,
        result_type=NotePublic, create=create,
    )
