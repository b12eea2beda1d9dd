"""The regulation's time promises, lived through by the whole platform in simulated working days.

Every service runs on PostgreSQL and RabbitMQ behind the gateway; notify speaks to a real SMTP
server and to the SMS gateway simulator over HTTP. A citizen submits through intake, routing
places the request with the sector's main liaison officer, SLA keeps its deadlines, and an
operator moves the one simulated clock through the week of 5 September 2027 (no holidays).
Who heard what is read from notify's delivery log (by the CMU) and from the SMS gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.routing.directory.demo import DEMO_PASSWORD, demo_person_id
from services.sla.repository import next_due
from shared.calendar import AMMAN
from shared.clock import WALL_CLOCK, SimulatedClock
from shared.events.vocabulary import Role
from simulators.sms_gateway import SimulatedSmsGateway
from tests.e2e.conftest import whole_platform
from tests.notify.conftest import SmtpServer
from tests.platform import Platform, eventually

ENTITY, SECTOR = "PM-GAM", "PM"
HEAD, MINISTER, OFFICER = "head.pm-gam", "minister.pm", "mlo.pm"
ESCALATED = "official.escalated"


def amman(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=AMMAN)


class Week:
    """The platform, and the people and tools a test of the week needs."""

    def __init__(self, platform: Platform, sms: SimulatedSmsGateway) -> None:
        self.platform = platform
        self.sms = sms
        self._tokens: dict[str, tuple[datetime, dict[str, str]]] = {}

    @property
    def client(self) -> Any:
        return self.platform.client

    async def move_clock_to(self, at: datetime) -> None:
        moved = await self.client.post("/api/v1/ops/clock/advance",
                                       json={"to": at.isoformat()},
                                       headers=self.platform.auth(Role.operator))
        assert moved.status_code == 200, moved.text
        assert set(moved.json()["services"].values()) == {"ok"}

    async def sign_in(self, username: str) -> dict[str, str]:
        """Staff tokens live ten minutes of real time, whatever the simulated clock says: sign
        in again when the one held is older than five (sign-ins are rate-limited, like any
        attacker's target)."""
        now = WALL_CLOCK.now()
        held = self._tokens.get(username)
        if held is not None and now - held[0] < timedelta(minutes=5):
            return held[1]
        response = await self.client.post("/api/v1/staff/auth/token",
                                          json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self._tokens[username] = (now, headers)
        return headers

    async def submit(self, kind: str = "complaint") -> str:
        body = {"kind": kind, "entity": ENTITY, "subject": "حفرة في الشارع",
                "description": "حفرة عميقة في الشارع أمام المدرسة منذ أسبوعين.",
                "governorate": "JO-AM", "channel": "mobile_app", "not_before_court": True}
        response = await self.client.post(
            "/api/v1/requests", json=body,
            headers={**self.platform.auth(Role.citizen), "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, response.text  # eventually: AssertionError
        reference: str = response.json()["reference"]
        return reference

    async def deadlines(self, reference: str) -> list[dict[str, Any]]:
        """SLA's deadlines for the request, once the officer holds it and SLA knows."""
        async def known() -> list[dict[str, Any]]:
            shown = await self.client.get(f"/api/v1/sla/requests/{reference}/deadlines",
                                          headers=await self.sign_in("cmu.staff"))
            assert shown.status_code == 200, shown.text
            timers: list[dict[str, Any]] = shown.json()["timers"]
            assert timers, "no deadline yet"
            return timers

        return await eventually(known, timeout_s=30)

    async def act(self, reference: str, action: str, body: dict[str, Any]) -> None:
        response = await self.client.post(f"/api/v1/requests/{reference}/{action}", json=body,
                                          headers=await self.sign_in(OFFICER))
        assert response.status_code == 200, response.text

    async def escalations_to(self, username: str, reference: str) -> list[dict[str, Any]]:
        log = await self.client.get("/api/v1/notifications", params={
            "reference": reference, "recipient_id": str(demo_person_id(username))},
            headers=await self.sign_in("cmu.staff"))
        assert log.status_code == 200, log.text
        return [m for m in log.json()["items"] if m["template"] == ESCALATED]

    async def until_told(self, username: str, reference: str) -> list[dict[str, Any]]:
        async def told() -> list[dict[str, Any]]:
            messages = await self.escalations_to(username, reference)
            assert any(m["status"] in ("submitted", "delivered") for m in messages), messages
            return messages

        return await eventually(told, timeout_s=30)

    async def until_escalation_stands_down(self, reference: str, state: str, *,
                                           stage: str = "first_response") -> None:
        """Wait until SLA has paused or cancelled the request's escalation at `stage`."""
        async def stood_down() -> None:
            timers = {(t["stage"], t["escalation_level"]): t
                      for t in await self.deadlines(reference)}
            # Not there yet when SLA has not heard of the acceptance that starts processing.
            assert timers.get((stage, 1), {}).get("state") == state, timers

        await eventually(stood_down, timeout_s=30)

    async def status(self, reference: str) -> str:
        shown = await self.client.get(f"/api/v1/cases/{reference}",
                                      headers=await self.sign_in("cmu.staff"))
        assert shown.status_code == 200, shown.text
        status: str = shown.json()["status"]
        return status

    async def settled(self) -> None:
        """Let the platform catch up after a jump of the clock (the timers due by now fired and
        their notices were handed over)."""
        sla = self.platform.runtime("sla")

        async def fired() -> None:
            async with sla.sessionmaker() as session:
                due = await next_due(session)
            assert due is None or due > self.platform.clock.now()

        await eventually(fired, timeout_s=30)


@pytest.fixture
async def week(postgres_url: str, amqp_url: str, smtp_server: SmtpServer
               ) -> AsyncIterator[Week]:
    clock = SimulatedClock()
    clock.set(amman(9, 5, 8, 30))  # Sunday morning
    async with whole_platform(postgres_url, amqp_url, smtp_server, clock) as world:
        week = Week(world.platform, world.sms)
        # Routing seeds the directory and announces it; intake takes requests for the entity
        # once it has heard (a first request is the probe).
        await eventually(week.submit, timeout_s=60)
        yield week


async def test_silence_reaches_the_entity_head_after_a_working_day_and_the_minister_after_two(
    week: Week,
) -> None:
    await week.move_clock_to(amman(9, 5, 9))
    reference = await week.submit()
    await week.deadlines(reference)

    await week.move_clock_to(amman(9, 6, 8, 50))
    await week.settled()
    assert await week.escalations_to(HEAD, reference) == []

    await week.move_clock_to(amman(9, 6, 9, 10))
    await week.until_told(HEAD, reference)
    assert await week.escalations_to(MINISTER, reference) == []
    assert any(reference in sms.text for sms in week.sms.sent)

    await week.move_clock_to(amman(9, 7, 9, 10))
    await week.until_told(MINISTER, reference)
    assert len(await week.escalations_to(HEAD, reference)) >= 1  # and only level 1 went there


async def test_a_thursday_afternoon_submission_escalates_on_sunday_not_friday(
    week: Week,
) -> None:
    await week.move_clock_to(amman(9, 9, 14))
    reference = await week.submit()
    await week.deadlines(reference)

    await week.move_clock_to(amman(9, 11, 20))  # Saturday evening: no working time passed
    await week.settled()
    assert await week.escalations_to(HEAD, reference) == []

    await week.move_clock_to(amman(9, 12, 14, 30))  # Sunday afternoon
    await week.until_told(HEAD, reference)


async def test_a_paused_request_and_an_answered_one_do_not_escalate(week: Week) -> None:
    await week.move_clock_to(amman(9, 5, 9))
    paused, answered = await week.submit(), await week.submit(kind="inquiry")
    await week.deadlines(paused)
    await week.deadlines(answered)
    await week.move_clock_to(amman(9, 5, 10))
    await week.act(paused, "ask-info", {"question": "أي مدرسة تقصد بالضبط؟"})
    await week.act(answered, "accept", {"classification": "inquiry.general"})
    await week.act(answered, "respond", {"actions_taken": "راجعنا الطلب",
                                         "solution": "الجواب في الرد المرفق"})
    # SLA hears of the question and of the answer by events; time moves only once it has,
    # as it would in life, where events take milliseconds and a working day takes a day.
    await week.until_escalation_stands_down(paused, "paused")
    # Acceptance alone stands the first response down; the answer stands processing down.
    await week.until_escalation_stands_down(answered, "cancelled", stage="processing")

    await week.move_clock_to(amman(9, 8, 10))  # three working days later
    await week.settled()
    for reference in (paused, answered):
        assert await week.escalations_to(HEAD, reference) == []
        assert await week.escalations_to(MINISTER, reference) == []
    paused_timers = {(t["stage"], t["escalation_level"]): t
                     for t in await week.deadlines(paused)}
    assert paused_timers[("first_response", 1)]["state"] == "paused"


async def test_no_rating_within_a_working_day_of_the_response_closes_the_request(
    week: Week,
) -> None:
    await week.move_clock_to(amman(9, 5, 9))
    reference = await week.submit(kind="inquiry")
    await week.deadlines(reference)
    await week.act(reference, "accept", {"classification": "inquiry.general"})
    await week.act(reference, "respond", {"actions_taken": "راجعنا الطلب",
                                          "solution": "الجواب في الرد المرفق"})
    assert await week.status(reference) == "responded"

    await week.move_clock_to(amman(9, 6, 8, 59))
    await week.settled()
    assert await week.status(reference) == "responded"

    await week.move_clock_to(amman(9, 6, 9, 30))

    async def closed() -> None:
        assert await week.status(reference) == "closed"

    await eventually(closed, timeout_s=30)
