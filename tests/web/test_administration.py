"""The CMU administrators' pages as an administrator uses them: the directory, people and their
permissions, the calendar and the SLA policy, against the real platform in Chromium.

The main journey is done by keyboard alone: an administrator adds a sub-liaison officer for an
entity, hands over the account, and the officer signs in and lands on their queue. Around it:
each form's refusals beside their fields with what was typed kept and nothing stored, markup in
every name shown as text, Arabic and English, desk and tablet widths, and axe-core on every page.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize, expect

from shared.calendar import AMMAN
from tests.web.conftest import (
    DESK,
    TABLET,
    NewPage,
    Office,
    assert_accessible,
    assert_fits_the_width,
    get_with_session,
    sign_in,
    tab_to,
)

MARKUP = ('<b class="injected">x</b><script>window.__pwned=1</script>'
          '<img src=x onerror="window.__pwned=1">')


# --- helpers ----------------------------------------------------------------------------------


async def api(office: Office, method: str, path: str, body: Any = None, *,
              who: str = "cmu.admin") -> httpx.Response:
    """The platform's API as the administrator (setting up, and checking what was stored)."""
    headers = {"Authorization": f"Bearer {await office.api_token(who)}",
               "Idempotency-Key": str(uuid.uuid4()), "Accept-Language": "en"}
    return await office.platform.client.request(method, path, json=body, headers=headers)


async def administrator(new_page: NewPage, office: Office, language: str,
                        viewport: ViewportSize) -> Page:
    page = await new_page(language, viewport)
    await sign_in(page, office, "cmu.admin")
    return page


async def press_enter_and_wait(page: Page) -> None:
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def open_by_keyboard(page: Page, selector: str) -> None:
    await tab_to(page, selector)
    await press_enter_and_wait(page)


async def working_days(office: Office, count: int, *, after_days: int = 40) -> list[date]:
    """Working days that are no holiday, some weeks ahead of the platform's clock."""
    start = office.platform.clock.now().astimezone(AMMAN).date() + timedelta(days=after_days)
    answer = await api(office, "GET", f"/api/v1/calendar/days?from={start}"
                       f"&to={start + timedelta(days=40)}")
    found = [date.fromisoformat(d["day"]) for d in answer.json() if d["working"]]
    return found[:count]


async def a_day_off(office: Office, after: date) -> date:
    answer = await api(office, "GET", f"/api/v1/calendar/days?from={after}"
                       f"&to={after + timedelta(days=10)}")
    return next(date.fromisoformat(d["day"]) for d in answer.json() if not d["working"])


async def new_person(office: Office, username: str, **fields: Any) -> dict[str, Any]:
    body = {"username": username, "full_name": "عمر الخطيب", "phone": "+962791110077",
            "password": "a long private phrase 11",
            "role": {"role": "sub_liaison_officer", "entity": "MOH-HQ"}, **fields}
    made = await api(office, "POST", "/api/v1/directory/people", body)
    assert made.status_code == 201, made.text
    person: dict[str, Any] = made.json()
    return person


async def usernames(office: Office) -> set[str]:
    listed = await api(office, "GET", "/api/v1/directory/people?limit=200")
    return {p["username"] for p in listed.json()["items"]}


async def assert_refused(page: Page, fields: dict[str, str | None]) -> None:
    """The error summary (focused), each field's message beside it, linked from the summary;
    `fields` maps each field to a piece of its message (None: any message)."""
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_be_focused()
    for name, words in fields.items():
        message = page.locator(f"#error-{name}")
        await expect(message).to_be_visible()
        if words:
            await expect(message).to_contain_text(words)
        await expect(summary.locator(f"a[href='#field-{name}']")).to_have_count(1)


# --- the main journey -------------------------------------------------------------------------


async def test_an_administrator_creates_an_officer_who_then_signs_in_and_lands_on_their_queue(
        office: Office, new_page: NewPage, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    page = await administrator(new_page, office, "ar", DESK)

    await open_by_keyboard(page, "nav.nav a[href='/office/directory']")
    await expect(page.locator("h1")).to_have_text("القطاعات")
    await assert_accessible(page)
    await open_by_keyboard(page, "a[href='/office/directory/sectors/MOH']")
    await expect(page.locator("h1")).to_have_text("وزارة الصحة")
    await assert_accessible(page)
    await open_by_keyboard(page, "a[href='/office/directory/entities/MOH-HQ']")
    await expect(page).to_have_url(f"{office.url}/office/directory/entities/MOH-HQ")
    await assert_accessible(page)
    await open_by_keyboard(page, "a[href^='/office/people/new']")

    await expect(page.locator("h1")).to_have_text("إضافة موظف")
    await expect(page.locator("#field-role")).to_have_value("sub_liaison_officer")
    await expect(page.locator("#field-entity")).to_have_value("MOH-HQ")
    await assert_accessible(page)
    await tab_to(page, "#field-full_name")
    await page.keyboard.type("رنا الحداد")
    await page.keyboard.press("Tab")
    await page.keyboard.type("rana.haddad")
    await page.keyboard.press("Tab")
    await page.keyboard.type("+962791110001")
    password = await page.locator("#field-password").input_value()
    assert len(password) >= 16
    await press_enter_and_wait(page)

    await expect(page.locator("h1")).to_have_text("الحساب جاهز للتسليم")
    await expect(page.locator("#handover-username")).to_have_text("rana.haddad")
    await expect(page.locator("#handover-password")).to_have_text(password)
    await assert_accessible(page)
    handover = await get_with_session(office, page, "/office/people")
    assert password not in handover.text  # shown in the form's answer alone

    officer = await new_page("ar", DESK)
    await sign_in(officer, office, "rana.haddad", password=password)
    await expect(officer).to_have_url(f"{office.url}/office/queue")
    await expect(officer.locator("h1")).to_have_text("صندوق الطلبات")
    await expect(officer.locator(".whoami")).to_contain_text("رنا الحداد")
    await expect(officer.locator(".whoami")).to_contain_text("ضابط ارتباط فرعي")
    assert password not in caplog.text  # nor in any log of the platform or the web app


# --- the directory ----------------------------------------------------------------------------


async def test_an_administrator_adds_a_department_and_a_classification_with_its_maximum(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "en", TABLET)
    await page.goto(f"{office.url}/office/directory/entities/MOH-HQ")
    await page.get_by_role("link", name="Add a department").click()
    await expect(page.locator("#field-sector")).to_have_value("MOH")
    await expect(page.locator("#field-parent")).to_have_value("MOH-HQ")
    await expect(page.locator("#field-kind")).to_have_value("department")
    await page.locator("#field-code").fill("MOH-LABS")
    await page.locator("#field-name_ar").fill("مديرية المختبرات")
    await page.locator("#field-name_en").fill("Laboratories Directorate")
    await page.get_by_role("button", name="Add a department").click()

    await expect(page).to_have_url(f"{office.url}/office/directory/entities/MOH-LABS?done=created")
    await expect(page.locator(".notice--done")).to_have_text("Added.")
    await expect(page.locator("h1")).to_have_text("Laboratories Directorate")
    await assert_accessible(page)
    stored = (await api(office, "GET", "/api/v1/entities/MOH-LABS")).json()
    assert (stored["parent"], stored["kind"], stored["sector"]) == ("MOH-HQ", "department", "MOH")
    await page.goto(f"{office.url}/office/directory/entities/MOH-HQ")
    await expect(page.get_by_role("table", name="Departments")).to_contain_text(
        "Laboratories Directorate")

    await page.goto(f"{office.url}/office/directory/classifications")
    await page.get_by_role("link", name="Add a classification").click()
    await page.locator("#field-code").fill("complaint.road-works")
    await page.locator("#field-kind").select_option("complaint")
    await page.locator("#field-name_ar").fill("أعمال الطرق")
    await page.locator("#field-name_en").fill("Road works")
    await page.locator("#field-max_working_days").fill("12")
    await page.get_by_role("button", name="Add a classification").click()

    await expect(page).to_have_url(f"{office.url}/office/directory/classifications?done=created")
    row = page.get_by_role("row").filter(has_text="Road works")
    await expect(row).to_contain_text("12 working days")
    await row.get_by_role("link", name="Road works").click()
    await page.locator("#field-max_working_days").fill("10")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".notice--done")).to_have_text("Changes saved.")
    await assert_accessible(page)
    classifications = (await api(office, "GET", "/api/v1/classifications")).json()
    road_works = next(c for c in classifications if c["code"] == "complaint.road-works")
    assert road_works["max_working_days"] == 10

    await page.goto(f"{office.url}/office/directory/log?subject=classification")
    await expect(page.get_by_role("row").filter(has_text="complaint.road-works").first
                 ).to_contain_text("Maximum: 12 → 10")


async def test_retiring_asks_first_and_shows_why_it_cannot_be_done(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "ar", TABLET)
    await page.goto(f"{office.url}/office/directory/sectors/MOY")
    await page.get_by_role("link", name="إيقاف العمل بالقطاع").click()
    await expect(page.locator("h1")).to_have_text("إيقاف العمل بالقطاع")
    await assert_accessible(page)
    await page.get_by_role("button", name="إيقاف العمل بالقطاع").click()

    await expect(page.locator(".error-summary")).to_contain_text("أوقف العمل بجهات القطاع أولاً")
    assert (await api(office, "GET", "/api/v1/sectors/MOY")).json()["retired_at"] is None
    await page.goto(f"{office.url}/office/directory/classifications/complaint.other/retire")
    await page.get_by_role("link", name="لا، عودة").click()
    await expect(page).to_have_url(
        f"{office.url}/office/directory/classifications/complaint.other")


# --- people -----------------------------------------------------------------------------------


async def test_a_deactivated_person_is_signed_out_and_cannot_sign_in_again(
        office: Office, new_page: NewPage) -> None:
    person = await new_person(office, "omar.khatib")
    theirs = await new_page("en", TABLET)
    await sign_in(theirs, office, "omar.khatib", password="a long private phrase 11")
    await expect(theirs).to_have_url(f"{office.url}/office/queue")

    page = await administrator(new_page, office, "en", TABLET)
    await page.goto(f"{office.url}/office/people")
    await page.locator("#field-entity").select_option("MOH-HQ")
    await page.get_by_role("button", name="Apply").click()
    await expect(page).to_have_url(re.compile(r"entity=MOH-HQ"))
    await page.get_by_role("link", name="عمر الخطيب").click()
    await assert_accessible(page)
    await page.get_by_role("link", name="Deactivate the account").click()
    await expect(page.locator("h1")).to_have_text("Deactivate the account")
    await assert_accessible(page)
    await page.get_by_role("button", name="Deactivate the account").click()
    await expect(page).to_have_url(f"{office.url}/office/people/{person['id']}?done=deactivated")
    await expect(page.locator("h1 + p .badge")).to_have_text("Deactivated")

    # Their open queue asks for its counters every second (BKH_QUEUE_POLL_S in these tests), so
    # it goes to the sign-in page by itself, to come back to the queue, not to its counters.
    await expect(theirs).to_have_url(
        f"{office.url}/office/sign-in?next=/office/queue&reason=expired")
    await sign_in(theirs, office, "omar.khatib", password="a long private phrase 11")
    await expect(theirs.locator(".error-summary")).to_be_visible()
    await expect(theirs).to_have_url(re.compile(r"/office/sign-in"))

    await page.get_by_role("button", name="Reactivate the account").click()
    await expect(page.locator(".notice--done")).to_have_text("The account is active again.")


async def test_a_role_scope_permissions_and_a_new_password_are_set_by_pages(
        office: Office, new_page: NewPage) -> None:
    person = await new_person(office, "huda.nasser", full_name="هدى ناصر")
    page = await administrator(new_page, office, "ar", DESK)
    await page.goto(f"{office.url}/office/people")
    await page.locator("#field-q").fill("ناصر")
    await page.locator("#field-q").press("Enter")
    await expect(page.get_by_role("table", name="الموظفون").locator("tbody tr")).to_have_count(1)
    await page.get_by_role("link", name="هدى ناصر").click()
    await expect(page).to_have_url(f"{office.url}/office/people/{person['id']}")
    await page.get_by_role("link", name="تغيير الدور أو إضافة نطاق").click()
    await page.locator("#field-role").select_option("sub_liaison_officer")
    await page.locator("#field-entity").select_option("MOH-JFDA")
    await page.get_by_role("button", name="منح").click()
    await expect(page.locator(".notice--done")).to_have_text("حُفظ الدور والنطاق.")
    held = (await api(office, "GET", f"/api/v1/directory/people/{person['id']}")).json()
    assert sorted(a["entity"] for a in held["assignments"]) == ["MOH-HQ", "MOH-JFDA"]

    await page.get_by_role("link", name="استثناءات الصلاحيات").click()
    await assert_accessible(page)
    await page.get_by_label("استثناء: الرد", exact=True).select_option("deny")
    await page.get_by_label("استثناء: دمج المكررات").select_option("grant")
    await page.get_by_role("button", name="حفظ التغييرات").click()
    await expect(page.locator(".notice--done")).to_have_text("حُفظت الصلاحيات.")
    exceptions = (await api(office, "GET",
                            f"/api/v1/directory/people/{person['id']}/permissions")).json()
    assert (exceptions["grants"], exceptions["denials"]) == (["cases.merge"], ["cases.respond"])

    await page.get_by_role("link", name="تعيين كلمة مرور جديدة").click()
    await page.locator("#field-new_password").fill("a brand new phrase 2031")
    await page.get_by_role("button", name="تعيين كلمة مرور جديدة").click()
    await expect(page.locator("#handover-password")).to_have_text("a brand new phrase 2031")
    officer = await new_page("ar", TABLET)
    await sign_in(officer, office, "huda.nasser", password="a brand new phrase 2031")
    await expect(officer).to_have_url(f"{office.url}/office/queue")


async def test_a_roles_permissions_are_edited_for_everyone_in_it(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "en", TABLET)
    await page.goto(f"{office.url}/office/people/permissions")
    await assert_accessible(page)
    await page.get_by_role("link", name="Entity head").click()
    await page.get_by_label("Verify the audit trail").check()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".notice--done")).to_have_text("Permissions saved.")
    catalog = (await api(office, "GET", "/api/v1/directory/permissions")).json()
    assert sorted(catalog["roles"]["entity_head"]) == ["audit.verify", "cases.comment",
                                                       "cases.read"]


# --- the calendar and the SLA policy ----------------------------------------------------------


async def test_a_holiday_override_is_declared_then_moved(office: Office, new_page: NewPage
                                                         ) -> None:
    first, later = await working_days(office, 2)
    page = await administrator(new_page, office, "ar", DESK)
    await page.goto(f"{office.url}/office/calendar")
    await page.get_by_role("link", name="إعلان عطلة").click()
    await assert_accessible(page)
    await page.locator("#field-day").fill(first.isoformat())
    await page.locator("#field-name_ar").fill("عطلة رسمية طارئة")
    await page.locator("#field-name_en").fill("Special day off")
    await page.get_by_role("button", name="إعلان عطلة").click()

    await expect(page).to_have_url(
        f"{office.url}/office/calendar?year={first.year}&done=holiday_added")
    row = page.get_by_role("row").filter(has_text="عطلة رسمية طارئة")
    await expect(row).to_contain_text("أعلنتها الوحدة")
    await assert_accessible(page)
    await row.get_by_role("link", name=re.compile("^نقل")).click()
    await page.locator("#field-to").fill(later.isoformat())
    await page.get_by_role("button", name="نقل").click()
    await expect(page.locator(".notice--done")).to_have_text("نُقلت العطلة.")

    holidays = (await api(office, "GET", f"/api/v1/holidays?year={later.year}")).json()
    days = {h["day"]: h for h in holidays["holidays"]}
    assert days[later.isoformat()]["name_en"] == "Special day off"
    assert first.isoformat() not in days
    await page.goto(f"{office.url}/office/calendar/days?month={later:%Y-%m}")
    await expect(page.get_by_role("row").filter(has_text="عطلة رسمية طارئة")).to_contain_text(
        "لا")
    await assert_accessible(page)


async def test_a_new_sla_policy_version_is_published_from_the_one_in_force(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "en", DESK)
    await page.goto(f"{office.url}/office/calendar/policy")
    await page.get_by_role("link", name="New version").click()
    await expect(page.locator("#field-suggestion_working_days")).to_have_value("7")
    await expect(page.locator("#field-official_opens")).to_have_value("08:00")
    await page.locator("#field-suggestion_working_days").fill("8")
    await page.locator("#field-ramadan_opens").fill("10:00")
    await page.locator("#field-reason").fill("Cabinet decision 12/2027")
    await page.get_by_role("button", name="Publish the version").click()

    await expect(page).to_have_url(f"{office.url}/office/calendar/policy?done=policy_published")
    newest = page.locator("section.version").first
    await expect(newest.locator("h2")).to_contain_text("Version 2")
    await expect(newest).to_contain_text("Cabinet decision 12/2027")
    await expect(newest).to_contain_text("10:00–14:00")
    await assert_accessible(page)
    policy = (await api(office, "GET", "/api/v1/sla/policy")).json()
    assert policy["version"] == 2
    assert policy["policy"]["suggestion_working_days"] == 8
    assert policy["policy"]["calendar"]["ramadan_hours"]["opens"] == "10:00:00"


# --- bad input --------------------------------------------------------------------------------


async def test_bad_input_on_the_directory_forms_is_shown_by_field_kept_and_stores_nothing(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "en", TABLET)
    sectors_before = (await api(office, "GET", "/api/v1/sectors?include_retired=true")).json()

    await page.goto(f"{office.url}/office/directory/sectors/new")
    await page.locator("#field-code").fill("moh health")
    await page.locator("#field-name_en").fill("Health, again")
    await page.get_by_role("button", name="Add a sector").click()
    await assert_refused(page, {"code": "match pattern", "name_ar": "required"})
    await expect(page.locator("#field-code")).to_have_value("moh health")
    await expect(page.locator("#field-name_en")).to_have_value("Health, again")
    await assert_accessible(page)
    await page.locator("#field-code").fill("MOH")
    await page.locator("#field-name_ar").fill("الصحة")
    await page.get_by_role("button", name="Add a sector").click()
    await assert_refused(page, {"code": "The sector MOH exists."})
    assert (await api(office, "GET", "/api/v1/sectors?include_retired=true")).json() == \
        sectors_before

    await page.goto(f"{office.url}/office/directory/entities/new?sector=MOH")
    await page.locator("#field-code").fill("MOH-ODD")
    await page.locator("#field-name_ar").fill("دائرة")
    await page.locator("#field-name_en").fill("Odd department")
    await page.locator("#field-kind").select_option("department")
    await page.locator("#field-parent").select_option("MOI-HQ")
    await page.get_by_role("button", name="Add an entity").click()
    await assert_refused(page, {"parent": "another sector"})
    await expect(page.locator("#field-parent")).to_have_value("MOI-HQ")
    assert (await api(office, "GET", "/api/v1/entities/MOH-ODD")).status_code == 404

    await page.goto(f"{office.url}/office/directory/entities/MOH-JFDA/edit")
    await page.locator("#field-name_en").fill("")
    await page.get_by_role("button", name="Save changes").click()
    await assert_refused(page, {"name_en": "at least 1 character"})
    assert (await api(office, "GET", "/api/v1/entities/MOH-JFDA")).json()["name_en"]

    await page.goto(f"{office.url}/office/directory/classifications/new")
    await page.locator("#field-code").fill("complaint.parking")
    await page.locator("#field-name_ar").fill("المواقف")
    await page.locator("#field-name_en").fill("Parking")
    await page.locator("#field-max_working_days").fill("0")
    await page.get_by_role("button", name="Add a classification").click()
    await assert_refused(page, {"kind": "required", "max_working_days": "greater than or equal"})
    await expect(page.locator("#field-max_working_days")).to_have_value("0")
    await expect(page.locator("#field-name_en")).to_have_value("Parking")
    listed = (await api(office, "GET", "/api/v1/classifications?include_retired=true")).json()
    assert "complaint.parking" not in {c["code"] for c in listed}

    await page.goto(f"{office.url}/office/directory/classifications/complaint.other")
    await page.locator("#field-max_working_days").fill("999")
    await page.get_by_role("button", name="Save changes").click()
    await assert_refused(page, {"max_working_days": "less than or equal to 250"})
    await expect(page.locator("#field-max_working_days")).to_have_value("999")
    listed = (await api(office, "GET", "/api/v1/classifications")).json()
    assert next(c for c in listed if c["code"] == "complaint.other")["max_working_days"] == 15


async def test_bad_input_on_the_people_forms_is_said_in_arabic_by_field_and_stores_nothing(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "ar", DESK)
    before = await usernames(office)

    await page.goto(f"{office.url}/office/people/new")
    await page.locator("#field-full_name").fill("سامي")
    await page.locator("#field-username").fill("Sami Y")
    await page.locator("#field-phone").fill("12")
    await page.get_by_role("button", name="إضافة موظف").click()
    await assert_refused(page, {"username": "صيغة القيمة غير صحيحة",
                                "phone": "صيغة القيمة غير صحيحة"})
    await expect(page.locator("#field-username")).to_have_value("Sami Y")
    await expect(page.locator("#field-full_name")).to_have_value("سامي")
    await assert_accessible(page)

    await page.locator("#field-username").fill("sami.y")
    await page.locator("#field-phone").fill("+962791110055")
    await page.locator("#field-password").fill("short")
    await page.get_by_role("button", name="إضافة موظف").click()
    await assert_refused(page, {"password": "كلمة المرور قصيرة"})
    await expect(page.locator("#field-password")).to_have_value("short")

    await page.locator("#field-password").fill("a long private phrase 12")
    await page.locator("#field-role").select_option("sub_liaison_officer")
    await page.locator("#field-sector").select_option("MOH")
    await page.get_by_role("button", name="إضافة موظف").click()
    await assert_refused(page, {"entity": "هذا الدور يُمنح لجهة أو دائرة واحدة"})
    await expect(page.locator("#field-role")).to_have_value("sub_liaison_officer")
    await expect(page.locator("#field-sector")).to_have_value("MOH")
    assert await usernames(office) == before

    person = await new_person(office, "layla.edit")
    await page.goto(f"{office.url}/office/people/{person['id']}/edit")
    await page.locator("#field-email").fill("not-an-email")
    await page.get_by_role("button", name="حفظ التغييرات").click()
    await assert_refused(page, {"email": None})
    await expect(page.locator("#field-email")).to_have_value("not-an-email")

    await page.goto(f"{office.url}/office/people/{person['id']}/role")
    await page.locator("#field-role").select_option("minister")
    await page.locator("#field-entity").select_option("MOH-HQ")
    await page.get_by_role("button", name="منح").click()
    await assert_refused(page, {"sector": "هذا الدور يُمنح لقطاع واحد"})

    await page.goto(f"{office.url}/office/people/{person['id']}/password")
    await page.locator("#field-new_password").fill("password123")
    await page.get_by_role("button", name="تعيين كلمة مرور جديدة").click()
    await assert_refused(page, {"new_password": "شائعة"})
    stored = (await api(office, "GET", f"/api/v1/directory/people/{person['id']}")).json()
    assert (stored["email"], stored["role"]) == (None, "sub_liaison_officer")
    signed = await office.platform.client.post("/api/v1/staff/auth/token", json={
        "username": "layla.edit", "password": "a long private phrase 11"})
    assert signed.status_code == 200  # the old password still works: nothing was reset

    await page.goto(f"{office.url}/office/people/permissions/cmu_admin")
    await page.get_by_label("إدارة الموظفين والصلاحيات").uncheck()
    await page.get_by_role("button", name="حفظ التغييرات").click()
    await expect(page.locator(".error-summary")).to_contain_text(
        "يجب أن يبقى لمسؤولي الوحدة إدارة الموظفين")
    await expect(page.get_by_label("إدارة الموظفين والصلاحيات")).not_to_be_checked()
    catalog = (await api(office, "GET", "/api/v1/directory/permissions")).json()
    assert "directory.staff" in catalog["roles"]["cmu_admin"]


async def test_bad_input_on_the_calendar_forms_is_shown_by_field_kept_and_stores_nothing(
        office: Office, new_page: NewPage) -> None:
    page = await administrator(new_page, office, "en", TABLET)
    revision = (await api(office, "GET", "/api/v1/sla/rules")).json()["revision"]
    [day] = await working_days(office, 1, after_days=90)

    await page.goto(f"{office.url}/office/calendar/holidays/new")
    await page.locator("#field-name_en").fill("Day off")
    await page.get_by_role("button", name="Declare a day off").click()
    await assert_refused(page, {"day": "required", "name_ar": "required"})
    await expect(page.locator("#field-name_en")).to_have_value("Day off")
    await page.locator("#field-day").fill((await a_day_off(office, day)).isoformat())
    await page.locator("#field-name_ar").fill("عطلة")
    await page.get_by_role("button", name="Declare a day off").click()
    await assert_refused(page, {"day": "already a day off"})

    holidays = (await api(office, "GET", f"/api/v1/holidays?year={day.year}")).json()
    some_holiday = holidays["holidays"][0]["day"]
    await page.goto(f"{office.url}/office/calendar/holidays/{some_holiday}/move")
    await page.locator("#field-to").fill((day + timedelta(days=365 * 7)).isoformat())
    await page.get_by_role("button", name="Move").click()
    await assert_refused(page, {"to": "five years ahead"})

    await page.goto(f"{office.url}/office/calendar/ramadan/new")
    await page.locator("#field-first_day").fill(day.isoformat())
    await page.locator("#field-last_day").fill((day + timedelta(days=9)).isoformat())
    await page.get_by_role("button", name="Announce Ramadan").click()
    await expect(page.locator(".error-summary")).to_contain_text("Ramadan lasts 29 or 30 days")
    await expect(page.locator("#field-first_day")).to_have_value(day.isoformat())

    await page.goto(f"{office.url}/office/calendar/policy/new")
    version = await page.locator("input[name=based_on_version]").input_value()
    await page.locator("#field-official_opens").fill("16:00")
    await page.get_by_role("button", name="Publish the version").click()
    await assert_refused(page, {"official_opens": "open before they close"})
    await expect(page.locator("#field-official_opens")).to_have_value("16:00")
    await assert_accessible(page)
    await page.locator("#field-official_opens").fill("08:00")
    await page.locator("#field-minister_after_working_days").fill(
        await page.locator("#field-entity_head_after_working_days").input_value())
    await page.get_by_role("button", name="Publish the version").click()
    await expect(page.locator(".error-summary")).to_contain_text(
        "The minister hears after the entity head")
    assert (await api(office, "GET", "/api/v1/sla/rules")).json()["revision"] == revision
    assert str((await api(office, "GET", "/api/v1/sla/policy")).json()["version"]) == version


# --- escaping, access, every page ---------------------------------------------------------------


async def test_markup_typed_into_a_name_is_shown_as_text_on_every_page_that_lists_it(
        office: Office, new_page: NewPage) -> None:
    assert (await api(office, "POST", "/api/v1/sectors", {
        "code": "MARKUP", "name_ar": MARKUP, "name_en": MARKUP})).status_code == 201
    made = await api(office, "POST", "/api/v1/entities", {
        "code": "MARKUP-HQ", "sector": "MARKUP", "kind": "authority", "name_ar": MARKUP,
        "name_en": MARKUP})
    assert made.status_code == 201, made.text
    assert (await api(office, "POST", "/api/v1/classifications", {
        "code": "complaint.markup", "kind": "complaint", "name_ar": MARKUP, "name_en": MARKUP,
        "max_working_days": 5})).status_code == 201
    [day] = await working_days(office, 1, after_days=120)
    assert (await api(office, "POST", "/api/v1/holidays", {
        "day": day.isoformat(), "name_ar": MARKUP, "name_en": MARKUP})).status_code == 201
    policy = (await api(office, "GET", "/api/v1/sla/policy")).json()
    assert (await api(office, "POST", "/api/v1/sla/policy/versions", {
        "based_on_version": policy["version"], "reason": MARKUP,
        "policy": {**policy["policy"], "review_working_days": 3}})).status_code == 201

    page = await administrator(new_page, office, "en", DESK)
    await page.goto(f"{office.url}/office/people/new")
    await page.locator("#field-full_name").fill(MARKUP)
    await page.locator("#field-username").fill("markup.person")
    await page.locator("#field-phone").fill("+962791110099")
    await page.get_by_role("button", name="Add a person").click()
    await expect(page.locator("h1")).to_have_text("The account is ready to hand over")
    await assert_shown_as_text(page)
    person_id = (await page.get_by_role("link", name="The person's page").get_attribute(
        "href") or "").rsplit("/", 1)[-1]

    for path in ("/office/directory", "/office/directory/sectors/MARKUP",
                 "/office/directory/sectors/MARKUP/edit", "/office/directory/entities/MARKUP-HQ",
                 "/office/directory/entities/MARKUP-HQ/edit",
                 "/office/directory/entities/MARKUP-HQ/retire",
                 "/office/directory/log", "/office/directory/classifications",
                 "/office/directory/classifications/complaint.markup",
                 "/office/people", f"/office/people/{person_id}",
                 f"/office/people/{person_id}/edit", f"/office/people/{person_id}/deactivate",
                 f"/office/calendar?year={day.year}",
                 f"/office/calendar/days?month={day:%Y-%m}",
                 f"/office/calendar/holidays/{day}/remove", "/office/calendar/policy"):
        await page.goto(f"{office.url}{path}")
        await assert_shown_as_text(page, path)


async def assert_shown_as_text(page: Page, where: str = "") -> None:
    assert await page.locator(".injected").count() == 0, where
    assert await page.evaluate("() => window.__pwned === undefined"), where
    content = await page.locator("main").inner_text()
    html = await page.locator("main").inner_html()
    assert '<b class="injected">x</b>' in content or "&lt;b class=" in html, where


async def test_only_administrators_open_the_administration_pages(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("en", TABLET)
    await sign_in(page, office, "mlo.moh")
    nav = page.locator("nav.nav")
    for name in ("Directory", "Calendar and time limits", "People and permissions"):
        await expect(nav.get_by_role("link", name=name)).to_have_count(0)
    for path in ("/office/directory", "/office/people", "/office/calendar",
                 "/office/people/new", "/office/calendar/policy"):
        answer = await get_with_session(office, page, path)
        assert answer.status_code == 403, path


async def test_every_administration_page_passes_axe_and_fits_a_tablet(
        office: Office, new_page: NewPage) -> None:
    person = await new_person(office, "walk.through", full_name="Walk Through")
    assignment = person["assignments"][0]["id"]
    holidays = (await api(office, "GET", "/api/v1/holidays")).json()
    holiday = holidays["holidays"][0]["day"]
    page = await administrator(new_page, office, "en", TABLET)
    for path in (
        "/office/directory", "/office/directory?retired=true", "/office/directory/sectors/new",
        "/office/directory/sectors/MOH", "/office/directory/sectors/MOH/edit",
        "/office/directory/sectors/MOH/retire", "/office/directory/entities/new?sector=MOH",
        "/office/directory/entities/MOH-HQ", "/office/directory/entities/MOH-HQ/edit",
        "/office/directory/classifications", "/office/directory/classifications/new",
        "/office/directory/classifications/complaint.other", "/office/directory/log",
        "/office/people", "/office/people/new", f"/office/people/{person['id']}",
        f"/office/people/{person['id']}/edit", f"/office/people/{person['id']}/role",
        f"/office/people/{person['id']}/permissions",
        f"/office/people/{person['id']}/password",
        f"/office/people/{person['id']}/deactivate",
        f"/office/people/{person['id']}/roles/{assignment}/end",
        "/office/people/permissions", "/office/people/permissions/entity_head",
        "/office/calendar", "/office/calendar/days", "/office/calendar/holidays/new",
        f"/office/calendar/holidays/{holiday}/move",
        f"/office/calendar/holidays/{holiday}/remove",
        "/office/calendar/ramadan/new", "/office/calendar/policy",
        "/office/calendar/policy/new",
    ):
        answer = await page.goto(f"{office.url}{path}")
        assert answer is not None, path
        assert answer.status == 200, path
        await assert_accessible(page)
        await assert_fits_the_width(page)
