"""Search: every request in the person's scope, whatever its status, newest first.

The CMU's scope is all of government; an officer's, head's or minister's is theirs. Matching
(Arabic normalisation, the index) is routing's: the page passes the words as they were typed.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.web.office import OFFICE, StaffDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=OFFICE)

PAGE_SIZE: Final = 25


@router.get("/search")
async def search(office: StaffDep,
                 q: Annotated[str, Query(max_length=200)] = "",
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    office.require("cases.read")
    words = q.strip()
    page: dict[str, object] = {"items": [], "next_cursor": None}
    errors: dict[str, str] = {}
    problem: ApiProblem | None = None
    if words:
        try:
            page = await office.get("/api/v1/cases", q=words, cursor=cursor, limit=PAGE_SIZE)
        except ApiProblem as refused:
            if refused.status not in (400, 422):
                raise
            problem, errors = refused, refused.field_messages()
    next_cursor = page.get("next_cursor")
    return office.render(
        "office/search.html", status=422 if problem else 200, q=words, page=page,
        errors=errors, problem=problem, searched=bool(words),
        next_page=f"{OFFICE}/search?{urlencode({'q': words, 'cursor': next_cursor})}"
        if next_cursor else None,
    )
