"""The complaints management unit's day: triage, review of dissatisfied ratings, search and the
overdue requests across government."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from shared.events.vocabulary import Role
from tests.platform import eventually
from tests.web.conftest import (
    DESK,
    TABLET,
    NewPage,
    Office,
    assert_accessible,
    choose,
    open_action,
    sign_in,
    submit_by_keyboard,
    tab_to,
)


async def _status(office: Office, reference: str, status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any]:
        case = await office.case(reference)
        assert case["status"] == status, case
        return case

    return await eventually(reached)


async def test_the_cmu_triages_a_request_with_no_entity_to_the_right_one(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request(entity=None, subject="لا أعرف الجهة المختصة")
    await _status(office, reference, "triage")
    page = await new_page("ar", DESK)
    await sign_in(page, office, "cmu.staff")

    await expect(page).to_have_url(f"{office.url}/office/triage")
    await assert_accessible(page)
    await tab_to(page, f'a[href="/office/requests/{reference}"]')
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await open_action(page, "transfer")
    await choose(page, "#field-transfer-to_entity", "MOH-HQ")
    await tab_to(page, "#field-transfer-reason")
    await page.keyboard.type("الموضوع من اختصاص وزارة الصحة")
    await submit_by_keyboard(page, "#action-transfer button[type=submit]")

    await expect(page.locator(".notice--done")).to_be_visible()
    case = await _status(office, reference, "assigned")
    assert case["entity"] == "MOH-HQ"


async def test_a_rating_of_one_is_reviewed_and_reopened_by_the_cmu(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    case = await office.placed(reference)
    officer = {"Authorization": f"Bearer {await office.api_token('mlo.moh')}"}
    client = office.platform.client
    accepted = await client.post(f"/api/v1/requests/{reference}/accept", headers=officer,
                                 json={"classification": "complaint.service_delay",
                                       "processing_working_days": 3})
    assert accepted.status_code == 200, accepted.text
    responded = await client.post(f"/api/v1/requests/{reference}/respond", headers=officer,
                                  json={"actions_taken": "راجعنا الطلب", "solution": "تم الحل"})
    assert responded.status_code == 200, responded.text
    requester = office.platform.auth(Role.citizen, str(case["requester_id"]))

    async def rated() -> None:
        answer = await client.post(
            f"/api/v1/requests/{reference}/rating", json={"score": 1, "comment": "لم يُحل"},
            headers={**requester, "Idempotency-Key": str(uuid.uuid4())})
        assert answer.status_code == 201, answer.text

    await eventually(rated)  # once intake heard of the answer
    await _status(office, reference, "under_review")

    page = await new_page("en", TABLET)
    await sign_in(page, office, "cmu.staff", next_path="/office/review")
    await expect(page.locator(f'a[href="/office/requests/{reference}"]')).to_be_visible()
    await assert_accessible(page)
    await page.goto(f"{office.url}/office/requests/{reference}")
    await open_action(page, "review-decision")
    await choose(page, "#field-review-decision-decision", "reopen")
    await tab_to(page, "#field-review-decision-reason")
    await page.keyboard.type("The answer did not solve the problem.")
    await submit_by_keyboard(page, "#action-review-decision button[type=submit]")

    await expect(page.locator(".notice--done")).to_be_visible()
    await _status(office, reference, "in_progress")
    await expect(page.locator(".timeline")).to_contain_text("Reopened")


async def test_the_cmu_searches_across_government_with_arabic_spelled_differently(
        office: Office, new_page: NewPage) -> None:
    word = uuid.uuid4().hex[:8]
    reference = await office.submit_paper_request(
        entity="MOE-HQ", subject=f"مدرسة القرية {word}",
        description=f"المدرسة مغلقة منذ أسبوع {word}")
    await office.placed(reference)
    page = await new_page("ar", DESK)
    await sign_in(page, office, "cmu.staff", next_path="/office/search")

    await tab_to(page, "#field-q")
    await page.keyboard.type(f"مدرسه {word}")  # taa marbuta typed as haa
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await expect(page.locator(f'a[href="/office/requests/{reference}"]')).to_be_visible()
    await assert_accessible(page)


async def test_an_officer_of_another_sector_cannot_open_the_request(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    page = await new_page("en", DESK)
    await sign_in(page, office, "mlo.moe", next_path=f"/office/requests/{reference}")

    await expect(page.locator("h1")).to_have_text("Page not found")
    await expect(page.locator("body")).not_to_contain_text("سارة أحمد")
