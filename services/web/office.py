"""One page request as the web app serves it: who asks, in which language, and how to answer.

`Office` is what every page's route receives (`OfficeDep`, or `StaffDep` when the page needs a
signed-in person): it calls the platform for the person, renders a template with the frame every
page shares, and redirects. Routes ask the API, shape a small view model and render it; no
business rule lives here or in a template (the services own them).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Final
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from services.web.components import (
    deadline_badge,
    escalation_badge,
    ref,
    status_badge,
)
from services.web.config import WebSettings
from services.web.directory import Directory
from services.web.i18n import day, direction, language_of, number, when
from services.web.platform import ApiProblem, Caller, Platform, SignInRequired
from services.web.security import CSRF_FIELD, CSRF_HEADER, csrf_matches
from services.web.sessions import OfficeSession, Person, SessionStore
from services.web.words import DETAIL, PLURALS, label, word
from shared.errors import Language

OFFICE: Final = "/office"
# The public pages: anyone's, without a session (`PublicDep`); the staff cookie is scoped to
# OFFICE, so it never reaches them.
TRACK: Final = "/track"
RATE: Final = "/rate"
PUBLIC_PAGES: Final = (TRACK, RATE)
STATIC: Final = f"{OFFICE}/static"
SESSION_COOKIE: Final = "bkh_office"
ASSETS_VERSION: Final = "4"  # bump when a vendored file or the CSS changes: browsers cache them


def static_url(path: str) -> str:
    return f"{STATIC}/{path}?v={ASSETS_VERSION}"


def working_left(timer: Mapping[str, Any], language: Language) -> str:
    """"باقي 3 ساعات عمل": whole working days when a day or more is left, else hours."""
    days = timer.get("working_days_left")
    seconds = timer.get("working_seconds_left")
    if days is not None and days >= 1:
        return PLURALS["working_days_left"].of(int(days), language)
    hours = math.ceil(max(float(seconds or 0), 0) / 3600)
    return PLURALS["working_hours_left"].of(hours, language)


class CsrfRefused(Exception):
    """A form without the session's CSRF token: nothing is done."""


class PageForbidden(Exception):
    """The person's role or permissions do not open this page."""


@dataclass
class Fragments:
    """Pieces of pages rendered once and shown to many while the directory stays as read (the
    work queue's filters): all forgotten when it is read again."""

    read_at: float = float("-inf")
    kept: dict[tuple[object, ...], Markup] = field(default_factory=dict)

    def get(self, directory: Directory, key: tuple[object, ...]) -> Markup | None:
        if directory.read_at != self.read_at:
            self.kept.clear()
            self.read_at = directory.read_at
        return self.kept.get(key)

    def keep(self, key: tuple[object, ...], fragment: Markup) -> None:
        self.kept[key] = fragment


@dataclass
class WebApp:
    """What every page shares; one per process (`app.state.web`)."""

    settings: WebSettings
    platform: Platform
    store: SessionStore
    templates: jinja2.Environment
    directory: Directory
    fragments: Fragments = field(default_factory=Fragments)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    href: str


def menu(person: Person | None, settings: WebSettings) -> list[NavItem]:
    """The pages this person's role and permissions open, in the order of their day's work."""
    if person is None:
        return []
    items: list[NavItem] = []
    role = person.role
    if person.may("cases.read") and role not in ("cmu_staff", "cmu_admin"):
        items.append(NavItem("nav.queue", f"{OFFICE}/queue"))
    if person.may("cases.triage"):
        items.append(NavItem("nav.triage", f"{OFFICE}/triage"))
    if person.may("cases.review"):
        items.append(NavItem("nav.review", f"{OFFICE}/review"))
    if person.may("cases.read") and role in ("cmu_staff", "cmu_admin"):
        items.append(NavItem("nav.overdue", f"{OFFICE}/queue?due=overdue"))
    if person.may("cases.read"):
        items.append(NavItem("nav.search", f"{OFFICE}/search"))
    if person.may("directory.manage"):
        items.append(NavItem("nav.directory", f"{OFFICE}/directory"))
    if role == "cmu_admin":  # the SLA service keeps the calendar for this role alone
        items.append(NavItem("nav.calendar", f"{OFFICE}/calendar"))
    if person.may("directory.staff"):
        items.append(NavItem("nav.people", f"{OFFICE}/people"))
    if role == "call_center_agent":
        items.append(NavItem("nav.caller", f"{OFFICE}/callers"))
    if role == "complaint_box_clerk":
        items.append(NavItem("nav.paper", f"{OFFICE}/paper"))
    if role == "integrity_commission":
        items.append(NavItem("nav.sealed", f"{OFFICE}/sealed"))
    if role in ("entity_head", "minister", "decision_maker", "cmu_staff", "cmu_admin"):
        items.append(NavItem("app.dashboard", settings.dashboard_url))
    return items


class Office:
    def __init__(self, request: Request, web: WebApp, session: OfficeSession | None) -> None:
        self.request = request
        self.web = web
        self.session = session
        self.language: Language = language_of(request)

    # --- who and where ----------------------------------------------------------------------

    @property
    def person(self) -> Person:
        if self.session is None or self.session.person is None:
            raise SignInRequired()
        return self.session.person

    @property
    def caller(self) -> Caller:
        return Caller(self.session, self.language, _client_address(self.request, self.web),
                      self.request.headers.get("x-request-id"))

    @property
    def platform(self) -> Platform:
        return self.web.platform

    def require(self, permission: str) -> None:
        if not self.person.may(permission):
            raise PageForbidden()

    def require_role(self, *roles: str) -> None:
        if self.person.role not in roles:
            raise PageForbidden()

    # --- the platform, for this person ------------------------------------------------------

    async def get(self, path: str, **params: Any) -> Any:
        return await self.platform.get(self.caller, path, **params)

    async def post(self, path: str, body: Any = None, *, if_match: str | None = None,
                   idempotency_key: str | None = None) -> Any:
        return await self.platform.post(self.caller, path, body, if_match=if_match,
                                        idempotency_key=idempotency_key)

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """PATCH, PUT or DELETE for the person (creating: `post`); the answer's JSON, if any."""
        response = await self.platform.call(self.caller, method, path, json=body)
        return response.json() if response.content else None

    # --- answering --------------------------------------------------------------------------

    def t(self, key: str) -> str:
        return word(key, self.language)

    def render(self, template: str, *, status: int = 200,
               headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.text(template, **context), status_code=status, headers=headers)

    def text(self, template: str, **context: Any) -> str:
        """A template rendered with what every page has (the person, the language's words…)."""
        person = self.session.person if self.session else None
        return self.web.templates.get_template(template).render(
            lang=self.language, dir=direction(self.language), person=person,
            csrf=self.session.csrf if self.session else "",
            nav=menu(person, self.web.settings), path=self.request.url.path,
            here=_here(self.request), htmx=self.is_htmx,
            t=self.t,
            label=lambda vocabulary, value: label(vocabulary, value, self.language),
            ref=ref, status_badge=lambda status: status_badge(status, self.language),
            escalation_badge=lambda level: escalation_badge(level, self.language),
            deadline_badge=lambda due_at, overdue_since: deadline_badge(
                due_at, overdue_since, self.language),
            when=lambda value, with_time=True: when(value, self.language, with_time=with_time),
            number=lambda value: number(value, self.language),
            day=lambda value: day(value, self.language),
            plural=lambda key, count: PLURALS[key].of(count, self.language),
            name_of=lambda code, kind="entities": self.web.directory.name(
                code, self.language, kind),
            working_left=lambda timer: working_left(timer, self.language),
            size=lambda n: f"{number(max(1, round(int(n) / 1024)), self.language)} "
                           f"{self.t('unit.kb')}",
            shown_details=DETAIL, static=static_url,
            new_key=lambda: secrets.token_urlsafe(16),
            **context,
        )

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def redirect(self, url: str) -> Response:
        """After a form: 303 to the page to show (htmx follows `HX-Redirect` instead)."""
        if self.is_htmx:
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    async def form(self) -> FormData:
        """The posted form, once its CSRF token proved it came from one of our pages."""
        form = await self.request.form()
        given = self.request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if self.session is None or not csrf_matches(self.session.csrf,
                                                    given if isinstance(given, str) else None):
            raise CsrfRefused()
        return form


def _client_address(request: Request, web: WebApp) -> str:
    """The browser's address, as the proxies we trust vouch for it (never as a client wrote)."""
    peer = request.client.host if request.client else "unknown"
    hops = web.settings.trusted_proxies
    if not hops:
        return peer
    chain = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",")
             if p.strip()] + [peer]
    return chain[max(len(chain) - 1 - hops, 0)]


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def is_public_page(path: str) -> bool:
    """Whether `path` is one of the public pages (or below one: `/rate/{reference}`)."""
    return any(path == page or path.startswith(f"{page}/") for page in PUBLIC_PAGES)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    if not target:
        return f"{OFFICE}/"
    parts = urlsplit(target)
    ours = parts.path.startswith(f"{OFFICE}/") or is_public_page(parts.path)
    if parts.scheme or parts.netloc or not ours or target.startswith("//") or "\\" in target:
        return f"{OFFICE}/"
    return target


def sign_in_url(next_page: str | None = None, *, reason: str | None = None) -> str:
    url = f"{OFFICE}/sign-in"
    params = []
    if next_page:
        params.append(f"next={quote(safe_next(next_page), safe='/')}")
    if reason:
        params.append(f"reason={reason}")
    return url + ("?" + "&".join(params) if params else "")


# --- dependencies ---------------------------------------------------------------------------


def web_of(request: Request) -> WebApp:
    web: WebApp = request.app.state.web
    return web


async def _office(request: Request) -> Office:
    web = web_of(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    session = await web.store.load(session_id) if session_id else None
    return Office(request, web, session)


async def _public(request: Request) -> Office:
    """A public page's request: never a session, whatever cookie came."""
    return Office(request, web_of(request), None)


async def _staff(office: Annotated[Office, Depends(_office)]) -> Office:
    if office.session is None or not office.session.signed_in:
        raise SignInRequired()
    return office


OfficeDep = Annotated[Office, Depends(_office)]
PublicDep = Annotated[Office, Depends(_public)]
StaffDep = Annotated[Office, Depends(_staff)]


def set_session_cookie(response: Response, session: OfficeSession, settings: WebSettings) -> None:
    response.set_cookie(
        SESSION_COOKIE, session.id, path=f"{OFFICE}/", httponly=True,
        secure=settings.secure_cookies, samesite="strict",
    )


def clear_session_cookie(response: Response, settings: WebSettings) -> None:
    response.delete_cookie(SESSION_COOKIE, path=f"{OFFICE}/", httponly=True,
                           secure=settings.secure_cookies, samesite="strict")


__all__ = ["ApiProblem", "CsrfRefused", "Office", "OfficeDep", "PageForbidden", "PublicDep",
           "StaffDep", "WebApp", "is_public_page", "safe_next", "sign_in_url"]
