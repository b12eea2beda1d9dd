"""The directory, as CMU administrators keep it: sectors, their entities and departments,
classifications with their maxima, and the log of every change.

Lists come from routing's public reads (retired rows too: history stays readable); each change
is one call of routing's administration API, which decides, logs and announces it. A department
is an entity with a parent. Retiring asks first, on a page of its own.

What it must never do: decide what may be created, moved or retired (routing answers), or show
the directory's lists older than this page (they are read for it, not from the minute's cache).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from services.web.back_office.forms import (
    Field,
    Form,
    FormPage,
    Options,
    as_typed,
    attempt,
    changed,
    confirmation,
    done_notice,
    key_of,
    number,
    present,
    text,
    typed,
)
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem
from services.web.words import label
from shared.events.vocabulary import RequestKind

router = APIRouter(prefix=f"{OFFICE}/directory")

MANAGE: Final = "directory.manage"
HOME: Final = f"{OFFICE}/directory"
ENTITY_KINDS: Final = ("ministry", "department", "authority", "commission", "corporation",
                       "municipality")
LOG_SUBJECTS: Final = ("sector", "entity", "classification", "person", "role", "permissions")
LOG_PAGE: Final = 50
DONE: Final = frozenset({"created", "updated", "retired"})

Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Done = Annotated[str | None, Query(max_length=20)]


def _done(office: Office, done: str | None) -> str | None:
    return done_notice(office, "admin", done, DONE)


def _name(row: dict[str, Any], office: Office) -> str:
    return str(row["name_ar"] if office.language == "ar" else row["name_en"])


async def _everything(office: Office) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sectors and entities, retired ones too, as they are now."""
    sectors, entities = await asyncio.gather(
        office.get("/api/v1/sectors", include_retired=True),
        office.get("/api/v1/entities", include_retired=True))
    return sectors, entities


def _in_tree_order(entities: list[dict[str, Any]], office: Office
                   ) -> list[tuple[int, dict[str, Any]]]:
    """Each entity after its parent, departments indented by their depth."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    codes = {e["code"] for e in entities}
    for entity in sorted(entities, key=lambda e: _name(e, office)):
        parent = entity["parent"] if entity["parent"] in codes else None
        children.setdefault(parent, []).append(entity)
    ordered: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for entity in children.get(parent, []):
            ordered.append((depth, entity))
            walk(entity["code"], depth + 1)

    walk(None, 0)
    return ordered


def entity_choices(entities: list[dict[str, Any]], sectors: list[dict[str, Any]],
                    office: Office) -> list[tuple[str, Options]]:
    """Current entities under their sector's name, for a parent or a scope."""
    names = {s["code"]: _name(s, office) for s in sectors}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for depth, entity in _in_tree_order([e for e in entities if not e["retired_at"]], office):
        grouped.setdefault(entity["sector"], []).append(
            (entity["code"], "— " * depth + _name(entity, office)))
    return [(names.get(code, code), options) for code, options in
            sorted(grouped.items(), key=lambda item: names.get(item[0], item[0]))]


def sector_choices(sectors: list[dict[str, Any]], office: Office) -> Options:
    return sorted(((s["code"], _name(s, office)) for s in sectors if not s["retired_at"]),
                  key=lambda option: option[1])


def _names_fields(office: Office) -> list[Field]:
    return [Field("name_ar", office.t("admin.name_ar"), dir="rtl", maxlength=200),
            Field("name_en", office.t("admin.name_en"), dir="ltr", maxlength=200)]


def _crumbs(office: Office, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [(HOME, office.t("nav.directory")), *more]


def _changed_directory(office: Office) -> None:
    """Pages of this process name the change at once (others within the cache's minute)."""
    office.web.directory.forget()


# --- sectors ------------------------------------------------------------------------------------


@router.get("")
async def sectors_page(office: StaffDep, retired: bool = False, done: Done = None
                       ) -> HTMLResponse:
    office.require(MANAGE)
    sectors, entities = await _everything(office)
    current = Counter(e["sector"] for e in entities if not e["retired_at"])
    shown = sorted((s for s in sectors if retired or not s["retired_at"]),
                   key=lambda s: _name(s, office))
    return office.render(
        "office/admin/sectors.html", title=office.t("nav.directory"), crumbs=[],
        section="directory", sectors=shown, entity_counts=current, show_retired=retired,
        retired_count=sum(1 for s in sectors if s["retired_at"]), done=_done(office, done))


def _sector_form(office: Office, *, new: bool, action: str, values: dict[str, Any]) -> Form:
    fields = ([Field("code", office.t("admin.code"), hint=office.t("admin.sector_code_hint"),
                     dir="ltr", maxlength=20, autocomplete="off")] if new else [])
    return Form(action=action, fields=fields + _names_fields(office), values=values,
                submit=office.t("admin.add_sector" if new else "admin.save"), creates=new)


def _new_sector_page(office: Office) -> FormPage:
    return FormPage(office.t("admin.add_sector"), _crumbs(office), HOME, section="directory")


@router.get("/sectors/new")
async def new_sector_page(office: StaffDep) -> HTMLResponse:
    office.require(MANAGE)
    return _new_sector_page(office).show(
        office, _sector_form(office, new=True, action=f"{HOME}/sectors/new", values={}))


@router.post("/sectors/new")
async def new_sector(office: StaffDep) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    form = _sector_form(office, new=True, action=f"{HOME}/sectors/new", values={})
    values = typed(posted, form.fields)
    made, problem = await attempt(office.post(
        "/api/v1/sectors", present({"code": text(values, "code"),
                                    "name_ar": text(values, "name_ar"),
                                    "name_en": text(values, "name_en")}),
        idempotency_key=key_of(posted)))
    if problem is not None:
        return _new_sector_page(office).show(office, form.refused(problem, values), status=422)
    assert made is not None
    _changed_directory(office)
    return office.redirect(f"{HOME}/sectors/{made['code']}?done=created")


@router.get("/sectors/{code}")
async def sector_page(office: StaffDep, code: Code, done: Done = None) -> HTMLResponse:
    office.require(MANAGE)
    sector, entities = await asyncio.gather(
        office.get(f"/api/v1/sectors/{code}"),
        office.get("/api/v1/entities", sector=code, include_retired=True))
    return office.render(
        "office/admin/sector.html", title=_name(sector, office), section="directory",
        crumbs=_crumbs(office), sector=sector, entities=_in_tree_order(entities, office),
        done=_done(office, done))


def _edit_sector_page(office: Office, sector: dict[str, Any]) -> FormPage:
    back = f"{HOME}/sectors/{sector['code']}"
    return FormPage(office.t("admin.edit_names"), _crumbs(office, (back, _name(sector, office))),
                    back, section="directory")


@router.get("/sectors/{code}/edit")
async def edit_sector_page(office: StaffDep, code: Code) -> HTMLResponse:
    office.require(MANAGE)
    sector = await office.get(f"/api/v1/sectors/{code}")
    form = _sector_form(office, new=False, action=f"{HOME}/sectors/{code}/edit", values=sector)
    return _edit_sector_page(office, sector).show(office, form)


@router.post("/sectors/{code}/edit")
async def edit_sector(office: StaffDep, code: Code) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    sector = await office.get(f"/api/v1/sectors/{code}")
    form = _sector_form(office, new=False, action=f"{HOME}/sectors/{code}/edit", values={})
    values = typed(posted, form.fields)
    changes = changed({"name_ar": as_typed(values, "name_ar"),
                       "name_en": as_typed(values, "name_en")}, sector)
    if changes:
        _, problem = await attempt(office.call("PATCH", f"/api/v1/sectors/{code}", changes))
        if problem is not None:
            return _edit_sector_page(office, sector).show(office, form.refused(problem, values),
                                                          status=422)
        _changed_directory(office)
    return office.redirect(f"{HOME}/sectors/{code}?done=updated")


# --- retiring (a sector, an entity, a classification): a page that asks first ----------------

RETIRABLE: Final = {"sectors": "sector", "entities": "entity",
                    "classifications": "classification"}


async def _retirable(office: Office, kind: str, code: str) -> tuple[str, dict[str, Any]]:
    """What is to be retired (its kind's singular, its row); 404 for another kind."""
    if kind not in RETIRABLE:
        raise ApiProblem(404)
    row = await (_classification(office, code) if kind == "classifications"
                 else office.get(f"/api/v1/{kind}/{code}"))
    return RETIRABLE[kind], row


def _retire_page(office: Office, kind: str, row: dict[str, Any],
                 problem: ApiProblem | None = None) -> HTMLResponse:
    back = f"{HOME}/{kind}/{row['code']}"
    return confirmation(
        office, title=office.t(f"admin.retire_{RETIRABLE[kind]}"),
        lead=office.t("admin.retire_lead"), crumbs=_crumbs(office, (back, _name(row, office))),
        facts=[(office.t("admin.name"), _name(row, office)), (office.t("admin.code"),
                                                                row["code"])],
        action=f"{back}/retire", cancel=back, problem=problem)


@router.get("/{kind}/{code}/retire")
async def retire_page(office: StaffDep, kind: Annotated[str, Path(max_length=20)],
                      code: Code) -> HTMLResponse:
    office.require(MANAGE)
    _, row = await _retirable(office, kind, code)
    return _retire_page(office, kind, row)


@router.post("/{kind}/{code}/retire")
async def retire(office: StaffDep, kind: Annotated[str, Path(max_length=20)], code: Code
                 ) -> Response:
    office.require(MANAGE)
    await office.form()
    _, row = await _retirable(office, kind, code)
    _, problem = await attempt(office.call("DELETE", f"/api/v1/{kind}/{code}"))
    if problem is not None:
        return _retire_page(office, kind, row, problem)
    _changed_directory(office)
    return office.redirect(f"{HOME}/{kind}/{code}?done=retired")


# --- entities and departments ------------------------------------------------------------------


def _entity_form(office: Office, *, new: bool, action: str, values: dict[str, Any],
                 sectors: list[dict[str, Any]], entities: list[dict[str, Any]]) -> Form:
    fields = [
        *([Field("code", office.t("admin.code"), hint=office.t("admin.entity_code_hint"),
                 dir="ltr", maxlength=40, autocomplete="off")] if new else []),
        *_names_fields(office),
        Field("kind", office.t("admin.entity_kind"), kind="select", blank=office.t("field.choose"),
              options=[(k, label("entity_kind", k, office.language)) for k in ENTITY_KINDS]),
        Field("sector", office.t("admin.sector"), kind="select", blank=office.t("field.choose"),
              options=sector_choices(sectors, office)),
        Field("parent", office.t("admin.parent"), kind="select", hint=office.t("admin.parent_hint"),
              blank=office.t("admin.no_parent"),
              groups=entity_choices([e for e in entities if e["code"] != values.get("code")],
                                     sectors, office)),
    ]
    adding = "admin.add_department" if values.get("parent") else "admin.add_entity"
    return Form(action=action, fields=fields, values=values, creates=new,
                submit=office.t(adding if new else "admin.save"))


def _entity_body(values: dict[str, Any]) -> dict[str, Any]:
    """The entity's fields (no parent: a top-level entity; names as typed, for an edit)."""
    return {"code": text(values, "code"), "sector": text(values, "sector"),
            "parent": text(values, "parent"), "kind": text(values, "kind"),
            "name_ar": as_typed(values, "name_ar"), "name_en": as_typed(values, "name_en")}


@router.get("/entities/new")
async def new_entity_page(office: StaffDep,
                          sector: Annotated[str | None, Query(max_length=20)] = None,
                          parent: Annotated[str | None, Query(max_length=40)] = None
                          ) -> HTMLResponse:
    office.require(MANAGE)
    sectors, entities = await _everything(office)
    preset = {"sector": sector or "", "parent": parent or "",
              "kind": "department" if parent else ""}
    form = _entity_form(office, new=True, action=f"{HOME}/entities/new", values=preset,
                        sectors=sectors, entities=entities)
    back = f"{HOME}/entities/{parent}" if parent else (
        f"{HOME}/sectors/{sector}" if sector else HOME)
    return FormPage(form.submit, _crumbs(office), back, section="directory").show(office, form)


@router.post("/entities/new")
async def new_entity(office: StaffDep) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    sectors, entities = await _everything(office)
    fields = _entity_form(office, new=True, action="", values={}, sectors=sectors,
                          entities=entities).fields
    values = typed(posted, fields)
    body = present({**_entity_body(values), "name_ar": text(values, "name_ar"),
                    "name_en": text(values, "name_en")})
    made, problem = await attempt(office.post("/api/v1/entities", body,
                                              idempotency_key=key_of(posted)))
    if problem is not None:
        form = _entity_form(office, new=True, action=f"{HOME}/entities/new", values=values,
                            sectors=sectors, entities=entities)
        return FormPage(form.submit, _crumbs(office), HOME, section="directory").show(
            office, form.refused(problem, values), status=422)
    assert made is not None
    _changed_directory(office)
    return office.redirect(f"{HOME}/entities/{made['code']}?done=created")


@router.get("/entities/{code}")
async def entity_page(office: StaffDep, code: Code, done: Done = None) -> HTMLResponse:
    office.require(MANAGE)
    entity = await office.get(f"/api/v1/entities/{code}")
    sector, entities = await asyncio.gather(
        office.get(f"/api/v1/sectors/{entity['sector']}"),
        office.get("/api/v1/entities", sector=entity["sector"], include_retired=True))
    by_code = {e["code"]: e for e in entities}
    departments = _in_tree_order([e for e in entities if e["code"] != code
                                  and _below(e, code, by_code)], office)
    return office.render(
        "office/admin/entity.html", title=_name(entity, office), section="directory",
        crumbs=_crumbs(office, (f"{HOME}/sectors/{sector['code']}", _name(sector, office))),
        entity=entity, sector=sector, parent=by_code.get(entity["parent"] or ""),
        departments=[(depth + 1, e) for depth, e in departments],
        may_staff=office.person.may("directory.staff"), done=_done(office, done))


def _below(entity: dict[str, Any], ancestor: str, by_code: dict[str, dict[str, Any]]) -> bool:
    seen: set[str] = set()
    parent = entity["parent"]
    while parent and parent not in seen:
        if parent == ancestor:
            return True
        seen.add(parent)
        parent = by_code.get(parent, {}).get("parent")
    return False


def _edit_entity_page(office: Office, entity: dict[str, Any]) -> FormPage:
    back = f"{HOME}/entities/{entity['code']}"
    return FormPage(office.t("admin.edit_entity"), _crumbs(office, (back, _name(entity, office))),
                    back, section="directory")


@router.get("/entities/{code}/edit")
async def edit_entity_page(office: StaffDep, code: Code) -> HTMLResponse:
    office.require(MANAGE)
    entity = await office.get(f"/api/v1/entities/{code}")
    sectors, entities = await _everything(office)
    form = _entity_form(office, new=False, action=f"{HOME}/entities/{code}/edit",
                        values={**entity, "parent": entity["parent"] or ""},
                        sectors=sectors, entities=entities)
    return _edit_entity_page(office, entity).show(office, form)


@router.post("/entities/{code}/edit")
async def edit_entity(office: StaffDep, code: Code) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    entity = await office.get(f"/api/v1/entities/{code}")
    sectors, entities = await _everything(office)
    form = _entity_form(office, new=False, action=f"{HOME}/entities/{code}/edit",
                        values={"code": code}, sectors=sectors, entities=entities)
    values = typed(posted, form.fields)
    body = _entity_body(values)
    del body["code"]
    changes = changed(body, entity)
    if changes:
        _, problem = await attempt(office.call("PATCH", f"/api/v1/entities/{code}", changes))
        if problem is not None:
            return _edit_entity_page(office, entity).show(
                office, form.refused(problem, values), status=422)
        _changed_directory(office)
    return office.redirect(f"{HOME}/entities/{code}?done=updated")


# --- classifications ---------------------------------------------------------------------------

CLASSIFIED_KINDS: Final = tuple(k for k in RequestKind if k is not RequestKind.report)


async def _classification(office: Office, code: str) -> dict[str, Any]:
    listed = await office.get("/api/v1/classifications", include_retired=True)
    found = next((c for c in listed if c["code"] == code), None)
    if found is None:
        raise ApiProblem(404)
    return dict(found)


@router.get("/classifications")
async def classifications_page(office: StaffDep, done: Done = None) -> HTMLResponse:
    office.require(MANAGE)
    listed = await office.get("/api/v1/classifications", include_retired=True)
    order = {kind: i for i, kind in enumerate(CLASSIFIED_KINDS)}
    rows = sorted(listed, key=lambda c: (c["retired_at"] is not None, order.get(c["kind"], 9),
                                         _name(c, office)))
    return office.render("office/admin/classifications.html",
                         title=office.t("admin.classifications"), section="classifications",
                         crumbs=_crumbs(office), classifications=rows, done=_done(office, done))


def _classification_form(office: Office, *, new: bool, action: str, values: dict[str, Any]
                         ) -> Form:
    fields = [
        *([Field("code", office.t("admin.code"), hint=office.t("admin.classification_code_hint"),
                 dir="ltr", maxlength=64, autocomplete="off"),
           Field("kind", office.t("admin.request_kind"), kind="select",
                 blank=office.t("field.choose"),
                 options=[(k.value, label("kind", k, office.language))
                          for k in CLASSIFIED_KINDS])] if new else []),
        *_names_fields(office),
        Field("max_working_days", office.t("admin.max_working_days"), kind="number",
              hint=office.t("admin.max_working_days_hint"), min=1, max=250),
    ]
    return Form(action=action, fields=fields, values=values, creates=new,
                submit=office.t("admin.add_classification" if new else "admin.save"))


def _classifications_crumbs(office: Office) -> list[tuple[str, str]]:
    return _crumbs(office, (f"{HOME}/classifications", office.t("admin.classifications")))


def _new_classification_page(office: Office) -> FormPage:
    return FormPage(office.t("admin.add_classification"), _classifications_crumbs(office),
                    f"{HOME}/classifications", section="classifications")


@router.get("/classifications/new")
async def new_classification_page(office: StaffDep) -> HTMLResponse:
    office.require(MANAGE)
    form = _classification_form(office, new=True, action=f"{HOME}/classifications/new",
                                values={})
    return _new_classification_page(office).show(office, form)


@router.post("/classifications/new")
async def new_classification(office: StaffDep) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    form = _classification_form(office, new=True, action=f"{HOME}/classifications/new",
                                values={})
    values = typed(posted, form.fields)
    body = present({"code": text(values, "code"), "kind": text(values, "kind"),
                    "name_ar": text(values, "name_ar"), "name_en": text(values, "name_en"),
                    "max_working_days": number(values, "max_working_days")})
    _, problem = await attempt(office.post("/api/v1/classifications", body,
                                           idempotency_key=key_of(posted)))
    if problem is not None:
        return _new_classification_page(office).show(office, form.refused(problem, values),
                                                     status=422)
    _changed_directory(office)
    return office.redirect(f"{HOME}/classifications?done=created")


def _as_number(values: dict[str, Any], name: str) -> int | str:
    """A number an edit must not lose: empty stays empty, for the API to refuse."""
    value = number(values, name)
    return "" if value is None else value


@router.get("/classifications/{code}")
async def classification_page(office: StaffDep, code: Code, done: Done = None
                              ) -> HTMLResponse:
    office.require(MANAGE)
    found = await _classification(office, code)
    form = _classification_form(office, new=False, action=f"{HOME}/classifications/{code}",
                                values=found)
    return office.render("office/admin/classification.html", title=_name(found, office),
                         section="classifications", crumbs=_classifications_crumbs(office),
                         classification=found, form=form, cancel=None,
                         done=_done(office, done))


@router.post("/classifications/{code}")
async def edit_classification(office: StaffDep, code: Code) -> Response:
    office.require(MANAGE)
    posted = await office.form()
    found = await _classification(office, code)
    form = _classification_form(office, new=False, action=f"{HOME}/classifications/{code}",
                                values={})
    values = typed(posted, form.fields)
    changes = changed({"name_ar": as_typed(values, "name_ar"),
                       "name_en": as_typed(values, "name_en"),
                       "max_working_days": _as_number(values, "max_working_days")}, found)
    if changes:
        _, problem = await attempt(office.call("PATCH", f"/api/v1/classifications/{code}",
                                               changes))
        if problem is not None:
            return office.render("office/admin/classification.html", status=422,
                                 title=_name(found, office), section="classifications",
                                 crumbs=_classifications_crumbs(office), classification=found,
                                 form=form.refused(problem, values), cancel=None, done=None)
        _changed_directory(office)
    return office.redirect(f"{HOME}/classifications/{code}?done=updated")


# --- the log --------------------------------------------------------------------------------------


@router.get("/log")
async def log_page(office: StaffDep,
                   subject: Annotated[str | None, Query(max_length=20)] = None,
                   key: Annotated[str | None, Query(max_length=64)] = None,
                   before: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    office.require(MANAGE)
    chosen = subject if subject in LOG_SUBJECTS else None
    page = await office.get("/api/v1/directory/log", subject=chosen, key=key, before=before,
                            limit=LOG_PAGE)
    entries = [log_entry(e, office) for e in page["items"]]
    names = await people_named(office, {i for e in entries for i in e["people"]})
    filters = {k: v for k, v in (("subject", chosen), ("key", key)) if v}
    return office.render(
        "office/admin/log.html", title=office.t("admin.log"), section="log",
        crumbs=_crumbs(office), entries=entries, names=names, subject=chosen,
        subjects=[(s, label("log_subject", s, office.language)) for s in LOG_SUBJECTS],
        first_page=f"{HOME}/log?{urlencode(filters)}",
        next_page=f"{HOME}/log?{urlencode({**filters, 'before': page['next_before']})}"
        if page.get("next_before") else None, paged=before is not None, done=None)


def log_entry(entry: dict[str, Any], office: Office) -> dict[str, Any]:
    """One change as the log page shows it: what changed from what to what, and whose it is."""
    details = entry.get("details") or {}
    before, after = details.get("before") or {}, details.get("after") or {}
    # The initial data is the whole directory at once: its entries say what, not every field.
    fields = [] if entry["change"] == "seeded" else [
        (name, _shown(name, before.get(name), office), _shown(name, after.get(name), office))
        for name in sorted({*before, *after} - {"demo", "person_id"})
        if before.get(name) != after.get(name)]
    person = None
    if entry["subject"] == "person":
        person = entry["key"]
    elif entry["subject"] == "role":
        person = (after or before).get("person_id")
    elif entry["subject"] == "permissions" and "overrides" in after:
        person = entry["key"]
    named = after.get("full_name") or before.get("full_name")
    return {**entry, "fields": fields, "person": person, "person_name": named,
            "people": {p for p in (entry.get("actor_id"), None if named else person) if p}}


_VOCABULARY_OF: Final = {"role": "role", "notice_channel": "notice_channel", "language": "language",
                         "permissions": "permission", "overrides": "permission",
                         "kind": "entity_kind"}


def _shown(name: str, value: Any, office: Office) -> str | None:
    """A logged value in words: codes named, yes or no, lists and overrides spelled out."""
    vocabulary = _VOCABULARY_OF.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return office.t("admin.yes" if value else "admin.no")
    if isinstance(value, list):
        return "، ".join(_shown(name, item, office) or "" for item in value) or "—"
    if isinstance(value, dict):
        return "، ".join(f"{_shown(name, key, office)}: "
                         f"{office.t('people.grant' if allowed else 'people.deny')}"
                         for key, allowed in value.items()) or "—"
    if name == "kind" and value in {k.value for k in RequestKind}:
        vocabulary = "kind"  # a classification's kind of request, not an entity's kind
    return label(vocabulary, str(value), office.language) if vocabulary else str(value)


async def people_named(office: Office, ids: set[str]) -> dict[str, str]:
    """The names of the people a page mentions, for those who may read people (else none)."""
    if not office.person.may("directory.staff") or not ids:
        return {}

    async def one(person_id: str) -> tuple[str, str | None]:
        try:
            found = await office.get(f"/api/v1/directory/people/{person_id}")
        except ApiProblem:
            return person_id, None
        return person_id, str(found["full_name"])

    found = await asyncio.gather(*(one(i) for i in sorted(ids)))
    return {person_id: name for person_id, name in found if name is not None}
