"""The work queue: what is in my hands, by deadline.

Counters (new, due today, overdue, escalated, awaiting the requester) come from one API call that
the page makes once it is shown (the list never waits for them), then every 30 seconds in place,
with the count of new requests in the tab's title; the list is
`GET /api/v1/inbox` with the page's filters passed through as they are (the API validates them).
The CMU's triage and review queues are the same page on their own API paths.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from services.web.directory import Directory
from services.web.office import OFFICE, StaffDep
from services.web.platform import ApiProblem
from services.web.words import label
from shared.events.vocabulary import Channel, RequestKind, RequestStatus

router = APIRouter(prefix=OFFICE)

PAGE_SIZE: Final = 25
FILTERS: Final = ("q", "status", "kind", "entity", "classification", "channel", "escalated",
                  "escalation_level", "due")
OPEN_STATUSES: Final = (RequestStatus.triage, RequestStatus.assigned, RequestStatus.in_progress,
                        RequestStatus.awaiting_information, RequestStatus.responded,
                        RequestStatus.under_review)


@dataclass(frozen=True, slots=True)
class Queue:
    """One of the queues a person works from: its page, its API list and its title."""

    path: str
    api: str
    title: str
    permission: str
    filters: bool


QUEUES: Final = {
    "queue": Queue(f"{OFFICE}/queue", "/api/v1/inbox", "queue.title", "cases.read", True),
    "triage": Queue(f"{OFFICE}/triage", "/api/v1/inbox/triage", "nav.triage", "cases.triage",
                    False),
    "review": Queue(f"{OFFICE}/review", "/api/v1/inbox/review", "nav.review", "cases.review",
                    False),
}


def _filters(request: Request) -> dict[str, Any]:
    """The page's filters as the API takes them (repeated ones as lists); blanks dropped."""
    chosen: dict[str, Any] = {}
    for name in FILTERS:
        values = [v.strip() for v in request.query_params.getlist(name) if v.strip()]
        if values:
            chosen[name] = values if name in ("status", "kind", "channel") else values[0]
    return chosen


async def _counters(office: StaffDep) -> dict[str, int] | None:
    try:
        counters: dict[str, int] = await office.get("/api/v1/inbox/counters")
    except ApiProblem:
        return None  # the list still works without them
    return counters


async def _listing(office: StaffDep, queue: Queue, chosen: dict[str, Any], cursor: str | None
                   ) -> tuple[dict[str, Any], ApiProblem | None]:
    """A page of the queue; an empty one with the problem when the filters are refused."""
    try:
        page: dict[str, Any] = await office.get(queue.api, **chosen, cursor=cursor,
                                                limit=PAGE_SIZE)
    except ApiProblem as refused:
        if refused.status not in (400, 422):
            raise
        return {"items": [], "next_cursor": None}, refused
    return page, None


async def _queue_page(office: StaffDep, request: Request, queue: Queue, cursor: str | None
                      ) -> HTMLResponse:
    office.require(queue.permission)
    chosen = _filters(request) if queue.filters else {}
    # The list, and the directory the filters' choices are named from, at once. The counters
    # are not waited for: the page asks for them as soon as it is shown (they cost a query of
    # their own), so the list comes first.
    (page, problem), directory = await asyncio.gather(
        _listing(office, queue, chosen, cursor), office.web.directory.fresh())
    errors = problem.field_messages() if problem else {}
    return office.render(
        "office/queue.html", status=422 if problem else 200, queue=queue, page=page,
        chosen=chosen, errors=errors, problem=problem, cursor=cursor,
        filters=_filter_form(office, queue, directory, chosen, errors) if queue.filters else None,
        poll_seconds=office.web.settings.queue_poll_s,
        first_page=f"{queue.path}?{urlencode(chosen, doseq=True)}",
        next_page=f"{queue.path}?{urlencode({**chosen, 'cursor': page['next_cursor']}, doseq=True)}"
        if page.get("next_cursor") else None,
    )


def _filter_form(office: StaffDep, queue: Queue, directory: Directory, chosen: dict[str, Any],
                 errors: dict[str, str]) -> Markup:
    """The filters; for the unfiltered queue (what most views of it are), rendered once per
    language, role and scope: its two hundred choices were a third of the page's rendering
    (`python -m bench.web_page_cost`)."""
    person = office.person
    key = ("queue-filters", office.language, queue.path, person.role, tuple(person.sectors),
           tuple(person.entities))
    unfiltered = not chosen and not errors
    if unfiltered and (kept := office.web.fragments.get(directory, key)) is not None:
        return kept
    form = Markup(office.text("office/queue_filters.html", queue=queue, chosen=chosen,
                              errors=errors, options=_options(office, directory)))
    if unfiltered:
        office.web.fragments.keep(key, form)
    return form


def _options(office: StaffDep, directory: Directory) -> dict[str, list[tuple[str, str]]]:
    """Each filter's choices, named in the page's language."""
    language = office.language
    person = office.person
    everywhere = person.role in ("cmu_staff", "cmu_admin", "decision_maker")
    entities = [e for e in directory.list("entities")
                if everywhere or e["sector"] in person.sectors or e["code"] in person.entities
                or e.get("parent") in person.entities]
    return {
        "status": [(s.value, label("status", s, language)) for s in OPEN_STATUSES],
        "kind": [(k.value, label("kind", k, language)) for k in RequestKind
                 if k is not RequestKind.report],
        "channel": [(c.value, label("channel", c, language)) for c in Channel],
        "entity": [(e["code"], directory.name(e["code"], language)) for e in entities],
        "classification": [(c["code"], directory.name(c["code"], language, "classifications"))
                           for c in directory.list("classifications")],
        "escalation_level": [("0", office.t("queue.not_escalated")),
                             ("1", office.t("queue.level_1")), ("2", office.t("queue.level_2"))],
        "due": [("overdue", office.t("queue.due_overdue_opt")),
                ("today", office.t("queue.due_today_opt")),
                ("week", office.t("queue.due_week_opt"))],
    }


Cursor = Annotated[str | None, Query(max_length=200)]


@router.get("/queue")
async def work_queue(office: StaffDep, request: Request, cursor: Cursor = None) -> HTMLResponse:
    return await _queue_page(office, request, QUEUES["queue"], cursor)


@router.get("/triage")
async def triage_queue(office: StaffDep, request: Request, cursor: Cursor = None
                       ) -> HTMLResponse:
    return await _queue_page(office, request, QUEUES["triage"], cursor)


@router.get("/review")
async def review_queue(office: StaffDep, request: Request, cursor: Cursor = None
                       ) -> HTMLResponse:
    return await _queue_page(office, request, QUEUES["review"], cursor)


@router.get("/queue/counters")
async def counters_fragment(office: StaffDep,
                            seen: Annotated[int, Query(ge=-1, le=10**9)] = -1) -> HTMLResponse:
    """The counters alone, asked for by the queue page once shown, then every
    `BKH_QUEUE_POLL_S`: a notice when new requests arrived since the first answer (`seen`: the
    count of new ones then; -1 for the first), and the title's count."""
    office.require("cases.read")
    return office.render("office/queue_counters.html", counters=await _counters(office),
                         seen=seen, poll_seconds=office.web.settings.queue_poll_s,
                         queue=QUEUES["queue"])
