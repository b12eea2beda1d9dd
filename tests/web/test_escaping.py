"""Whatever a person types, every page shows as text: markup and script in every field of a
request and of every action on it, read back on every page that shows them."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from tests.platform import eventually
from tests.web.conftest import DESK, NewPage, Office, sign_in

# Markup that would run, or change the page, if any template printed it unescaped.
SCRIPT = "<script>window.hacked = 1</script>"
IMAGE = '<img src=x onerror="window.hacked = 2">'
MARKUP = f"{SCRIPT}{IMAGE}<b>bold</b>"


async def _shows_it_as_text(page: Page, marker: str) -> None:
    """The marker's markup is on the page as text, and nothing of it ran or became an element."""
    await expect(page.locator("body")).to_contain_text(f"{marker} {SCRIPT}")
    assert await page.evaluate("() => window.hacked === undefined")
    assert await page.locator("main b").count() == 0
    assert await page.locator("main img[src='x']").count() == 0


async def test_markup_in_every_field_of_a_request_and_its_actions_is_shown_as_text(
        office: Office, new_page: NewPage) -> None:
    word = uuid.uuid4().hex[:8]
    fields = {name: f"{name}-{word} {MARKUP}"
              for name in ("subject", "description", "city")}
    reference = await office.submit_paper_request(**fields)
    await office.placed(reference)
    officer = {"Authorization": f"Bearer {await office.api_token('mlo.moh')}"}
    client = office.platform.client

    async def act(action: str, body: dict[str, object]) -> None:
        answer = await client.post(f"/api/v1/requests/{reference}/{action}", json=body,
                                   headers={**officer, "Idempotency-Key": str(uuid.uuid4())})
        assert answer.is_success, answer.text

    await act("accept", {"classification": "complaint.service_delay",
                         "processing_working_days": 5})
    await act("extend", {"added_working_days": 1, "reason": f"reason-{word} {MARKUP}"})
    await act("comment", {"text": f"comment-{word} {MARKUP}"})
    await act("respond", {"actions_taken": f"actions-{word} {MARKUP}",
                          "solution": f"solution-{word} {MARKUP}"})

    page = await new_page("ar", DESK)
    await sign_in(page, office, "cmu.staff", next_path=f"/office/requests/{reference}")
    for marker in ("subject", "description", "city", "reason", "comment", "actions",
                   "solution"):
        await _shows_it_as_text(page, f"{marker}-{word}")
    await expect(page).to_have_title(f"{reference} · subject-{word} {MARKUP} — بخدمتكم")

    await page.goto(f"{office.url}/office/search?q={word}")
    await _shows_it_as_text(page, f"subject-{word}")

    # The public tracking page, where the requester reads the answer (once intake has it).
    code = office.tracking_codes[reference]

    async def answered() -> None:
        tracked = await client.post("/api/v1/tracking",
                                    json={"reference": reference, "code": code})
        assert tracked.json()["solution"], tracked.text

    await eventually(answered)
    public = await new_page("ar", DESK)
    await public.goto(f"{office.url}/track")
    await public.fill("#field-reference", reference)
    await public.fill("#field-code", code)
    async with public.expect_navigation():
        await public.locator("form[action='/track'] button[type=submit]").click()
    for marker in ("subject", "actions", "solution"):
        await _shows_it_as_text(public, f"{marker}-{word}")
    await expect(public).to_have_title(f"تتبّع طلبك {reference} — بخدمتكم")

    other = await new_page("en", DESK)
    await sign_in(other, office, "mlo.moh", next_path="/office/queue?status=responded")

    async def listed() -> None:
        await other.reload()
        await _shows_it_as_text(other, f"subject-{word}")

    await eventually(listed)
