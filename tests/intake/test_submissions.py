"""Submitting: every channel, every kind but reports, a reference number and deadlines at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.intake.references import parse_reference
from shared.auth import Role
from tests.intake.conftest import IntakeUnderTest, seed_directory
from tests.intake.factories import key

REQUESTS = "/api/v1/requests"


def complaint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "entity": "MOH-HOSP",
        "subject": "تأخر المواعيد في العيادات الخارجية",
        "description": "انتظرت أكثر من ثلاث ساعات في العيادة الخارجية رغم وجود موعد مسبق.",
        "governorate": "JO-AM",
        "city": "عمّان",
        "channel": "mobile_app",
        "not_before_court": True,
    }
    body.update(overrides)
    return body


def to_minute(shown: str) -> datetime:
    """An instant as shown, to the minute (the simulated clock keeps ticking in real time)."""
    return datetime.fromisoformat(shown).replace(second=0, microsecond=0)


@pytest.fixture
async def directory(intake: IntakeUnderTest) -> IntakeUnderTest:
    await seed_directory(intake)
    return intake


async def submit(intake: IntakeUnderTest, body: dict[str, Any],
                 headers: dict[str, str]) -> Any:
    return await intake.client.post(REQUESTS, json=body, headers={**headers, **key()})


async def test_a_citizen_gets_a_reference_number_status_and_deadlines_at_once(
    directory: IntakeUnderTest,
) -> None:
    citizen = str(uuid.uuid4())
    response = await submit(directory, complaint(), directory.auth(Role.citizen, citizen))
    assert response.status_code == 201, response.json()
    receipt = response.json()
    assert parse_reference(receipt["reference"]) == receipt["reference"]
    assert receipt["reference"].startswith("2030-")
    assert receipt["status"] == {"code": "received",
                                 "label": {"ar": "تم استلام الطلب", "en": "Received"}}
    # Received Sunday 10:00 in Amman: the first response is due Monday 10:00.
    (first_response,) = receipt["deadlines"]
    assert first_response["stage"] == "first_response"
    assert first_response["provisional"] is True
    assert to_minute(first_response["due_at"]) == datetime(2030, 3, 4, 7, 0, tzinfo=UTC)
    assert first_response["due_at"].endswith("+03:00")  # shown in Amman time
    (submitted,) = await directory.events("request.submitted")
    assert submitted["reference"] == receipt["reference"]
    assert submitted["entity"] == "MOH-HOSP"
    assert submitted["sector"] == "MOH"
    assert submitted["requester_id"] == citizen
    assert submitted["submitted_by"] is None
    assert submitted["channel"] == "mobile_app"


async def test_the_submitted_event_carries_the_place_the_requester_gives(
    directory: IntakeUnderTest,
) -> None:
    """Analytics reports by governorate and city learn both from `request.submitted` alone."""
    response = await submit(directory, complaint(governorate="JO-IR", city="إربد"),
                            directory.auth(Role.citizen))
    assert response.status_code == 201, response.json()
    (submitted,) = await directory.events("request.submitted")
    assert (submitted["governorate"], submitted["city"]) == ("JO-IR", "إربد")


async def test_an_inquiry_also_shows_its_two_working_day_answer_deadline(
    directory: IntakeUnderTest,
) -> None:
    directory.clock.set(datetime(2030, 3, 7, 11, 0, tzinfo=UTC))  # Thursday 14:00 in Amman
    response = await submit(directory, complaint(kind="inquiry"), directory.auth(Role.citizen))
    due = {d["stage"]: to_minute(d["due_at"]) for d in response.json()["deadlines"]}
    # The weekend does not count: Sunday 14:00, then Monday 14:00.
    assert due["first_response"] == datetime(2030, 3, 10, 11, 0, tzinfo=UTC)
    assert due["processing"] == datetime(2030, 3, 11, 11, 0, tzinfo=UTC)


async def test_without_an_entity_the_request_goes_to_triage(directory: IntakeUnderTest) -> None:
    response = await submit(directory, complaint(entity=None), directory.auth(Role.citizen))
    assert response.status_code == 201
    (submitted,) = await directory.events("request.submitted")
    assert submitted["entity"] is None
    assert submitted["sector"] is None


@pytest.mark.parametrize("entity", ["MOH-NOWHERE", "PM-OLD"])
async def test_an_unknown_or_retired_entity_is_refused_and_nothing_is_stored(
    directory: IntakeUnderTest, entity: str
) -> None:
    response = await submit(directory, complaint(entity=entity), directory.auth(Role.citizen))
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/unknown-entity"
    assert await directory.count("requests") == 0
    assert await directory.events("request.submitted") == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"not_before_court": False}, "declaration_required"),
        ({"governorate": "JO-XX"}, "unknown_governorate"),
        ({"kind": "report"}, "literal_error"),
        ({"subject": "س" * 201}, "string_too_long"),
        ({"description": "قصير"}, "string_too_short"),
        ({"description": "نص فيه \u202e عكس الاتجاه ومخفي"}, "text_characters"),
        ({"latitude": 48.85, "longitude": 2.35}, "less_than_equal"),
        ({"latitude": 31.95}, "coordinates_pair"),
        ({"channel": "call_center"}, "channel_not_for_citizens"),
        ({"entity": "moh hosp"}, "string_pattern_mismatch"),
    ],
)
async def test_bad_submissions_are_refused_and_nothing_is_stored(
    directory: IntakeUnderTest, change: dict[str, Any], code: str
) -> None:
    response = await submit(directory, complaint(**change), directory.auth(Role.citizen))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert any(error["code"] == code for error in response.json()["errors"]), response.json()
    assert await directory.count("requests") == 0


async def test_the_same_key_and_body_is_one_request_and_another_body_is_refused(
    directory: IntakeUnderTest,
) -> None:
    headers = {**directory.auth(Role.citizen), **key()}
    first = await directory.client.post(REQUESTS, json=complaint(), headers=headers)
    again = await directory.client.post(REQUESTS, json=complaint(), headers=headers)
    assert first.json()["reference"] == again.json()["reference"]
    other = await directory.client.post(REQUESTS, json=complaint(subject="موضوع آخر مختلف"),
                                        headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert await directory.count("requests") == 1
    missing = await directory.client.post(REQUESTS, json=complaint(),
                                          headers=directory.auth(Role.citizen))
    assert missing.status_code == 400


async def test_concurrent_repeats_of_one_submission_are_one_request_with_one_answer(
    directory: IntakeUnderTest,
) -> None:
    # With nothing to read first (directory cached, no duplicate check asked for) they reach
    # the group commit together and are written in one batch: the first claims the key.
    warm = await submit(directory, complaint(subject="إنارة الشارع معطلة منذ أسبوع"),
                        directory.auth(Role.citizen))
    assert warm.status_code == 201
    headers = {**directory.auth(Role.citizen), **key()}
    body = complaint(confirm_despite_similar=True)
    answers = await asyncio.gather(*(
        directory.client.post(REQUESTS, json=body, headers=headers) for _ in range(5)
    ))
    assert [answer.status_code for answer in answers] == [201] * 5
    assert len({answer.json()["reference"] for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 4
    assert await directory.count("requests") == 2
    assert len(await directory.events("request.submitted")) == 2


async def test_a_retry_is_answered_as_the_first_time_though_it_now_looks_like_a_duplicate(
    directory: IntakeUnderTest,
) -> None:
    # The stored request is now an open similar one; the retry must not be warned about itself.
    headers = {**directory.auth(Role.citizen), **key()}
    first = await directory.client.post(REQUESTS, json=complaint(), headers=headers)
    again = await directory.client.post(REQUESTS, json=complaint(), headers=headers)
    assert again.status_code == 201, again.json()
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await directory.count("requests") == 1


async def test_a_similar_open_request_is_shown_before_accepting_and_the_citizen_may_go_on(
    directory: IntakeUnderTest,
) -> None:
    me = directory.auth(Role.citizen)
    first = (await submit(directory, complaint(), me)).json()["reference"]
    warned = await submit(directory, complaint(subject="تأخر المواعيد في العيادات"), me)
    assert warned.status_code == 409
    assert warned.json()["type"] == "/problems/similar-requests-open"
    assert [s["reference"] for s in warned.json()["similar"]] == [first]
    assert await directory.count("requests") == 1
    going_on = await submit(directory, complaint(subject="تأخر المواعيد في العيادات",
                                                 confirm_despite_similar=True), me)
    assert going_on.status_code == 201
    # Someone else's similar request is none of my business.
    assert (await submit(directory, complaint(), directory.auth(Role.citizen))).status_code == 201


async def test_reference_numbers_are_serial_and_unique_under_concurrent_submissions(
    directory: IntakeUnderTest,
) -> None:
    answers = await asyncio.gather(*(
        submit(directory, complaint(entity=None, subject=f"طلب رقم {i} عن الخدمات"),
               directory.auth(Role.citizen))
        for i in range(20)
    ))
    references = [a.json()["reference"] for a in answers]
    assert len(set(references)) == 20
    serials = sorted(int(r.split("-")[1]) for r in references)
    assert serials == list(range(serials[0], serials[0] + 20))


async def test_a_citizen_sees_only_their_own_requests(directory: IntakeUnderTest) -> None:
    mine, theirs = directory.auth(Role.citizen), directory.auth(Role.citizen)
    reference = (await submit(directory, complaint(), mine)).json()["reference"]
    assert (await directory.client.get(f"{REQUESTS}/{reference}", headers=mine)).status_code == 200
    other = await directory.client.get(f"{REQUESTS}/{reference}", headers=theirs)
    assert other.status_code == 404
    listed = await directory.client.get(REQUESTS, headers=theirs)
    assert listed.json()["items"] == []
    officer = directory.auth(Role.main_liaison_officer, sector_ids=["MOH"])
    assert (await directory.client.get(f"{REQUESTS}/{reference}",
                                       headers=officer)).status_code == 404
    assert (await directory.client.get(f"{REQUESTS}/{reference}")).status_code == 401


async def test_a_typed_reference_with_arabic_digits_finds_the_request(
    directory: IntakeUnderTest,
) -> None:
    me = directory.auth(Role.citizen)
    reference = (await submit(directory, complaint(), me)).json()["reference"]
    arabic = reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    found = await directory.client.get(f"{REQUESTS}/{arabic}", headers=me)
    assert found.json()["reference"] == reference
    mistyped = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    assert (await directory.client.get(f"{REQUESTS}/{mistyped}", headers=me)).status_code == 404


async def test_staff_outside_the_front_door_cannot_submit(directory: IntakeUnderTest) -> None:
    for role in (Role.main_liaison_officer, Role.cmu_staff, Role.operator):
        response = await submit(directory, complaint(), directory.auth(role))
        assert response.status_code == 403
    assert await directory.count("requests") == 0
