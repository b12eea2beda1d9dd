"""A request's life in routing: every action and reaction of the issue, through the real API
and real events (PostgreSQL, RabbitMQ), each checked for its status, its events and its
timeline — and, when refused, for changing nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.routing.directory.demo import demo_person_id
from services.routing.models import Case
from shared.events.catalog import (
    RequestChased,
    RequestInfoProvided,
    RequestRated,
    SlaEscalated,
    SlaRatingWindowExpired,
)
from shared.events.vocabulary import ClosedBy, ClosingCode, RequestKind, RequestStatus
from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem

MLO = "mlo.moh"
CMU = "cmu.staff"
COMPLAINT = {"classification": "complaint.service_delay", "processing_working_days": 5}


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


async def accepted(routing: RoutingService, **submitted: Any) -> str:
    reference = await routing.submit(**submitted)
    await ok(await routing.act(MLO, reference, "accept", COMPLAINT))
    return reference


async def responded(routing: RoutingService, **submitted: Any) -> str:
    reference = await accepted(routing, **submitted)
    await ok(await routing.act(MLO, reference, "respond", {
        "actions_taken": "أُعيد ضخ المياه", "solution": "تم إصلاح الخط الرئيسي"}))
    return reference


async def snapshot(routing: RoutingService, reference: str) -> Case:
    case = await routing.case(reference)
    assert case is not None
    return case


async def unchanged(routing: RoutingService, reference: str, before: Case) -> None:
    after = await snapshot(routing, reference)
    assert (after.status, after.audit_seq, after.audit_head) == (
        before.status, before.audit_seq, before.audit_head)


async def event(routing: RoutingService, event_type: str, reference: str) -> dict[str, Any]:
    async def arrived() -> dict[str, Any]:
        found = routing.observed.of(event_type, reference)
        assert found, f"no {event_type} for {reference} yet"
        return found[-1].payload

    return await eventually(arrived)


async def status_becomes(routing: RoutingService, reference: str,
                         status: RequestStatus) -> Case:
    async def reached() -> Case:
        case = await snapshot(routing, reference)
        assert case.status is status, case.status
        return case

    return await eventually(reached)


# --- accepting -----------------------------------------------------------------------------------


async def test_accepting_a_complaint_sets_its_processing_time_within_the_maximum(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    before = await snapshot(routing, reference)
    too_long = await routing.act(MLO, reference, "accept", {
        "classification": "complaint.service_delay", "processing_working_days": 11})
    assert too_long.status_code == 422
    assert "at most 10 working days" in problem(too_long)["detail"]
    await unchanged(routing, reference, before)

    body = await ok(await routing.act(MLO, reference, "accept", COMPLAINT))
    assert body["status"] == "in_progress"
    assert body["processing_working_days"] == 5
    accepted_event = await event(routing, "request.accepted", reference)
    assert accepted_event["processing_working_days"] == 5
    assert accepted_event["actor_id"] == str(demo_person_id(MLO))


async def test_inquiries_take_two_working_days_and_suggestions_seven_by_the_rules(
    routing: RoutingService,
) -> None:
    inquiry = await routing.submit(kind=RequestKind.inquiry)
    refused = await routing.act(MLO, inquiry, "accept", {
        "classification": "inquiry.general", "processing_working_days": 3})
    assert refused.status_code == 422
    assert problem(refused)["fixed"] == 2
    assert (await ok(await routing.act(MLO, inquiry, "accept", {
        "classification": "inquiry.general"})))["processing_working_days"] == 2

    suggestion = await routing.submit(kind=RequestKind.suggestion)
    assert (await ok(await routing.act(MLO, suggestion, "accept", {
        "classification": "suggestion.general", "processing_working_days": 7,
    })))["processing_working_days"] == 7


async def test_a_complaint_needs_a_complaint_classification_and_a_time(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    wrong_kind = await routing.act(MLO, reference, "accept", {
        "classification": "inquiry.general", "processing_working_days": 2})
    assert wrong_kind.status_code == 422
    no_time = await routing.act(MLO, reference, "accept",
                                {"classification": "complaint.service_delay"})
    assert no_time.status_code == 422
    unknown = await routing.act(MLO, reference, "accept", {
        "classification": "complaint.nonexistent", "processing_working_days": 2})
    assert unknown.status_code == 422
    assert (await snapshot(routing, reference)).status is RequestStatus.assigned


async def test_respond_before_accept_is_refused_and_changes_nothing(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    before = await snapshot(routing, reference)
    response = await routing.act(MLO, reference, "respond",
                                 {"actions_taken": "x", "solution": "y"})
    assert response.status_code == 409
    body = problem(response)
    assert body["type"] == "/problems/transition-not-allowed"
    assert body["status"] == 409
    assert body["detail"] == ("You cannot respond to a request that is assigned to the liaison "
                              "officer.")
    await unchanged(routing, reference, before)
    assert "request.responded" not in routing.observed.about(reference)


async def test_problems_are_in_arabic_unless_english_is_asked_for(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    response = await routing.client.post(
        f"/api/v1/requests/{reference}/respond", json={"actions_taken": "x", "solution": "y"},
        headers=await routing.auth(MLO))
    assert response.headers["content-language"] == "ar"
    assert problem(response)["detail"].startswith("لا يمكن الرد على طلب")


# --- jurisdiction, triage, transfers -------------------------------------------------------------


async def test_refusing_jurisdiction_goes_to_cmu_triage_which_transfers_it(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    body = await ok(await routing.act(MLO, reference, "refuse-jurisdiction", {
        "reason": "المياه من اختصاص سلطة المياه", "suggested_entity": "MWI-WAJ"}))
    assert body["status"] == "triage"
    refused = await event(routing, "request.jurisdiction_refused", reference)
    assert refused["from_entity"] == "MOH-HQ"
    assert refused["suggested_entity"] == "MWI-WAJ"
    assert (await event(routing, "request.triaged", reference))["reason"] == (
        "jurisdiction_refused")

    # Refusing is never a way to close: the officer can no longer close it, the CMU decides.
    closing = await routing.act(MLO, reference, "close", {"closing_code": "withdrawn"})
    assert closing.status_code == 409
    queue = await routing.client.get("/api/v1/inbox/triage", headers=await routing.auth(CMU))
    assert reference in [item["reference"] for item in queue.json()["items"]]

    placed = await ok(await routing.act(CMU, reference, "transfer", {
        "to_entity": "MWI-WAJ", "reason": "من اختصاص سلطة المياه"}))
    assert (placed["status"], placed["entity"], placed["sector"]) == (
        "assigned", "MWI-WAJ", "MWI")
    assert placed["officer_ids"] == [str(demo_person_id("mlo.mwi"))]
    transferred = await event(routing, "request.transferred", reference)
    assert (transferred["from_entity"], transferred["to_entity"],
            transferred["transfer_count"]) == ("MOH-HQ", "MWI-WAJ", 1)
    assigned = routing.observed.of("request.assigned", reference)
    assert assigned[-1].payload["officer_ids"] == [str(demo_person_id("mlo.mwi"))]
    assert assigned[-1].payload["assigned_by"] == str(demo_person_id(CMU))
    # The new sector's officer holds it now; the old one no longer sees it.
    assert (await routing.client.get(f"/api/v1/cases/{reference}",
                                     headers=await routing.auth("mlo.mwi"))).status_code == 200
    assert (await routing.client.get(f"/api/v1/cases/{reference}",
                                     headers=await routing.auth(MLO))).status_code == 404


async def test_a_request_without_an_entity_is_placed_by_the_cmu_without_counting_a_transfer(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity=None)
    placed = await ok(await routing.act(CMU, reference, "transfer", {
        "to_entity": "MOI-CSPD", "reason": "جواز السفر"}))
    assert (placed["status"], placed["transfer_count"]) == ("assigned", 0)
    await event(routing, "request.assigned", reference)
    assert "request.transferred" not in routing.observed.about(reference)


async def test_officers_transfer_at_most_three_times_then_only_the_cmu_decides(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    route = [("mlo.moh", "MWI-WAJ"), ("mlo.mwi", "MOI-HQ"), ("mlo.moi", "MOF-HQ")]
    for officer, target in route:
        await ok(await routing.act(officer, reference, "transfer",
                                   {"to_entity": target, "reason": "ليس من اختصاصنا"}))
    before = await snapshot(routing, reference)
    assert before.transfer_count == 3
    fourth = await routing.act("mlo.mof", reference, "transfer",
                               {"to_entity": "MOH-HQ", "reason": "مرة رابعة"})
    assert fourth.status_code == 409
    assert problem(fourth)["type"] == "/problems/transfer-limit-reached"
    await unchanged(routing, reference, before)

    # The officer can only hand it to the CMU, which then decides (a transfer too).
    await ok(await routing.act("mlo.mof", reference, "refuse-jurisdiction",
                               {"reason": "ليس من اختصاصنا"}))
    assert (await event(routing, "request.triaged", reference))["reason"] == "transfer_limit"
    decided = await ok(await routing.act(CMU, reference, "transfer",
                                         {"to_entity": "MOH-HQ", "reason": "قرار الوحدة"}))
    assert (decided["transfer_count"], decided["entity"]) == (4, "MOH-HQ")


async def test_a_transfer_to_an_unknown_or_the_same_entity_is_refused(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    before = await snapshot(routing, reference)
    unknown = await routing.act(MLO, reference, "transfer",
                                {"to_entity": "NOPE-X", "reason": "r"})
    assert unknown.status_code == 422
    same = await routing.act(MLO, reference, "transfer", {"to_entity": "MOH-HQ", "reason": "r"})
    assert same.status_code == 422
    await unchanged(routing, reference, before)


# --- distribution --------------------------------------------------------------------------------


async def test_distribution_hands_the_request_to_a_sub_liaison_officer_of_the_sector(
    routing: RoutingService,
) -> None:
    reference = await accepted(routing)
    officer = str(demo_person_id("slo.moh-jfda"))
    body = await ok(await routing.act(MLO, reference, "distribute", {"entity": "MOH-JFDA"}))
    assert (body["distributed_to"], body["officer_ids"], body["status"]) == (
        "MOH-JFDA", [officer], "in_progress")
    distributed = await event(routing, "request.distributed", reference)
    assert (distributed["entity"], distributed["officer_ids"]) == ("MOH-JFDA", [officer])

    seen = await routing.client.get(f"/api/v1/cases/{reference}",
                                     headers=await routing.auth("slo.moh-jfda"))
    assert seen.status_code == 200
    not_theirs = await routing.client.get(f"/api/v1/cases/{reference}",
                                          headers=await routing.auth("slo.moh-hq"))
    assert not_theirs.status_code == 404
    # The sub-liaison officer handles it to the end.
    await ok(await routing.act("slo.moh-jfda", reference, "respond",
                               {"actions_taken": "فحص", "solution": "تم"}))


async def test_distribution_outside_the_sector_or_to_unknown_officers_is_refused(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    before = await snapshot(routing, reference)
    other_sector = await routing.act(MLO, reference, "distribute", {"entity": "MOI-HQ"})
    assert other_sector.status_code == 422
    # Each refusal names its field, so a form shows the message beside it.
    assert [e["field"] for e in problem(other_sector)["errors"]] == ["body.entity"]
    stranger = await routing.act(MLO, reference, "distribute", {
        "entity": "MOH-JFDA", "officer_ids": [str(uuid.uuid4())]})
    assert stranger.status_code == 422
    assert problem(stranger)["officer_ids"]
    assert [e["field"] for e in problem(stranger)["errors"]] == ["body.officer_ids"]
    wrong_officer = await routing.act(MLO, reference, "distribute", {
        "entity": "MOH-JFDA", "officer_ids": [str(demo_person_id("slo.moh-hq"))]})
    assert wrong_officer.status_code == 422
    await unchanged(routing, reference, before)


async def test_the_distribution_targets_name_each_entity_of_the_sector_with_its_officers(
    routing: RoutingService,
) -> None:
    reference = await accepted(routing)
    response = await routing.client.get(f"/api/v1/cases/{reference}/distribution-targets",
                                        headers=await routing.auth(MLO))
    assert response.status_code == 200, response.text
    targets = {t["entity"]: t["officers"] for t in response.json()["items"]}
    assert set(targets) >= {"MOH-HQ", "MOH-JFDA"}
    assert "MOI-HQ" not in targets
    assert [o["id"] for o in targets["MOH-JFDA"]] == [str(demo_person_id("slo.moh-jfda"))]
    assert targets["MOH-JFDA"][0]["full_name"]
    # Someone who cannot see the request learns nothing of its sector's people.
    stranger = await routing.client.get(f"/api/v1/cases/{reference}/distribution-targets",
                                        headers=await routing.auth("slo.moh-hq"))
    assert stranger.status_code == 404


# --- information, extensions, responses ----------------------------------------------------------


async def test_asking_for_information_waits_for_the_requester_then_resumes(
    routing: RoutingService,
) -> None:
    reference = await accepted(routing)
    body = await ok(await routing.act(MLO, reference, "ask-info",
                                      {"question": "ما رقم العداد؟"}))
    assert body["status"] == "awaiting_information"
    assert (await event(routing, "request.info_requested", reference))["question"] == (
        "ما رقم العداد؟")
    await routing.publish(RequestInfoProvided(reference=reference, answer="العداد 12345"))
    await status_becomes(routing, reference, RequestStatus.in_progress)
    last = (await routing.timeline(reference))[-1]
    assert (last.action, last.channel, last.actor_role) == ("info_provided", "intake", "citizen")
    assert "العداد 12345" in last.details


async def test_a_requesters_chase_is_on_the_timeline_and_changes_nothing_else(
    routing: RoutingService,
) -> None:
    reference = await accepted(routing)
    before = await snapshot(routing, reference)
    await routing.publish(RequestChased(
        reference=reference, entity="PM-GAM", sector="PM", stage="first_response",
        due_at=datetime(2030, 3, 5, 10, tzinfo=UTC), note="مضى الموعد", chase=1))

    async def on_timeline() -> None:
        last = (await routing.timeline(reference))[-1]
        assert (last.action, last.actor_role) == ("chased", "citizen")
        assert "مضى الموعد" in last.details

    await eventually(on_timeline)
    after = await snapshot(routing, reference)
    assert (after.status, after.audit_seq) == (before.status, before.audit_seq + 1)


async def test_the_deadline_is_extended_at_most_twice(routing: RoutingService) -> None:
    reference = await accepted(routing)
    for number in (1, 2):
        body = await ok(await routing.act(MLO, reference, "extend", {
            "added_working_days": 3, "reason": "بانتظار قطعة غيار"}))
        assert body["extensions"] == number
    before = await snapshot(routing, reference)
    third = await routing.act(MLO, reference, "extend",
                              {"added_working_days": 3, "reason": "مرة ثالثة"})
    assert third.status_code == 409
    assert problem(third)["type"] == "/problems/extension-limit-reached"
    await unchanged(routing, reference, before)

    async def both() -> list[int]:
        extended = routing.observed.of("request.extended", reference)
        assert len(extended) == 2
        return [e.payload["extension_number"] for e in extended]

    assert await eventually(both) == [1, 2]
    assert (await event(routing, "request.extended", reference))["reason"] == "بانتظار قطعة غيار"


async def test_an_extension_beyond_the_classification_maximum_is_refused(
    routing: RoutingService,
) -> None:
    reference = await accepted(routing)
    too_much = await routing.act(MLO, reference, "extend",
                                 {"added_working_days": 11, "reason": "طويل"})
    assert too_much.status_code == 422


# --- ratings, review, closing --------------------------------------------------------------------


async def test_a_rating_of_two_to_five_closes_the_request(routing: RoutingService) -> None:
    reference = await responded(routing)
    await routing.publish(RequestRated(reference=reference, score=4))
    case = await status_becomes(routing, reference, RequestStatus.closed)
    assert (case.closing_code, case.rating) == (ClosingCode.resolved, 4)
    closed = await event(routing, "request.closed", reference)
    assert closed["closed_by"] == ClosedBy.requester.value


async def test_rating_of_one_goes_to_review_where_the_cmu_reopens_it(
    routing: RoutingService,
) -> None:
    reference = await responded(routing)
    await routing.publish(RequestRated(reference=reference, score=1, comment="لم يُحل شيء"))
    await status_becomes(routing, reference, RequestStatus.under_review)
    assert (await event(routing, "request.review_opened", reference))["entity"] == "MOH-HQ"
    queue = await routing.client.get("/api/v1/inbox/review", headers=await routing.auth(CMU))
    assert reference in [item["reference"] for item in queue.json()["items"]]
    # The officer cannot decide a review.
    assert (await routing.act(MLO, reference, "review-decision", {
        "decision": "reopen", "reason": "x"})).status_code == 403

    body = await ok(await routing.act(CMU, reference, "review-decision", {
        "decision": "reopen", "reason": "الحل لم يعالج المشكلة"}))
    assert (body["status"], body["entity"]) == ("in_progress", "MOH-HQ")
    reopened = await event(routing, "request.reopened", reference)
    assert reopened["decision"] == "الحل لم يعالج المشكلة"


async def test_a_reopened_request_is_answered_and_rated_again_by_its_requester(
    routing: RoutingService,
) -> None:
    reference = await responded(routing)
    assert (await event(routing, "request.responded", reference))["round"] == 1
    await routing.publish(RequestRated(reference=reference, score=1, round=1))
    await status_becomes(routing, reference, RequestStatus.under_review)
    await ok(await routing.act(CMU, reference, "review-decision", {
        "decision": "reopen", "reason": "الحل لم يعالج المشكلة"}))
    body = await ok(await routing.act(MLO, reference, "respond", {
        "actions_taken": "استُبدل الخط كله", "solution": "عادت المياه بضغط كامل"}))
    assert (body["answer_round"], body["rating"]) == (2, None)  # a new answer, not yet rated

    async def answered_twice() -> None:
        answers = routing.observed.of("request.responded", reference)
        assert [answer.payload["round"] for answer in answers] == [1, 2]

    await eventually(answered_twice)

    # A rating of the first answer that got this far judges nothing of the second.
    await routing.publish(RequestRated(reference=reference, score=5, round=1))
    other = await responded(routing)
    await routing.publish(RequestRated(reference=other, score=5, round=1))
    await status_becomes(routing, other, RequestStatus.closed)
    assert (await snapshot(routing, reference)).status is RequestStatus.responded

    await routing.publish(RequestRated(reference=reference, score=4, round=2))
    case = await status_becomes(routing, reference, RequestStatus.closed)
    assert (case.rating, case.answer_round) == (4, 2)
    closed = await event(routing, "request.closed", reference)
    assert closed["closed_by"] == ClosedBy.requester.value


async def test_rating_of_one_confirmed_by_the_cmu_closes_it(routing: RoutingService) -> None:
    reference = await responded(routing)
    await routing.publish(RequestRated(reference=reference, score=1))
    await status_becomes(routing, reference, RequestStatus.under_review)
    body = await ok(await routing.act(CMU, reference, "review-decision", {
        "decision": "confirm", "reason": "الرد كان وافياً"}))
    assert (body["status"], body["closing_code"]) == ("closed", "resolved")
    closed = await event(routing, "request.closed", reference)
    assert (closed["closed_by"], closed["confirmed_after_review"]) == ("cmu", True)


async def test_no_rating_within_the_window_closes_it_by_itself(routing: RoutingService) -> None:
    reference = await responded(routing, kind=RequestKind.complaint)
    await routing.publish(SlaRatingWindowExpired(
        reference=reference, due_at=routing.clock.now() + timedelta(days=1)))
    await status_becomes(routing, reference, RequestStatus.closed)
    closed = await event(routing, "request.closed", reference)
    assert (closed["closed_by"], closed["actor_id"]) == ("system", None)


async def test_a_second_rating_changes_nothing(routing: RoutingService) -> None:
    reference = await responded(routing)
    await routing.publish(RequestRated(reference=reference, score=5))
    closed = await status_becomes(routing, reference, RequestStatus.closed)
    await routing.publish(RequestRated(reference=reference, score=1))
    # Proof that the second rating was consumed: a later event behind it on the same queue.
    other = await responded(routing)
    await routing.publish(RequestRated(reference=other, score=5))
    await status_becomes(routing, other, RequestStatus.closed)
    await unchanged(routing, reference, closed)


async def test_the_outcome_of_the_response_is_the_closing_code(routing: RoutingService) -> None:
    reference = await accepted(routing)
    await ok(await routing.act(MLO, reference, "respond", {
        "actions_taken": "دراسة الطلب", "solution": "لا يمكن تلبية الطلب قانونياً",
        "outcome": "rejected"}))
    await routing.publish(RequestRated(reference=reference, score=3))
    assert (await status_becomes(routing, reference, RequestStatus.closed)).closing_code is (
        ClosingCode.rejected)


async def test_praise_is_assigned_and_acknowledged_by_a_response(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(kind=RequestKind.praise)
    case = await snapshot(routing, reference)
    assert case.status is RequestStatus.assigned
    await event(routing, "request.assigned", reference)
    refused = await routing.act(MLO, reference, "accept", {"classification": "x"})
    assert refused.status_code == 409
    body = await ok(await routing.act(MLO, reference, "respond", {
        "actions_taken": "نُقل الشكر إلى الفريق", "solution": "شكراً لكم"}))
    assert body["status"] == "responded"


async def test_closing_codes_follow_the_rules(routing: RoutingService) -> None:
    reference = await accepted(routing)
    before = await snapshot(routing, reference)
    resolved_unanswered = await routing.act(MLO, reference, "close",
                                            {"closing_code": "resolved"})
    assert resolved_unanswered.status_code == 409
    no_response = await routing.act(MLO, reference, "close",
                                    {"closing_code": "no_response_from_requester"})
    assert no_response.status_code == 409
    duplicate = await routing.act(MLO, reference, "close", {"closing_code": "duplicate"})
    assert duplicate.status_code == 422
    await unchanged(routing, reference, before)

    body = await ok(await routing.act(MLO, reference, "close", {
        "closing_code": "withdrawn", "note": "سحب المواطن طلبه هاتفياً"}))
    assert (body["status"], body["closing_code"]) == ("closed", "withdrawn")
    closed = await event(routing, "request.closed", reference)
    assert (closed["closed_by"], closed["closing_code"]) == ("officer", "withdrawn")
    again = await routing.act(MLO, reference, "close", {"closing_code": "withdrawn"})
    assert again.status_code == 409

    waiting = await accepted(routing)
    await ok(await routing.act(MLO, waiting, "ask-info", {"question": "؟"}))
    assert (await ok(await routing.act(MLO, waiting, "close", {
        "closing_code": "no_response_from_requester"})))["status"] == "closed"


async def test_inadmissible_requests_are_rejected_on_a_legal_ground(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    body = await ok(await routing.act(MLO, reference, "reject", {
        "legal_ground": "before_court", "reason": "القضية منظورة أمام المحكمة"}))
    assert (body["status"], body["legal_ground"]) == ("rejected", "before_court")
    rejected = await event(routing, "request.rejected", reference)
    assert rejected["reason"] == "القضية منظورة أمام المحكمة"


async def test_only_the_cmu_decides_a_request_is_malicious(routing: RoutingService) -> None:
    reference = await routing.submit()
    before = await snapshot(routing, reference)
    officer = await routing.act(MLO, reference, "reject",
                                {"legal_ground": "malicious", "reason": "كيدي"})
    assert officer.status_code == 403
    assert problem(officer)["permission"] == "cases.reject_malicious"
    await unchanged(routing, reference, before)
    assert (await ok(await routing.act(CMU, reference, "reject", {
        "legal_ground": "malicious", "reason": "كيدي بقرار الوحدة"})))["status"] == "rejected"


async def test_duplicates_are_merged_and_answered_together(routing: RoutingService) -> None:
    original = await accepted(routing)
    first, second = await routing.submit(), await routing.submit()
    body = await ok(await routing.act(MLO, original, "merge", {"duplicates": [first, second]}))
    assert body["status"] == "in_progress"
    for duplicate in (first, second):
        closed = await event(routing, "request.closed", duplicate)
        assert (closed["closing_code"], closed["merged_into"]) == ("duplicate", original)
        assert (await snapshot(routing, duplicate)).merged_into == original
    await ok(await routing.act(MLO, original, "respond", {
        "actions_taken": "إصلاح", "solution": "أُصلح الخط"}))
    answer = await event(routing, "request.responded", original)
    assert answer["also_answers"] == sorted([first, second])


async def test_a_request_outside_my_scope_cannot_be_merged_in(routing: RoutingService) -> None:
    original = await accepted(routing)
    elsewhere = await routing.submit(entity="MOI-HQ")
    before = await snapshot(routing, original)
    response = await routing.act(MLO, original, "merge", {"duplicates": [elsewhere]})
    assert response.status_code == 404
    assert problem(response)["reference"] == elsewhere
    assert [e["field"] for e in problem(response)["errors"]] == ["body.duplicates"]
    await unchanged(routing, original, before)
    assert (await snapshot(routing, elsewhere)).status is RequestStatus.assigned


# --- the SLA service's word ----------------------------------------------------------------------


async def test_escalations_stand_on_the_timeline(routing: RoutingService) -> None:
    reference = await routing.submit()
    head = demo_person_id("head.moh-hq")
    await routing.publish(SlaEscalated(
        reference=reference, level=1, entity="MOH-HQ", sector="MOH", stage="first_response",
        overdue_since=routing.clock.now(), recipient_ids=[head]))

    async def escalated() -> Case:
        case = await snapshot(routing, reference)
        assert case.escalation_level == 1
        return case

    await eventually(escalated)
    entry = (await routing.timeline(reference))[-1]
    assert (entry.action, entry.channel, entry.actor_role) == ("escalated", "sla", "system")
    assert str(head) in entry.details
