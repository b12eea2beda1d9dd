"""Call-center agents and complaint-box clerks submit for others; what they see is audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from shared.auth import Role
from tests.intake.conftest import IntakeUnderTest, seed_directory
from tests.intake.factories import AHMAD, key, register
from tests.intake.test_submissions import REQUESTS, complaint

CALLER_CHECKS = "/api/v1/citizens/caller-checks"


@pytest.fixture
async def directory(intake: IntakeUnderTest) -> IntakeUnderTest:
    await seed_directory(intake)
    return intake


def caller(**overrides: Any) -> dict[str, Any]:
    return {**AHMAD, "phone": "0795555555", **overrides}


async def check(intake: IntakeUnderTest, agent: dict[str, str], **overrides: Any) -> Any:
    return await intake.client.post(CALLER_CHECKS, json=caller(**overrides),
                                     headers={**agent, **key()})


async def staff_access(intake: IntakeUnderTest) -> list[tuple[str, str]]:
    async with intake.runtime.sessionmaker() as session:
        rows = await session.execute(text("SELECT actor_id, action FROM staff_access ORDER BY id"))
        return [(row.actor_id, row.action) for row in rows]


async def test_an_agent_checks_the_caller_then_submits_for_them_and_it_is_audited(
    directory: IntakeUnderTest,
) -> None:
    agent_id = str(uuid.uuid4())
    agent = directory.auth(Role.call_center_agent, agent_id)
    checked = await check(directory, agent)
    assert checked.status_code == 201, checked.json()
    assert checked.json()["has_account"] is False
    requester_id = checked.json()["requester_id"]
    # A caller without an account still hears about the request: notify learns the phone.
    (contact,) = await directory.events("citizen.contact_changed")
    assert contact["citizen_id"] == requester_id
    assert contact["phone"] == "+962795555555"

    submitted = await directory.client.post(
        REQUESTS, json=complaint(channel="mobile_app", caller_check_id=checked.json()["check_id"]),
        headers={**agent, **key()},
    )
    assert submitted.status_code == 201, submitted.json()
    (event,) = await directory.events("request.submitted")
    assert event["requester_id"] == requester_id
    assert event["submitted_by"] == agent_id
    assert event["channel"] == "call_center"  # whatever the body said
    assert event["requester_name"] == "أحمد محمد علي الخطيب"  # for routing's staff search
    assert await staff_access(directory) == [(agent_id, "identity_checked"),
                                             (agent_id, "submitted")]
    mine = await directory.client.get(REQUESTS, headers=agent)
    assert [r["reference"] for r in mine.json()["items"]] == [event["reference"]]


async def test_a_caller_with_an_account_gets_the_request_in_their_own_list(
    directory: IntakeUnderTest,
) -> None:
    citizen_id = await register(directory)
    agent = directory.auth(Role.call_center_agent)
    checked = await check(directory, agent)
    assert checked.json() | {"check_id": None, "expires_at": None} == {
        "check_id": None, "expires_at": None, "requester_id": citizen_id, "has_account": True,
    }
    await directory.client.post(
        REQUESTS, json=complaint(caller_check_id=checked.json()["check_id"]),
        headers={**agent, **key()},
    )
    listed = await directory.client.get(REQUESTS, headers=directory.auth(Role.citizen,
                                                                         citizen_id))
    assert len(listed.json()["items"]) == 1


async def test_a_caller_the_registry_does_not_confirm_is_refused(
    directory: IntakeUnderTest,
) -> None:
    refused = await check(directory, directory.auth(Role.call_center_agent),
                          date_of_birth="1986-01-02")
    assert refused.status_code == 422
    assert refused.json()["reason"] == "date_of_birth_mismatch"
    assert await directory.count("citizens") == 0


async def test_an_agent_cannot_submit_without_a_check_or_with_another_agents_check(
    directory: IntakeUnderTest,
) -> None:
    first, second = (directory.auth(Role.call_center_agent) for _ in range(2))
    check_id = (await check(directory, first)).json()["check_id"]
    for body in (complaint(), complaint(caller_check_id=check_id)):
        refused = await directory.client.post(REQUESTS, json=body, headers={**second, **key()})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "caller_check_required"
    assert await directory.count("requests") == 0


async def test_a_check_lasts_one_call(directory: IntakeUnderTest) -> None:
    from datetime import timedelta

    agent_id = str(uuid.uuid4())
    check_id = (await check(directory, directory.auth(Role.call_center_agent, agent_id))
                ).json()["check_id"]
    directory.clock.advance(timedelta(minutes=31))
    agent = directory.auth(Role.call_center_agent, agent_id)  # a fresh token, the same agent
    refused = await directory.client.post(
        REQUESTS, json=complaint(caller_check_id=check_id), headers={**agent, **key()}
    )
    assert refused.status_code == 422


async def test_only_agents_check_callers(directory: IntakeUnderTest) -> None:
    for role in (Role.citizen, Role.complaint_box_clerk, Role.cmu_staff):
        refused = await check(directory, directory.auth(role))
        assert refused.status_code == 403
    assert await directory.count("citizens") == 0


async def test_an_agent_reads_a_request_only_with_the_callers_identity_number(
    directory: IntakeUnderTest,
) -> None:
    agent_id = str(uuid.uuid4())
    agent = directory.auth(Role.call_center_agent, agent_id)
    check_id = (await check(directory, agent)).json()["check_id"]
    reference = (await directory.client.post(
        REQUESTS, json=complaint(caller_check_id=check_id), headers={**agent, **key()}
    )).json()["reference"]
    lookup = f"{REQUESTS}/{reference}/caller-lookup"
    wrong = await directory.client.post(lookup, json={"id_number": "2001234567"}, headers=agent)
    assert wrong.status_code == 404
    right = await directory.client.post(lookup, json={"id_number": AHMAD["id_number"]},
                                        headers=agent)
    assert right.status_code == 200
    assert right.json()["reference"] == reference
    assert (agent_id, "looked_up") in await staff_access(directory)
    citizen = await directory.client.post(lookup, json={"id_number": AHMAD["id_number"]},
                                          headers=directory.auth(Role.citizen))
    assert citizen.status_code == 403


async def test_a_clerk_keys_in_a_paper_form_for_someone_without_an_account(
    directory: IntakeUnderTest,
) -> None:
    clerk_id = str(uuid.uuid4())
    clerk = directory.auth(Role.complaint_box_clerk, clerk_id)
    paper = {"full_name": "خالد عبد الرحمن الزعبي", "phone": "0777123456"}
    for subject in ("انقطاع المياه في الحي منذ أسبوع", "حفرة خطيرة في الشارع الرئيسي"):
        response = await directory.client.post(
            REQUESTS, json=complaint(entity="PM-GAM", subject=subject, requester=paper),
            headers={**clerk, **key()},
        )
        assert response.status_code == 201, response.json()
    first, second = await directory.events("request.submitted")
    assert first["requester_id"] == second["requester_id"]  # found again by phone
    assert first["requester_name"] == second["requester_name"] == paper["full_name"]
    assert first["channel"] == "complaint_box"
    assert first["submitted_by"] == clerk_id
    (contact,) = await directory.events("citizen.contact_changed")
    assert contact["phone"] == "+962777123456"
    missing = await directory.client.post(REQUESTS, json=complaint(),
                                          headers={**clerk, **key()})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "requester_required"


async def test_a_paper_requester_name_with_markup_is_refused(directory: IntakeUnderTest) -> None:
    clerk = directory.auth(Role.complaint_box_clerk)
    refused = await directory.client.post(
        REQUESTS, json=complaint(requester={"full_name": "<script>x</script>",
                                            "phone": "0777123456"}),
        headers={**clerk, **key()},
    )
    assert refused.status_code == 422
    assert await directory.count("citizens") == 0


@pytest.mark.parametrize(("id_type", "id_number", "code"), [
    ("national_number", "98610123", "national_number_format"),
    ("personal_number", "40001234AB", "personal_number_format"),
    ("passport", "P123456789012345", "passport_format"),
])
async def test_an_identity_number_of_the_wrong_shape_is_named_on_its_own_field(
    directory: IntakeUnderTest, id_type: str, id_number: str, code: str,
) -> None:
    refused = await check(directory, directory.auth(Role.call_center_agent), id_type=id_type,
                          id_number=id_number)
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("body.id_number", code)]
    assert await directory.count("caller_checks") == 0
