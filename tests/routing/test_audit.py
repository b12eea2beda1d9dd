"""The audit trail: append-only, hash-chained per request, verified on demand.

The database refuses to change history; to prove the chain catches what the database cannot
stop, these tests act as a superuser who switches the triggers off (`session_replication_role`)
and edits, removes or cuts entries: the verification names the first entry that does not hold.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.events.catalog import RequestRated
from shared.events.vocabulary import RequestStatus
from tests.platform import eventually
from tests.routing.conftest import RoutingService

MLO = "mlo.moh"


async def lived(routing: RoutingService) -> str:
    """A request accepted, extended, answered and rated: 6 entries on its timeline."""
    reference = await routing.submit()
    for action, body in (
        ("accept", {"classification": "complaint.procedures", "processing_working_days": 3}),
        ("extend", {"added_working_days": 2, "reason": "مراجعة"}),
        ("respond", {"actions_taken": "تمت المراجعة", "solution": "أُنجزت المعاملة"}),
    ):
        response = await routing.act(MLO, reference, action, body)
        assert response.status_code == 200, response.text
    await routing.publish(RequestRated(reference=reference, score=5))

    async def closed() -> None:
        case = await routing.case(reference)
        assert case is not None
        assert case.status is RequestStatus.closed

    await eventually(closed)
    return reference


async def verification(routing: RoutingService, reference: str) -> dict[str, Any]:
    response = await routing.client.get(f"/api/v1/cases/{reference}/timeline/verification",
                                        headers=await routing.auth("cmu.staff"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def as_superuser(routing: RoutingService, statement: str, **values: Any) -> None:
    """What a database administrator could do behind the application's back."""
    async with routing.runtime.engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(statement), values)


async def test_the_timeline_records_who_when_what_and_from_where(
    routing: RoutingService,
) -> None:
    reference = await lived(routing)
    timeline = await routing.client.get(f"/api/v1/cases/{reference}/timeline",
                                        headers=await routing.auth(MLO))
    assert timeline.status_code == 200
    entries = timeline.json()["entries"]
    assert [e["action"] for e in entries] == [
        "received", "assigned", "accepted", "extended", "responded", "closed"]
    assert [e["seq"] for e in entries] == list(range(1, 7))
    accepted = entries[2]
    assert (accepted["actor_role"], accepted["channel"]) == ("main_liaison_officer", "staff_api")
    assert accepted["details"] == {"classification": "complaint.procedures",
                                   "processing_working_days": 3}
    closed = entries[-1]
    assert (closed["actor_role"], closed["channel"], closed["to_status"]) == (
        "citizen", "intake", "closed")
    assert timeline.headers["cache-control"] == "no-store"


async def test_an_untouched_chain_verifies(routing: RoutingService) -> None:
    reference = await lived(routing)
    assert await verification(routing, reference) == {
        "reference": reference, "intact": True, "entries": 6, "broken_at": None,
        "reason": None, "verdict": "intact"}


async def test_a_changed_row_is_detected(routing: RoutingService) -> None:
    reference = await lived(routing)
    await as_superuser(
        routing,
        "UPDATE audit_entries SET details = :details WHERE reference = :ref AND seq = 3",
        details='{"classification":"complaint.procedures","processing_working_days":30}',
        ref=reference)
    result = await verification(routing, reference)
    assert (result["intact"], result["verdict"], result["broken_at"], result["reason"]) == (
        False, "tampered", 3, "the entry was changed")


async def test_a_row_changed_with_its_hash_recomputed_breaks_the_next_link(
    routing: RoutingService,
) -> None:
    reference = await lived(routing)
    await as_superuser(routing, "UPDATE audit_entries SET actor_role = 'cmu_admin', "
                       "hash = repeat('a', 64) WHERE reference = :ref AND seq = 4", ref=reference)
    result = await verification(routing, reference)
    assert (result["intact"], result["broken_at"]) == (False, 4)


async def test_a_removed_row_is_detected(routing: RoutingService) -> None:
    reference = await lived(routing)
    await as_superuser(routing, "DELETE FROM audit_entries WHERE reference = :ref AND seq = 2",
                       ref=reference)
    result = await verification(routing, reference)
    assert (result["intact"], result["broken_at"], result["reason"]) == (
        False, 2, "an entry is missing")


async def test_cutting_off_the_newest_rows_is_detected(routing: RoutingService) -> None:
    reference = await lived(routing)
    await as_superuser(routing, "DELETE FROM audit_entries WHERE reference = :ref AND seq >= 5",
                       ref=reference)
    result = await verification(routing, reference)
    assert (result["intact"], result["broken_at"], result["reason"]) == (
        False, 5, "entries are missing at the end")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET details = '{}' WHERE reference = :ref",
    "DELETE FROM audit_entries WHERE reference = :ref",
    "UPDATE directory_log SET change = 'nothing' WHERE id = 1",
    "DELETE FROM directory_log WHERE id = 1",
])
async def test_the_database_refuses_to_change_history(
    routing: RoutingService, statement: str
) -> None:
    reference = await routing.submit()
    with pytest.raises(DBAPIError, match="append-only"):
        async with routing.runtime.engine.begin() as connection:
            await connection.execute(text(statement), {"ref": reference})
    assert (await verification(routing, reference))["intact"] is True


async def test_officers_read_the_timeline_but_only_the_cmu_verifies_it(
    routing: RoutingService,
) -> None:
    reference = await routing.submit()
    officer = await routing.client.get(f"/api/v1/cases/{reference}/timeline/verification",
                                       headers=await routing.auth(MLO))
    assert officer.status_code == 403
    stranger = await routing.client.get(f"/api/v1/cases/{reference}/timeline",
                                        headers=await routing.auth("mlo.moi"))
    assert stranger.status_code == 404
