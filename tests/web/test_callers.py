"""The call-center agent's desk, as an agent on a call uses it: check the caller with the civil
registry (its stand-in's demo people show every answer), submit in their name, tell them the
reference, and later read them the request's status from its reference and their identity
number, which never appears in a URL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.web.conftest import (
    DESK,
    TABLET,
    NewPage,
    Office,
    assert_accessible,
    choose,
    rows_in,
    sign_in,
    tab_to,
    type_into,
)

SARA = {"id_number": "2001234567", "first_name": "سارة", "father_name": "خالد",
        "grandfather_name": "يوسف", "family_name": "النعيمي",
        "day": "12", "month": "5", "year": "1990", "phone": "0791234568"}
AHMAD = {"id_number": "9861012345", "first_name": "أحمد", "father_name": "محمد",
         "grandfather_name": "علي", "family_name": "الخطيب",
         "day": "1", "month": "1", "year": "1986", "phone": "0791234569"}
MARKUP = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1"><b>bold</b>'
NAME_PARTS = ("first_name", "father_name", "grandfather_name", "family_name")
DATE_BOXES = {"day": "#field-date_of_birth", "month": "#field-date_of_birth-month",
              "year": "#field-date_of_birth-year"}
NAME_MARKUP = '<img src=x onerror="window.pwned=1">'  # a name field holds 50 characters
REFERENCE = re.compile(r"^\d{4}-\d{7}-\d$")


async def check_by_keyboard(page: Page, caller: dict[str, str]) -> None:
    for name in ("id_number", *NAME_PARTS):
        await type_into(page, f"#field-{name}", caller[name])
    for part, selector in DATE_BOXES.items():
        await type_into(page, selector, caller[part])
    await type_into(page, "#field-phone", caller["phone"])
    await tab_to(page, "form[action='/office/callers/check'] button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def check(page: Page, caller: dict[str, str], *, id_type: str = "national_number") -> None:
    await page.select_option("#field-id_type", id_type)
    for name in ("id_number", *NAME_PARTS, "phone"):
        await page.fill(f"#field-{name}", caller.get(name, ""))
    for part, selector in DATE_BOXES.items():
        await page.fill(selector, caller[part])
    async with page.expect_navigation():
        await page.locator("form[action='/office/callers/check'] button[type=submit]").click()


async def fill_request(page: Page, **fields: str) -> None:
    values = {"entity": "MOH-HQ", "subject": "تأخر صرف الدواء",
              "description": "ذهبت إلى المركز الصحي ثلاث مرات ولم يُصرف الدواء.",
              "governorate": "JO-AM", "city": "", **fields}
    for name in ("entity", "governorate"):
        await page.select_option(f"#field-{name}", values[name])
    for name in ("subject", "description", "city"):
        await page.fill(f"#field-{name}", values[name])
    await page.check("#field-not_before_court")


async def submit_request(page: Page) -> None:
    async with page.expect_navigation():
        await page.locator("form[action='/office/callers/requests'] button[type=submit]").click()


async def an_agent(new_page: NewPage, office: Office, language: str = "ar",
                   viewport: ViewportSize | None = None) -> Page:
    page = await new_page(language, viewport or DESK)
    await sign_in(page, office, "call.center")
    return page


async def test_a_call_center_agent_submits_for_a_caller_and_tells_them_its_status(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("ar", DESK)
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    await sign_in(page, office, "call.center")
    await expect(page).to_have_url(f"{office.url}/office/callers")
    await expect(page.locator("h1")).to_have_text("المتصلون")
    await assert_accessible(page)

    await check_by_keyboard(page, SARA)
    await expect(page.locator(".notice--done")).to_contain_text(
        "أكّدت الأحوال المدنية هوية المتصل")
    await expect(page.locator(".notice--done")).to_contain_text("سارة خالد يوسف النعيمي")
    await expect(page.locator(".notice--done")).to_contain_text("ليس لديه حساب")
    await assert_accessible(page)

    await choose(page, "#field-entity", "MOH-HQ")
    await type_into(page, "#field-subject", "انقطاع المياه عن الحي")
    await type_into(page, "#field-description", "انقطعت المياه عن حي النزهة منذ ثلاثة أيام.")
    await choose(page, "#field-governorate", "JO-AM")
    await tab_to(page, "#field-not_before_court")
    await page.keyboard.press("Space")
    await tab_to(page, "form[action='/office/callers/requests'] button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    reference = (await page.locator(".panel__ref").inner_text()).strip()
    assert REFERENCE.fullmatch(reference), reference
    await expect(page.locator(".panel")).to_contain_text("أخبر المتصل برقم طلبه المرجعي")
    # And the code that opens it without an account, kept in this session for this page.
    await expect(page.locator("[data-tracking-code]")).to_have_text(
        re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$"))
    await assert_accessible(page)
    case = await office.case(reference)
    assert (case["channel"], case["entity"]) == ("call_center", "MOH-HQ")

    await tab_to(page, "a.button[href='/office/callers']")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.locator(".desk-list tbody")).to_contain_text(reference)
    await type_into(page, "#field-lookup-reference", reference)
    await type_into(page, "#field-lookup-id_number", SARA["id_number"])
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await expect(page.locator("h1")).to_have_text("ما تخبر به المتصل")
    await expect(page.locator("#h-status")).to_contain_text(reference)
    await expect(page.locator("#h-status")).to_contain_text("انقطاع المياه عن الحي")
    await expect(page.locator(".lead")).to_contain_text("الخطوة التالية")
    await assert_accessible(page)
    assert not [url for url in addresses if SARA["id_number"] in url]


@pytest.mark.parametrize(("who", "id_type", "field", "says"), [
    pytest.param({**SARA, "id_number": "9751234560", "first_name": "محمود",
                  "father_name": "سليم", "grandfather_name": "حسن", "family_name": "العبادي",
                  "day": "3", "month": "3", "year": "1950"}, "national_number", "id_number",
                 "records the holder of this number as deceased", id="deceased"),
    pytest.param({**SARA, "id_number": "9880000003", "first_name": "يوسف",
                  "father_name": "إبراهيم", "grandfather_name": "أحمد", "family_name": "الموسى",
                  "day": "8", "month": "8", "year": "1988"}, "national_number", "first_name",
                 "spell their four-part name", id="name-mismatch"),
    pytest.param({**SARA, "id_number": "9920000004", "first_name": "رنا", "father_name": "سمير",
                  "grandfather_name": "فؤاد", "family_name": "الحسن",
                  "day": "21", "month": "2", "year": "1992"}, "national_number",
                 "date_of_birth", "date of birth on their ID card", id="date-mismatch"),
    pytest.param({**SARA, "id_number": "1111111111"}, "national_number", "id_number",
                 "does not know this number", id="not-found"),
    pytest.param({**SARA, "id_number": "9999999999"}, "national_number", None,
                 "civil registry is not answering", id="registry-down"),
])
async def test_each_registry_answer_tells_the_agent_what_to_ask_and_stores_nothing(
        office: Office, new_page: NewPage, who: dict[str, str], id_type: str,
        field: str | None, says: str) -> None:
    checks = await rows_in(office, "intake", "caller_checks")
    page = await an_agent(new_page, office, "en", TABLET)
    await check(page, who, id_type=id_type)

    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text(says)
    if field is not None:
        await expect(page.locator(f"#error-{field}")).to_contain_text(says)
        await expect(summary.locator(f"a[href='#field-{field}']")).to_be_visible()
    for name in ("id_number", *NAME_PARTS):
        await expect(page.locator(f"#field-{name}")).to_have_value(who[name])
    await expect(page.locator("#field-date_of_birth-year")).to_have_value(who["year"])
    await assert_accessible(page)
    assert await rows_in(office, "intake", "caller_checks") == checks


async def test_a_resident_is_checked_by_personal_number(office: Office,
                                                        new_page: NewPage) -> None:
    page = await an_agent(new_page, office, "en", DESK)
    await check(page, {"id_number": "4000123456", "first_name": "Maria", "father_name": "Jose",
                       "grandfather_name": "Santos", "family_name": "Cruz", "day": "15",
                       "month": "7", "year": "1985", "phone": "0791234570"},
                id_type="personal_number")

    await expect(page.locator(".notice--done")).to_contain_text(
        "The civil registry confirmed the caller's identity")
    await expect(page.locator(".notice--done")).to_contain_text("Maria Jose Santos Cruz")


async def test_a_check_form_with_bad_input_names_each_field_and_keeps_it(
        office: Office, new_page: NewPage) -> None:
    checks = await rows_in(office, "intake", "caller_checks")
    page = await an_agent(new_page, office, "ar", TABLET)
    await check(page, {**SARA, "id_number": "12345", "first_name": NAME_MARKUP,
                       "family_name": "", "day": "31", "month": "2", "phone": "12"})

    summary = page.locator(".error-summary")
    for field in ("id_number", "first_name", "family_name", "date_of_birth", "phone"):
        await expect(summary.locator(f"a[href='#field-{field}']")).to_be_visible()
        await expect(page.locator(f"#error-{field}")).to_be_visible()
    await expect(page.locator("#field-first_name")).to_have_value(NAME_MARKUP)
    await expect(page.locator("#field-phone")).to_have_value("12")
    assert await page.evaluate("() => window.pwned") is None
    await assert_accessible(page)
    assert await rows_in(office, "intake", "caller_checks") == checks


async def test_a_request_form_with_bad_input_names_each_field_keeps_it_and_stores_nothing(
        office: Office, new_page: NewPage) -> None:
    requests = await rows_in(office, "intake", "requests")
    page = await an_agent(new_page, office, "en", DESK)
    await check(page, AHMAD)
    await page.fill("#field-subject", "ab")
    await page.fill("#field-description", MARKUP)
    await page.fill("#field-city", MARKUP)
    await submit_request(page)

    summary = page.locator(".error-summary")
    await expect(summary.locator("a[href='#field-subject']")).to_contain_text("Subject")
    await expect(summary.locator("a[href='#field-governorate']")).to_be_visible()
    await expect(page.locator("#field-subject")).to_have_value("ab")
    await expect(page.locator("#field-description")).to_have_value(MARKUP)
    await expect(page.locator(".notice--done")).to_contain_text("أحمد محمد علي الخطيب")
    await assert_accessible(page)

    await page.fill("#field-subject", "Street lights out")
    await page.select_option("#field-governorate", "JO-IR")
    await submit_request(page)  # the declaration is still missing
    await expect(page.locator("#error-not_before_court")).to_be_visible()
    assert await rows_in(office, "intake", "requests") == requests


async def test_markup_typed_in_every_field_is_shown_as_text_on_every_page(
        office: Office, new_page: NewPage) -> None:
    page = await an_agent(new_page, office, "ar", DESK)
    await check(page, AHMAD)
    await fill_request(page, subject=f"طلب {MARKUP}", description=f"تفاصيل الطلب {MARKUP}",
                       city=MARKUP, entity="MOI-HQ")
    await submit_request(page)

    reference = (await page.locator(".panel__ref").inner_text()).strip()
    await expect(page.locator(".facts")).to_contain_text(f"طلب {MARKUP}")
    await page.goto(f"{office.url}/office/callers")
    await expect(page.locator(".desk-list")).to_contain_text(f"طلب {MARKUP}")
    await page.fill("#field-lookup-reference", reference)
    await page.fill("#field-lookup-id_number", AHMAD["id_number"])
    await page.locator("form[action='/office/callers/lookup'] button").click()
    await expect(page.locator("#h-status")).to_contain_text(f"طلب {MARKUP}")
    assert await page.locator("main b, main script, main img").count() == 0
    assert await page.evaluate("() => window.pwned") is None


async def test_a_similar_open_request_is_submitted_only_once_the_agent_confirms(
        office: Office, new_page: NewPage) -> None:
    page = await an_agent(new_page, office, "en", TABLET)
    for _ in range(2):
        await page.goto(f"{office.url}/office/callers")
        await check(page, SARA)
        await fill_request(page, subject="No water in the street since Sunday")
        await submit_request(page)

    await expect(page.locator(".notice--warning")).to_contain_text(
        "The requester has similar open requests with this entity")
    await expect(page.locator(".notice--warning li")).to_contain_text(
        "No water in the street since Sunday")
    await expect(page.locator("#field-subject")).to_have_value(
        "No water in the street since Sunday")
    await assert_accessible(page)
    await page.locator("form[action='/office/callers/requests'] button[type=submit]").click()
    await expect(page.locator(".panel")).to_contain_text("Request submitted")


async def test_a_status_is_read_only_with_the_callers_own_identity_number(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()  # somebody else's request
    page = await an_agent(new_page, office, "en", DESK)
    await page.fill("#field-lookup-reference", reference)
    await page.fill("#field-lookup-id_number", SARA["id_number"])
    await page.locator("form[action='/office/callers/lookup'] button").click()

    await expect(page.locator("#error-lookup-reference")).to_contain_text(
        "No request has this reference number for this identity number")
    await expect(page.locator("#field-lookup-reference")).to_have_value(reference)
    await expect(page.locator("#field-lookup-id_number")).to_have_value(SARA["id_number"])
    await assert_accessible(page)


async def test_only_call_center_agents_open_the_desk(office: Office,
                                                    new_page: NewPage) -> None:
    page = await new_page("en")
    await sign_in(page, office, "mlo.moh")
    answer: Any = await page.goto(f"{office.url}/office/callers")
    assert answer.status == 403
    await expect(page.locator("h1")).to_have_text("You cannot open this page")
