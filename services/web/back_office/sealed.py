"""The integrity commission's desk: the sealed-report inbox.

The list and each report are what integrity knows of them (ids, days, key ids, size buckets,
whether an identity is attached, the acknowledgement and the notes released); the envelopes are
streamed through to the commission's browser byte for byte, to be opened offline with its key.
Each action on a report is a form posted to `ACTIONS`' API path under the report.

What it must never do: decode, parse or keep an envelope (nothing is ever opened on a server),
or show these pages to anyone but the commission (integrity answers everyone else 404 anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.back_office.forms import text
from services.web.back_office.submitting import form_errors, typed
from services.web.files import relay
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=f"{OFFICE}/sealed")

DESK: Final = f"{OFFICE}/sealed"
ROLE: Final = "integrity_commission"
INBOX: Final = "/api/v1/integrity/inbox"
PAGE_SIZE: Final = 25
FILTERS: Final = {"": None, "false": False, "true": True}  # the `acknowledged` choice
ENVELOPES: Final = {"envelope": "report", "identity-envelope": "identity"}
# Each action on a report: its API path under the report, and its body from the form (each has
# its template in `office/desks/sealed_actions/`).
ACTIONS: Final[dict[str, Callable[[FormData], dict[str, Any] | None]]] = {
    "acknowledgement": lambda form: None,
    "notes": lambda form: {"text": text(form, "text")},
    "cannot-be-opened": lambda form: None,
}

EnvelopeId = Annotated[uuid.UUID, Path()]


async def _report_page(office: Office, envelope_id: uuid.UUID, *, status: int = 200,
                       done: str | None = None, open_action: str | None = None,
                       errors: dict[str, str] | None = None, problem: ApiProblem | None = None,
                       form: FormData | None = None) -> HTMLResponse:
    report = await office.get(f"{INBOX}/{envelope_id}")
    return office.render(
        "office/desks/sealed_report.html", status=status, report=report, done=done,
        open_action=open_action, errors=errors or {}, problem=problem,
        typed=typed(form) if form is not None else {}, base=DESK,
    )


@router.get("")
async def inbox(office: StaffDep,
                acknowledged: Annotated[str, Query(max_length=5)] = "",
                cursor: Annotated[str | None, Query(max_length=80)] = None) -> HTMLResponse:
    office.require_role(ROLE)
    shown = acknowledged if acknowledged in FILTERS else ""
    page = await office.get(INBOX, limit=PAGE_SIZE, cursor=cursor,
                            acknowledged=FILTERS[shown])
    return office.render("office/desks/sealed.html", page=page, acknowledged=shown,
                         cursor=cursor, base=DESK)


@router.get("/{envelope_id}")
async def report(office: StaffDep, envelope_id: EnvelopeId,
                 done: Annotated[str | None, Query(max_length=30)] = None) -> HTMLResponse:
    office.require_role(ROLE)
    return await _report_page(office, envelope_id, done=done if done in ACTIONS else None)


@router.get("/{envelope_id}/{envelope}")
async def download(office: StaffDep, envelope_id: EnvelopeId,
                   envelope: Annotated[str, Path(max_length=20)]) -> Response:
    """A sealed envelope as integrity filed it, streamed through untouched."""
    office.require_role(ROLE)
    if envelope not in ENVELOPES:
        raise ApiProblem(404)
    upstream = await office.platform.call(office.caller, "GET",
                                          f"{INBOX}/{envelope_id}/{envelope}", stream=True)
    return relay(upstream, {
        "Content-Type": "application/octet-stream",
        "Content-Disposition":
            f'attachment; filename="{envelope_id}.{ENVELOPES[envelope]}.bkhe"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })


@router.post("/{envelope_id}/{action}")
async def act(office: StaffDep, envelope_id: EnvelopeId,
              action: Annotated[str, Path(max_length=30)]) -> Response:
    office.require_role(ROLE)
    if action not in ACTIONS:
        raise ApiProblem(404)
    form = await office.form()
    try:
        await office.post(f"{INBOX}/{envelope_id}/{action}", ACTIONS[action](form),
                          idempotency_key=text(form, "key"))
    except ApiProblem as refused:
        if refused.status not in (409, 422):
            raise
        return await _report_page(
            office, envelope_id, status=refused.status, open_action=action, problem=refused,
            errors=form_errors(refused, shown={"text": "text"}), form=form)
    return office.redirect(f"{DESK}/{envelope_id}?done={action}")
