"""Track a request without an account: its reference and tracking code, as printed on the
receipt or sent in the acknowledgement, open where it stands and its answer.

The form posts (`POST /track`), and the answer is rendered, never redirected to: the code must
not travel in an address, a browser's history or a log. The platform answers a wrong code as it
answers an unknown reference, and limits tries per address and per reference; the page says
what it said, in the page's language, and keeps the reference typed but never the code.

No CSRF token: the form changes nothing and no session is ever read here.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.web.back_office.forms import text
from services.web.office import TRACK, Office, PublicDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=TRACK)

TRACKING_API = "/api/v1/tracking"
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
    try:
        view = await office.post(TRACKING_API, {"reference": reference, "code": code})
    except ApiProblem as refused:
        if refused.status not in (404, 422, 429):
            raise
        errors = {name if name in FIELDS else "_": message
                  for name, message in refused.field_messages().items()}
        return _form(office, status=refused.status, reference=reference, problem=refused,
                     errors=errors)
    return office.render("public/tracked.html", view=view)
