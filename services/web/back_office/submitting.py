"""The request form staff fill in for someone else: the call center for a caller, the complaint
box for a paper form. Both desks share it: its choices, its body as `POST /api/v1/requests`
takes it, the API's problems placed on its fields, and the receipt of what the person submitted.

Intake decides everything about a submission (who the requester is, the channel, whether open
similar requests need a confirmation); this module only carries the form there and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import Path
from starlette.datastructures import FormData

from services.web.back_office.forms import present, text
from services.web.office import Office
from services.web.platform import ApiProblem
from services.web.words import label
from shared.events.vocabulary import RequestKind

REQUESTS_PATH: Final = "/api/v1/requests"
MINE_PAGE: Final = 20
KEPT_CODES: Final = 20  # the latest receipts' codes a session keeps (a clerk's pile of forms)
SIMILAR: Final = "similar-requests-open"
REQUEST_FIELDS: Final = ("kind", "entity", "subject", "description", "governorate", "city",
                         "not_before_court")
CHECKED: Final = "yes"  # what a ticked checkbox sends
Reference = Annotated[str, Path(max_length=40)]
FIELD_LABELS: Final = {"kind": "submit.kind", "entity": "submit.entity",
                       "subject": "submit.subject", "description": "submit.description",
                       "governorate": "submit.governorate", "city": "submit.city",
                       "not_before_court": "submit.declaration"}


def ticked(form: FormData, name: str) -> bool:
    return form.get(name) == CHECKED


def request_body(form: FormData) -> dict[str, Any]:
    """The request's fields as the API takes them (it validates every one)."""
    return present({
        "kind": text(form, "kind"), "entity": text(form, "entity"),
        "subject": text(form, "subject"), "description": text(form, "description"),
        "governorate": text(form, "governorate"), "city": text(form, "city"),
        "not_before_court": ticked(form, "not_before_court"),
        "confirm_despite_similar": ticked(form, "confirm_despite_similar"),
    })


def typed(form: FormData) -> dict[str, str]:
    """What the person typed, to show it again (files are not typed: they are kept by id)."""
    return {name: value for name, value in form.items() if isinstance(value, str)}


async def request_choices(office: Office) -> dict[str, list[tuple[str, str]]]:
    """The choices of the request form, named in the page's language."""
    language = office.language
    directory = await office.web.directory.fresh()
    entities = [(e["code"], directory.name(e["code"], language))
                for e in directory.list("entities") if not e.get("retired_at")]
    return {
        "kind": [(k.value, label("kind", k, language)) for k in RequestKind
                 if k is not RequestKind.report],
        "entity": sorted(entities, key=lambda choice: choice[1]),
        "governorate": [(g["code"], directory.name(g["code"], language, "governorates"))
                        for g in directory.list("governorates")],
        "language": [(code, office.t(f"language.{code}")) for code in ("ar", "en")],
    }


def labels(office: Office, keys: Mapping[str, str] = FIELD_LABELS) -> dict[str, str]:
    """Each field's label by its name (from its word's key), for the error summary's links."""
    return {name: office.t(key) for name, key in keys.items()}


def form_errors(problem: ApiProblem, *, shown: Mapping[str, str]) -> dict[str, str]:
    """The API's field messages under the form's own names (`shown` maps an API field to the
    form field that holds it); a message about a field the form does not show goes to the
    error summary alone (`_`)."""
    errors: dict[str, str] = {}
    hidden: list[str] = []
    for field, message in problem.field_messages().items():
        name = shown.get(field) or shown.get(field.split(".")[0])
        if name:
            errors.setdefault(name, message)
        else:
            hidden.append(message)
    if hidden:
        errors["_"] = " ".join(hidden)
    return errors


def similar_requests(problem: ApiProblem) -> list[dict[str, Any]] | None:
    """The open similar requests intake asks to confirm against; None for any other problem."""
    if problem.status != 409 or problem.code != SIMILAR:
        return None
    similar = problem.body.get("similar")
    return similar if isinstance(similar, list) else []


async def submit(office: Office, body: dict[str, Any], *, idempotency_key: str | None
                 ) -> dict[str, Any]:
    """Submit for the person (a caller, a paper form's requester) and keep the request's
    tracking code in the session for its receipt page (`tracking_code`)."""
    receipt: dict[str, Any] = await office.post(REQUESTS_PATH, body,
                                                idempotency_key=idempotency_key)
    code, session = receipt.get("tracking_code"), office.session
    if code and session is not None:
        kept = session.tracking_codes
        kept[receipt["reference"]] = code
        for oldest in list(kept)[:-KEPT_CODES]:
            del kept[oldest]
        await office.web.store.save(session)
    return receipt


def tracking_code(office: Office, reference: str) -> str | None:
    """The code of a request this person keyed in during this session; None after it."""
    return office.session.tracking_codes.get(reference) if office.session else None


async def mine(office: Office, before: str | None = None, *, limit: int = MINE_PAGE
               ) -> dict[str, Any]:
    """A page of the requests this person keyed in, newest first."""
    page: dict[str, Any] = await office.get(REQUESTS_PATH, before=before, limit=limit)
    return page


async def one_of_mine(office: Office, reference: str, before: str | None) -> dict[str, Any]:
    """A request this person keyed in, from the page of their list it is on (a page starting
    at `before`, as their list linked it; the newest page just after submitting)."""
    page = await mine(office, before, limit=100)
    for item in page["items"]:
        if item["reference"] == reference:
            found: dict[str, Any] = item
            return found
    raise ApiProblem(404)
