"""The public tracking page, as a requester without an account uses it: the reference and the
tracking code from a paper receipt open their request on a phone, in Arabic, by keyboard; a
wrong code says so in English and keeps the reference; the staff cookie never reaches it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.platform import eventually
from tests.web.conftest import (
    DESK,
    SMALL_PHONE,
    NewPage,
    Office,
    assert_accessible,
    assert_fits_the_width,
    submit_by_keyboard,
    tab_to,
    type_into,
)
from tests.web.test_paper import a_clerk, enter, fill_paper_form

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")


async def a_paper_receipt(office: Office, new_page: NewPage, subject: str = "تأخر صرف الدواء"
                          ) -> tuple[Page, str, str]:
    """A clerk keys in a paper form: their receipt page, its reference and tracking code."""
    clerk = await a_clerk(new_page, office)
    await fill_paper_form(clerk, subject=subject)
    assert (await enter(clerk)).status == 200
    reference = (await clerk.locator(".receipt .panel__ref").inner_text()).strip()
    code = (await clerk.locator("[data-tracking-code]").inner_text()).strip()
    assert CODE.fullmatch(code), code
    return clerk, reference, code


async def test_a_paper_requester_opens_their_request_from_the_receipt_on_a_phone(
        office: Office, new_page: NewPage) -> None:
    clerk, reference, code = await a_paper_receipt(office, new_page,
                                                   subject="انقطاع الكهرباء عن المدرسة")
    await expect(clerk.locator(".receipt")).to_contain_text("bekhedmetkom.gov.jo/track")
    await clerk.emulate_media(media="print")
    await expect(clerk.locator("[data-tracking-code]")).to_be_visible()  # printed with it
    await clerk.emulate_media(media="screen")
    # And as a PDF to hand over: the reference and the code each whole, the Arabic joined.
    await tab_to(clerk, "a[href$='receipt.pdf']")
    async with clerk.expect_download() as downloading:
        await clerk.keyboard.press("Enter")
    download = await downloading.value
    assert download.suggested_filename == f"receipt-{reference}.pdf"
    pdf = PdfReader(str(await download.path()))
    printed = pdf.pages[0].extract_text()
    assert reference in printed
    assert code in printed

    page = await new_page("ar", SMALL_PHONE)
    await page.goto(f"{office.url}/track")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("h1")).to_have_text("تتبّع طلبك")
    await assert_accessible(page)
    await type_into(page, "#field-reference", reference)
    # As read off paper: small letters, a space for the dash.
    await type_into(page, "#field-code", code.lower().replace("-", " "))
    await submit_by_keyboard(page, "form[action='/track'] button[type=submit]")

    await expect(page).to_have_url(f"{office.url}/track")  # the code never in the address
    await expect(page.locator("#h-status")).to_contain_text(reference)
    await expect(page.locator("#h-status")).to_contain_text("انقطاع الكهرباء عن المدرسة")
    await expect(page.locator(".status-line .badge")).to_be_visible()
    await expect(page.locator("main")).not_to_contain_text("سارة أحمد")  # never who sent it
    await assert_accessible(page)
    await assert_fits_the_width(page)
    assert not await page.context.cookies()  # no session, no cookie of ours


async def test_a_wrong_code_says_so_in_english_and_keeps_only_the_reference(
        office: Office, new_page: NewPage) -> None:
    _, reference, code = await a_paper_receipt(office, new_page)
    wrong = "22222-22222" if code != "22222-22222" else "33333-33333"
    page = await new_page("en", DESK)
    await page.goto(f"{office.url}/track")
    await expect(page.locator("html")).to_have_attribute("dir", "ltr")
    await type_into(page, "#field-reference", reference)
    await type_into(page, "#field-code", wrong)
    await submit_by_keyboard(page, "form[action='/track'] button[type=submit]")

    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("No request has this reference and this code")
    await expect(page.locator("#field-reference")).to_have_value(reference)
    await expect(page.locator("#field-code")).to_have_value("")
    await assert_accessible(page)

    # An empty form names each field, without asking the platform.
    await page.goto(f"{office.url}/track")
    await submit_by_keyboard(page, "form[action='/track'] button[type=submit]")
    await expect(summary.locator("li")).to_have_count(2)
    await expect(page.locator("#field-code")).to_have_attribute("aria-invalid", "true")


async def test_the_language_switch_keeps_the_tracking_page(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("ar", SMALL_PHONE)
    await page.goto(f"{office.url}/track")
    await page.get_by_role("link", name="Switch to English").press("Enter")
    await expect(page).to_have_url(f"{office.url}/track")
    await expect(page.locator("h1")).to_have_text("Track your request")


async def test_a_late_answer_is_chased_from_the_tracking_page(
        office: Office, new_page: NewPage) -> None:
    """Last in this module: it moves the platform's clock past the promised deadline."""
    reference = await office.submit_paper_request(subject="تأخر تجديد رخصة المهن")
    code = office.tracking_codes[reference]
    client = office.platform.client

    async def promised() -> str:
        tracked = await client.post("/api/v1/tracking",
                                    json={"reference": reference, "code": code})
        opens_at = tracked.json()["chasing"]["opens_at"]
        assert opens_at, tracked.text
        return str(opens_at)

    opens_at = datetime.fromisoformat(await eventually(promised))
    page = await new_page("ar", SMALL_PHONE)

    async def open_it() -> None:
        await page.goto(f"{office.url}/track")
        await type_into(page, "#field-reference", reference)
        await type_into(page, "#field-code", code)
        await submit_by_keyboard(page, "form[action='/track'] button[type=submit]")

    await open_it()
    await expect(page.locator("#h-chase + p")).to_contain_text("يمكنك التذكير بطلبك بعد")
    await expect(page.locator("form[action='/track/chase']")).to_have_count(0)

    office.platform.clock.advance(opens_at - office.platform.clock.now() + timedelta(hours=1))
    await open_it()
    await type_into(page, "#field-note", "مضى الموعد ولم يصلني شيء")
    await submit_by_keyboard(page, "form[action='/track/chase'] button[type=submit]")
    await expect(page.locator(".notice--done")).to_contain_text("أُبلغ الموظف الذي يعالج طلبك")
    await expect(page.locator("#h-chase + p")).to_contain_text("ذكّرت بطلبك اليوم")
    await assert_accessible(page)

    async def on_the_officers_timeline() -> None:
        cmu = {"Authorization": f"Bearer {await office.api_token('cmu.staff')}"}
        timeline = await client.get(f"/api/v1/cases/{reference}/timeline", headers=cmu)
        assert "chased" in [e["action"] for e in timeline.json()["entries"]], timeline.text

    await eventually(on_the_officers_timeline)
