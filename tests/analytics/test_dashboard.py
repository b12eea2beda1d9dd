"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): it loads from the
project alone, reads right to left, shows the numbers the API gives, and changes a tile when an
event arrives, without a reload. Screenshots go to var/test-artifacts/ (ignored by git)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, Route, async_playwright, expect

from shared.events.vocabulary import Role
from shared.settings import VAR_DIR
from tests.analytics.conftest import World
from tests.analytics.test_projection import assigned, closed, responded
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


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1440, "height": 1400},
                                                locale="ar-JO")
            yield await context.new_page()
        finally:
            await browser.close()


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
