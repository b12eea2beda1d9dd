"""The working calendar and the time limits, as CMU administrators keep them: a year's days off
(official and the CMU's own), Ramadan as announced, the days of a month as the clock counts them,
and the SLA policy's versions (hours, Ramadan hours, every duration).

SLA owns all of it: each change is one call of its API, which decides it, moves open deadlines
and announces the rules whole. The pages show its answers and ask before a day off is removed.

What it must never do: count working time or judge a date (SLA answers); change a policy but
by publishing a new version of the one it was edited from.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from services.web.back_office.forms import (
    Field,
    Form,
    FormPage,
    attempt,
    confirmation,
    done_notice,
    key_of,
    number,
    present,
    text,
    typed,
)
from services.web.i18n import AMMAN
from services.web.i18n import day as day_of
from services.web.i18n import month as month_of
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem
from services.web.words import label

router = APIRouter(prefix=f"{OFFICE}/calendar")

# The calendar and the time limits are the CMU administrators' (the SLA service decides so).
KEEPER: Final = "cmu_admin"
HOME: Final = f"{OFFICE}/calendar"
FIRST_YEAR, LAST_YEAR = 2000, 2099
DONE: Final = frozenset({"holiday_added", "holiday_moved", "holiday_removed",
                         "ramadan_announced", "policy_published"})
# Sunday first, as the week is read here; the numbers are `date.weekday()`'s, as the API's.
WEEK: Final = ("6", "0", "1", "2", "3", "4", "5")
DURATIONS: Final = ("first_response_working_days", "entity_head_after_working_days",
                    "minister_after_working_days", "inquiry_working_days",
                    "suggestion_working_days", "rating_window_working_days",
                    "review_working_days")

Year = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR)]
Day = Annotated[date, Path()]
Done = Annotated[str | None, Query(max_length=30)]


def _done(office: Office, done: str | None) -> str | None:
    return done_notice(office, "calendar", done, DONE)


def _crumbs(office: Office, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(HOME, office.t("nav.calendar")), *more]


def _page(office: Office, title: str, lead: str, *, cancel: str = HOME) -> FormPage:
    """A form of the calendar's: its words' keys, under the calendar, Cancel back to it."""
    return FormPage(office.t(title), _crumbs(office), cancel, lead=office.t(lead))


def _hours(value: dict[str, Any] | None) -> str | None:
    """"08:00–15:00" from the policy's hours (None: none set)."""
    if not value:
        return None
    return f"{str(value['opens'])[:5]}–{str(value['closes'])[:5]}"


# --- the year: days off, Ramadan, hours ----------------------------------------------------------


@router.get("")
async def calendar_page(office: StaffDep, year: Year = None, done: Done = None
                        ) -> HTMLResponse:
    office.require_role(KEEPER)
    holidays = await office.get("/api/v1/holidays", year=year)  # none: the platform's year
    year = int(holidays["year"])
    ramadan, policy = await asyncio.gather(office.get("/api/v1/calendar/ramadan", year=year),
                                           office.get("/api/v1/sla/policy"))
    calendar = policy["policy"]["calendar"]
    return office.render(
        "office/admin/calendar.html", title=office.t("nav.calendar"), crumbs=[],
        section="calendar", year=year, holidays=holidays["holidays"],
        ramadan=ramadan["periods"], policy=policy,
        official_hours=_hours(calendar["official_hours"]),
        ramadan_hours=_hours(calendar.get("ramadan_hours")),
        working_days=[label("weekday", d, office.language) for d in WEEK
                      if int(d) in calendar["working_days"]],
        months=[(f"{year}-{m:02d}", month_of(date(year, m, 1), office.language))
                for m in range(1, 13)],
        previous_year=year - 1 if year > FIRST_YEAR else None,
        next_year=year + 1 if year < LAST_YEAR else None, done=_done(office, done))


def _holiday_form(office: Office, values: dict[str, Any]) -> Form:
    return Form(action=f"{HOME}/holidays/new", values=values, creates=True,
                submit=office.t("calendar.declare"),
                fields=[Field("day", office.t("calendar.day"), kind="date",
                              hint=office.t("calendar.day_hint")),
                        Field("name_ar", office.t("admin.name_ar"), dir="rtl", maxlength=120),
                        Field("name_en", office.t("admin.name_en"), dir="ltr", maxlength=120)])


@router.get("/holidays/new")
async def new_holiday_page(office: StaffDep) -> HTMLResponse:
    office.require_role(KEEPER)
    return _page(office, "calendar.declare", "calendar.declare_lead").show(
        office, _holiday_form(office, {}))


@router.post("/holidays/new")
async def new_holiday(office: StaffDep) -> Response:
    office.require_role(KEEPER)
    posted = await office.form()
    form = _holiday_form(office, {})
    values = typed(posted, form.fields)
    _, problem = await attempt(office.post(
        "/api/v1/holidays", present({name: text(values, name)
                                     for name in ("day", "name_ar", "name_en")}),
        idempotency_key=key_of(posted)))
    if problem is not None:
        return _page(office, "calendar.declare", "calendar.declare_lead").show(
            office, form.refused(problem, values), status=422)
    return office.redirect(f"{HOME}?year={values['day'][:4]}&done=holiday_added")


async def _holiday(office: Office, day: date) -> dict[str, Any]:
    listed = await office.get("/api/v1/holidays", year=day.year)
    found = next((h for h in listed["holidays"] if h["day"] == day.isoformat()), None)
    if found is None:
        raise ApiProblem(404)
    return dict(found)


def _holiday_name(office: Office, holiday: dict[str, Any]) -> str:
    return str(holiday["name_ar"] if office.language == "ar" else holiday["name_en"])


def _move_page(office: Office, day: date, holiday: dict[str, Any]) -> FormPage:
    return FormPage(f"{office.t('calendar.move')}: {_holiday_name(office, holiday)}",
                    _crumbs(office), f"{HOME}?year={day.year}", lead=office.t("calendar.move_lead"))


def _move_form(office: Office, day: date, values: dict[str, Any]) -> Form:
    return Form(action=f"{HOME}/holidays/{day.isoformat()}/move", values=values, creates=True,
                submit=office.t("calendar.move"),
                fields=[Field("to", office.t("calendar.move_to"), kind="date",
                              hint=office.t("calendar.day_hint"))])


@router.get("/holidays/{day}/move")
async def move_holiday_page(office: StaffDep, day: Day) -> HTMLResponse:
    office.require_role(KEEPER)
    holiday = await _holiday(office, day)
    return _move_page(office, day, holiday).show(office, _move_form(office, day, {}))


@router.post("/holidays/{day}/move")
async def move_holiday(office: StaffDep, day: Day) -> Response:
    office.require_role(KEEPER)
    posted = await office.form()
    holiday = await _holiday(office, day)
    form = _move_form(office, day, {})
    values = typed(posted, form.fields)
    _, problem = await attempt(office.post(f"/api/v1/holidays/{day.isoformat()}/move",
                                           present({"to": text(values, "to")}),
                                           idempotency_key=key_of(posted)))
    if problem is not None:
        return _move_page(office, day, holiday).show(office, form.refused(problem, values),
                                                     status=422)
    return office.redirect(f"{HOME}?year={values['to'][:4]}&done=holiday_moved")


def _remove_page(office: Office, day: date, holiday: dict[str, Any], *,
                 problem: ApiProblem | None = None) -> HTMLResponse:
    return confirmation(
        office, title=office.t("calendar.remove"), lead=office.t("calendar.remove_lead"),
        crumbs=_crumbs(office), action=f"{HOME}/holidays/{day.isoformat()}/remove",
        facts=[(office.t("calendar.day"), day_of(day, office.language)),
               (office.t("calendar.holiday"), _holiday_name(office, holiday))],
        cancel=f"{HOME}?year={day.year}", problem=problem)


@router.get("/holidays/{day}/remove")
async def remove_holiday_page(office: StaffDep, day: Day) -> HTMLResponse:
    office.require_role(KEEPER)
    return _remove_page(office, day, await _holiday(office, day))


@router.post("/holidays/{day}/remove")
async def remove_holiday(office: StaffDep, day: Day) -> Response:
    office.require_role(KEEPER)
    await office.form()
    holiday = await _holiday(office, day)
    _, problem = await attempt(office.call("DELETE", f"/api/v1/holidays/{day.isoformat()}"))
    if problem is not None:
        return _remove_page(office, day, holiday, problem=problem)
    return office.redirect(f"{HOME}?year={day.year}&done=holiday_removed")


def _ramadan_form(office: Office, values: dict[str, Any]) -> Form:
    return Form(action=f"{HOME}/ramadan/new", values=values, creates=True,
                submit=office.t("calendar.announce_ramadan"),
                fields=[Field("first_day", office.t("calendar.first_day"), kind="date"),
                        Field("last_day", office.t("calendar.last_day"), kind="date")])


@router.get("/ramadan/new")
async def new_ramadan_page(office: StaffDep) -> HTMLResponse:
    office.require_role(KEEPER)
    return _page(office, "calendar.announce_ramadan", "calendar.announce_ramadan_lead").show(
        office, _ramadan_form(office, {}))


@router.post("/ramadan/new")
async def new_ramadan(office: StaffDep) -> Response:
    office.require_role(KEEPER)
    posted = await office.form()
    form = _ramadan_form(office, {})
    values = typed(posted, form.fields)
    _, problem = await attempt(office.post(
        "/api/v1/calendar/ramadan", present({"first_day": text(values, "first_day"),
                                             "last_day": text(values, "last_day")}),
        idempotency_key=key_of(posted)))
    if problem is not None:
        return _page(office, "calendar.announce_ramadan", "calendar.announce_ramadan_lead"
                     ).show(office, form.refused(problem, values), status=422)
    return office.redirect(f"{HOME}?year={values['first_day'][:4]}&done=ramadan_announced")


# --- a month, day by day ----------------------------------------------------------------------


@router.get("/days")
async def days_page(office: StaffDep,
                    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None
                    ) -> HTMLResponse:
    office.require_role(KEEPER)
    try:
        first = date.fromisoformat(f"{month}-01") if month else datetime.now(AMMAN).date()
    except ValueError:
        first = datetime.now(AMMAN).date()
    first = first.replace(day=1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    days = await office.get("/api/v1/calendar/days", **{"from": first.isoformat(),
                                                        "to": last.isoformat()})
    shown = [{**d, "hours": _hours({"opens": d["opens_at"][11:16], "closes": d["closes_at"][11:16]})
              if d["working"] else None} for d in days]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return office.render(
        "office/admin/days.html", section=None, crumbs=_crumbs(office), days=shown,
        title=f"{office.t('calendar.month')} · {month_of(first, office.language)}",
        previous=previous.strftime("%Y-%m") if previous.year >= FIRST_YEAR else None,
        following=following.strftime("%Y-%m") if following.year <= LAST_YEAR else None,
        done=None)


# --- the SLA policy's versions -------------------------------------------------------------------


def _new_version_page(office: Office) -> FormPage:
    return FormPage(office.t("calendar.new_version"),
                    _crumbs(office, (f"{HOME}/policy", office.t("calendar.policy"))),
                    f"{HOME}/policy", lead=office.t("calendar.new_version_lead"))


@router.get("/policy")
async def policy_page(office: StaffDep, done: Done = None) -> HTMLResponse:
    office.require_role(KEEPER)
    versions = await office.get("/api/v1/sla/policy/versions")
    return office.render(
        "office/admin/policy.html", title=office.t("calendar.policy"), section="policy",
        crumbs=_crumbs(office), versions=[
            {**v, "official_hours": _hours(v["policy"]["calendar"]["official_hours"]),
             "ramadan_hours": _hours(v["policy"]["calendar"].get("ramadan_hours")),
             "working_days": [label("weekday", d, office.language) for d in WEEK
                              if int(d) in v["policy"]["calendar"]["working_days"]]}
            for v in versions],
        durations=DURATIONS, done=_done(office, done))


def _policy_form(office: Office, values: dict[str, Any], based_on: int) -> Form:
    week = [(d, label("weekday", d, office.language)) for d in WEEK]
    fields = [
        Field("working_days", office.t("calendar.working_days"), kind="checkboxes",
              options=week, api=("policy.calendar.working_days",)),
        Field("official_opens", office.t("calendar.official_opens"), kind="time",
              api=("policy.calendar.official_hours", "policy.calendar.official_hours.opens")),
        Field("official_closes", office.t("calendar.official_closes"), kind="time",
              api=("policy.calendar.official_hours.closes",)),
        Field("ramadan_opens", office.t("calendar.ramadan_opens"), kind="time",
              hint=office.t("calendar.ramadan_hours_hint"),
              api=("policy.calendar.ramadan_hours", "policy.calendar.ramadan_hours.opens")),
        Field("ramadan_closes", office.t("calendar.ramadan_closes"), kind="time",
              api=("policy.calendar.ramadan_hours.closes",)),
        *(Field(name, office.t(f"calendar.{name}"), kind="number", min=1, max=250,
                api=(f"policy.{name}",)) for name in DURATIONS),
        Field("cmu_hears_of_escalations", office.t("calendar.cmu_hears_of_escalations"),
              kind="checkbox", api=("policy.cmu_hears_of_escalations",)),
        Field("applies_to_open", office.t("calendar.applies_to_open"), kind="checkbox",
              hint=office.t("calendar.applies_to_open_hint")),
        Field("reason", office.t("calendar.reason"), kind="textarea", maxlength=2000),
    ]
    return Form(action=f"{HOME}/policy/new", fields=fields, values=values, creates=True,
                submit=office.t("calendar.publish"), hidden={"based_on_version": str(based_on)})


def _policy_values(version: dict[str, Any]) -> dict[str, Any]:
    """The form filled with a version, to edit into the next one."""
    policy = version["policy"]
    calendar = policy["calendar"]
    ramadan = calendar.get("ramadan_hours") or {}
    return {
        "working_days": [d for d in WEEK if int(d) in calendar["working_days"]],
        "official_opens": calendar["official_hours"]["opens"][:5],
        "official_closes": calendar["official_hours"]["closes"][:5],
        "ramadan_opens": str(ramadan.get("opens", ""))[:5],
        "ramadan_closes": str(ramadan.get("closes", ""))[:5],
        **{name: str(policy[name]) for name in DURATIONS},
        "cmu_hears_of_escalations": policy["cmu_hears_of_escalations"],
        "applies_to_open": False, "reason": "",
    }


def _policy_body(values: dict[str, Any], based_on: str | None) -> dict[str, Any]:
    opens, closes = text(values, "ramadan_opens"), text(values, "ramadan_closes")
    return {
        "based_on_version": int(based_on) if based_on and based_on.isdigit() else based_on,
        "applies_to_open": values["applies_to_open"],
        "reason": text(values, "reason"),
        "policy": {
            "calendar": {
                "working_days": [int(d) for d in values["working_days"] if d in WEEK],
                "official_hours": {"opens": text(values, "official_opens"),
                                   "closes": text(values, "official_closes")},
                "ramadan_hours": None if opens is None and closes is None
                else {"opens": opens, "closes": closes},
            },
            **{name: number(values, name) for name in DURATIONS},
            "cmu_hears_of_escalations": values["cmu_hears_of_escalations"],
        },
    }


@router.get("/policy/new")
async def new_policy_page(office: StaffDep) -> HTMLResponse:
    office.require_role(KEEPER)
    versions = await office.get("/api/v1/sla/policy/versions")
    current = versions[0]
    return _new_version_page(office).show(
        office, _policy_form(office, _policy_values(current), current["version"]))


@router.post("/policy/new")
async def new_policy(office: StaffDep) -> Response:
    office.require_role(KEEPER)
    posted = await office.form()
    based_on = posted.get("based_on_version")
    based_on = based_on if isinstance(based_on, str) else None
    form = _policy_form(office, {}, int(based_on) if based_on and based_on.isdigit() else 0)
    values = typed(posted, form.fields)
    _, problem = await attempt(office.post("/api/v1/sla/policy/versions",
                                           _policy_body(values, based_on),
                                           idempotency_key=key_of(posted)))
    if problem is not None:
        return _new_version_page(office).show(office, form.refused(problem, values),
                                              status=problem.status)
    return office.redirect(f"{HOME}/policy?done=policy_published")
