"""A one-tap rating link's page, as a requester opens it from the answer's SMS: on a phone, in
Arabic, by keyboard; the reference kept whole, the answer shown, five buttons; what it says when
the answer was rated already, or the link is no longer valid; the links sent before this page
existed still lead to it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.async_api import expect
from sqlalchemy import text

from shared.links import DEVELOPMENT_SECRET, LinkSigner
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
)


async def an_answered_paper_request(office: Office, subject: str) -> tuple[str, str]:
    """A paper request its ministry answered: its reference, and the token of its answer's
    rating link (signed as notify signs it)."""
    reference = await office.submit_paper_request(subject=subject)
    await office.placed(reference)
    officer = {"Authorization": f"Bearer {await office.api_token('mlo.moh')}"}
    for action, body in (("accept", {"classification": "complaint.service_delay",
                                     "processing_working_days": 5}),
                         ("respond", {"actions_taken": "راجعنا مخزون المركز",
                                      "solution": "وصلت الأدوية وصُرفت لك"})):
        answer = await office.platform.client.post(
            f"/api/v1/requests/{reference}/{action}", json=body,
            headers={**officer, "Idempotency-Key": str(uuid.uuid4())})
        assert answer.is_success, answer.text
    code = office.tracking_codes[reference]

    async def answered() -> None:
        tracked = await office.platform.client.post(
            "/api/v1/tracking", json={"reference": reference, "code": code})
        assert tracked.json()["status"]["code"] == "responded", tracked.text

    await eventually(answered)
    async with office.platform.runtime("intake").sessionmaker() as session:
        requester = (await session.execute(
            text("SELECT requester_id FROM requests WHERE reference = :r"), {"r": reference})
        ).scalar_one()
    token = LinkSigner(DEVELOPMENT_SECRET, clock=office.platform.clock).sign(
        "rate", {"ref": reference, "sub": str(requester), "round": 1},
        lifetime=timedelta(days=3))
    return reference, token


async def test_a_requester_rates_the_answer_from_the_link_on_a_phone_by_keyboard(
        office: Office, new_page: NewPage) -> None:
    reference, token = await an_answered_paper_request(office, "نقص أدوية الضغط")
    page = await new_page("ar", SMALL_PHONE)
    opened = await page.goto(f"{office.url}/rate/{reference}?token={token}")
    assert opened is not None
    assert opened.headers["referrer-policy"] == "no-referrer"  # the token is in the address
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("h1")).to_have_text("قيّم الرد على طلبك")
    # The reference stays whole, left to right, inside the Arabic heading.
    await expect(page.locator("#h-request bdi.ref")).to_have_text(reference)
    await expect(page.locator("#h-request bdi.ref")).to_have_attribute("dir", "ltr")
    await expect(page.locator("main")).to_contain_text("وصلت الأدوية وصُرفت لك")
    await expect(page.locator(".rating__button")).to_have_count(5)
    await assert_accessible(page)
    await assert_fits_the_width(page)

    await tab_to(page, "#field-comment")
    await page.keyboard.type("شكراً <b>للفريق</b>")
    await submit_by_keyboard(page, ".rating__button[value='4']")
    await expect(page.locator("h1")).to_have_text("شكراً لك")
    await expect(page.locator(".panel")).to_contain_text("سُجّل تقييمك: 4 من 5.")
    await assert_accessible(page)

    async def told_to_the_back_office() -> None:
        case = await office.case(reference)
        assert case["rating"] == 4, case

    await eventually(told_to_the_back_office)

    # The link again: rated already, said so; no buttons.
    await page.goto(f"{office.url}/rate/{reference}?token={token}")
    await expect(page.locator(".notice")).to_contain_text("قيّمت هذا الرد من قبل: 4 من 5")
    await expect(page.locator(".rating__button")).to_have_count(0)
    await assert_accessible(page)


async def test_a_link_sent_before_this_page_existed_leads_to_it_in_english(
        office: Office, new_page: NewPage) -> None:
    reference, token = await an_answered_paper_request(office, "طابور طويل في المركز")
    page = await new_page("en", DESK)
    await page.goto(f"{office.url}/api/v1/requests/{reference}/rating/link?token={token}")
    await expect(page).to_have_url(f"{office.url}/rate/{reference}?token={token}")
    await expect(page.locator("h1")).to_have_text("Rate the answer to your request")
    await expect(page.locator(".rating__button").first).to_contain_text("Very satisfied")
    await assert_accessible(page)


async def test_a_broken_or_expired_link_says_so_and_points_to_tracking(
        office: Office, new_page: NewPage) -> None:
    reference, token = await an_answered_paper_request(office, "انقطاع الماء عن العيادة")
    page = await new_page("ar", SMALL_PHONE)
    response = await page.goto(f"{office.url}/rate/{reference}?token={token[:-3]}xyz")
    assert response is not None
    assert response.status == 404
    await expect(page.locator("h1")).to_have_text("هذا الرابط لم يعد صالحاً")
    await expect(page.get_by_role("link", name="تتبّع طلبك").first).to_be_visible()
    await assert_accessible(page)
