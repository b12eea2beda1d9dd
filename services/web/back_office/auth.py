"""Signing in and out, the language switch, and each role's home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from services.web.i18n import LANG_COOKIE, LANGUAGES
from services.web.office import (
    OFFICE,
    OfficeDep,
    StaffDep,
    clear_session_cookie,
    menu,
    safe_next,
    set_session_cookie,
    sign_in_url,
)
from services.web.platform import ApiProblem
from services.web.sessions import OfficeSession

router = APIRouter(prefix=OFFICE)

NextPage = Annotated[str | None, Query(alias="next", max_length=500)]


@router.get("/")
async def home(office: StaffDep) -> Response:
    """Each role starts where its day's work is: the first page its menu offers."""
    items = [i for i in menu(office.person, office.web.settings) if i.href.startswith(OFFICE)]
    return RedirectResponse(items[0].href if items else f"{OFFICE}/account", status_code=303)


@router.get("/sign-in")
async def sign_in_page(office: OfficeDep, next_page: NextPage = None,
                       reason: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    if office.session is not None and office.session.signed_in:
        return RedirectResponse(safe_next(next_page), status_code=303)
    # An anonymous session carries the form's CSRF token; signing in replaces it.
    session = OfficeSession()
    await office.web.store.save(session)
    office.session = session
    notice = {"expired": "sign_in.expired", "signed_out": "sign_in.signed_out"}.get(reason or "")
    response = office.render("office/sign_in.html", next_page=safe_next(next_page),
                             notice=notice, errors={}, username="", problem=None)
    set_session_cookie(response, session, office.web.settings)
    return response


@router.post("/sign-in")
async def sign_in(office: OfficeDep) -> Response:
    form = await office.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_page = safe_next(str(form.get("next") or ""))
    errors = {name: office.t("sign_in.required")
              for name, value in (("username", username), ("password", password)) if not value}
    problem: ApiProblem | None = None
    if not errors:
        try:
            session = await office.platform.sign_in(office.caller, username, password)
        except ApiProblem as refused:
            problem = refused
            errors = refused.field_messages()
        else:
            if office.session is not None:
                await office.web.store.delete(office.session.id)
            response = RedirectResponse(next_page, status_code=303)
            set_session_cookie(response, session, office.web.settings)
            return response
    status = problem.status if problem is not None and problem.status in (401, 429) else 422
    return office.render("office/sign_in.html", status=status, next_page=next_page, notice=None,
                         errors=errors, username=username, problem=problem)


@router.post("/sign-out")
async def sign_out(office: StaffDep) -> Response:
    await office.form()
    await office.platform.sign_out(office.caller)
    response = RedirectResponse(sign_in_url(reason="signed_out"), status_code=303)
    clear_session_cookie(response, office.web.settings)
    return response


@router.get("/language/{language}")
async def switch_language(language: str, next_page: NextPage = None) -> Response:
    """The other language for every page from now on (a cookie: not personal, not a secret)."""
    response = RedirectResponse(safe_next(next_page), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 24 * 3600, path="/",
                            samesite="lax", httponly=True)
    return response
