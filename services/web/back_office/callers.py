"""The call-center agent's desk: check a caller's identity, submit in their name, tell them
where a request stands.

A check asks the civil registry through intake (`POST /api/v1/citizens/caller-checks`, good for
one call); its answer opens the request form, which names the check (`caller_check_id`). Intake
makes the request the caller's, on the call-center channel. A status is read to a caller only
with the reference number together with their identity number
(`POST /api/v1/requests/{reference}/caller-lookup`).

What it must never do: put an identity number in a URL (every form that carries one is a POST,
and its answer is rendered, never redirected with it) or in a log line.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.back_office import submitting
from services.web.back_office.forms import present, text
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem

router = APIRouter(prefix=f"{OFFICE}/callers")

DESK: Final = f"{OFFICE}/callers"
ROLE: Final = "call_center_agent"
CHECKS_PATH: Final = "/api/v1/citizens/caller-checks"
ID_TYPES: Final = ("national_number", "personal_number", "passport")
NAME_PARTS: Final = ("first_name", "father_name", "grandfather_name", "family_name")
REGISTRY_DOWN: Final = "civil-registry-unavailable"
# Which of the check form's fields a registry answer points the agent to, with what to ask.
REASON_FIELDS: Final[dict[str, dict[str, str]]] = {
    "name_mismatch": {"first_name": "caller.reason.name"},
    "date_of_birth_mismatch": {"date_of_birth": "caller.reason.date_of_birth"},
    "name_and_date_of_birth_mismatch": {"first_name": "caller.reason.name",
                                        "date_of_birth": "caller.reason.date_of_birth"},
    "not_found": {"id_number": "caller.reason.not_found"},
    "deceased": {"id_number": "caller.reason.deceased"},
}
CHECK_FIELDS: Final = {name: name for name in
                       ("id_type", "id_number", *NAME_PARTS, "date_of_birth", "phone", "language")}
DESK_LABELS: Final = {**{name: f"caller.{name}" for name in CHECK_FIELDS},
                      "reference": "caller.reference"}
REQUEST_FIELDS: Final = {name: name for name in submitting.REQUEST_FIELDS}
LOOKUP_PREFIX: Final = "lookup-"

Before = Annotated[str | None, Query(max_length=40)]


def _date(form: FormData, name: str) -> str | None:
    """Day, month and year boxes as one ISO date; as typed when they are not numbers (the API
    then says what is wrong); None when all three are empty."""
    day, month, year = (text(form, f"{name}_{part}") for part in ("day", "month", "year"))
    if day is None and month is None and year is None:
        return None
    if all(part is not None and part.isdecimal() for part in (day, month, year)):
        return f"{int(year or 0):04d}-{int(month or 0):02d}-{int(day or 0):02d}"
    return "-".join(part or "" for part in (year, month, day))


def _check_body(form: FormData) -> dict[str, Any]:
    return present({
        "id_type": text(form, "id_type"), "id_number": text(form, "id_number"),
        **{part: text(form, part) for part in NAME_PARTS},
        "date_of_birth": _date(form, "date_of_birth"), "phone": text(form, "phone"),
        "language": text(form, "language"),
    })


def _refused_check(office: Office, refused: ApiProblem) -> dict[str, Any]:
    """The check form again, with each registry answer said as the agent should act on it (on
    the field to ask the caller about again, under the answer's title); other problems as the
    API put them."""
    reason = str(refused.body.get("reason") or "")
    errors: dict[str, str] | None = None
    if reason in REASON_FIELDS:
        errors = {name: office.t(key) for name, key in REASON_FIELDS[reason].items()}
    elif refused.code == REGISTRY_DOWN:
        errors = {"_": office.t("caller.registry_down")}
    if errors is None:
        return {"errors": submitting.form_errors(refused, shown=CHECK_FIELDS),
                "problem": refused}
    # The API's own detail speaks to a citizen registering; the agent reads ours instead.
    return {"errors": errors, "problem": ApiProblem(refused.status, {"title": refused.title})}


async def _desk(office: Office, *, status: int = 200, before: str | None = None,
                check: dict[str, Any] | None = None, lookup: dict[str, Any] | None = None
                ) -> HTMLResponse:
    blank: dict[str, Any] = {"typed": {}, "errors": {}, "problem": None}
    return office.render(
        "office/desks/callers.html", status=status, check=check or blank,
        lookup=lookup or blank, mine=await submitting.mine(office, before), before=before,
        id_types=[(code, office.t(f"id_type.{code}")) for code in ID_TYPES],
        languages=(await submitting.request_choices(office))["language"],
        name_parts=NAME_PARTS, lookup_prefix=LOOKUP_PREFIX, base=DESK,
        labels=submitting.labels(office, DESK_LABELS),
    )


async def _request_page(office: Office, form: FormData, *, status: int = 200,
                        errors: dict[str, str] | None = None, problem: ApiProblem | None = None,
                        similar: list[dict[str, Any]] | None = None) -> HTMLResponse:
    return office.render(
        "office/desks/caller_request.html", status=status, typed=submitting.typed(form),
        errors=errors or {}, problem=problem, similar=similar,
        choices=await submitting.request_choices(office), labels=submitting.labels(office),
    )


@router.get("")
async def desk(office: StaffDep, before: Before = None) -> HTMLResponse:
    office.require_role(ROLE)
    return await _desk(office, before=before)


@router.post("/check")
async def check_caller(office: StaffDep) -> HTMLResponse:
    """The registry's answer: the request form when it confirms the caller, else the desk
    with what to ask the caller again."""
    office.require_role(ROLE)
    form = await office.form()
    try:
        checked = await office.post(CHECKS_PATH, _check_body(form),
                                    idempotency_key=text(form, "key"))
    except ApiProblem as refused:
        if refused.status not in (422, 503):
            raise
        return await _desk(office, status=refused.status, check={
            "typed": submitting.typed(form), **_refused_check(office, refused)})
    caller = FormData({
        "caller_check_id": str(checked["check_id"]),
        "caller_name": " ".join(text(form, part) or "" for part in NAME_PARTS),
        "caller_has_account": "yes" if checked["has_account"] else "",
        "caller_good_until": str(checked["expires_at"]),
    })
    return await _request_page(office, caller)


@router.post("/requests")
async def submit_for_caller(office: StaffDep) -> Response:
    office.require_role(ROLE)
    form = await office.form()
    body = {**submitting.request_body(form), "caller_check_id": text(form, "caller_check_id")}
    try:
        receipt = await submitting.submit(office, body, idempotency_key=text(form, "key"))
    except ApiProblem as refused:
        if refused.status not in (409, 422):
            raise
        similar = submitting.similar_requests(refused)
        return await _request_page(
            office, form, status=refused.status, similar=similar, problem=refused,
            errors={} if similar is not None else submitting.form_errors(
                refused, shown=REQUEST_FIELDS))
    return office.redirect(f"{DESK}/requests/{quote(receipt['reference'], safe='')}")


@router.get("/requests/{reference}")
async def submitted(office: StaffDep, reference: submitting.Reference,
                    before: Before = None) -> HTMLResponse:
    """The reference number and tracking code to tell the caller (and, later, any request this
    agent keyed in: the code only in the session that keyed it in)."""
    office.require_role(ROLE)
    item = await submitting.one_of_mine(office, reference, before)
    return office.render("office/desks/caller_submitted.html", item=item,
                         tracking_code=submitting.tracking_code(office, item["reference"]))


@router.post("/lookup")
async def look_up(office: StaffDep) -> HTMLResponse:
    """Where a caller's request stands, to read to them (rendered: the identity number it was
    asked with never reaches a URL)."""
    office.require_role(ROLE)
    form = await office.form()
    reference = text(form, "reference")
    if reference is None:  # no path to ask the API on
        return await _desk(office, status=422, lookup={
            "typed": submitting.typed(form), "problem": None,
            "errors": {"reference": office.t("sign_in.required")}})
    try:
        view = await office.post(
            f"/api/v1/requests/{quote(reference, safe='')}/caller-lookup",
            present({"id_number": text(form, "id_number")}))
    except ApiProblem as refused:
        if refused.status not in (404, 405, 422):
            raise
        errors = (submitting.form_errors(refused, shown={"id_number": "id_number"})
                  if refused.status == 422
                  else {"reference": office.t("caller.lookup_not_found")})
        return await _desk(office, status=404 if refused.status != 422 else 422, lookup={
            "typed": submitting.typed(form), "errors": errors,
            "problem": refused if refused.status == 422 else None})
    return office.render("office/desks/caller_status.html", view=view)
