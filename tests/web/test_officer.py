"""A liaison officer's day in the back office: the queue, a request, and the actions on it."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from services.routing.directory.demo import demo_person_id
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

MARKUP = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'


async def _never_ran_markup(page: Page) -> None:
    assert await page.evaluate("() => window.hacked === undefined")


async def test_an_officer_receives_accepts_and_responds_by_keyboard_in_arabic(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request(subject="نقص الدواء " + MARKUP,
                                                  description="لم يُصرف الدواء. " + MARKUP)
    await office.placed(reference)
    page = await new_page("ar", DESK)
    await sign_in(page, office, "mlo.moh")

    # The queue: the counters and the row; the reference is reached by Tab and opened by Enter.
    await expect(page.locator(".counters")).to_be_visible()
    await assert_accessible(page)
    await tab_to(page, f'a[href="/office/requests/{reference}"]')
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    # The request: who is asking (recorded by intake), what they wrote (escaped), the deadline.
    await expect(page.locator("h1")).to_contain_text("<script>")
    await expect(page.locator("#h-requester + dl")).to_contain_text("سارة أحمد")
    await expect(page.locator("#h-requester + dl")).to_contain_text("+962791234567")
    await expect(page.locator("#h-deadlines ~ ul")).to_contain_text("باقي")
    await _never_ran_markup(page)
    await assert_accessible(page)

    await open_action(page, "accept")
    await choose(page, "#field-accept-classification", "complaint.service_delay")
    await tab_to(page, "#field-accept-processing_working_days")
    await page.keyboard.type("5")
    await submit_by_keyboard(page, "#action-accept button[type=submit]")
    await expect(page.locator(".notice--done")).to_be_visible()
    await expect(page.locator(".badge--in_progress")).to_be_visible()

    await open_action(page, "respond")
    await tab_to(page, "#field-respond-actions_taken")
    await page.keyboard.type("تواصلنا مع المركز الصحي وتم توفير الدواء.")
    await tab_to(page, "#field-respond-solution")
    await page.keyboard.type("الدواء متوفر الآن في المركز.")
    await tab_to(page, "#action-respond button[type=button]")  # the message's preview
    await page.keyboard.press("Enter")
    # A paper requester hears by SMS, in Arabic: the preview is that SMS, word for word.
    await expect(page.locator("#respond-preview .preview")).to_contain_text(reference)
    await expect(page.locator("#respond-preview .preview")).to_contain_text("تمت الإجابة")
    await submit_by_keyboard(page, "#action-respond button[type=submit]")

    await expect(page.locator(".badge--responded")).to_be_visible()
    await expect(page.locator(".timeline")).to_contain_text("تم الرد")
    await expect(page.locator(".badge--intact")).to_be_visible()
    await _never_ran_markup(page)
    case = await office.case(reference)
    assert case["status"] == "responded"
    assert case["classification"] == "complaint.service_delay"


async def test_a_refused_action_says_why_per_field_keeps_the_text_and_changes_nothing(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    page = await new_page("en", TABLET)
    await sign_in(page, office, "mlo.moh", next_path=f"/office/requests/{reference}")

    await open_action(page, "accept")
    await choose(page, "#field-accept-classification", "complaint.service_delay")
    await tab_to(page, "#field-accept-processing_working_days")
    await page.keyboard.type("200")  # above the classification's maximum
    await submit_by_keyboard(page, "#action-accept button[type=submit]")

    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(page.locator("#action-accept")).to_have_attribute("open", "")
    await expect(page.locator("#field-accept-processing_working_days")).to_have_value("200")
    await expect(page.locator("#field-accept-classification")).to_have_value(
        "complaint.service_delay")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await assert_accessible(page)
    assert (await office.case(reference))["status"] == "assigned"


async def test_a_form_on_a_request_that_changed_meanwhile_is_not_acted_on(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    page = await new_page("ar", DESK)
    await sign_in(page, office, "mlo.moh", next_path=f"/office/requests/{reference}")
    # Another officer of the sector accepts it while this page is open.
    token = await office.api_token("mlo.moh")
    accepted = await office.platform.client.post(
        f"/api/v1/requests/{reference}/accept",
        json={"classification": "complaint.service_delay", "processing_working_days": 3},
        headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200, accepted.text

    await open_action(page, "refuse-jurisdiction")
    await tab_to(page, "#field-refuse-jurisdiction-reason")
    await page.keyboard.type("ليس من اختصاصنا")
    await submit_by_keyboard(page, "#action-refuse-jurisdiction button[type=submit]")

    await expect(page.locator(".notice[role=alert]")).to_contain_text("تغيّر الطلب")
    assert (await office.case(reference))["status"] == "in_progress"


async def test_an_officer_distributes_to_chosen_sub_officers_and_a_wrong_pair_is_refused(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    token = await office.api_token("mlo.moh")
    accepted = await office.platform.client.post(
        f"/api/v1/requests/{reference}/accept",
        json={"classification": "complaint.service_delay", "processing_working_days": 3},
        headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200, accepted.text
    page = await new_page("en", DESK)
    await sign_in(page, office, "mlo.moh", next_path=f"/office/requests/{reference}")
    officer_id = demo_person_id("slo.moh-jfda")
    jfda_officer = f'#action-distribute input[name=officer_ids][value="{officer_id}"]'

    # The officer of one department ticked under another: refused on that field, kept ticked.
    await open_action(page, "distribute")
    await choose(page, "#field-distribute-entity", "MOH-HQ")
    await tab_to(page, jfda_officer)
    await page.keyboard.press("Space")
    await submit_by_keyboard(page, "#action-distribute button[type=submit]")
    await expect(page.locator(".error-summary")).to_be_focused()
    await expect(page.locator("#error-distribute-officer_ids")).to_be_visible()
    await expect(page.locator(jfda_officer)).to_be_checked()
    await assert_accessible(page)
    assert (await office.case(reference))["distributed_to"] is None

    await choose(page, "#field-distribute-entity", "MOH-JFDA")
    await submit_by_keyboard(page, "#action-distribute button[type=submit]")
    await expect(page.locator(".notice--done")).to_be_visible()
    case = await office.case(reference)
    assert (case["distributed_to"], case["officer_ids"]) == ("MOH-JFDA", [str(officer_id)])


async def test_new_requests_show_in_the_open_queue_and_its_title(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("ar", DESK)
    await sign_in(page, office, "mlo.moh")
    new = page.locator(".counters li:first-child .counter__n")
    await expect(new).to_be_visible()  # the counters come right after the page
    before = int(await new.inner_text())

    reference = await office.submit_paper_request(subject=f"طلب جديد {uuid.uuid4().hex[:6]}")
    await office.placed(reference)

    await expect(page.locator("#counters .notice")).to_contain_text("وصلت طلبات جديدة",
                                                                    timeout=15_000)
    await expect(new).to_have_text(str(before + 1))
    await expect(page).to_have_title(f"({before + 1}) صندوق الطلبات — بخدمتكم")


async def test_an_entity_head_reads_and_comments_but_cannot_act(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    page = await new_page("en", DESK)
    await sign_in(page, office, "head.moh-hq", next_path=f"/office/requests/{reference}")

    await expect(page.locator("#action-accept")).to_have_count(0)
    await open_action(page, "comment")
    await tab_to(page, "#field-comment-text")
    await page.keyboard.type("Please answer this today. " + MARKUP)
    await submit_by_keyboard(page, "#action-comment button[type=submit]")

    await expect(page.locator(".timeline")).to_contain_text("Please answer this today.")
    await _never_ran_markup(page)
    await assert_accessible(page)

    async def recorded() -> None:
        assert (await office.case(reference))["status"] == "assigned"

    await eventually(recorded)
