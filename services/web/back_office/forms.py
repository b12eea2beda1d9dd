"""The administrators' forms, described once and drawn by one template (`office/admin/form.html`).

A page's route describes its form (`Form`: the fields, their labels in the page's language, what
to show in them), the template draws it with the same components as every other page, and a
refusal of the API comes back as a message beside each field it names, with what was typed.

What it must never do: judge a value (the API does, in the person's language); keep or log a
submitted value anywhere but in the page it is shown again in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from services.web.office import Office
from services.web.platform import ApiProblem, new_idempotency_key

T = TypeVar("T")

Kind = Literal["text", "number", "date", "time", "select", "textarea", "checkbox", "checkboxes"]
Options = Sequence[tuple[str, str]]

KEY_FIELD: Final = "idempotency_key"
GENERAL: Final = "_"
"""Where a message about no field of the form goes: the error summary alone."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field: its name in the form (and, unless `api` says otherwise, in the API's body)."""

    name: str
    label: str
    kind: Kind = "text"
    hint: str | None = None
    options: Options = ()
    groups: Sequence[tuple[str, Options]] = ()  # a select's choices under headings
    blank: str | None = None  # a select's empty choice
    dir: str | None = None
    autocomplete: str | None = None
    maxlength: int | None = None
    min: int | None = None
    max: int | None = None
    api: Sequence[str] = ()  # the API's names for it, when they differ (`role.entity`)


@dataclass(slots=True)
class Form:
    """What the template draws: the fields, the values shown, the problems found."""

    action: str
    fields: Sequence[Field]
    submit: str
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: ApiProblem | None = None
    creates: bool = False  # carries an Idempotency-Key, made when the form is drawn
    hidden: Mapping[str, str] = field(default_factory=dict)
    warning: bool = False

    @property
    def labels(self) -> dict[str, str]:
        return {f.name: f.label for f in self.fields}

    def refused(self, problem: ApiProblem, typed: Mapping[str, Any]) -> Form:
        """The same form, with the API's problems beside their fields and what was typed."""
        self.values, self.problem = typed, problem
        self.errors = errors_by_field(problem, self.fields)
        return self


Crumbs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class FormPage:
    """Where a form is shown: its heading and lead, where it sits, where Cancel goes back to."""

    title: str
    crumbs: Crumbs
    cancel: str
    lead: str | None = None
    section: str | None = None  # the area's tab the page sits under, if any

    def show(self, office: Office, form: Form, *, status: int = 200) -> HTMLResponse:
        return office.render("office/admin/form.html", status=status, title=self.title,
                             form=form, crumbs=self.crumbs, cancel=self.cancel, lead=self.lead,
                             section=self.section, done=None)


def confirmation(office: Office, *, title: str, lead: str, facts: Sequence[tuple[str, str]],
                 action: str, cancel: str, crumbs: Crumbs, problem: ApiProblem | None = None
                 ) -> HTMLResponse:
    """The second step before what cannot simply be undone: what, what follows, and (when the
    platform refused it) why not."""
    return office.render(
        "office/admin/confirm.html", status=problem.status if problem else 200, title=title,
        section=None, lead=lead, crumbs=crumbs, facts=facts, action=action, submit=title,
        cancel=cancel, errors={GENERAL: problem.detail or problem.title} if problem else {},
        done=None)


def done_notice(office: Office, area: str, done: str | None, known: frozenset[str]
                ) -> str | None:
    """What the page's last form did (`?done=`), in words; nothing for an unknown word."""
    return office.t(f"{area}.done_{done}") if done in known else None


def errors_by_field(problem: ApiProblem, fields: Iterable[Field]) -> dict[str, str]:
    """Each message beside the field it names; one about no field of the form in the summary
    (the problem's own words when it names none)."""
    names = {f.name: f.name for f in fields}
    for f in fields:
        names.update(dict.fromkeys(f.api, f.name))
    errors: dict[str, str] = {}
    general: list[str] = []
    for name, message in problem.field_messages().items():
        if name in names:
            errors.setdefault(names[name], message)
        else:
            general.append(message)
    if general or not errors:
        errors[GENERAL] = " ".join(general) or problem.detail or problem.title
    return errors


def typed(form: FormData, fields: Iterable[Field]) -> dict[str, Any]:
    """What the person sent, as the form shows it again: text as typed, ticks as lists."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkboxes":
            values[f.name] = [v for v in form.getlist(f.name) if isinstance(v, str)]
        elif f.kind == "checkbox":
            values[f.name] = form.get(f.name) == "on"
        else:
            value = form.get(f.name)
            values[f.name] = value.strip() if isinstance(value, str) else ""
    return values


def key_of(form: FormData) -> str:
    """The Idempotency-Key the form was drawn with: a double submit is one creation."""
    value = form.get(KEY_FIELD)
    if isinstance(value, str) and 8 <= len(value) <= 255 and value.isascii():
        return value
    return new_idempotency_key()


def text(values: Mapping[str, Any], name: str) -> str | None:
    """A text the person typed; None when left empty (the API says whether it may be)."""
    value = values.get(name)
    return value or None if isinstance(value, str) else None


def as_typed(values: Mapping[str, Any], name: str) -> str:
    """A text an edit must not lose: empty stays empty, for the API to refuse (None would mean
    "no change" to it)."""
    value = values.get(name)
    return value if isinstance(value, str) else ""


def present(body: Mapping[str, Any]) -> dict[str, Any]:
    """A new thing's body without what was left empty: the API names each field it requires."""
    return {name: value for name, value in body.items() if value is not None}


def number(values: Mapping[str, Any], name: str) -> int | str | None:
    """A whole number when it is one; otherwise what was typed, for the API to refuse."""
    value = text(values, name)
    return int(value) if value is not None and value.isdigit() and len(value) < 10 else value


def changed(body: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Only what differs from what the platform holds: an edit sends its changes, no more."""
    return {name: value for name, value in body.items() if current.get(name) != value}


async def attempt(call: Awaitable[T]) -> tuple[T | None, ApiProblem | None]:
    """The answer, or the API's refusal of the person's input (a form shows it); any other
    problem (gone, forbidden, down) is the page's to show."""
    try:
        return await call, None
    except ApiProblem as refused:
        if refused.status >= 500 or refused.status in (401, 403, 404):
            raise
        return None, refused
