"""The complaint-box clerk's desk, as a clerk with a pile of paper forms uses it: one form for the
requester, the request and its scan; a receipt to print and hand over; the request on its way to
the entity's officer with its attachment. A refused form keeps what was typed and the file
already uploaded, so nothing is stored twice."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import FileChooser, FilePayload, Page, ViewportSize, expect
from sqlalchemy import text

from tests.web.conftest import (
    DESK,
    TABLET,
    NewPage,
    Office,
    assert_accessible,
    choose,
    cookie_header,
    rows_in,
    sign_in,
    tab_to,
    type_into,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARKUP = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1"><b>bold</b>'
FILE_MARKUP = "<img src=x onerror=window.pwned=1><b>bold</b>.pdf"  # browsers encode a quote
REFERENCE = re.compile(r"^\d{4}-\d{7}-\d$")
SUBMIT = "form[action='/office/paper'] button[type=submit]"


def scan(name: str = "scan.pdf", content: bytes = PDF,
         mime_type: str = "application/pdf") -> FilePayload:
    return {"name": name, "mimeType": mime_type, "buffer": content}


async def a_clerk(new_page: NewPage, office: Office, language: str = "ar",
                  viewport: ViewportSize | None = None) -> Page:
    page = await new_page(language, viewport or DESK)
    await sign_in(page, office, "complaint.box")
    return page


async def fill_paper_form(page: Page, *, file: FilePayload | None = None, **fields: str) -> None:
    values = {"requester_name": "سارة أحمد", "requester_phone": "0791234567",
              "entity": "MOH-HQ", "subject": "تأخر صرف الدواء",
              "description": "ذهبت إلى المركز الصحي ثلاث مرات ولم يُصرف الدواء.",
              "governorate": "JO-AM", "city": "", **fields}
    for name in ("entity", "governorate"):
        await page.select_option(f"#field-{name}", values[name])
    for name in ("requester_name", "requester_phone", "subject", "description", "city"):
        await page.fill(f"#field-{name}", values[name])
    await page.check("#field-not_before_court")
    if file is not None:
        await page.set_input_files("#field-file", files=[file])


async def enter(page: Page) -> Any:
    async with page.expect_navigation() as navigation:
        await page.locator(SUBMIT).click()
    return await navigation.value


async def attachments_of(office: Office, reference: str) -> list[tuple[str, str]]:
    case = await office.placed(reference)
    async with office.platform.runtime("intake").sessionmaker() as session:
        rows = await session.execute(
            text("SELECT id, media_type FROM attachments WHERE reference = :reference"),
            {"reference": reference})
        stored = [(str(row.id), row.media_type) for row in rows]
    assert sorted(case["attachment_ids"]) == sorted(i for i, _ in stored)
    return stored


async def test_a_complaint_box_clerk_keys_in_a_paper_request_with_a_scanned_pdf(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("ar", DESK)
    # Listening before the form is filled: Playwright turns the interception of file choosers
    # on without waiting for Chromium's answer, so a listener added at the key press may miss it.
    chooser: asyncio.Future[FileChooser] = asyncio.get_running_loop().create_future()
    page.once("filechooser", lambda opened: chooser.set_result(opened))
    await sign_in(page, office, "complaint.box")
    await expect(page).to_have_url(f"{office.url}/office/paper")
    await expect(page.locator("h1")).to_have_text("الطلبات الورقية")
    await assert_accessible(page)

    await type_into(page, "#field-requester_name", "منى سعيد")
    await type_into(page, "#field-requester_phone", "0791112233")
    await choose(page, "#field-entity", "MOH-HQ")
    await type_into(page, "#field-subject", "نقص الأدوية في مركز صحي الهاشمي")
    await type_into(page, "#field-description", "لا تتوفر أدوية الضغط في المركز منذ أسبوعين.")
    await choose(page, "#field-governorate", "JO-AM")
    await tab_to(page, "#field-not_before_court")
    await page.keyboard.press("Space")
    await tab_to(page, "#field-file")
    await page.keyboard.press("Space")
    await (await asyncio.wait_for(chooser, timeout=10)).set_files(scan("ورقة-الشكوى.pdf"))
    await tab_to(page, SUBMIT)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    reference = (await page.locator(".panel__ref").inner_text()).strip()
    assert REFERENCE.fullmatch(reference), reference
    await expect(page.locator(".receipt")).to_contain_text("نقص الأدوية في مركز صحي الهاشمي")
    await expect(page.locator("[data-print]")).to_be_visible()
    await assert_accessible(page)
    await page.emulate_media(media="print")
    await expect(page.locator(".masthead")).to_be_hidden()
    await expect(page.locator("[data-print]")).to_be_hidden()
    await expect(page.locator(".receipt")).to_be_visible()
    await page.emulate_media(media="screen")

    # It reaches the ministry's officer, on the complaint-box channel, with its scan.
    [(_, media_type)] = await attachments_of(office, reference)
    assert media_type == "application/pdf"
    officer = await new_page("ar", DESK)
    await sign_in(officer, office, "mlo.moh", next_path=f"/office/requests/{reference}")
    await expect(officer.locator("h1")).to_have_text("نقص الأدوية في مركز صحي الهاشمي")
    await expect(officer.locator("#h-details + dl")).to_contain_text("صندوق الشكاوى")
    await expect(officer.locator("#h-requester + dl")).to_contain_text("منى سعيد")
    await expect(officer.locator("#h-attachments ~ ul")).to_contain_text("ورقة-الشكوى.pdf")

    await page.goto(f"{office.url}/office/paper")
    await expect(page.locator(".desk-list tbody")).to_contain_text(reference)


async def test_a_refused_form_keeps_the_uploaded_scan_and_never_uploads_it_twice(
        office: Office, new_page: NewPage) -> None:
    uploads = await rows_in(office, "intake", "attachments")
    requests = await rows_in(office, "intake", "requests")
    page = await a_clerk(new_page, office, "en", TABLET)
    await fill_paper_form(page, subject="ab", requester_phone="12", file=scan("form-12.pdf"))
    assert (await enter(page)).status == 422

    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("a[href='#field-subject']")).to_contain_text("Subject")
    await expect(summary.locator("a[href='#field-requester_phone']")).to_be_visible()
    await expect(page.locator("#field-requester_phone")).to_have_value("12")
    await expect(page.locator(".kept-file")).to_contain_text("form-12.pdf")
    await assert_accessible(page)
    assert await rows_in(office, "intake", "requests") == requests
    assert await rows_in(office, "intake", "attachments") == uploads + 1

    await page.fill("#field-subject", "Broken pavement on the school road")
    await page.fill("#field-requester_phone", "0795550101")
    await enter(page)

    reference = (await page.locator(".panel__ref").inner_text()).strip()
    assert await rows_in(office, "intake", "attachments") == uploads + 1
    assert len(await attachments_of(office, reference)) == 1


async def test_a_file_that_is_not_a_scan_is_refused_on_its_field_and_nothing_is_stored(
        office: Office, new_page: NewPage) -> None:
    uploads = await rows_in(office, "intake", "attachments")
    requests = await rows_in(office, "intake", "requests")
    page = await a_clerk(new_page, office, "en", DESK)
    await fill_paper_form(page, subject="A program, not a scan",
                          file=scan("scan.pdf", b"MZ\x90\x00" + bytes(200)))
    assert (await enter(page)).status == 422

    await expect(page.locator("#error-file")).to_contain_text("This type of file is not allowed")
    await expect(page.locator(".error-summary a[href='#field-file']")).to_be_visible()
    await expect(page.locator("#field-subject")).to_have_value("A program, not a scan")
    await expect(page.locator(".kept-file")).to_have_count(0)
    await assert_accessible(page)
    assert await rows_in(office, "intake", "attachments") == uploads
    assert await rows_in(office, "intake", "requests") == requests


async def test_a_scan_larger_than_the_platform_takes_is_refused_on_its_field(
        office: Office, new_page: NewPage) -> None:
    page = await a_clerk(new_page, office, "ar", DESK)
    await fill_paper_form(page, subject="ملف كبير", file=scan(
        "big.pdf", PDF + bytes(6 * 1024 * 1024)))
    assert (await enter(page)).status == 413

    await expect(page.locator("#error-file")).to_contain_text("الحد الأقصى لحجم المرفق")
    await expect(page.locator("#field-subject")).to_have_value("ملف كبير")


async def test_a_body_larger_than_the_office_takes_is_refused_with_a_page_saying_so(
        office: Office, new_page: NewPage, tmp_path: Path) -> None:
    uploads = await rows_in(office, "intake", "attachments")
    page = await a_clerk(new_page, office, "en", DESK)
    huge = tmp_path / "huge.pdf"
    huge.write_bytes(PDF + bytes(office.web.state.web.settings.max_upload_bytes + 2 * 1024**2))
    await fill_paper_form(page, subject="A very large scan")
    await page.set_input_files("#field-file", huge)
    assert (await enter(page)).status == 413

    await expect(page.locator("h1")).to_have_text("The file is too large")
    await assert_accessible(page)
    assert await rows_in(office, "intake", "attachments") == uploads


async def test_a_body_sent_without_its_length_is_refused_once_past_the_cap(
        office: Office, new_page: NewPage) -> None:
    uploads = await rows_in(office, "intake", "attachments")
    page = await a_clerk(new_page, office, "en", DESK)
    csrf = await page.locator("input[name=csrf_token]").first.input_value()
    cap = office.web.state.web.settings.max_upload_bytes

    async def scan_of_unsaid_length() -> AsyncIterator[bytes]:  # sent chunked
        yield (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
               + csrf.encode() + b"\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
               b"filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" + PDF)
        for _ in range(cap // (1024 * 1024) + 2):
            yield bytes(1024 * 1024)

    async with httpx.AsyncClient(base_url=office.url,
                                 headers=await cookie_header(page)) as client:
        answer = await client.post("/office/paper", content=scan_of_unsaid_length(), headers={
            "Content-Type": "multipart/form-data; boundary=b", "Accept-Language": "en"})

    assert answer.status_code == 413
    assert "The file is too large" in answer.text
    assert await rows_in(office, "intake", "attachments") == uploads


async def test_markup_typed_in_every_field_is_shown_as_text(office: Office,
                                                           new_page: NewPage) -> None:
    page = await a_clerk(new_page, office, "ar", TABLET)
    await fill_paper_form(page, requester_name=f"<b>{MARKUP[:40]}", subject=f"موضوع {MARKUP}",
                          description=f"تفاصيل {MARKUP}", city=MARKUP,
                          file=scan(FILE_MARKUP))
    await enter(page)  # a name may not hold markup: the form comes back, as typed

    await expect(page.locator("#error-requester_name")).to_be_visible()
    await expect(page.locator("#field-requester_name")).to_have_value(f"<b>{MARKUP[:40]}")
    await expect(page.locator("#field-description")).to_have_value(f"تفاصيل {MARKUP}")
    await expect(page.locator(".kept-file")).to_contain_text(FILE_MARKUP)
    assert await page.locator("main b, main script, main img").count() == 0

    await page.fill("#field-requester_name", "ليلى حسن")
    await enter(page)
    await expect(page.locator(".receipt")).to_contain_text(f"موضوع {MARKUP}")
    await page.goto(f"{office.url}/office/paper")
    await expect(page.locator(".desk-list")).to_contain_text(f"موضوع {MARKUP}")
    assert await page.locator("main b, main script, main img").count() == 0
    assert await page.evaluate("() => window.pwned") is None


async def test_a_similar_open_request_is_entered_only_once_the_clerk_confirms(
        office: Office, new_page: NewPage) -> None:
    page = await a_clerk(new_page, office, "en", DESK)
    for _ in range(2):
        await page.goto(f"{office.url}/office/paper")
        await fill_paper_form(page, requester_phone="0795550199",
                              subject="Bus stop shelter broken on Zahran street")
        await enter(page)

    await expect(page.locator(".notice--warning")).to_contain_text(
        "The requester has similar open requests with this entity")
    await expect(page.locator("#field-subject")).to_have_value(
        "Bus stop shelter broken on Zahran street")
    await assert_accessible(page)
    await enter(page)
    await expect(page.locator(".receipt")).to_contain_text(
        "Bus stop shelter broken on Zahran street")


async def test_only_complaint_box_clerks_open_the_desk(office: Office,
                                                      new_page: NewPage) -> None:
    page = await new_page("en")
    await sign_in(page, office, "call.center")
    answer: Any = await page.goto(f"{office.url}/office/paper")
    assert answer.status == 403
