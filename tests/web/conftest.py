"""The back office as a person uses it: the whole platform on PostgreSQL and RabbitMQ, the web app
in front of its gateway on a real port, and Debian's Chromium driven by Playwright.

One platform per test module (demo staff seeded, as in the embedded mode); each test gets a new
browser context (no cookies carried over) in the language and at the width it asks for. Pages
are checked with axe-core (vendored in `tests/web/vendor/`) through `assert_accessible`.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from sqlalchemy import text

from gateway.embedded import StreamingASGITransport, pages_beside_api
from services.routing.directory.demo import DEMO_PASSWORD
from services.web.config import WebSettings
from services.web.main import create_web_app
from simulators.civil_registry import SimulatorSettings, create_simulator
from tests.platform import Platform, eventually, running_platform, serve_http

CHROMIUM = Path(os.environ.get("BKH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESK: ViewportSize = {"width": 1366, "height": 768}
TABLET: ViewportSize = {"width": 768, "height": 1024}
PHONE: ViewportSize = {"width": 390, "height": 844}
# The public pages are built for the smallest phones first (issue 20: 360 px).
SMALL_PHONE: ViewportSize = {"width": 360, "height": 740}


@dataclass
class Office:
    """The platform and the web app in front of it, at `url`."""

    platform: Platform
    web: FastAPI
    url: str
    # The tracking code of each request `submit_paper_request` keyed in, by its reference.
    tracking_codes: dict[str, str] = field(default_factory=dict)

    async def submit_paper_request(self, **fields: Any) -> str:
        """A paper request keyed in by the demo complaint-box clerk, through the API."""
        token = await self.api_token("complaint.box")
        body = {
            "kind": "complaint", "entity": "MOH-HQ", "subject": "تأخر صرف الدواء",
            "description": "ذهبت إلى المركز الصحي ثلاث مرات ولم يُصرف الدواء.",
            "governorate": "JO-AM", "city": "الزرقاء", "not_before_court": True,
            "confirm_despite_similar": True,
            "requester": {"full_name": "سارة أحمد", "phone": "+962791234567"}, **fields,
        }
        answer = await self.platform.client.post(
            "/api/v1/requests", json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
        assert answer.status_code == 201, answer.text
        reference: str = answer.json()["reference"]
        self.tracking_codes[reference] = answer.json()["tracking_code"]
        return reference

    async def api_token(self, username: str) -> str:
        answer = await self.platform.client.post(
            "/api/v1/staff/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def case(self, reference: str, username: str = "cmu.staff") -> dict[str, Any]:
        token = await self.api_token(username)
        answer = await self.platform.client.get(f"/api/v1/cases/{reference}",
                                                headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        case: dict[str, Any] = answer.json()
        return case

    async def placed(self, reference: str) -> dict[str, Any]:
        """The case once routing placed it with its entity and SLA set its first deadline."""

        async def ready() -> dict[str, Any]:
            case = await self.case(reference)
            assert case["status"] == "assigned", case
            assert case["due_at"], case
            return case

        return await eventually(ready)


def _chromium_or_skip() -> None:
    if CHROMIUM.exists() or shutil.which("chromium"):
        return
    message = "Chromium is missing: `make test` installs Debian's chromium package"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
async def office(postgres_url: str, amqp_url: str) -> AsyncIterator[Office]:
    _chromium_or_skip()
    # Every sign-in of these tests comes from one address: the per-address sign-in limit
    # (which the gateway tests prove) would otherwise stop the tenth. Intake asks the civil
    # registry's stand-in about callers, over HTTP.
    async with serve_http(create_simulator(SimulatorSettings()), lifespan="off") as registry_url, \
            running_platform(postgres_url, amqp_url,
                             # Tracking tries too: these tests poll the tracking API
                             # (tests/intake/test_tracking.py proves its limits).
                             overrides={"intake": {"civil_registry_url": registry_url,
                                                   "tracking_tries_per_reference": "10000/hour",
                                                   "tracking_tries_per_address": "10000/hour"}},
                             gateway_overrides={"rate_limit_routes": ()}) as platform:
        # The queue asks for its counters every second: a test sees new requests arrive.
        web = create_web_app(WebSettings(environment="test", gateway_url="http://gateway",
                                         queue_poll_s=1),
                             gateway_transport=StreamingASGITransport(platform.gateway))
        async with web.router.lifespan_context(web), \
                serve_http(pages_beside_api(web, platform.gateway), lifespan="off") as url:
            yield Office(platform, web, url)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class NewPage(Protocol):
    async def __call__(self, language: str = "ar", viewport: ViewportSize | None = None
                       ) -> Page: ...


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """`await new_page(language="ar", viewport=DESK)`: a page in a fresh context."""
    contexts = []

    async def make(language: str = "ar", viewport: ViewportSize | None = None) -> Page:
        context = await browser.new_context(
            viewport=viewport or DESK,
            locale="ar-JO" if language == "ar" else "en-GB",
            extra_http_headers={"Accept-Language": "ar" if language == "ar" else "en"})
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


async def sign_in(page: Page, office: Office, username: str, *,
                  password: str = DEMO_PASSWORD, next_path: str = "/office/") -> None:
    """Signs in by keyboard alone: type, Tab, type, Enter."""
    await page.goto(f"{office.url}/office/sign-in?next={next_path}")
    await page.locator("#field-username").focus()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def tab_to(page: Page, selector: str, *, limit: int = 200) -> None:
    """Press Tab until the element `selector` has the focus: proof it is reachable by keyboard
    (and a failure, naming it, when it is not)."""
    target = page.locator(selector)
    for _ in range(limit):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with the Tab key")


async def choose(page: Page, selector: str, value: str, *, limit: int = 200) -> None:
    """Pick `value` in the <select> `selector` by keyboard: Tab to it, then the arrow keys."""
    await tab_to(page, selector)
    select = page.locator(selector)
    for _ in range(limit):
        if await select.input_value() == value:
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"{value!r} is not among the choices of {selector}")


async def open_action(page: Page, action: str) -> None:
    """Unfold an action's form by keyboard (its <summary>: Tab, Enter)."""
    await tab_to(page, f"#action-{action} > summary")
    await page.keyboard.press("Enter")


async def submit_by_keyboard(page: Page, selector: str) -> None:
    """Tab to a submit button and press Enter; wait for the page that answers."""
    await tab_to(page, selector)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation (WCAG 2.1 AA rules) on the page."""
    # evaluate() runs through the DevTools protocol, outside the page's CSP: axe is never
    # served by the app itself.
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(
        [{"id": v["id"], "impact": v["impact"], "help": v["help"],
          "nodes": [n["target"] for n in v["nodes"][:5]]} for v in serious],
        ensure_ascii=False, indent=1)


async def assert_fits_the_width(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling, however narrow the phone."""
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"), page.url


async def cookie_header(page: Page) -> dict[str, str]:
    """The browser's cookies, as a header another client can send."""
    cookies = await page.context.cookies()
    return {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)}


async def get_with_session(office: Office, page: Page, path: str) -> httpx.Response:
    """The page's own cookies, on a plain HTTP request (for headers and status codes)."""
    async with httpx.AsyncClient(base_url=office.url,
                                 headers=await cookie_header(page)) as client:
        return await client.get(path)


async def type_into(page: Page, selector: str, text: str) -> None:
    """Tab to a field and type into it, as a person at a keyboard does."""
    await tab_to(page, selector)
    await page.keyboard.type(text)


async def rows_in(office: Office, service: str, table: str) -> int:
    """How many rows a service's table holds (proof that a refused form stored nothing)."""
    async with office.platform.runtime(service).sessionmaker() as session:
        counted = await session.scalar(text(f"SELECT count(*) FROM {table}"))
    return int(counted or 0)
