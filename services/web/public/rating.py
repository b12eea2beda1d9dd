"""A one-tap rating link's page: the answer the link was sent with, five buttons to rate it
(with an optional comment), or why it cannot be rated now.

The link (`/rate/{reference}?token=…`) comes in the answer's SMS and email; its signed token is
the requester's proof, so no session or account is needed. Opening the page changes nothing
(link previews open links too); a button rates. Intake decides everything (`GET …/rating/link/
state`, `POST …/rating/link`): superseded answers, a second rating, a request under review or
closed are explained in the page's language, never shown as raw JSON.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from services.web.back_office.forms import text
from services.web.office import RATE, Office, PublicDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=RATE)

SCORES: Final = ("1", "2", "3", "4", "5")
# The page's address holds the token: no other site may learn it from a Referer.
HEADERS: Final = {"Referrer-Policy": "no-referrer"}

Reference = Annotated[str, Path(min_length=1, max_length=40)]
Token = Annotated[str, Query(min_length=10, max_length=2048)]


def _link(reference: str, suffix: str = "") -> str:
    return f"/api/v1/requests/{quote(reference, safe='')}/rating/link{suffix}"


async def _state(office: Office, reference: str, token: str) -> dict[str, Any] | None:
    """What intake says of the link; None when it is not (or no longer) a valid link."""
    try:
        state: dict[str, Any] = await office.get(_link(reference, "/state"), token=token)
    except ApiProblem as refused:
        if refused.status != 404:
            raise
        return None
    return state


def _page(office: Office, state: dict[str, Any] | None, token: str, *, status: int = 200,
          errors: dict[str, str] | None = None, comment: str = "") -> HTMLResponse:
    if state is None:
        return office.render("public/rate_gone.html", status=404, headers=HEADERS)
    return office.render("public/rate.html", status=status, headers=HEADERS, state=state,
                         token=token, errors=errors or {}, comment=comment)


@router.get("/{reference}")
async def rating_page(office: PublicDep, reference: Reference, token: Token) -> HTMLResponse:
    return _page(office, await _state(office, reference, token), token)


@router.post("/{reference}")
async def rate(office: PublicDep, reference: Reference) -> HTMLResponse:
    form = await office.request.form()
    token, score, comment = text(form, "token") or "", text(form, "score"), text(form, "comment")
    if not 10 <= len(token) <= 2048:
        return _page(office, None, token)
    if score not in SCORES:
        return _page(office, await _state(office, reference, token), token, status=422,
                     errors={"score": office.t("rate.choose")}, comment=comment or "")
    try:
        recorded = await office.post(f"{_link(reference)}?{urlencode({'token': token})}",
                                     {"score": int(score), "comment": comment})
    except ApiProblem as refused:
        if refused.status not in (404, 409, 422):
            raise
        errors = {name if name == "comment" else "_": message
                  for name, message in refused.field_messages().items()}
        # Refused as it stands now (rated meanwhile, reviewed, answered again): say why.
        return _page(office, await _state(office, reference, token), token,
                     status=refused.status, errors=errors, comment=comment or "")
    return office.render("public/rated.html", status=200, headers=HEADERS, recorded=recorded)
