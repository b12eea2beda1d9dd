"""The complaint-box clerk's desk: a request that came on paper, keyed in with its scan.

One form holds the requester (name, phone, language), the request and the scanned file. The file
goes to the platform first (`POST /api/v1/attachments`, streamed from the form's spool), then
the request names it (`POST /api/v1/requests` with `requester` and `attachment_ids`; intake puts
it on the complaint-box channel). A refused submission keeps the uploaded file's id in the form,
so correcting a field never uploads the file again. What is submitted ends on a receipt page,
printable, with the reference number and the tracking code the clerk hands over (the code kept
in the clerk's session: the platform shows it once).

What it must never do: upload a file twice for one form, or judge a file itself (intake does,
by its content).
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.back_office import receipt_pdf, submitting
from services.web.back_office.forms import present, text
from services.web.files import file_in, upload
from services.web.i18n import when
from services.web.office import OFFICE, Office, StaffDep
from services.web.platform import ApiProblem
from services.web.words import label

router = APIRouter(prefix=f"{OFFICE}/paper")

DESK: Final = f"{OFFICE}/paper"
ROLE: Final = "complaint_box_clerk"
ACCEPTED_FILES: Final = "application/pdf,image/jpeg,image/png,image/webp"
ATTACHMENT_REFUSED: Final = "attachment-refused"
SHOWN: Final = {
    **{name: name for name in submitting.REQUEST_FIELDS},
    "requester": "requester_name", "requester.full_name": "requester_name",
    "requester.phone": "requester_phone", "requester.language": "requester_language",
    "attachment_ids": "file",
}

LABELS: Final = {**submitting.FIELD_LABELS, "requester_name": "paper.requester_name",
                 "requester_phone": "paper.requester_phone",
                 "requester_language": "paper.requester_language", "file": "paper.file"}

Before = Annotated[str | None, Query(max_length=40)]


def _requester(form: FormData) -> dict[str, Any]:
    return present({"full_name": text(form, "requester_name"),
                            "phone": text(form, "requester_phone"),
                            "language": text(form, "requester_language")})


def _errors(refused: ApiProblem) -> dict[str, str]:
    """The API's problem on the form's fields; a refused file on the file input."""
    if refused.code == ATTACHMENT_REFUSED or refused.status == 413:
        return {"file": refused.detail or refused.title}
    return submitting.form_errors(refused, shown=SHOWN)


async def _desk(office: Office, *, status: int = 200, before: str | None = None,
                form: FormData | None = None, errors: dict[str, str] | None = None,
                problem: ApiProblem | None = None, similar: list[dict[str, Any]] | None = None,
                attached: tuple[str, str] | None = None) -> HTMLResponse:
    return office.render(
        "office/desks/paper.html", status=status, before=before,
        typed=submitting.typed(form) if form is not None else {}, errors=errors or {},
        problem=problem, similar=similar, attached=attached,
        choices=await submitting.request_choices(office), accept=ACCEPTED_FILES,
        labels=submitting.labels(office, LABELS),
        mine=await submitting.mine(office, before), base=DESK,
    )


@router.get("")
async def desk(office: StaffDep, before: Before = None) -> HTMLResponse:
    office.require_role(ROLE)
    return await _desk(office, before=before)


@router.post("")
async def enter_paper_request(office: StaffDep) -> Response:
    office.require_role(ROLE)
    form = await office.form()
    try:
        return await _enter(office, form)
    finally:
        await form.close()  # the spooled scan, whatever became of it


async def _enter(office: Office, form: FormData) -> Response:
    attached: tuple[str, str] | None = None
    if (kept := text(form, "attachment_id")) and not submitting.ticked(form, "remove_file"):
        attached = (kept, text(form, "attachment_name") or "")
    if (scan := file_in(form, "file")) is not None:
        try:
            stored = await upload(office, scan, idempotency_key=text(form, "upload_key") or "")
        except ApiProblem as refused:
            if refused.status not in (413, 422):
                raise
            return await _desk(office, status=refused.status, form=form, errors=_errors(refused),
                               problem=refused, attached=attached)
        attached = (str(stored["attachment_id"]), scan.filename or "")
    body = {**submitting.request_body(form), "requester": _requester(form),
            "attachment_ids": [attached[0]] if attached else []}
    try:
        receipt = await submitting.submit(office, body, idempotency_key=text(form, "key"))
    except ApiProblem as refused:
        if refused.status not in (409, 413, 422):
            raise
        similar = submitting.similar_requests(refused)
        return await _desk(office, status=refused.status, form=form, problem=refused,
                           similar=similar, attached=attached,
                           errors={} if similar is not None else _errors(refused))
    return office.redirect(f"{DESK}/requests/{quote(receipt['reference'], safe='')}")


@router.get("/requests/{reference}/receipt.pdf")
async def printable_receipt(office: StaffDep, reference: submitting.Reference,
                            before: Before = None) -> Response:
    """The receipt as a PDF to print and hand over (the tracking code on it only in the session
    that keyed the request in, as on the page)."""
    office.require_role(ROLE)
    item = await submitting.one_of_mine(office, reference, before)
    directory = await office.web.directory.fresh()
    language = office.language
    facts = [(office.t("queue.subject"), item["subject"]),
             (office.t("queue.kind"), label("kind", item["kind"], language))]
    if item.get("entity"):
        facts.append((office.t("case.entity"), directory.name(item["entity"], language)))
    facts.append((office.t("submit.submitted"), when(item["submitted_at"], language)))
    pdf = await receipt_pdf.render_off_the_loop(
        language=language, words=office.t, reference=item["reference"],
        tracking_code=submitting.tracking_code(office, item["reference"]), facts=facts)
    name = f"receipt-{item['reference']}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/requests/{reference}")
async def receipt(office: StaffDep, reference: submitting.Reference,
                  before: Before = None) -> HTMLResponse:
    """The receipt the clerk prints and hands over: the reference number first."""
    office.require_role(ROLE)
    item = await submitting.one_of_mine(office, reference, before)
    pdf = f"{DESK}/requests/{quote(item['reference'], safe='')}/receipt.pdf" + (
        f"?{urlencode({'before': before})}" if before else "")
    return office.render("office/desks/paper_receipt.html", item=item, pdf=pdf,
                         tracking_code=submitting.tracking_code(office, item["reference"]))
