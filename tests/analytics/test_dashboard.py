"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): it loads from the
project alone, reads right to left, shows the numbers the API gives, and changes a tile when an
event arrives, without a reload; every tile says what it counts on hover and on keyboard focus;
a minister reads their ministry's name; the header holds at phone width. Screenshots go to
var/test-artifacts/ (ignored by git)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, Route, ViewportSize, async_playwright, expect

from shared.events.vocabulary import Role
from shared.settings import VAR_DIR
from tests.analytics.conftest import World
from tests.analytics.test_projection import assigned, closed, responded
from tests.analytics.test_reports import link_to_the_weeks_report, listen_for_reports
from tests.platform import eventually

CHROMIUM = Path(os.environ.get("BKH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = VAR_DIR / "test-artifacts"
FRESHNESS_MS = 5_000


@pytest.fixture
async def served(world: World) -> AsyncIterator[str]:
    """The analytics app of `world` on a real port (its lifespan is already running)."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        message = "Chromium is missing: `make test` installs Debian's chromium package"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=0,
                                           lifespan="off", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())

    async def started() -> None:
        assert server.started

    await eventually(started, timeout_s=10)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


PHONE: ViewportSize = {"width": 390, "height": 844}  # an iPhone 12–15's CSS viewport


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 1400},
                                        locale="ar-JO")
    return await context.new_page()


@pytest.fixture
async def phone(browser: Browser) -> Page:
    context = await browser.new_context(viewport=PHONE, locale="ar-JO", is_mobile=True,
                                        has_touch=True, device_scale_factor=3)
    return await context.new_page()


async def overflow(page: Page, selector: str) -> list[str]:
    """What sticks out of the viewport, or out of `selector`'s own box, sideways."""
    found: list[str] = await page.evaluate("""(selector) => {
        const width = document.documentElement.clientWidth, out = [];
        const page = document.documentElement.scrollWidth;
        if (page > width) out.push(`page ${page}px`);
        for (const box of document.querySelectorAll(selector)) {
            if (box.scrollWidth > box.clientWidth) out.push(`${selector} scrolls`);
            for (const el of box.querySelectorAll("*")) {
                const r = el.getBoundingClientRect();
                if (r.width && (r.left < -0.5 || r.right > width + 0.5))
                    out.push(`${el.tagName}#${el.id}.${el.className} ${r.left}..${r.right}`);
            }
        }
        return out;
    }""", selector)
    return found


async def tile(page: Page, kpi: str) -> str:
    return await page.locator(f'.tile[data-kpi="{kpi}"] .value').inner_text()


async def test_the_dashboard_shows_the_api_numbers_and_follows_new_events(
    world: World, served: str, page: Page,
) -> None:
    await world.seed_directory()
    for index in range(6):
        reference = f"JO-{index}"
        await world.submit(reference, governorate="JO-IR" if index % 2 else "JO-AM")
        await world.publish(assigned(reference))
        if index < 3:
            await world.publish(responded(reference), closed(reference))
    await world.settled()
    minister = world.auth(Role.decision_maker)
    api = await world.kpis(minister)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(served) else None)

    token = minister["Authorization"].removeprefix("Bearer ")
    await page.goto(f"{served}/dashboard#token={token}")
    received = page.locator('.tile[data-kpi="received"]')
    await expect(received).to_have_attribute("data-raw", "6", timeout=FRESHNESS_MS)

    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"
    assert "token" not in page.url  # out of the address bar at once
    for kpi in ("received", "open", "closed"):
        assert await tile(page, kpi) == str(api[kpi])
    assert await tile(page, "resolved_pct") == f"{api['resolved_pct']:g}%"
    assert await page.locator('.gov[data-governorate="JO-IR"] strong').inner_text() == "3"
    font_loaded = await page.evaluate("document.fonts.check('16px \"Noto Sans Arabic\"')")
    assert font_loaded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-ar.png"), full_page=True)

    await page.evaluate("window.notReloaded = true")
    await world.submit("JO-NEW")
    await expect(received).to_have_attribute("data-raw", "7", timeout=FRESHNESS_MS)
    assert await page.evaluate("window.notReloaded === true")
    assert await tile(page, "received") == "7"

    await page.click("#language")
    assert await page.locator("html").get_attribute("dir") == "ltr"
    assert await page.locator('.tile[data-kpi="received"] .label').inner_text() == (
        "Requests received")
    await page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)
    assert outside == []  # no CDN: everything came from the project


async def test_without_a_token_the_page_asks_to_sign_in(served: str, page: Page) -> None:
    await page.goto(f"{served}/dashboard")
    notice = page.locator("#signin")
    await notice.wait_for(state="visible")
    assert "سجّل الدخول" in await notice.inner_text()
    assert await page.locator("#board").is_hidden()


async def test_a_minister_signs_in_and_the_board_outlives_the_access_token(
    world: World, served: str, page: Page,
) -> None:
    """Routing's sign-in and refresh (POST /api/v1/staff/auth/…) answered at the browser's edge:
    routing does not run in this test; its contract is docs/integration.md's."""
    await world.seed_directory()
    await world.submit("JO-1")
    await world.settled()
    refreshed: list[str] = []

    def pair(lifetime: timedelta, refresh: str) -> dict[str, object]:
        headers = world.auth(Role.minister, sectors=["MOH"], lifetime=lifetime)
        return {"access_token": headers["Authorization"].removeprefix("Bearer "),
                "token_type": "Bearer", "expires_in": int(lifetime.total_seconds()),
                "refresh_token": refresh, "refresh_expires_in": 86400,
                "person_id": str(uuid.uuid4())}

    async def sign_in(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        assert body == {"username": "minister.moh", "password": "correct horse"}
        await route.fulfill(json=pair(timedelta(minutes=1), "refresh-1"))

    async def refresh(route: Route) -> None:
        refreshed.append(json.loads(route.request.post_data or "{}")["refresh_token"])
        await route.fulfill(json=pair(timedelta(hours=1), "refresh-2"))

    await page.route("**/api/v1/staff/auth/token", sign_in)
    await page.route("**/api/v1/staff/auth/refresh", refresh)
    await page.goto(f"{served}/dashboard")
    await page.fill('input[name="username"]', "minister.moh")
    await page.fill('input[name="password"]', "correct horse")
    await page.click('#signin-form button[type="submit"]')
    received = page.locator('.tile[data-kpi="received"]')
    await expect(received).to_have_attribute("data-raw", "1", timeout=FRESHNESS_MS)

    world.wall_clock.advance(timedelta(minutes=2))  # the access token is spent
    await expect(page.locator("#live")).to_have_attribute("data-state", "live",
                                                          timeout=FRESHNESS_MS)
    await world.submit("JO-2")
    await expect(received).to_have_attribute("data-raw", "2", timeout=2 * FRESHNESS_MS)
    assert refreshed == ["refresh-1"]
    assert await page.locator("#signin").is_hidden()


async def _minister_board(world: World, page: Page, served: str) -> dict[str, Any]:
    await world.seed_directory()
    for index in range(3):
        await world.submit(f"JO-{index}")
        await world.publish(assigned(f"JO-{index}"))
    await world.publish(responded("JO-0"), closed("JO-0"))
    await world.settled()
    world.clock.advance(timedelta(days=3))  # the open ones are three days old
    minister = world.auth(Role.minister, sectors=["MOH"])
    board: dict[str, Any] = (await world.get("/api/v1/analytics/dashboard", minister)).json()
    token = minister["Authorization"].removeprefix("Bearer ")
    await page.goto(f"{served}/dashboard#token={token}")
    await expect(page.locator('.tile[data-kpi="received"]')).to_have_attribute(
        "data-raw", "3", timeout=FRESHNESS_MS)
    return board


async def test_every_tile_says_what_it_counts_on_hover_and_on_keyboard_focus(
    world: World, served: str, page: Page,
) -> None:
    board = await _minister_board(world, page, served)
    definitions = board["labels"]["definitions"]
    tiles = page.locator(".tile[data-kpi]")
    kpis = [await tiles.nth(i).get_attribute("data-kpi") for i in range(await tiles.count())]
    assert "breaches" in kpis  # missed deadlines have their own tile
    for kpi in kpis:
        assert kpi in definitions, kpi
        definition = page.locator(f'.tile[data-kpi="{kpi}"] .definition')
        assert await definition.is_hidden()
        assert await definition.text_content() == definitions[kpi]["ar"]
        assert await definition.get_attribute("role") == "tooltip"

    within = page.locator('.tile[data-kpi="within_deadline_pct"]')
    await within.hover()
    await expect(within.locator(".definition")).to_be_visible()
    assert "فاتت مدتها دون إجابة" in await within.locator(".definition").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-definition-ar.png"))
    await page.mouse.move(0, 0)
    await expect(within.locator(".definition")).to_be_hidden()

    # By keyboard alone: Tab from the top reaches the tiles, one after another.
    reached: list[str] = []
    for _ in range(len(kpis) + 3):
        await page.keyboard.press("Tab")
        kpi = await page.evaluate("document.activeElement.dataset.kpi || null")
        if kpi is None:
            continue
        reached.append(kpi)
        focused = page.locator(f'.tile[data-kpi="{kpi}"]')
        await expect(focused.locator(".definition")).to_be_visible()
        described = await focused.get_attribute("aria-describedby")
        assert described == await focused.locator(".definition").get_attribute("id")
    assert reached == kpis[:len(reached)]
    assert len(reached) >= len(kpis) - 2
    await page.keyboard.press("Escape")  # dismissible without moving the focus (WCAG 1.4.13)
    await expect(page.locator(f'.tile[data-kpi="{reached[-1]}"] .definition')).to_be_hidden()

    await page.click("#language")
    await within.hover()
    await expect(within.locator(".definition")).to_have_text(
        definitions["within_deadline_pct"]["en"])


async def test_a_minister_reads_their_ministry_by_name_with_arabic_plurals(
    world: World, served: str, page: Page,
) -> None:
    await _minister_board(world, page, served)
    assert await page.locator("#scope").inner_text() == "وزارة الصحة"
    assert await page.locator("#period").inner_text() == "آخر 30 يوماً"
    ages = page.locator("#oldest tbody tr td:nth-child(4)")
    assert await ages.all_inner_texts() == ["3 أيام", "3 أيام"]
    await page.click("#language")
    assert await page.locator("#scope").inner_text() == "Ministry of Health"
    assert await page.locator("#period").inner_text() == "The last 30 days"
    assert await ages.all_inner_texts() == ["3 days", "3 days"]


async def test_the_header_holds_at_phone_width_in_arabic_and_english(
    world: World, served: str, phone: Page,
) -> None:
    await _minister_board(world, phone, served)
    for language in ("ar", "en"):
        assert await phone.locator("html").get_attribute("lang") == language
        assert await overflow(phone, "header.bar") == [], language
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await phone.screenshot(path=str(ARTIFACTS / f"dashboard-phone-{language}.png"))
        if language == "ar":
            await phone.click("#language")


async def test_the_report_link_of_the_ministers_message_reads_well_on_a_phone(
    world: World, served: str, phone: Page,
) -> None:
    heard = await listen_for_reports(world)
    await world.seed_directory()
    for index in range(3):
        await world.submit(f"JO-{index}")
        await world.publish(assigned(f"JO-{index}"), responded(f"JO-{index}"))
    await world.settled()
    link = await link_to_the_weeks_report(world, heard)
    await phone.goto(f"{served}{link}")  # a phone with no staff session
    assert await phone.locator("html").get_attribute("dir") == "rtl"
    assert await phone.locator("h1").inner_text() == "التقرير الأسبوعي"
    assert await phone.locator(".audience").inner_text() == "وزارة الصحة"
    assert await phone.locator(".group h3").all_inner_texts() == ["مستشفى البشير"]
    font_loaded = await phone.evaluate("document.fonts.check('16px \"Noto Sans Arabic\"')")
    assert font_loaded
    assert await overflow(phone, "body") == []
    await phone.screenshot(path=str(ARTIFACTS / "report-phone-ar.png"), full_page=True)
    await phone.click("a.language")
    assert await phone.locator("html").get_attribute("dir") == "ltr"
    assert await phone.locator(".audience").inner_text() == "Ministry of Health"
    assert await overflow(phone, "body") == []
    await phone.screenshot(path=str(ARTIFACTS / "report-phone-en.png"), full_page=True)
