"""Inboxes: each person sees what their token's scope covers, sorted by the deadline SLA set,
filterable, paginated; nothing in the query widens the scope.

Each test works in a sector of its own, so the module's shared service does not mix them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.events.catalog import SlaBreached, SlaDeadlineSet, SlaEscalated
from shared.events.vocabulary import RequestKind
from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem


async def inbox(routing: RoutingService, who: str, **query: Any) -> list[str]:
    response = await routing.client.get("/api/v1/inbox", params=query,
                                        headers=await routing.auth(who))
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def deadline(routing: RoutingService, reference: str, entity: str, hours: float) -> None:
    await routing.publish(SlaDeadlineSet(
        reference=reference, clock="entity", entity=entity, stage="first_response",
        due_at=routing.clock.now() + timedelta(hours=hours)))


async def due_of(routing: RoutingService, reference: str) -> Any:
    case = await routing.case(reference)
    assert case is not None
    return case.due_at


async def test_each_role_sees_its_scope_and_nothing_else(routing: RoutingService) -> None:
    mine = await routing.submit(entity="MOE-HQ")
    distributed = await routing.submit(entity="MOE-HQ")
    other_sector = await routing.submit(entity="MOHE-HQ")
    triaged = await routing.submit(entity=None)
    response = await routing.act("mlo.moe", distributed, "distribute", {"entity": "MOE-HQ"})
    assert response.status_code == 200, response.text

    officer = await inbox(routing, "mlo.moe")
    assert {mine, distributed} <= set(officer)
    assert not {other_sector, triaged} & set(officer)
    assert await inbox(routing, "slo.moe-hq") == [distributed]
    assert {mine, distributed} <= set(await inbox(routing, "head.moe-hq"))
    assert {mine, distributed} <= set(await inbox(routing, "minister.moe"))
    assert other_sector not in await inbox(routing, "minister.moe")
    for everyone in ("cmu.staff", "cmu.admin"):
        seen = await inbox(routing, everyone, limit=100, entity="MOE-HQ")
        assert {mine, distributed} <= set(seen), everyone
    # Decision makers watch figures (analytics); requests carry personal data.
    for nobody in ("call.center", "complaint.box", "commission", "decision.maker"):
        refused = await routing.client.get("/api/v1/inbox", headers=await routing.auth(nobody))
        assert refused.status_code == 403, nobody


async def test_identifiers_in_the_query_never_widen_the_scope(routing: RoutingService) -> None:
    elsewhere = await routing.submit(entity="MOJ-HQ")
    assert await inbox(routing, "mlo.moe", entity="MOJ-HQ") == []
    assert elsewhere not in await inbox(routing, "mlo.moe", status="assigned", limit=100)
    case = await routing.client.get(f"/api/v1/cases/{elsewhere}",
                                    headers=await routing.auth("mlo.moe"))
    assert case.status_code == 404
    assert problem(case)["type"] == "/problems/case-not-found"


async def test_the_inbox_is_sorted_by_deadline_with_the_undated_last(
    routing: RoutingService,
) -> None:
    late, soon, undated, later = [await routing.submit(entity="MOTA-HQ") for _ in range(4)]
    await deadline(routing, late, "MOTA-HQ", 30)
    await deadline(routing, soon, "MOTA-HQ", 2)
    await deadline(routing, later, "MOTA-HQ", 50)

    async def sorted_by_deadline() -> None:
        assert await inbox(routing, "mlo.mota") == [soon, late, later, undated]

    await eventually(sorted_by_deadline)
    page = (await routing.client.get("/api/v1/inbox", headers=await routing.auth("mlo.mota"))
            ).json()["items"]
    assert page[0]["due_at"] is not None
    assert page[-1]["due_at"] is None


async def test_pages_follow_each_other_without_gaps_or_repeats(
    routing: RoutingService,
) -> None:
    references = [await routing.submit(entity="MOY-HQ") for _ in range(7)]
    for hours, reference in zip((5, 1, 5, 3), references, strict=False):
        await deadline(routing, reference, "MOY-HQ", hours)

    async def deadlines_known() -> None:
        assert all([await due_of(routing, r) for r in references[:4]])

    await eventually(deadlines_known)
    headers = await routing.auth("mlo.moy")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await routing.client.get("/api/v1/inbox", params=params,
                                         headers=headers)).json()
        seen += [item["reference"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(references)
    assert len(seen) == len(set(seen))
    assert seen == await inbox(routing, "mlo.moy", limit=100)
    bad = await routing.client.get("/api/v1/inbox", params={"cursor": "%%%"}, headers=headers)
    assert bad.status_code == 400


async def test_filters_by_status_kind_entity_overdue_and_escalated(
    routing: RoutingService,
) -> None:
    complaint = await routing.submit(entity="MOC-HQ")
    inquiry = await routing.submit(entity="MOC-HQ", kind=RequestKind.inquiry)
    late = await routing.submit(entity="MOC-HQ")
    escalated = await routing.submit(entity="MOC-HQ")
    response = await routing.act("mlo.moc", inquiry, "accept",
                                 {"classification": "inquiry.general"})
    assert response.status_code == 200
    now = routing.clock.now()
    await routing.publish(SlaBreached(reference=late, clock="entity", entity="MOC-HQ",
                                      stage="first_response", due_at=now))
    await routing.publish(SlaEscalated(reference=escalated, level=2, entity="MOC-HQ",
                                       sector="MOC", stage="first_response",
                                       overdue_since=now))

    async def marked() -> None:
        late_case, escalated_case = await routing.case(late), await routing.case(escalated)
        assert late_case is not None
        assert late_case.overdue_since is not None
        assert escalated_case is not None
        assert escalated_case.escalation_level == 2

    await eventually(marked)
    who = "mlo.moc"
    assert await inbox(routing, who, status="in_progress") == [inquiry]
    assert await inbox(routing, who, kind="inquiry") == [inquiry]
    assert set(await inbox(routing, who, kind="complaint")) == {complaint, late, escalated}
    assert await inbox(routing, who, overdue="true") == [late]
    assert await inbox(routing, who, escalated="true") == [escalated]
    assert late not in await inbox(routing, who, overdue="false")
    assert set(await inbox(routing, who, entity="MOC-HQ")) == {
        complaint, inquiry, late, escalated}
    assert await inbox(routing, who, status="closed") == []


async def test_a_new_deadline_in_the_future_lifts_the_lateness(routing: RoutingService) -> None:
    reference = await routing.submit(entity="MOA-HQ")
    await routing.publish(SlaBreached(reference=reference, clock="entity", entity="MOA-HQ",
                                      stage="first_response", due_at=routing.clock.now()))

    async def overdue() -> None:
        assert await inbox(routing, "mlo.moa", overdue="true") == [reference]

    await eventually(overdue)
    routing.clock.advance(timedelta(minutes=1))
    await deadline(routing, reference, "MOA-HQ", 24)

    async def lifted() -> None:
        assert await inbox(routing, "mlo.moa", overdue="true") == []

    await eventually(lifted)


async def test_deadlines_of_another_entity_or_of_the_rating_window_are_not_the_officers(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOENV-HQ")
    await routing.publish(SlaDeadlineSet(
        reference=reference, clock="entity", entity="MOH-HQ", stage="first_response",
        due_at=routing.clock.now() + timedelta(hours=1)))
    await routing.publish(SlaDeadlineSet(
        reference=reference, clock="requester", entity=None, stage="processing",
        due_at=routing.clock.now() + timedelta(hours=2)))
    await deadline(routing, reference, "MOENV-HQ", 7)

    async def only_its_own() -> None:
        due = await due_of(routing, reference)
        assert due is not None
        assert abs((due - routing.clock.now()).total_seconds() - 7 * 3600) < 120

    await eventually(only_its_own)
