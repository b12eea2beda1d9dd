"""Chasing an overdue request (تذكير): only once a deadline promised to the requester has
passed, once per working day, with a note; by the app or by reference and tracking code."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.auth import Role
from shared.events.catalog import SlaDeadlineSet
from tests.intake.conftest import SUNDAY_MORNING, Broker, IntakeUnderTest
from tests.intake.factories import key
from tests.intake.test_requester_view import seeded, submitted, view
from tests.intake.test_submissions import REQUESTS, complaint
from tests.intake.test_tracking import PAPER, track
from tests.platform import eventually

AMMAN_OFFSET = "+03:00"


def amman(at: datetime) -> str:
    return (at + timedelta(hours=3)).replace(tzinfo=None).isoformat() + AMMAN_OFFSET


async def promised(intake: IntakeUnderTest, broker: Broker, reference: str, due: datetime,
                   me: dict[str, str] | None = None) -> None:
    """SLA announces the first answer's deadline on the requester's clock."""
    await broker.publish(SlaDeadlineSet(reference=reference, clock="requester", entity=None,
                                        stage="first_response", due_at=due), producer="sla")

    async def known() -> None:
        assert await intake.count("deadlines") >= 1

    await eventually(known)


async def chase(intake: IntakeUnderTest, me: dict[str, str], reference: str,
                language: str = "ar", **body: Any) -> Any:
    return await intake.client.post(f"{REQUESTS}/{reference}/chase", json=body,
                                    headers={**me, **key(), "Accept-Language": language})


async def a_citizens_request(intake: IntakeUnderTest, broker: Broker
                             ) -> tuple[dict[str, str], str]:
    """A citizen's complaint to a known entity: their headers and its reference."""
    await seeded(intake, broker)
    me = intake.auth(Role.citizen)
    return me, await submitted(intake, me)


async def test_a_requester_chases_a_late_answer_once_a_working_day(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    me, ref = await a_citizens_request(intake, broker)
    due = SUNDAY_MORNING + timedelta(hours=2)  # Sunday 12:00 in Amman
    await promised(intake, broker, ref, due)

    early = await chase(intake, me, ref)
    assert early.status_code == 409, early.json()
    assert early.headers["content-type"] == "application/problem+json"
    assert (early.json()["reason"], early.json()["opens_at"]) == ("not_yet", amman(due))
    assert "لم يحن موعد الرد الموعود بعد" in early.json()["detail"]
    assert (await view(intake, me, ref))["chasing"] == {
        "open": False, "opens_at": amman(due), "next_at": None}
    assert await intake.events("request.chased") == []

    intake.clock.advance(timedelta(hours=3))
    assert (await view(intake, me, ref))["chasing"]["open"] is True
    first = await chase(intake, me, ref, note="مضى الموعد ولم يصلني رد")
    assert first.status_code == 201, first.json()
    monday = amman(datetime(2030, 3, 3, 21, 0, tzinfo=SUNDAY_MORNING.tzinfo))  # 00:00 Amman
    assert (first.json()["chase"], first.json()["next_at"]) == (1, monday)
    (event,) = await intake.events("request.chased")
    assert event | {"due_at": None} == {
        "reference": ref, "entity": "MOH-HOSP", "sector": "MOH", "stage": "first_response",
        "due_at": None, "note": "مضى الموعد ولم يصلني رد", "chase": 1}
    steps = [s["step"] for s in (await view(intake, me, ref))["timeline"]]
    assert steps[-1] == "request.chased"

    again = await chase(intake, me, ref, "en")
    assert again.status_code == 409
    assert (again.json()["reason"], again.json()["next_at"]) == ("chased_today", monday)
    assert "next working day" in again.json()["detail"]
    assert (await view(intake, me, ref))["chasing"] == {
        "open": False, "opens_at": None, "next_at": monday}

    intake.clock.advance(timedelta(days=1))  # Monday
    second = await chase(intake, me, ref)
    assert (second.status_code, second.json()["chase"]) == (201, 2)
    intake.clock.advance(timedelta(days=3))  # Thursday: the next working day is Sunday
    third = await chase(intake, me, ref)
    sunday = amman(datetime(2030, 3, 9, 21, 0, tzinfo=SUNDAY_MORNING.tzinfo))
    assert (third.status_code, third.json()["next_at"]) == (201, sunday)
    assert [e["chase"] for e in await intake.events("request.chased")] == [1, 2, 3]


async def test_a_request_with_nothing_promised_awaited_cannot_be_chased(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    me, ref = await a_citizens_request(intake, broker)
    refused = await chase(intake, me, ref, "en")
    assert (refused.status_code, refused.json()["reason"]) == (409, "nothing_due")
    someone_else = await chase(intake, intake.auth(Role.citizen), ref)
    assert someone_else.status_code == 404
    marked_up = await chase(intake, me, ref, note="\u202eمقلوب")
    assert marked_up.status_code == 422
    assert await intake.events("request.chased") == []


async def test_a_paper_requester_chases_by_reference_and_tracking_code(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    await seeded(intake, broker)
    clerk = intake.auth(Role.complaint_box_clerk, str(uuid.uuid4()))
    receipt = (await intake.client.post(REQUESTS, json=complaint(requester=PAPER),
                                        headers={**clerk, **key()})).json()
    ref, code = receipt["reference"], receipt["tracking_code"]
    await promised(intake, broker, ref, SUNDAY_MORNING + timedelta(hours=1))
    intake.clock.advance(timedelta(hours=2))
    assert (await track(intake, ref, code)).json()["chasing"]["open"] is True

    wrong = await intake.client.post("/api/v1/tracking/chase", headers=key(),
                                     json={"reference": ref, "code": "22222-22222"})
    assert wrong.status_code == 404
    chased = await intake.client.post("/api/v1/tracking/chase", headers=key(),
                                      json={"reference": ref, "code": code.lower()})
    assert (chased.status_code, chased.json()["chase"]) == (201, 1)
    assert chased.json()["told"]["en"].startswith("The officer handling your request")
    (event,) = await intake.events("request.chased")
    assert (event["reference"], event["note"]) == (ref, None)
