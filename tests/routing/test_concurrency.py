"""Optimistic locking: of two concurrent actions on one request one wins and the other gets 409;
an action on a version that is no longer current gets 412; neither changes anything."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem

MLO = "mlo.moh"


async def accepted(routing: RoutingService) -> tuple[str, int]:
    reference = await routing.submit()
    response = await routing.act(MLO, reference, "accept", {
        "classification": "complaint.service_delay", "processing_working_days": 4})
    assert response.status_code == 200, response.text
    return reference, int(response.json()["version"])


async def test_of_two_concurrent_actions_one_wins_and_the_other_gets_409(
    routing: RoutingService,
) -> None:
    reference, version = await accepted(routing)
    async with routing.runtime.engine.connect() as locker:
        # Hold the row, so that both actions read the same version before either can write.
        transaction = await locker.begin()
        await locker.execute(text("SELECT 1 FROM cases WHERE reference = :r FOR UPDATE"),
                             {"r": reference})
        holder = (await locker.execute(text("SELECT txid_current()"))).scalar_one()
        extend = asyncio.create_task(routing.act(MLO, reference, "extend", {
            "added_working_days": 2, "reason": "تأخر المورد"}))
        respond = asyncio.create_task(routing.act(MLO, reference, "respond", {
            "actions_taken": "إصلاح", "solution": "تم"}))

        async def both_waiting() -> None:
            # The first waits for our transaction, the second queues behind it on the row.
            waiting = (await locker.execute(text(
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND ("
                "(locktype = 'transactionid' AND transactionid::text = :xid) OR "
                "(locktype = 'tuple' AND relation = 'cases'::regclass))"), {"xid": str(holder)})
            ).scalar_one()
            assert waiting == 2

        await eventually(both_waiting)
        await transaction.commit()
        answers = await asyncio.gather(extend, respond)

    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert problem(loser)["type"] == "/problems/case-changed-concurrently"
    case = await routing.case(reference)
    assert case is not None
    assert case.audit_seq == version + 1  # exactly one of them happened
    winner = next(a for a in answers if a.status_code == 200)
    assert winner.json()["version"] == version + 1


async def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(
    routing: RoutingService,
) -> None:
    reference, version = await accepted(routing)
    first = await routing.act(MLO, reference, "extend",
                              {"added_working_days": 1, "reason": "أول تمديد"}, version=version)
    assert first.status_code == 200
    assert first.headers["etag"] == f'"{version + 1}"'
    stale = await routing.act(MLO, reference, "extend",
                              {"added_working_days": 1, "reason": "على نسخة قديمة"},
                              version=version)
    assert stale.status_code == 412
    body = problem(stale)
    assert (body["type"], body["etag"]) == ("/problems/precondition-failed", f'"{version + 1}"')
    case = await routing.case(reference)
    assert case is not None
    assert (case.extensions, case.audit_seq) == (1, version + 1)


async def test_the_current_etag_from_the_case_view_is_accepted(routing: RoutingService) -> None:
    reference, _ = await accepted(routing)
    view = await routing.client.get(f"/api/v1/cases/{reference}",
                                    headers=await routing.auth(MLO))
    headers = {**await routing.auth(MLO), "If-Match": view.headers["etag"]}
    response = await routing.client.post(f"/api/v1/requests/{reference}/ask-info",
                                         json={"question": "؟"}, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_malformed_if_match_is_a_400(routing: RoutingService) -> None:
    reference, _ = await accepted(routing)
    headers = {**await routing.auth(MLO), "If-Match": "yesterday"}
    response = await routing.client.post(f"/api/v1/requests/{reference}/ask-info",
                                         json={"question": "؟"}, headers=headers)
    assert response.status_code == 400
    assert problem(response)["type"] == "/problems/bad-if-match"
