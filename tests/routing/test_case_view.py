"""The request as staff read it: the actions they may take on it now (exactly those the actions
accept), the timeline's chain verdict for whoever reads it, and comments for the record.

Each test works in a sector of its own, so the module's shared service does not mix them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from services.routing.cases.policy import Action
from shared.events.catalog import RequestRated
from shared.events.vocabulary import RequestKind, RequestStatus
from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem
from tests.routing.test_audit import as_superuser

MLO, HEAD, MINISTER, CMU, SLO = "mlo.moh", "head.moh-hq", "minister.moh", "cmu.staff", "slo.moh-hq"
COMPLAINT = {"classification": "complaint.service_delay", "processing_working_days": 5}
RESPONSE = {"actions_taken": "أُعيد ضخ المياه", "solution": "تم إصلاح الخط"}


async def done(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def view(routing: RoutingService, who: str, reference: str) -> dict[str, Any]:
    return await done(await routing.client.get(f"/api/v1/cases/{reference}",
                                               headers=await routing.auth(who)))


async def comment(routing: RoutingService, who: str, reference: str, text: str,
                  key: str | None = None) -> httpx.Response:
    headers = {**await routing.auth(who), "Idempotency-Key": key or str(uuid.uuid4()),
               "Accept-Language": "en"}
    return await routing.client.post(f"/api/v1/requests/{reference}/comment",
                                     json={"text": text}, headers=headers)


async def status_is(routing: RoutingService, reference: str, status: RequestStatus) -> None:
    async def reached() -> None:
        case = await routing.case(reference)
        assert case is not None
        assert case.status is status

    await eventually(reached)


# --- what I may do now -------------------------------------------------------------------------


async def assigned(routing: RoutingService) -> str:
    return await routing.submit(entity="MOH-HQ")


async def praise(routing: RoutingService) -> str:
    return await routing.submit(entity="MOH-HQ", kind=RequestKind.praise)


async def extended_twice(routing: RoutingService) -> str:
    reference = await assigned(routing)
    await done(await routing.act(MLO, reference, "accept", COMPLAINT))
    for _ in range(2):
        await done(await routing.act(MLO, reference, "extend", {
            "added_working_days": 1, "reason": "بانتظار رد جهة أخرى"}))
    return reference


async def in_triage(routing: RoutingService) -> str:
    reference = await assigned(routing)
    await done(await routing.act(MLO, reference, "refuse-jurisdiction",
                                 {"reason": "ليس من اختصاصنا"}))
    return reference


async def under_review(routing: RoutingService) -> str:
    reference = await assigned(routing)
    await done(await routing.act(MLO, reference, "accept", COMPLAINT))
    await done(await routing.act(MLO, reference, "respond", RESPONSE))
    await routing.publish(RequestRated(reference=reference, score=1))
    await status_is(routing, reference, RequestStatus.under_review)
    return reference


STATES: dict[str, Callable[[RoutingService], Awaitable[str]]] = {
    "assigned": assigned, "praise": praise, "extended twice": extended_twice,
    "triage": in_triage, "under review": under_review,
}
BODIES: dict[Action, dict[str, Any]] = {
    Action.accept: COMPLAINT,
    Action.refuse_jurisdiction: {"reason": "ليس من اختصاصنا"},
    Action.distribute: {"entity": "MOH-HQ"},
    Action.transfer: {"to_entity": "MWI-WAJ", "reason": "من اختصاص المياه"},
    Action.ask_info: {"question": "ما رقم المعاملة؟"},
    Action.extend: {"added_working_days": 1, "reason": "بانتظار رد"},
    Action.respond: RESPONSE,
    Action.reject: {"legal_ground": "before_court", "reason": "منظورة أمام القضاء"},
    Action.close: {"closing_code": "withdrawn"},
    Action.review_decision: {"decision": "confirm", "reason": "الرد وافٍ"},
    Action.comment: {"text": "للمتابعة"},
}


async def take(routing: RoutingService, who: str, reference: str, action: Action
               ) -> httpx.Response:
    body = BODIES.get(action)
    if action is Action.merge:
        body = {"duplicates": [await assigned(routing)]}
    return await routing.client.post(
        f"/api/v1/requests/{reference}/{action.value}", json=body,
        headers={**await routing.auth(who), "Idempotency-Key": str(uuid.uuid4())})


@pytest.mark.parametrize("state", list(STATES))
async def test_the_actions_listed_are_exactly_those_the_actions_accept(
    routing: RoutingService, state: str,
) -> None:
    mismatches = []
    for who in (MLO, HEAD, CMU):
        reference = await STATES[state](routing)
        listed = set((await view(routing, who, reference))["actions"])
        for action in Action:
            # An action that succeeds changes the request: each is tried on a fresh one.
            target = await STATES[state](routing) if action.value in listed else reference
            response = await take(routing, who, target, action)
            accepted = response.status_code in (200, 201)
            if accepted != (action.value in listed) or response.status_code in (404, 422):
                mismatches.append((who, action.value, action.value in listed,
                                   response.status_code, response.text[:120]))
    assert mismatches == []


async def test_each_role_is_offered_what_its_permissions_and_the_status_allow(
    routing: RoutingService,
) -> None:
    reference = await assigned(routing)
    assert (await view(routing, MLO, reference))["actions"] == [
        "accept", "refuse-jurisdiction", "distribute", "transfer", "ask-info", "reject", "close",
        "merge", "comment"]
    assert (await view(routing, HEAD, reference))["actions"] == ["comment"]
    assert (await view(routing, MINISTER, reference))["actions"] == ["comment"]
    assert (await view(routing, CMU, reference))["actions"] == [
        "transfer", "reject", "close", "merge", "comment"]
    praised = await praise(routing)
    assert "accept" not in (await view(routing, MLO, praised))["actions"]
    assert "respond" in (await view(routing, MLO, praised))["actions"]
    await done(await routing.act(MLO, reference, "distribute", {"entity": "MOH-HQ"}))
    assert (await view(routing, SLO, reference))["actions"] == ["accept", "ask-info"]


async def test_an_action_answers_with_what_may_be_done_next(routing: RoutingService) -> None:
    reference = await assigned(routing)
    accepted = await done(await routing.act(MLO, reference, "accept", COMPLAINT))
    assert "accept" not in accepted["actions"]
    assert {"extend", "respond"} <= set(accepted["actions"])


# --- the chain's verdict -------------------------------------------------------------------------


async def test_officers_see_the_chain_verdict_on_the_timeline_they_read(
    routing: RoutingService,
) -> None:
    reference = await assigned(routing)
    await done(await routing.act(MLO, reference, "accept", COMPLAINT))
    timeline = await done(await routing.client.get(f"/api/v1/cases/{reference}/timeline",
                                                   headers=await routing.auth(MLO)))
    assert timeline["verification"] == {"reference": reference, "intact": True, "entries": 3,
                                        "broken_at": None, "reason": None, "verdict": "intact"}
    await as_superuser(routing, "UPDATE audit_entries SET details = '{}' "
                       "WHERE reference = :ref AND seq = 3", ref=reference)
    tampered = await done(await routing.client.get(f"/api/v1/cases/{reference}/timeline",
                                                   headers=await routing.auth(MLO)))
    assert tampered["verification"]["verdict"] == "tampered"
    assert tampered["verification"]["broken_at"] == 3
    verified = await routing.client.get(f"/api/v1/cases/{reference}/timeline/verification",
                                        headers=await routing.auth(MLO))
    assert verified.status_code == 403  # recomputing on demand stays the CMU's


# --- comments for the record ---------------------------------------------------------------------


async def test_heads_ministers_and_the_cmu_comment_for_the_record_and_nothing_else_changes(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOT-LTRC")
    before = await routing.case(reference)
    assert before is not None
    for who, text in (("head.mot-ltrc", "يُتابع فوراً"), ("minister.mot", "أطلعوني على الحل"),
                      (CMU, "تحت نظر الوحدة")):
        response = await comment(routing, who, reference, text)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "assigned"
    after = await routing.case(reference)
    assert after is not None
    assert (after.status, after.due_at, after.escalation_level) == (
        before.status, before.due_at, before.escalation_level)
    assert after.audit_seq == before.audit_seq + 3
    entries = (await routing.timeline(reference))[-3:]
    assert [(e.action, e.actor_role, e.from_status, e.to_status) for e in entries] == [
        ("comment", "entity_head", "assigned", "assigned"),
        ("comment", "minister", "assigned", "assigned"),
        ("comment", "cmu_staff", "assigned", "assigned")]
    assert '"text":"يُتابع فوراً"' in entries[0].details
    # Nothing is announced: the next event about it is the next real step.
    await done(await routing.act("mlo.mot", reference, "accept", COMPLAINT))

    async def accepted_announced() -> None:
        assert routing.observed.about(reference) == [
            "request.submitted", "request.assigned", "request.accepted"]

    await eventually(accepted_announced)


async def test_a_comment_sent_twice_with_one_key_is_recorded_once(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOT-CARC")
    key = str(uuid.uuid4())
    first = await comment(routing, "head.mot-carc", reference, "للمتابعة", key)
    again = await comment(routing, "head.mot-carc", reference, "للمتابعة", key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json() == again.json()
    assert [e.action for e in await routing.timeline(reference)].count("comment") == 1
    missing = await routing.client.post(f"/api/v1/requests/{reference}/comment",
                                        json={"text": "بلا مفتاح"},
                                        headers=await routing.auth("head.mot-carc"))
    assert missing.status_code == 400


async def test_a_comment_needs_the_permission_the_scope_and_some_words(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOT-JMD")
    await done(await routing.act("mlo.mot", reference, "distribute", {"entity": "MOT-JMD"}))
    assert (await comment(routing, "slo.mot-jmd", reference, "ملاحظة")).status_code == 403
    outside = await comment(routing, "head.mot-ltrc", reference, "ملاحظة")
    assert outside.status_code == 404
    assert problem(outside)["type"] == "/problems/case-not-found"
    empty = await comment(routing, "head.mot-jmd", reference, "   ")
    assert empty.status_code == 422
    closed = await routing.submit(entity="MOT-JMD")
    await done(await routing.act("mlo.mot", closed, "close", {"closing_code": "withdrawn"}))
    assert (await comment(routing, "minister.mot", closed, "للسجل")).status_code == 201
