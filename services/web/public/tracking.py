"""Track a request without an account: its reference and tracking code, as printed on the
receipt or sent in the acknowledgement, open where it stands and its answer.

The form posts (`POST /track`), and the answer is rendered, never redirected to: the code must
not travel in an address, a browser's history or a log. The platform answers a wrong code as it
answers an unknown reference, and limits tries per address and per reference; the page says
what it said, in the page's language, and keeps the reference typed but never the code.

Once a deadline promised to the requester has passed, the page offers to chase the request
(`POST /track/chase`, once per working day); before, it says from when.

No CSRF token: no session is ever read here, and the chase form needs the reference and the
code, which a forging site does not have.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.web.back_office.forms import text
from services.web.office import TRACK, Office, PublicDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=TRACK)

TRACKING_API = "/api/v1/tracking"
CHASE_API = "/api/v1/tracking/chase"
FIELDS = ("reference", "code")  # named as the API names them


def _form(office: Office, *, status: int = 200, reference: str = "",
          problem: ApiProblem | None = None, errors: dict[str, str] | None = None
          ) -> HTMLResponse:
    return office.render("public/track.html", status=status, reference=reference,
                         problem=problem, errors=errors or {})


@router.get("")
async def track_form(office: PublicDep) -> HTMLResponse:
    return _form(office)


@router.post("")
async def track(office: PublicDep) -> HTMLResponse:
    form = await office.request.form()
    reference, code = text(form, "reference") or "", text(form, "code") or ""
    missing = {name: office.t("sign_in.required")
               for name, value in zip(FIELDS, (reference, code), strict=True) if not value}
    if missing:
        return _form(office, status=422, reference=reference, errors=missing)
    return await _tracked(office, reference, code)


@router.post("/chase")
async def chase(office: PublicDep) -> HTMLResponse:
    """Chase the request the page shows (its reference and code came back in the form): the
    page again, saying who was told, or why not yet."""
    form = await office.request.form()
    reference, code = text(form, "reference") or "", text(form, "code") or ""
    try:
        done = await office.post(CHASE_API, {"reference": reference, "code": code,
                                             "note": text(form, "note")},
                                 idempotency_key=text(form, "key"))
    except ApiProblem as refused:
        if refused.status == 404:  # not (or no longer) this reference and code
            return _form(office, status=404, reference=reference, problem=refused)
        if refused.status not in (409, 422, 429):
            raise
        return await _tracked(office, reference, code, status=refused.status, problem=refused,
                              note=text(form, "note") or "")
    return await _tracked(office, reference, code, notice=done["told"][office.language])


async def _tracked(office: Office, reference: str, code: str, *, status: int = 200,
                   problem: ApiProblem | None = None, notice: str | None = None,
                   note: str = "") -> HTMLResponse:
    """The request a reference and code open, or the form again saying why not."""
    try:
        view = await office.post(TRACKING_API, {"reference": reference, "code": code})
    except ApiProblem as refused:
        if refused.status not in (404, 422, 429):
            raise
        errors = {name if name in FIELDS else "_": message
                  for name, message in refused.field_messages().items()}
        return _form(office, status=refused.status, reference=reference, problem=refused,
                     errors=errors)
    # The code goes back in the chase form: typed by this person, on a page no one caches.
    return office.render("public/tracked.html", status=status, view=view, code=code,
                         problem=problem, notice=notice, note=note, key=str(uuid.uuid4()))
