"""The integrity commission's desk, as the commission uses it: the inbox of sealed reports, the
envelopes downloaded byte for byte (and opened offline, with the key only the commission holds),
the acknowledgement and the status notes the reporter reads with their receipt."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair, open_identity, open_report
from tests.platform import eventually
from tests.web.conftest import (
    DESK,
    TABLET,
    NewPage,
    Office,
    assert_accessible,
    sign_in,
    tab_to,
    type_into,
)

MARKUP = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1"><b>bold</b>'


@dataclass
class Filed:
    envelope_id: str
    receipt: str


FileReport = Callable[..., Awaitable[Filed]]


@pytest.fixture(scope="module")
async def key(office: Office) -> CommissionKeyPair:
    """The commission's key pair, made offline; its public half registered through the API."""
    pair = CommissionKeyPair.generate(f"commission-{uuid.uuid4().hex[:8]}")
    token = await office.api_token("commission")
    answer = await office.platform.client.post(
        "/api/v1/integrity/keys",
        json={"key_id": pair.key_id, "public_key": pair.public.encoded,
              "fingerprint": pair.public.fingerprint},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    return pair


@pytest.fixture
def file_report(office: Office, key: CommissionKeyPair) -> FileReport:
    """A citizen reports through the API; returns the report once it is in the inbox."""

    async def report(text: str = "The permit clerk asked for money.",
                     identity: dict[str, str] | None = None) -> Filed:
        commission = {"Authorization": f"Bearer {await office.api_token('commission')}"}
        before = await inbox_ids(office, commission)
        submitted = await office.platform.client.post(
            "/api/v1/reports", json={"subject": "رشوة", "text": text, "identity": identity},
            headers={**office.platform.auth(Role.citizen), "Idempotency-Key": str(uuid.uuid4())})
        assert submitted.status_code == 201, submitted.text

        async def filed() -> str:
            new = await inbox_ids(office, commission) - before
            assert len(new) == 1, new
            return new.pop()

        return Filed(await eventually(filed), submitted.json()["receipt"])

    return report


async def inbox_ids(office: Office, headers: dict[str, str]) -> set[str]:
    page = (await office.platform.client.get("/api/v1/integrity/inbox?limit=200",
                                             headers=headers)).json()
    return {item["envelope_id"] for item in page["items"]}


async def receipt_status(office: Office, receipt: str) -> dict[str, Any]:
    answer = await office.platform.client.get(f"/api/v1/reports/{receipt}")
    status: dict[str, Any] = answer.json()
    return status


async def the_commission(new_page: NewPage, office: Office, language: str = "en",
                         viewport: ViewportSize | None = None) -> Page:
    page = await new_page(language, viewport or DESK)
    await sign_in(page, office, "commission")
    return page


async def test_the_commission_acknowledges_an_envelope_and_posts_a_note(
        office: Office, new_page: NewPage, key: CommissionKeyPair,
        file_report: FileReport, tmp_path: Path) -> None:
    report = await file_report("The permit clerk at the land office asked for 200 JD.",
                               identity={"name": "Reporter", "national_number": "9861012345"})
    page = await new_page("en", DESK)
    await sign_in(page, office, "commission")
    await expect(page).to_have_url(f"{office.url}/office/sealed")
    await expect(page.locator("tbody")).to_contain_text(report.envelope_id)
    await assert_accessible(page)

    await tab_to(page, f"a[href='/office/sealed/{report.envelope_id}']")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator("h1")).to_contain_text(report.envelope_id)
    await assert_accessible(page)

    # The envelopes arrive as integrity filed them: they open offline with the key, and only so.
    opened = {}
    for link, name in (("envelope", "report"), ("identity-envelope", "identity")):
        await tab_to(page, f"a[href='/office/sealed/{report.envelope_id}/{link}']")
        async with page.expect_download() as download:
            await page.keyboard.press("Enter")
        saved = tmp_path / (await download.value).suggested_filename
        await (await download.value).save_as(saved)
        assert saved.name == f"{report.envelope_id}.{name}.bkhe"
        opened[name] = saved.read_bytes()
    keys = {key.key_id: key.private_key}
    assert open_report(opened["report"], keys)[1].text.startswith("The permit clerk")
    assert open_identity(opened["identity"], keys)[1].national_number == "9861012345"

    await tab_to(page, "form[action$='/acknowledgement'] button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator(".notice--done")).to_have_text("Receipt acknowledged.")
    await expect(page.locator("form[action$='/acknowledgement']")).to_have_count(0)

    await type_into(page, "#field-notes-text", "We are looking into your report.")
    await tab_to(page, "form[action$='/notes'] button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator(".notice--done")).to_have_text(
        "The note was released to the reporter.")
    await expect(page.locator("#h-notes + ol")).to_contain_text(
        "We are looking into your report.")
    await assert_accessible(page)

    status = await receipt_status(office, report.receipt)
    assert status["status"] == "acknowledged"
    assert [note["text"] for note in status["notes"]] == ["We are looking into your report."]


async def test_an_empty_note_is_named_on_its_field_and_releases_nothing(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    report = await file_report()
    page = await the_commission(new_page, office, "ar", TABLET)
    await page.goto(f"{office.url}/office/sealed/{report.envelope_id}")
    await page.fill("#field-notes-text", "   ")
    await page.locator("form[action$='/notes'] button").click()

    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.locator("a[href='#field-notes-text']")).to_contain_text(
        "ملاحظة للمبلّغ")
    await expect(page.locator("#error-notes-text")).to_be_visible()
    await assert_accessible(page)
    assert (await receipt_status(office, report.receipt))["notes"] == []


async def test_a_note_with_markup_is_released_and_shown_as_text(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    report = await file_report()
    page = await the_commission(new_page, office, "ar", DESK)
    await page.goto(f"{office.url}/office/sealed/{report.envelope_id}")
    await page.fill("#field-notes-text", MARKUP)
    await page.locator("form[action$='/notes'] button").click()

    await expect(page.locator("#h-notes + ol")).to_contain_text(MARKUP)
    assert await page.locator("main b, main script, main img").count() == 0
    assert await page.evaluate("() => window.pwned") is None
    assert [n["text"] for n in (await receipt_status(office, report.receipt))["notes"]] \
        == [MARKUP]


async def test_a_report_acknowledged_meanwhile_is_said_so_and_acknowledged_once(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    report = await file_report()
    first = await the_commission(new_page, office, "en", TABLET)
    second = await the_commission(new_page, office, "en", TABLET)
    for page in (first, second):
        await page.goto(f"{office.url}/office/sealed/{report.envelope_id}")
    await first.locator("form[action$='/acknowledgement'] button").click()
    await expect(first.locator(".notice--done")).to_be_visible()

    await second.locator("form[action$='/acknowledgement'] button").click()
    await expect(second.locator(".error-summary")).to_contain_text(
        "This report was already acknowledged")
    await assert_accessible(second)


async def test_the_inbox_shows_the_reports_not_yet_acknowledged(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    waiting = await file_report()
    done = await file_report()
    token = await office.api_token("commission")
    acknowledged = await office.platform.client.post(
        f"/api/v1/integrity/inbox/{done.envelope_id}/acknowledgement",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    assert acknowledged.status_code == 201
    page = await the_commission(new_page, office, "ar", TABLET)
    await page.select_option("#field-acknowledged", "false")
    async with page.expect_navigation():
        await page.locator("form.filters button").click()

    await expect(page.locator("tbody")).to_contain_text(waiting.envelope_id)
    await expect(page.locator("tbody")).not_to_contain_text(done.envelope_id)
    await assert_accessible(page)


async def test_only_the_commission_opens_the_inbox_and_its_envelopes(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    report = await file_report()
    page = await new_page("en")
    await sign_in(page, office, "cmu.admin")
    for path in ("/office/sealed", f"/office/sealed/{report.envelope_id}",
                 f"/office/sealed/{report.envelope_id}/envelope"):
        answer: Any = await page.goto(f"{office.url}{path}")
        assert answer.status == 403, path


async def test_a_report_the_tool_cannot_open_is_declared_so_and_its_receipt_asks_again(
        office: Office, new_page: NewPage, file_report: FileReport) -> None:
    report = await file_report("A report that, for this test, the tool could not open.")
    page = await the_commission(new_page, office, "ar", TABLET)
    await page.goto(f"{office.url}/office/sealed/{report.envelope_id}")

    await tab_to(page, "form[action$='/cannot-be-opened'] button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await expect(page.locator(".notice--done")).to_contain_text("لا يمكن فتحه")
    await expect(page.locator("form[action$='/cannot-be-opened']")).to_have_count(0)
    await assert_accessible(page)
    status = await receipt_status(office, report.receipt)
    assert status["status"] == "cannot_be_opened"
