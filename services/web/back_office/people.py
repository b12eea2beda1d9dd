"""People, as CMU administrators manage them: who works on the platform, in which role and scope,
with which permissions; new accounts, password resets, deactivation.

Every change is one call of routing's administration API, which decides it (password rules,
scopes, not locking oneself out), logs it and announces it. A new account's password, and a
reset one, is shown once to the administrator who hands it over: it is suggested when the form
is drawn (so a double submit sends the same one), sent to the API, and shown in the answer to
that form alone.

What it must never do: keep, log or put in an address a password; decide who may hold which role
or permission (routing answers).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from typing import Annotated, Any, Final
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.web.back_office.directory import (
    entity_choices,
    log_entry,
    people_named,
    sector_choices,
)
from services.web.back_office.forms import (
    Field,
    Form,
    FormPage,
    as_typed,
    attempt,
    changed,
    confirmation,
    done_notice,
    key_of,
    present,
    text,
    typed,
)
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem
from services.web.words import label
from shared.events.vocabulary import STAFF_ROLES, Role

router = APIRouter(prefix=f"{OFFICE}/people")

STAFF: Final = "directory.staff"
HOME: Final = f"{OFFICE}/people"
PAGE_SIZE: Final = 50
ROLES: Final = tuple(r for r in Role if r in STAFF_ROLES)
DONE: Final = frozenset({"updated", "role", "role_ended", "deactivated", "reactivated",
                         "permissions"})
# Letters and digits nobody misreads when a password is read out or copied from paper.
_READABLE: Final = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

PersonId = Annotated[UUID, Path()]
Done = Annotated[str | None, Query(max_length=20)]


def suggested_password() -> str:
    """Four groups of four readable characters (about 95 bits): strong, and easy to hand over."""
    return "-".join("".join(secrets.choice(_READABLE) for _ in range(4)) for _ in range(4))


def _done(office: Office, done: str | None) -> str | None:
    return done_notice(office, "people", done, DONE)


def _crumbs(office: Office, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(HOME, office.t("nav.people")), *more]


async def _choices(office: Office) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sectors, entities = await asyncio.gather(office.get("/api/v1/sectors"),
                                             office.get("/api/v1/entities"))
    return sectors, entities


def _role_fields(office: Office, sectors: list[dict[str, Any]], entities: list[dict[str, Any]],
                 *, within: str) -> list[Field]:
    """Role and scope: which of sector or entity a role needs is the API's to say."""
    return [
        Field("role", office.t("people.role"), kind="select", blank=office.t("people.no_role"),
              options=[(r.value, label("role", r, office.language)) for r in ROLES],
              api=(f"{within}role",) if within else ()),
        Field("sector", office.t("people.scope_sector"), kind="select",
              hint=office.t("people.scope_sector_hint"), blank=office.t("people.no_scope"),
              options=sector_choices(sectors, office), api=(f"{within}sector",) if within else ()),
        Field("entity", office.t("people.scope_entity"), kind="select",
              hint=office.t("people.scope_entity_hint"), blank=office.t("people.no_scope"),
              groups=entity_choices(entities, sectors, office),
              api=(f"{within}entity",) if within else ()),
    ]


def _grant(values: dict[str, Any]) -> dict[str, Any] | None:
    role = text(values, "role")
    if role is None:
        return None
    return {"role": role, **{name: text(values, name) for name in ("sector", "entity")
                             if text(values, name) is not None}}


def _contact_fields(office: Office) -> list[Field]:
    return [
        Field("full_name", office.t("people.full_name"), maxlength=200, autocomplete="off"),
        Field("phone", office.t("people.phone"), hint=office.t("people.phone_hint"), dir="ltr",
              autocomplete="off", maxlength=20),
        Field("email", office.t("people.email"), dir="ltr", autocomplete="off", maxlength=254),
        Field("language", office.t("people.language"), kind="select",
              options=[("ar", office.t("people.language_ar")),
                       ("en", office.t("people.language_en"))]),
        Field("notice_channel", office.t("people.notice_channel"), kind="select",
              hint=office.t("people.notice_channel_hint"),
              options=[(c, label("notice_channel", c, office.language)) for c in ("sms", "email")]),
    ]


def _contact_body(values: dict[str, Any]) -> dict[str, Any]:
    return {"full_name": as_typed(values, "full_name"), "phone": text(values, "phone"),
            "email": text(values, "email"), "language": text(values, "language"),
            "notice_channel": text(values, "notice_channel")}


def _about(office: Office, person: dict[str, Any], title: str, lead: str | None = None
           ) -> FormPage:
    """A form about one person: under their page, Cancel back to it."""
    back = f"{HOME}/{person['id']}"
    return FormPage(office.t(title), _crumbs(office, (back, person["full_name"])), back,
                    lead=office.t(lead) if lead else None)


def _new_person_page(office: Office) -> FormPage:
    return FormPage(office.t("people.add"), _crumbs(office), HOME,
                    lead=office.t("people.add_lead"))


# --- the list ----------------------------------------------------------------------------------


@router.get("")
async def people_page(
    office: StaffDep, request: Request,
    role: Annotated[str | None, Query(max_length=40)] = None,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    active: Annotated[str | None, Query(max_length=5)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    office.require(STAFF)
    chosen = {"q": (q or "").strip() or None,
              "role": role if role in {r.value for r in ROLES} else None,
              "sector": sector or None, "entity": entity or None,
              "active": active if active in ("true", "false") else None}
    page, (sectors, entities), _ = await asyncio.gather(
        office.get("/api/v1/directory/people", **chosen, after=after, limit=PAGE_SIZE),
        _choices(office), office.web.directory.fresh())  # names the scopes
    filters = {k: v for k, v in chosen.items() if v}
    return office.render(
        "office/admin/people.html", title=office.t("nav.people"), crumbs=[], section="people",
        people=page["items"], chosen=chosen, paged=after is not None,
        filters=[replace(f, blank=office.t("queue.any"), hint=None)
                 for f in _role_fields(office, sectors, entities, within="")] + [
                 Field("active", office.t("people.status"), kind="select",
                       blank=office.t("queue.any"),
                       options=[("true", office.t("people.active")),
                                ("false", office.t("people.inactive"))])],
        first_page=f"{HOME}?{urlencode(filters)}",
        next_page=f"{HOME}?{urlencode({**filters, 'after': page['next_after']})}"
        if page.get("next_after") else None, done=None)


# --- a new person ----------------------------------------------------------------------------


def _new_person_form(office: Office, sectors: list[dict[str, Any]],
                     entities: list[dict[str, Any]], values: dict[str, Any]) -> Form:
    fields = [
        _contact_fields(office)[0],
        Field("username", office.t("people.username"), hint=office.t("people.username_hint"),
              dir="ltr", autocomplete="off", maxlength=64),
        *_contact_fields(office)[1:],
        *_role_fields(office, sectors, entities, within="role."),
        Field("password", office.t("people.initial_password"),
              hint=office.t("people.initial_password_hint"), dir="ltr", autocomplete="off",
              maxlength=128),
    ]
    return Form(action=f"{HOME}/new", fields=fields, values=values, creates=True,
                submit=office.t("people.add"))


@router.get("/new")
async def new_person_page(
    office: StaffDep,
    role: Annotated[str | None, Query(max_length=40)] = None,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    entity: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    office.require(STAFF)
    sectors, entities = await _choices(office)
    preset = {"language": "ar", "notice_channel": "sms", "role": role or "",
              "sector": sector or "", "entity": entity or "", "password": suggested_password()}
    return _new_person_page(office).show(office,
                                         _new_person_form(office, sectors, entities, preset))


@router.post("/new")
async def new_person(office: StaffDep, request: Request) -> Response:
    office.require(STAFF)
    posted = await office.form()
    sectors, entities = await _choices(office)
    form = _new_person_form(office, sectors, entities, {})
    values = typed(posted, form.fields)
    body = present({"username": text(values, "username"), "password": text(values, "password"),
                    **_contact_body(values), "full_name": text(values, "full_name"),
                    "role": _grant(values)})
    made, problem = await attempt(office.post("/api/v1/directory/people", body,
                                              idempotency_key=key_of(posted)))
    if problem is not None:
        return _new_person_page(office).show(office, form.refused(problem, values), status=422)
    # Shown in this answer alone (never a redirect: the password would have to be kept).
    return office.render("office/admin/handover.html", status=201,
                         title=office.t("people.handover_title"), crumbs=_crumbs(office),
                         section=None, account=made, password=body["password"], created=True,
                         sign_in=str(request.base_url).rstrip("/") + f"{OFFICE}/sign-in",
                         done=None)


# --- permissions of a role (a group) ---------------------------------------------------------
# Declared before `/{person_id}`: "permissions" is no person's id.


def _permission_options(office: Office, catalog: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p, label("permission", p, office.language)) for p in catalog["permissions"]]


@router.get("/permissions")
async def groups_page(office: StaffDep, done: Done = None) -> HTMLResponse:
    office.require(STAFF)
    catalog = await office.get("/api/v1/directory/permissions")
    return office.render(
        "office/admin/groups.html", title=office.t("people.groups"), section="groups",
        crumbs=_crumbs(office), roles=[(r.value, catalog["roles"].get(r.value, []))
                                       for r in ROLES],
        total=len(catalog["permissions"]), done=_done(office, done))


def _group_form(office: Office, role: Role, catalog: dict[str, Any], values: dict[str, Any]
                ) -> Form:
    return Form(action=f"{HOME}/permissions/{role.value}", values=values,
                submit=office.t("admin.save"),
                fields=[Field("permissions", office.t("people.group_permissions"),
                              kind="checkboxes", hint=office.t("people.group_permissions_hint"),
                              options=_permission_options(office, catalog))])


def _group_page(office: Office, group: Role) -> FormPage:
    return FormPage(label("role", group, office.language),
                    _crumbs(office, (f"{HOME}/permissions", office.t("people.groups"))),
                    f"{HOME}/permissions", lead=office.t("people.group_lead"))


def _staff_role(role: str) -> Role:
    if role not in {r.value for r in ROLES}:
        raise ApiProblem(404)
    return Role(role)


@router.get("/permissions/{role}")
async def group_page(office: StaffDep, role: Annotated[str, Path(max_length=40)]
                     ) -> HTMLResponse:
    office.require(STAFF)
    group = _staff_role(role)
    catalog = await office.get("/api/v1/directory/permissions")
    form = _group_form(office, group, catalog,
                       {"permissions": catalog["roles"].get(group.value, [])})
    return _group_page(office, group).show(office, form)


@router.post("/permissions/{role}")
async def set_group(office: StaffDep, role: Annotated[str, Path(max_length=40)]) -> Response:
    office.require(STAFF)
    group = _staff_role(role)
    posted = await office.form()
    catalog = await office.get("/api/v1/directory/permissions")
    form = _group_form(office, group, catalog, {})
    values = typed(posted, form.fields)
    _, problem = await attempt(office.call("PUT", f"/api/v1/directory/permissions/roles/{role}",
                                           {"permissions": values["permissions"]}))
    if problem is not None:
        return _group_page(office, group).show(office, form.refused(problem, values),
                                               status=422)
    return office.redirect(f"{HOME}/permissions?done=permissions")


# --- one person ---------------------------------------------------------------------------------


@router.get("/{person_id}")
async def person_page(office: StaffDep, person_id: PersonId, done: Done = None
                      ) -> HTMLResponse:
    office.require(STAFF)
    person, history, permissions, _ = await asyncio.gather(
        office.get(f"/api/v1/directory/people/{person_id}"),
        office.get("/api/v1/directory/log", key=str(person_id), limit=20),
        office.get(f"/api/v1/directory/people/{person_id}/permissions"),
        office.web.directory.fresh())  # names the scopes
    entries = [log_entry(e, office) for e in history["items"]]
    names = await people_named(office, {e["actor_id"] for e in entries if e["actor_id"]})
    return office.render(
        "office/admin/person.html", title=person["full_name"], crumbs=_crumbs(office),
        section=None, account=person, entries=entries, names=names, permissions=permissions,
        is_me=str(person_id) == office.person.id, done=_done(office, done))


@router.get("/{person_id}/edit")
async def edit_person_page(office: StaffDep, person_id: PersonId) -> HTMLResponse:
    office.require(STAFF)
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    form = Form(action=f"{HOME}/{person_id}/edit", fields=_contact_fields(office),
                values={k: v or "" for k, v in person.items()}, submit=office.t("admin.save"))
    return _about(office, person, "people.edit").show(office, form)


@router.post("/{person_id}/edit")
async def edit_person(office: StaffDep, person_id: PersonId) -> Response:
    office.require(STAFF)
    posted = await office.form()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    form = Form(action=f"{HOME}/{person_id}/edit", fields=_contact_fields(office),
                submit=office.t("admin.save"))
    values = typed(posted, form.fields)
    changes = changed(_contact_body(values), person)
    if changes:
        _, problem = await attempt(office.call("PATCH", f"/api/v1/directory/people/{person_id}",
                                               changes))
        if problem is not None:
            return _about(office, person, "people.edit").show(
                office, form.refused(problem, values), status=422)
    return office.redirect(f"{HOME}/{person_id}?done=updated")


# --- role and scope -----------------------------------------------------------------------------


@router.get("/{person_id}/role")
async def role_page(office: StaffDep, person_id: PersonId) -> HTMLResponse:
    office.require(STAFF)
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    sectors, entities = await _choices(office)
    form = Form(action=f"{HOME}/{person_id}/role", creates=True,
                fields=_role_fields(office, sectors, entities, within=""),
                values={"role": person["role"] or ""}, submit=office.t("people.grant"))
    return _about(office, person, "people.change_role", "people.change_role_lead").show(
        office, form)


@router.post("/{person_id}/role")
async def grant_role(office: StaffDep, person_id: PersonId) -> Response:
    office.require(STAFF)
    posted = await office.form()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    sectors, entities = await _choices(office)
    form = Form(action=f"{HOME}/{person_id}/role", creates=True,
                fields=_role_fields(office, sectors, entities, within=""),
                submit=office.t("people.grant"))
    values = typed(posted, form.fields)
    grant = _grant(values) or {}
    _, problem = await attempt(office.post(f"/api/v1/directory/people/{person_id}/roles", grant,
                                           idempotency_key=key_of(posted)))
    if problem is not None:
        return _about(office, person, "people.change_role", "people.change_role_lead").show(
            office, form.refused(problem, values), status=422)
    return office.redirect(f"{HOME}/{person_id}?done=role")


def _scope_name(office: Office, assignment: dict[str, Any]) -> str:
    if assignment.get("entity"):
        return office.web.directory.name(assignment["entity"], office.language)
    if assignment.get("sector"):
        return office.web.directory.name(assignment["sector"], office.language, "sectors")
    return office.t("people.everywhere")


def _confirm(office: Office, person: dict[str, Any], *, what: str, action: str,
             facts: list[tuple[str, str]], problem: ApiProblem | None = None) -> HTMLResponse:
    back = f"{HOME}/{person['id']}"
    return confirmation(office, title=office.t(f"people.{what}"),
                        lead=office.t(f"people.{what}_lead"), facts=facts, action=action,
                        cancel=back, crumbs=_crumbs(office, (back, person["full_name"])),
                        problem=problem)


def _ending(office: Office, person: dict[str, Any], held: dict[str, Any],
            problem: ApiProblem | None = None) -> HTMLResponse:
    return _confirm(office, person, what="end_role", problem=problem,
                    action=f"{HOME}/{person['id']}/roles/{held['id']}/end",
                    facts=[(office.t("people.name"), person["full_name"]),
                           (office.t("people.role"), label("role", held["role"],
                                                           office.language)),
                           (office.t("people.scope"), _scope_name(office, held))])


def _deactivation(office: Office, person: dict[str, Any], problem: ApiProblem | None = None
                  ) -> HTMLResponse:
    return _confirm(office, person, what="deactivate", problem=problem,
                    action=f"{HOME}/{person['id']}/deactivate",
                    facts=[(office.t("people.name"), person["full_name"]),
                           (office.t("people.username"), person["username"])])


def _held(person: dict[str, Any], assignment_id: UUID) -> dict[str, Any]:
    found = next((a for a in person["assignments"] if a["id"] == str(assignment_id)), None)
    if found is None:
        raise ApiProblem(404)
    return dict(found)


@router.get("/{person_id}/roles/{assignment_id}/end")
async def end_role_page(office: StaffDep, person_id: PersonId, assignment_id: UUID
                        ) -> HTMLResponse:
    office.require(STAFF)
    await office.web.directory.fresh()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    return _ending(office, person, _held(person, assignment_id))


@router.post("/{person_id}/roles/{assignment_id}/end")
async def end_role(office: StaffDep, person_id: PersonId, assignment_id: UUID) -> Response:
    office.require(STAFF)
    await office.form()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    held = _held(person, assignment_id)
    _, problem = await attempt(office.call(
        "DELETE", f"/api/v1/directory/people/{person_id}/roles/{assignment_id}"))
    if problem is not None:
        return _ending(office, person, held, problem)
    return office.redirect(f"{HOME}/{person_id}?done=role_ended")


# --- one person's permissions: exceptions to their role ------------------------------------------

EXCEPTIONS: Final = ("grant", "deny")


async def _person_permissions_page(office: Office, person_id: UUID, *, status: int = 200,
                                   chosen: dict[str, str] | None = None,
                                   problem: ApiProblem | None = None) -> HTMLResponse:
    person, catalog, held = await asyncio.gather(
        office.get(f"/api/v1/directory/people/{person_id}"),
        office.get("/api/v1/directory/permissions"),
        office.get(f"/api/v1/directory/people/{person_id}/permissions"))
    by_role = set(catalog["roles"].get(held["role"] or "", []))
    if chosen is None:
        chosen = {**dict.fromkeys(held["grants"], "grant"), **dict.fromkeys(held["denials"],
                                                                            "deny")}
    rows = [{"code": p, "name": label("permission", p, office.language), "by_role": p in by_role,
             "effective": p in held["effective"], "chosen": chosen.get(p, "")}
            for p in catalog["permissions"]]
    return office.render(
        "office/admin/person_permissions.html", status=status,
        title=office.t("people.permissions"), section=None, account=person, rows=rows,
        crumbs=_crumbs(office, (f"{HOME}/{person_id}", person["full_name"])),
        errors={"_": problem.detail or problem.title} if problem else {}, done=None)


@router.get("/{person_id}/permissions")
async def person_permissions_page(office: StaffDep, person_id: PersonId) -> HTMLResponse:
    office.require(STAFF)
    return await _person_permissions_page(office, person_id)


@router.post("/{person_id}/permissions")
async def set_person_permissions(office: StaffDep, person_id: PersonId) -> Response:
    office.require(STAFF)
    posted = await office.form()
    chosen = {name[len("exception:"):]: value for name, value in posted.items()
              if name.startswith("exception:") and isinstance(value, str) and value}
    body = {"grants": sorted(p for p, v in chosen.items() if v == "grant"),
            "denials": sorted(p for p, v in chosen.items() if v == "deny")}
    _, problem = await attempt(office.call(
        "PUT", f"/api/v1/directory/people/{person_id}/permissions", body))
    if problem is not None:
        return await _person_permissions_page(office, person_id, status=422, chosen=chosen,
                                              problem=problem)
    return office.redirect(f"{HOME}/{person_id}?done=permissions")


# --- password, deactivation -------------------------------------------------------------------


def _password_form(office: Office, person_id: UUID, values: dict[str, Any]) -> Form:
    return Form(action=f"{HOME}/{person_id}/password", values=values,
                submit=office.t("people.reset_password"), warning=True,
                fields=[Field("new_password", office.t("people.new_password"),
                              hint=office.t("people.initial_password_hint"), dir="ltr",
                              autocomplete="off", maxlength=128)])


@router.get("/{person_id}/password")
async def password_page(office: StaffDep, person_id: PersonId) -> HTMLResponse:
    office.require(STAFF)
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    form = _password_form(office, person_id, {"new_password": suggested_password()})
    return _about(office, person, "people.reset_password", "people.reset_password_lead").show(
        office, form)


@router.post("/{person_id}/password")
async def reset_password(office: StaffDep, request: Request, person_id: PersonId) -> Response:
    office.require(STAFF)
    posted = await office.form()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    form = _password_form(office, person_id, {})
    values = typed(posted, form.fields)
    password = text(values, "new_password")
    _, problem = await attempt(office.post(f"/api/v1/directory/people/{person_id}/password",
                                           present({"new_password": password})))
    if problem is not None:
        return _about(office, person, "people.reset_password", "people.reset_password_lead"
                      ).show(office, form.refused(problem, values), status=422)
    return office.render("office/admin/handover.html", title=office.t("people.handover_reset"),
                         crumbs=_crumbs(office), section=None, account=person, password=password,
                         created=False, done=None,
                         sign_in=str(request.base_url).rstrip("/") + f"{OFFICE}/sign-in")


@router.get("/{person_id}/deactivate")
async def deactivate_page(office: StaffDep, person_id: PersonId) -> HTMLResponse:
    office.require(STAFF)
    return _deactivation(office, await office.get(f"/api/v1/directory/people/{person_id}"))


@router.post("/{person_id}/deactivate")
async def deactivate(office: StaffDep, person_id: PersonId) -> Response:
    office.require(STAFF)
    await office.form()
    person = await office.get(f"/api/v1/directory/people/{person_id}")
    _, problem = await attempt(office.call("PATCH", f"/api/v1/directory/people/{person_id}",
                                           {"active": False}))
    if problem is not None:
        return _deactivation(office, person, problem)
    return office.redirect(f"{HOME}/{person_id}?done=deactivated")


@router.post("/{person_id}/reactivate")
async def reactivate(office: StaffDep, person_id: PersonId) -> Response:
    """Not destructive: one button on the person's page, no second step."""
    office.require(STAFF)
    await office.form()
    await office.call("PATCH", f"/api/v1/directory/people/{person_id}", {"active": True})
    return office.redirect(f"{HOME}/{person_id}?done=reactivated")
