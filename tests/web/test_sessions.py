"""Signing in and out of the back office, and what protects a session: the cookie, CSRF, the
idle timeout, the page headers. Each rule as a person (or an attacker's browser) meets it."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from playwright.async_api import expect
from redis.asyncio import Redis

from services.web.config import WebSettings
from services.web.main import create_web_app
from services.web.platform import Caller
from services.web.sessions import KEY_PREFIX, OfficeSession, Person, open_store
from tests.platform import serve_http
from tests.ports import free_port
from tests.web.conftest import (
    DESK,
    PHONE,
    NewPage,
    Office,
    assert_accessible,
    cookie_header,
    get_with_session,
    sign_in,
)


async def test_an_officer_signs_in_in_arabic_and_lands_on_the_work_queue(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("ar")
    await page.goto(f"{office.url}/office/")
    await expect(page).to_have_url(f"{office.url}/office/sign-in?next=/office/&reason=expired")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("h1")).to_have_text("تسجيل الدخول")
    await assert_accessible(page)

    await sign_in(page, office, "mlo.moh")

    await expect(page).to_have_url(f"{office.url}/office/queue")
    await expect(page.locator("h1")).to_have_text("صندوق الطلبات")
    await expect(page.locator(".whoami")).to_contain_text("ضابط الارتباط الرئيسي")
    await assert_accessible(page)


async def test_a_wrong_password_is_said_in_english_and_keeps_the_username(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("en", PHONE)
    await sign_in(page, office, "mlo.moh", password="not-the-password")

    await expect(page.locator(".error-summary")).to_be_visible()
    await expect(page.locator(".error-summary")).to_be_focused()
    await expect(page.locator("#field-username")).to_have_value("mlo.moh")
    await expect(page.locator("#field-password")).to_have_value("")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await assert_accessible(page)


async def test_an_empty_form_names_each_missing_field(office: Office,
                                                      new_page: NewPage) -> None:
    page = await new_page("ar")
    await page.goto(f"{office.url}/office/sign-in")
    await page.locator("button[type=submit]").press("Enter")

    summary = page.locator(".error-summary")
    await expect(summary.locator("a[href='#field-username']")).to_have_text(
        "هذا الحقل مطلوب.")
    await expect(page.locator("#field-username")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#error-password")).to_be_visible()


async def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_office(
        office: Office, new_page: NewPage) -> None:
    page = await new_page()
    await sign_in(page, office, "slo.moh-hq")

    [cookie] = [c for c in await page.context.cookies() if c["name"] == "bkh_office"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/office/"
    # Tokens stay on the server: nothing the browser holds looks like a JWT.
    assert all(c["value"].count(".") < 2 for c in await page.context.cookies())


async def test_every_page_refuses_framing_and_inline_script(office: Office,
                                                            new_page: NewPage) -> None:
    page = await new_page()
    await sign_in(page, office, "mlo.moh")
    for path in ("/office/sign-in", "/office/queue", "/office/no-such-page"):
        answer = await get_with_session(office, page, path)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, path
        assert "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["cache-control"] == "no-store", path


async def test_a_form_posted_without_its_csrf_token_changes_nothing(
        office: Office, new_page: NewPage) -> None:
    page = await new_page()
    await sign_in(page, office, "mlo.moh")
    async with httpx.AsyncClient(base_url=office.url,
                                 headers=await cookie_header(page)) as forger:
        answer = await forger.post("/office/sign-out", data={"csrf_token": "guessed"})
    assert answer.status_code == 403

    await page.goto(f"{office.url}/office/queue")  # still signed in: the sign-out was refused
    await expect(page.locator("h1")).to_have_text("صندوق الطلبات")


async def test_sign_out_ends_the_session_here_and_at_the_platform(
        office: Office, new_page: NewPage) -> None:
    page = await new_page("en")
    await sign_in(page, office, "mlo.moh")
    await page.get_by_role("button", name="Sign out").press("Enter")

    await expect(page.locator(".notice")).to_have_text("You have signed out.")
    await page.goto(f"{office.url}/office/queue")
    await expect(page).to_have_url(
        f"{office.url}/office/sign-in?next=/office/queue&reason=expired")


async def test_an_expired_session_signs_in_again_and_returns_to_the_page(
        office: Office, new_page: NewPage) -> None:
    reference = await office.submit_paper_request()
    await office.placed(reference)
    page = await new_page("ar", DESK)
    await sign_in(page, office, "mlo.moh")
    # Off the queue first: its counters, polled every second, would meet the ended session too.
    await page.goto(f"{office.url}/office/requests/{reference}")
    # The session ends on the server, as after its idle timeout; the browser still sends it.
    web_session = next(c["value"] for c in await page.context.cookies()
                       if c["name"] == "bkh_office")
    await office.web.state.web.store.delete(web_session)

    await page.goto(f"{office.url}/office/requests/{reference}")
    await expect(page).to_have_url(
        f"{office.url}/office/sign-in?next=/office/requests/{reference}&reason=expired")
    await expect(page.locator(".notice")).to_contain_text("انتهت جلستك")
    await page.locator("#field-username").fill("mlo.moh")
    await page.locator("#field-password").fill("Bekhedmetkom-Demo-2030")
    await page.locator("#field-password").press("Enter")

    await expect(page).to_have_url(f"{office.url}/office/requests/{reference}")


async def test_the_language_switch_keeps_the_page(office: Office, new_page: NewPage) -> None:
    page = await new_page("ar")
    await sign_in(page, office, "mlo.moh")
    await page.get_by_role("link", name="Switch to English").press("Enter")

    await expect(page).to_have_url(f"{office.url}/office/queue")
    await expect(page.locator("html")).to_have_attribute("dir", "ltr")
    await expect(page.locator("h1")).to_have_text("Work queue")


async def test_a_cookie_set_on_one_persons_answer_never_goes_with_anothers_call() -> None:
    """The web app's one client to the gateway is shared by everyone signed in."""
    gateway = FastAPI()
    received: list[str | None] = []

    @gateway.get("/sets")
    async def sets() -> JSONResponse:
        answer = JSONResponse({})
        answer.set_cookie("sticky", "belongs-to-the-first-caller")
        return answer

    @gateway.get("/echo")
    async def echo(request: Request) -> JSONResponse:
        received.append(request.headers.get("cookie"))
        return JSONResponse({})

    async with serve_http(gateway) as url:
        web = create_web_app(WebSettings(environment="test", gateway_url=url))
        async with web.router.lifespan_context(web):
            platform = web.state.web.platform
            first, second = (Caller(None, "ar", "203.0.113.1"), Caller(None, "en", "203.0.113.2"))
            await platform.get(first, "/sets")
            await platform.get(second, "/echo")
    assert received == [None]


@pytest.mark.parametrize("away", ["refusing", "silent"])
async def test_a_session_store_that_is_away_is_a_503_page_to_try_again(away: str) -> None:
    """Redis refusing (stopped) or saying nothing (a node lost, its address unrouted): a page in
    the person's language that asks them to try again soon, not a crash or a page held for the
    operating system's minutes."""
    silent: list[asyncio.StreamWriter] = []

    async def say_nothing(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1] if away == "silent" else free_port()
    web = create_web_app(WebSettings(environment="test", gateway_url="http://127.0.0.1:9",
                                     session_store=f"redis://127.0.0.1:{port}/0"))
    try:
        async with (web.router.lifespan_context(web),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                      base_url="http://web") as browser,
                    asyncio.timeout(30)):  # a guard against hanging, not a speed measure
            for language, said in (("ar", "الخدمة غير متاحة الآن"),
                                   ("en", "The service is unavailable")):
                page = await browser.get("/office/queue", headers={
                    "Accept-Language": language, "Cookie": "bkh_office=some-session"})
                assert page.status_code == 503
                assert page.headers["retry-after"] == "5"
                assert said in page.text
    finally:
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_redis_keeps_a_session_under_a_digest_for_the_idle_timeout_from_its_last_use(
        redis_url: str) -> None:
    """The store every replica shares, on a real Redis: nothing in it names the cookie, and
    each use restarts the idle timeout."""
    idle = timedelta(minutes=20)
    store = open_store(f"{redis_url}/2", idle)
    raw = Redis.from_url(f"{redis_url}/2")
    session = OfficeSession(access_token="access", refresh_token="refresh", person=Person(
        id="p-1", username="mlo.moh", full_name="ضابط", role="main_liaison_officer",
        permissions=("cases.read",)))
    try:
        await store.save(session)
        keys = [key.decode() async for key in raw.scan_iter(match=f"{KEY_PREFIX}*", count=1000)]
        key = KEY_PREFIX + hashlib.sha256(session.id.encode()).hexdigest()
        assert key in keys
        assert not any(session.id in k for k in keys)

        await raw.expire(key, 5)
        loaded = await store.load(session.id)
        assert loaded is not None
        assert loaded.to_json() == session.to_json()
        assert await raw.ttl(key) > 5  # the use restarted it

        await store.delete(session.id)
        assert await store.load(session.id) is None
        assert await store.healthy()
    finally:
        await raw.delete(KEY_PREFIX + hashlib.sha256(session.id.encode()).hexdigest())
        await raw.aclose()
        await store.close()
