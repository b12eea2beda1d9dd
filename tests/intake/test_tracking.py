"""Tracking without an account: a paper requester follows their request by its reference and
the tracking code on their receipt; guessing a code gets nowhere."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from services.intake import tracking
from shared.auth import Role
from shared.events.catalog import RequestResponded
from tests.intake.conftest import Broker, IntakeUnderTest, intake_app, seed_directory, sunday_clock
from tests.intake.factories import key
from tests.intake.test_requester_view import seeded
from tests.intake.test_submissions import REQUESTS, complaint
from tests.platform import eventually

TRACKING = "/api/v1/tracking"
PAPER = {"full_name": "خالد عبد الرحمن الزعبي", "phone": "0777123456"}
CODE = re.compile(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}")


async def paper_request(intake: IntakeUnderTest, **changes: Any) -> dict[str, Any]:
    """A complaint-box clerk keys in a paper form: its receipt."""
    clerk = intake.auth(Role.complaint_box_clerk, str(uuid.uuid4()))
    response = await intake.client.post(REQUESTS, json=complaint(requester=PAPER, **changes),
                                        headers={**clerk, **key()})
    assert response.status_code == 201, response.json()
    receipt: dict[str, Any] = response.json()
    return receipt


async def track(intake: IntakeUnderTest, reference: str, code: str,
                language: str = "en") -> Any:
    return await intake.client.post(TRACKING, json={"reference": reference, "code": code},
                                    headers={"Accept-Language": language})


async def test_a_paper_requester_follows_their_request_by_reference_and_tracking_code(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    await seeded(intake, broker)
    receipt = await paper_request(intake)
    code, reference = receipt["tracking_code"], receipt["reference"]
    assert CODE.fullmatch(code)
    (event,) = await intake.events("request.submitted")
    assert event["tracking_code"] == code  # for notify's acknowledgement
    async with intake.runtime.sessionmaker() as session:
        kept = (await session.execute(text(
            "SELECT tracking_digest FROM requests WHERE reference = :r"), {"r": reference})
        ).scalar_one()
    assert kept == tracking.digest(code)
    assert code not in kept

    # As typed from paper: any case, without the dash, in Arabic-Indic digits.
    typed = code.replace("-", " ").lower().translate(str.maketrans("23456789", "٢٣٤٥٦٧٨٩"))
    opened = await track(intake, reference, typed)
    assert opened.status_code == 200, opened.json()
    shown = opened.json()
    assert shown["status"]["label"] == {"ar": "تم استلام الطلب", "en": "Received"}
    assert shown["subject"] == complaint()["subject"]
    # Where it stands, never who sent it, from where, or what they wrote.
    assert not {"description", "governorate", "city", "attachment_ids", "channel",
                "rating"} & shown.keys()
    assert PAPER["phone"][1:] not in opened.text
    assert PAPER["full_name"] not in opened.text

    await broker.publish(RequestResponded(reference=reference, actions_taken="أُصلح الخط",
                                          solution="عادت المياه", actor_id=uuid.uuid4()))

    async def answered() -> None:
        now = (await track(intake, reference, code)).json()
        assert now["status"]["code"] == "responded"
        assert now["solution"] == "عادت المياه"

    await eventually(answered)


async def test_a_wrong_code_answers_exactly_as_an_unknown_reference(
    intake: IntakeUnderTest,
) -> None:
    await seed_directory(intake)
    receipt = await paper_request(intake, entity="PM-GAM")
    reference = receipt["reference"]
    wrong = await track(intake, reference, "22222-22222", "ar")
    unknown = await track(intake, reference[:-1] + ("1" if reference[-1] != "1" else "2"),
                          receipt["tracking_code"], "ar")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"].startswith("لا يوجد طلب بهذا الرقم وهذا الرمز")
    nonsense = await track(intake, "not a reference", "22222-22222", "ar")
    assert nonsense.json() == wrong.json()

    # A request from before codes existed has none: no typed text opens it.
    async with intake.runtime.sessionmaker() as session, session.begin():
        await session.execute(text(
            "UPDATE requests SET tracking_digest = NULL WHERE reference = :r"), {"r": reference})
    for typed in (receipt["tracking_code"], "no request has this digest", ""):
        assert (await track(intake, reference, typed or "x")).status_code == 404


async def test_the_receipt_of_a_repeated_submission_carries_the_same_code(
    intake: IntakeUnderTest,
) -> None:
    await seed_directory(intake)
    clerk = intake.auth(Role.complaint_box_clerk, str(uuid.uuid4()))
    once = {**clerk, **key()}
    first = await intake.client.post(REQUESTS, json=complaint(entity="PM-GAM", requester=PAPER),
                                     headers=once)
    again = await intake.client.post(REQUESTS, json=complaint(entity="PM-GAM", requester=PAPER),
                                     headers=once)
    assert first.status_code == again.status_code == 201
    assert first.json()["tracking_code"] == again.json()["tracking_code"]
    assert (await track(intake, first.json()["reference"],
                        first.json()["tracking_code"])).status_code == 200


@pytest.fixture
async def strict_intake(postgres_url: str, pg_schema: str, registry_url: str
                        ) -> AsyncIterator[IntakeUnderTest]:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          tracking_tries_per_reference="3/hour",
                          tracking_tries_per_address="5/hour") as service:
        await seed_directory(service)
        yield service


async def test_tries_are_limited_per_reference_then_per_address(
    strict_intake: IntakeUnderTest,
) -> None:
    intake = strict_intake
    first, second = [await paper_request(intake, entity="PM-GAM", subject=subject)
                     for subject in ("انقطاع المياه في الحي منذ أسبوع",
                                     "حفرة خطيرة في الشارع الرئيسي")]
    tries = [await track(intake, first["reference"], "22222-22222", "ar") for _ in range(3)]
    assert [t.status_code for t in tries] == [404, 404, 404]
    refused = await track(intake, first["reference"], first["tracking_code"], "ar")
    assert refused.status_code == 429  # even the right code, once the reference's tries are spent
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "محاولات كثيرة" in refused.json()["detail"]

    # The address has two tries left of its five (the refused one counted nothing).
    again = [await track(intake, second["reference"], second["tracking_code"]) for _ in range(3)]
    assert [t.status_code for t in again] == [200, 200, 429]


async def test_a_query_without_a_code_is_a_problem_naming_the_field(
    intake: IntakeUnderTest,
) -> None:
    response = await intake.client.post(TRACKING, json={"reference": "2026-000001"},
                                        headers={"Accept-Language": "ar"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["body.code"]
