"""The staff who hold a request read who is asking and the files they sent; each read is recorded.

A request of `MOH-HOSP` (sector `MOH`): its sector's main liaison officer and minister, the
entity's head, the CMU hold it; the entity's sub-liaison officers once it is distributed to them.
Anyone else is answered 404 (another scope) or 403 (a role that handles no request).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from shared.auth import Role
from shared.events.catalog import (
    RequestAccepted,
    RequestAssigned,
    RequestDistributed,
    RequestInfoRequested,
    RequestReopened,
    RequestTransferred,
    RequestTriaged,
)
from tests.intake.conftest import IntakeUnderTest, feed, seed_directory
from tests.intake.factories import AHMAD, key, register
from tests.intake.test_attachments import LETTER, photo_with_gps, upload
from tests.intake.test_submissions import REQUESTS, complaint

OFFICER = uuid.uuid4()
MOH, HOSPITAL, ELSEWHERE = "MOH", "MOH-HOSP", "PM-GAM"


def contact_of(reference: str) -> str:
    return f"{REQUESTS}/{reference}/requester"


def views_of(reference: str) -> str:
    return f"{REQUESTS}/{reference}/requester/views"


def files_of(reference: str) -> str:
    return f"{REQUESTS}/{reference}/attachments"


class Staff:
    """Tokens for every role, scoped to the request's entity and sector or to others'."""

    def __init__(self, intake: IntakeUnderTest) -> None:
        auth = intake.auth
        self.mlo = auth(Role.main_liaison_officer, sector_ids=[MOH])
        self.slo = auth(Role.sub_liaison_officer, entity_ids=[HOSPITAL])
        self.slo_elsewhere = auth(Role.sub_liaison_officer, entity_ids=["MOH-JFDA"])
        self.head = auth(Role.entity_head, entity_ids=[HOSPITAL])
        self.minister = auth(Role.minister, sector_ids=[MOH])
        self.minister_elsewhere = auth(Role.minister, sector_ids=["PM"])
        self.cmu_id = str(uuid.uuid4())
        self.cmu = auth(Role.cmu_staff, self.cmu_id)
        self.cmu_admin = auth(Role.cmu_admin)
        self.decision_maker = auth(Role.decision_maker)
        self.agent = auth(Role.call_center_agent)
        self.commission = auth(Role.integrity_commission)


@pytest.fixture
async def staff(intake: IntakeUnderTest) -> Staff:
    await seed_directory(intake)
    return Staff(intake)


async def assigned_request(intake: IntakeUnderTest, *, attachments: list[str] | None = None,
                           **changes: Any) -> tuple[str, dict[str, str]]:
    """Ahmad's complaint to the hospital, with the MOH main liaison officer: (ref, his headers)."""
    citizen = intake.auth(Role.citizen, await register(intake))
    submitted = await intake.client.post(
        REQUESTS, json=complaint(attachment_ids=attachments or [], **changes),
        headers={**citizen, **key()})
    assert submitted.status_code == 201, submitted.json()
    reference = str(submitted.json()["reference"])
    await feed(intake, RequestAssigned(reference=reference, entity=HOSPITAL, sector=MOH,
                                       officer_ids=[OFFICER]))
    return reference, citizen


async def distribute(intake: IntakeUnderTest, reference: str, entity: str = HOSPITAL) -> None:
    await feed(intake, RequestDistributed(reference=reference, entity=entity, sector=MOH,
                                          officer_ids=[OFFICER], actor_id=OFFICER))


async def test_those_who_hold_the_request_and_the_cmu_read_who_is_asking(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    reference, _ = await assigned_request(intake, city="الزرقاء", governorate="JO-AZ")
    await distribute(intake, reference)
    for holder in (staff.mlo, staff.slo, staff.head, staff.minister, staff.cmu,
                   staff.cmu_admin):
        shown = await intake.client.get(contact_of(reference), headers=holder)
        assert shown.status_code == 200, shown.json()
        assert shown.json() == {
            "reference": reference, "full_name": shown.json()["full_name"],
            "phone": "+962791234567", "email": "citizen@example.org",
            "governorate": "JO-AZ", "city": "الزرقاء", "language": "ar", "has_account": True,
        }
        assert AHMAD["family_name"] in shown.json()["full_name"]
        assert shown.headers["cache-control"] == "no-store"


async def test_other_scopes_get_404_and_roles_that_handle_no_request_get_403(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    reference, citizen = await assigned_request(intake)
    await distribute(intake, reference)
    for outsider in (staff.slo_elsewhere, staff.minister_elsewhere,
                     intake.auth(Role.main_liaison_officer, sector_ids=["PM"]),
                     intake.auth(Role.entity_head, entity_ids=[ELSEWHERE])):
        refused = await intake.client.get(contact_of(reference), headers=outsider)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    # Decision makers watch figures; the requester reads their own request, not this.
    for role_without_requests in (staff.decision_maker, citizen, staff.agent, staff.commission):
        refused = await intake.client.get(contact_of(reference), headers=role_without_requests)
        assert refused.status_code == 403
    assert (await intake.client.get(contact_of(reference))).status_code == 401
    unknown = await intake.client.get(contact_of("2030-0009999-1"), headers=staff.cmu)
    assert unknown.status_code == 404
    assert await intake.count("staff_access WHERE action = 'contact_viewed'") == 0


async def test_a_sub_liaison_officer_reads_the_requester_once_distributed_and_not_after_a_move(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    reference, _ = await assigned_request(intake)
    assert (await intake.client.get(contact_of(reference), headers=staff.slo)).status_code == 404
    await distribute(intake, reference)
    assert (await intake.client.get(contact_of(reference), headers=staff.slo)).status_code == 200
    # Reopened after a review, it goes back to where it was: still theirs.
    await feed(intake, RequestReopened(reference=reference, entity=HOSPITAL, sector=MOH,
                                       decision="يُعاد للمعالجة", actor_id=OFFICER))
    assert (await intake.client.get(contact_of(reference), headers=staff.slo)).status_code == 200
    await feed(intake, RequestTransferred(reference=reference, from_entity=HOSPITAL,
                                          to_entity=ELSEWHERE, to_sector="PM",
                                          reason="من اختصاص الأمانة", transfer_count=1,
                                          actor_id=OFFICER))
    for former in (staff.slo, staff.mlo, staff.head):
        assert (await intake.client.get(contact_of(reference), headers=former)
                ).status_code == 404
    newcomer = intake.auth(Role.main_liaison_officer, sector_ids=["PM"])
    assert (await intake.client.get(contact_of(reference), headers=newcomer)).status_code == 200


async def test_triage_takes_the_request_from_the_sub_liaison_officer(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    reference, _ = await assigned_request(intake)
    await distribute(intake, reference)
    await feed(intake, RequestTriaged(reference=reference, reason="jurisdiction_refused"))
    assert (await intake.client.get(contact_of(reference), headers=staff.slo)).status_code == 404
    assert (await intake.client.get(contact_of(reference), headers=staff.cmu)).status_code == 200


async def test_a_distribution_heard_after_a_later_event_still_counts(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    # Events may arrive out of order: who holds the request follows its own events' time.
    citizen = intake.auth(Role.citizen, await register(intake))
    reference = (await intake.client.post(REQUESTS, json=complaint(),
                                          headers={**citizen, **key()})).json()["reference"]
    now = intake.clock.now()
    await feed(intake, RequestAccepted(reference=reference, classification="complaint.other",
                                       processing_working_days=3, actor_id=OFFICER),
               at=now.replace(minute=30))
    await feed(intake, RequestDistributed(reference=reference, entity=HOSPITAL, sector=MOH,
                                          officer_ids=[OFFICER], actor_id=OFFICER),
               at=now.replace(minute=20))
    await feed(intake, RequestAssigned(reference=reference, entity=HOSPITAL, sector=MOH,
                                       officer_ids=[OFFICER]),
               at=now.replace(minute=10))
    assert (await intake.client.get(contact_of(reference), headers=staff.slo)).status_code == 200
    assert (await intake.client.get(contact_of(reference), headers=staff.mlo)).status_code == 200
    shown = await intake.client.get(f"{REQUESTS}/{reference}", headers=citizen)
    assert shown.json()["status"]["code"] == "in_progress"


async def test_a_paper_requester_has_no_account_and_their_language_is_the_requests(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    clerk = intake.auth(Role.complaint_box_clerk)
    submitted = await intake.client.post(REQUESTS, json=complaint(
        channel="complaint_box", language="en",
        requester={"full_name": "Huda Saleh", "phone": "0797777777", "language": "ar"},
    ), headers={**clerk, **key()})
    assert submitted.status_code == 201, submitted.json()
    reference = submitted.json()["reference"]
    shown = await intake.client.get(contact_of(reference), headers=staff.cmu)
    assert shown.json() | {"reference": None} == {
        "reference": None, "full_name": "Huda Saleh", "phone": "+962797777777", "email": None,
        "governorate": "JO-AM", "city": "عمّان", "language": "en", "has_account": False,
    }


async def test_every_read_is_recorded_and_the_cmu_lists_them_newest_first(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    reference, _ = await assigned_request(intake)
    mlo_id = str(uuid.uuid4())
    mlo = intake.auth(Role.main_liaison_officer, mlo_id, sector_ids=[MOH])
    for reader in (mlo, staff.cmu, mlo):
        assert (await intake.client.get(contact_of(reference), headers=reader)
                ).status_code == 200
    listed = await intake.client.get(views_of(reference), headers=staff.cmu_admin)
    assert listed.status_code == 200, listed.json()
    assert listed.headers["cache-control"] == "no-store"
    assert [(v["actor_id"], v["actor_role"], v["action"]) for v in listed.json()["items"]] == [
        (mlo_id, "main_liaison_officer", "contact_viewed"),
        (staff.cmu_id, "cmu_staff", "contact_viewed"),
        (mlo_id, "main_liaison_officer", "contact_viewed"),
    ]
    assert listed.json()["next_before"] is None
    first = await intake.client.get(views_of(reference), params={"limit": 2},
                                    headers=staff.cmu)
    rest = await intake.client.get(views_of(reference), headers=staff.cmu, params={
        "limit": 2, "before": first.json()["next_before"]})
    assert [v["id"] for v in first.json()["items"] + rest.json()["items"]] == [
        v["id"] for v in listed.json()["items"]]
    # Only the CMU lists them; a holder reading the list would be read unrecorded.
    for not_cmu in (mlo, staff.decision_maker, intake.auth(Role.citizen)):
        assert (await intake.client.get(views_of(reference), headers=not_cmu)
                ).status_code == 403
    assert (await intake.client.get(views_of("2030-0009999-1"), headers=staff.cmu)
            ).status_code == 404


@pytest.mark.parametrize(("language", "title"), [
    ("ar", "البيانات المدخلة غير صحيحة"), ("en", "The submitted data is not valid"),
])
async def test_a_bad_page_of_views_is_a_problem_in_the_callers_language(
    intake: IntakeUnderTest, staff: Staff, language: str, title: str,
) -> None:
    reference, _ = await assigned_request(intake)
    refused = await intake.client.get(views_of(reference), params={"limit": 0, "before": "x"},
                                      headers={**staff.cmu, "Accept-Language": language})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["title"] == title
    assert {error["field"] for error in problem["errors"]} == {"query.limit", "query.before"}


async def test_nothing_read_reaches_the_logs(
    intake: IntakeUnderTest, staff: Staff, caplog: pytest.LogCaptureFixture,
) -> None:
    reference, _ = await assigned_request(intake)
    caplog.set_level(logging.DEBUG)
    shown = await intake.client.get(contact_of(reference), headers=staff.mlo)
    assert shown.status_code == 200
    assert any(reference in str(record.__dict__) for record in caplog.records)  # it was logged
    for secret in (shown.json()["full_name"], "791234567", "citizen@example.org"):
        assert secret not in caplog.text
        assert all(secret not in str(record.__dict__) for record in caplog.records)


# --- attachments ------------------------------------------------------------------------------


async def test_the_holder_reads_the_files_once_distributed_and_each_read_is_recorded(
    intake: IntakeUnderTest, staff: Staff,
) -> None:
    requester_id = await register(intake)
    citizen = intake.auth(Role.citizen, requester_id)
    letter = await upload(intake, citizen, LETTER, "شكوى\u202e.pdf", "application/pdf")
    assert letter.json()["file_name"] == "شكوى.pdf"  # the direction override is not kept
    letter_id = letter.json()["attachment_id"]
    submitted = await intake.client.post(REQUESTS, json=complaint(attachment_ids=[letter_id]),
                                         headers={**citizen, **key()})
    reference = submitted.json()["reference"]
    await feed(intake, RequestAssigned(reference=reference, entity=HOSPITAL, sector=MOH,
                                       officer_ids=[OFFICER]))
    # The officer asks for more; the requester answers with a photo.
    await feed(intake, RequestInfoRequested(reference=reference, question="أرفق صورة الإيصال",
                                            actor_id=OFFICER))
    photo_id = (await upload(intake, citizen, photo_with_gps(), "C:\\صور\\receipt.jpg")
                ).json()["attachment_id"]
    answered = await intake.client.post(
        f"{REQUESTS}/{reference}/information",
        json={"answer": "أرفقت صورة الإيصال", "attachment_ids": [photo_id]},
        headers={**citizen, **key()})
    assert answered.status_code == 201, answered.json()

    for path in (files_of(reference), f"/api/v1/attachments/{letter_id}"):
        assert (await intake.client.get(path, headers=staff.slo)).status_code == 404
    await distribute(intake, reference)
    listed = await intake.client.get(files_of(reference), headers=staff.slo)
    assert listed.status_code == 200, listed.json()
    assert listed.headers["cache-control"] == "no-store"
    assert [(f["attachment_id"], f["file_name"], f["media_type"])
            for f in listed.json()["items"]] == [
        (letter_id, "شكوى.pdf", "application/pdf"), (photo_id, "receipt.jpg", "image/jpeg")]
    assert listed.json()["items"][0]["size"] == len(LETTER)
    read = await intake.client.get(f"/api/v1/attachments/{letter_id}", headers=staff.slo)
    assert read.status_code == 200
    assert read.content == LETTER
    assert read.headers["cache-control"] == "private, no-store"

    for outsider in (staff.slo_elsewhere, staff.minister_elsewhere):
        assert (await intake.client.get(files_of(reference), headers=outsider)
                ).status_code == 404
        assert (await intake.client.get(f"/api/v1/attachments/{photo_id}", headers=outsider)
                ).status_code == 404
    assert (await intake.client.get(files_of(reference), headers=staff.decision_maker)
            ).status_code == 403
    assert (await intake.client.get(f"/api/v1/attachments/{photo_id}",
                                    headers=staff.decision_maker)).status_code == 404
    # The requester still reads their own files, unrecorded.
    assert (await intake.client.get(f"/api/v1/attachments/{photo_id}", headers=citizen)
            ).status_code == 200

    views = (await intake.client.get(views_of(reference), headers=staff.cmu)).json()["items"]
    assert [(v["action"], v["attachment_id"]) for v in views] == [
        ("attachment_read", letter_id)]


async def test_an_upload_with_the_same_key_and_another_name_is_another_request(
    intake: IntakeUnderTest,
) -> None:
    citizen, same_key = intake.auth(Role.citizen), key()
    first = await intake.client.post("/api/v1/attachments", headers={**citizen, **same_key},
                                     files={"file": ("a.pdf", LETTER, "application/pdf")})
    again = await intake.client.post("/api/v1/attachments", headers={**citizen, **same_key},
                                     files={"file": ("a.pdf", LETTER, "application/pdf")})
    assert again.json() == first.json()
    renamed = await intake.client.post("/api/v1/attachments", headers={**citizen, **same_key},
                                       files={"file": ("b.pdf", LETTER, "application/pdf")})
    assert renamed.status_code == 422
    assert await intake.count("attachments") == 1
