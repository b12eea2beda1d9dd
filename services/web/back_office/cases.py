"""One request as the staff holding it see it, and every action on it as a form.

The page gathers what the services own: the case (routing: with the actions open to this person
now, which routing's policy decides), its timeline and the chain's verdict (routing), its
deadlines with the working time left (SLA), the requester's contact points and attachments
(intake: each view of them is recorded there) and similar open requests (routing).

An action posts here with the version the person saw (If-Match): a request that changed since is
answered with a message to look again, never acted on blindly. A refused action shows the API's
problem per field, in the page's language, with what the person typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.back_office.forms import number, present, text
from services.web.files import relay
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem
from services.web.security import content_security_policy
from services.web.words import label
from shared.events.vocabulary import ClosingCode, LegalGround

router = APIRouter(prefix=OFFICE)

Reference = Path(max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9/-]*$")
AttachmentId = Path(max_length=64, pattern=r"^[A-Za-z0-9-]+$")
INLINE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})


def _lines(form: FormData, name: str) -> list[str]:
    """Every value of a repeated field (ticked boxes), each line of a typed one."""
    return [line.strip() for value in form.getlist(name) if isinstance(value, str)
            for line in value.splitlines() if line.strip()]


# Each action's form fields, as its API body (the API validates every one of them).
BODIES: Final[dict[str, Callable[[FormData], dict[str, Any]]]] = {
    "accept": lambda f: {"classification": text(f, "classification"),
                         "processing_working_days": number(f, "processing_working_days")},
    "refuse-jurisdiction": lambda f: {"reason": text(f, "reason"),
                                      "suggested_entity": text(f, "suggested_entity")},
    "distribute": lambda f: {"entity": text(f, "entity"),
                             "officer_ids": _lines(f, "officer_ids") or None},
    "transfer": lambda f: {"to_entity": text(f, "to_entity"), "reason": text(f, "reason")},
    "ask-info": lambda f: {"question": text(f, "question")},
    "extend": lambda f: {"added_working_days": number(f, "added_working_days"),
                         "reason": text(f, "reason")},
    "respond": lambda f: {"actions_taken": text(f, "actions_taken"),
                          "solution": text(f, "solution"), "outcome": text(f, "outcome")},
    "reject": lambda f: {"legal_ground": text(f, "legal_ground"), "reason": text(f, "reason")},
    "close": lambda f: {"closing_code": text(f, "closing_code"), "note": text(f, "note")},
    "merge": lambda f: {"duplicates": _lines(f, "duplicates")},
    "comment": lambda f: {"text": text(f, "text")},
    "review-decision": lambda f: {"decision": text(f, "decision"), "reason": text(f, "reason"),
                                  "closing_code": text(f, "closing_code")},
}


async def _nothing() -> None:
    return None


async def _optional(call: Any) -> Any:
    """A part of the page the person may not be entitled to (or that is down): None, quietly."""
    try:
        return await call
    except ApiProblem:
        return None


async def _case_page(office: Office, reference: str, *, status: int = 200,
                     open_action: str | None = None, errors: dict[str, str] | None = None,
                     problem: ApiProblem | None = None, typed: dict[str, Any] | None = None,
                     done: str | None = None) -> HTMLResponse:
    office.require("cases.read")
    case = await office.get(f"/api/v1/cases/{reference}")
    may_distribute = "distribute" in case.get("actions", [])
    (timeline, deadlines, requester, attachments, similar, targets,
     directory) = await asyncio.gather(
        _optional(office.get(f"/api/v1/cases/{reference}/timeline")),
        _optional(office.get(f"/api/v1/sla/requests/{reference}/deadlines")),
        _optional(office.get(f"/api/v1/requests/{reference}/requester")),
        _optional(office.get(f"/api/v1/requests/{reference}/attachments")),
        _optional(office.get(f"/api/v1/cases/{reference}/similar")),
        _optional(office.get(f"/api/v1/cases/{reference}/distribution-targets")
                  if may_distribute else _nothing()),
        office.web.directory.fresh(),
    )
    language = office.language
    return office.render(
        "office/case.html", status=status, case=case, timeline=timeline, deadlines=deadlines,
        requester=requester, attachments=attachments, similar=similar,
        open_action=open_action, errors=errors or {}, problem=problem, typed=typed or {},
        done=done, inline_types=INLINE_TYPES,
        options={
            "classification": [
                (c["code"], f"{directory.name(c['code'], language, 'classifications')}")
                for c in directory.list("classifications")
                if c["kind"] == case["kind"] and not c.get("retired_at")],
            "entity": [(t["entity"], directory.name(t["entity"], language))
                       for t in (targets or {}).get("items", [])],
            "officer": [(o["id"], f"{o['full_name']} — {directory.name(t['entity'], language)}")
                        for t in (targets or {}).get("items", []) for o in t["officers"]],
            "any_entity": [(e["code"], directory.name(e["code"], language))
                           for e in directory.list("entities") if not e.get("retired_at")],
            "legal_ground": [(g.value, label("legal_ground", g, language)) for g in LegalGround],
            "closing_code": [(c.value, label("closing", c, language)) for c in ClosingCode],
            "outcome": [(o, office.t(f"outcome.{o}"))
                        for o in ("resolved", "partly_resolved", "rejected")],
            "decision": [(d, office.t(f"decision.{d}")) for d in ("reopen", "confirm")],
        },
        max_days={c["code"]: c["max_working_days"] for c in directory.list("classifications")},
    )


@router.get("/requests/{reference}")
async def case_page(office: StaffDep, reference: str = Reference, done: str | None = None
                    ) -> HTMLResponse:
    return await _case_page(office, reference, done=done if done in BODIES else None)


@router.post("/requests/{reference}/{action}")
async def act(office: StaffDep, reference: str = Reference,
              action: str = Path(max_length=30)) -> Response:
    if action not in BODIES:
        return await _case_page(office, reference, status=404)
    form = await office.form()
    typed: dict[str, Any] = {name: value for name, value in form.items()
                             if isinstance(value, str)}
    typed["officer_ids"] = _lines(form, "officer_ids")  # the one field that repeats
    version = text(form, "version")
    try:
        # The version the person saw (a request changed since is not acted on blindly), and the
        # key minted with the form (a double submit is one action where the API remembers keys).
        await office.post(f"/api/v1/requests/{reference}/{action}",
                          present(BODIES[action](form)),
                          if_match=f'"{version}"' if version and version.isdigit() else None,
                          idempotency_key=text(form, "idempotency_key"))
    except ApiProblem as refused:
        # A problem about a field (a duplicate's reference unknown or closed) is the form's to
        # show; one about the request itself is a page's (404) or a look-again notice (409).
        fields = refused.field_messages()
        if refused.status >= 500 or (refused.status in (401, 403, 404) and not fields):
            raise
        stale = refused.status in (409, 412) and not fields
        return await _case_page(
            office, reference, status=refused.status if stale else 422, open_action=action,
            errors={} if stale else fields, problem=refused,
            typed=typed, done="stale" if stale else None)
    return office.redirect(f"{OFFICE}/requests/{reference}?done={action}")


@router.post("/requests/{reference}/respond/preview")
async def respond_preview(office: StaffDep, reference: str = Reference) -> HTMLResponse:
    """The message the requester will get, as notify will word it (htmx puts it in the form)."""
    form = await office.form()
    body = {"reference": reference, **present(BODIES["respond"](form))}
    try:
        preview = await office.post("/api/v1/notifications/previews/response", body)
    except ApiProblem as refused:
        if refused.status >= 500:
            raise
        return office.render("office/preview.html", preview=None, problem=refused)
    return office.render("office/preview.html", preview=preview, problem=None)


@router.get("/attachments/{attachment_id}")
async def attachment(office: StaffDep, attachment_id: str = AttachmentId,
                     download: bool = False) -> Response:
    """An attachment through the gateway (intake decides who may read it), streamed; shown
    inline only for the types a browser renders safely, framed by our own pages alone."""
    office.require("cases.read")
    upstream = await office.platform.call(office.caller, "GET",
                                          f"/api/v1/attachments/{attachment_id}", stream=True)
    content_type = upstream.headers.get("content-type", "application/octet-stream")
    inline = not download and content_type.split(";")[0] in INLINE_TYPES
    return relay(upstream, {
        "Content-Type": content_type,
        "Content-Disposition": ("inline" if inline else "attachment")
        + f"; filename=\"attachment-{attachment_id}\"",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": content_security_policy(frame_ancestors="'self'")
        + "; sandbox",
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "private, no-store",
    })
