"""The officer's work queue: counters of the open requests in scope, and the inbox's filters by
classification, channel, escalation level and due window (Amman's days, the injected clock).

Each test works in a sector of its own and starts at noon in Amman on a day of its own, so the
module's shared service and its simulated clock do not mix them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import httpx

from shared.calendar import AMMAN
from shared.events.catalog import (
    RequestInfoProvided,
    RequestRated,
    SlaBreached,
    SlaDeadlineSet,
    SlaEscalated,
)
from shared.events.vocabulary import Channel
from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem

ZERO = {"new": 0, "due_today": 0, "overdue": 0, "escalated": 0, "awaiting_requester": 0,
        "open": 0}


def noon_of_a_new_day(routing: RoutingService) -> datetime:
    """The simulated clock at noon in Amman on the next day: hours from either midnight."""
    tomorrow = routing.clock.now().astimezone(AMMAN).date() + timedelta(days=1)
    return routing.clock.set(datetime.combine(tomorrow, time(12), AMMAN))


async def counters(routing: RoutingService, who: str) -> dict[str, int]:
    response = await routing.client.get("/api/v1/inbox/counters",
                                        headers=await routing.auth(who))
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


async def counted(routing: RoutingService, who: str, **expected: int) -> None:
    async def as_expected() -> None:
        assert await counters(routing, who) == {**ZERO, **expected}

    await eventually(as_expected)


async def inbox(routing: RoutingService, who: str, **query: Any) -> list[str]:
    response = await routing.client.get("/api/v1/inbox", params=query,
                                        headers=await routing.auth(who))
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text


async def deadline(routing: RoutingService, reference: str, entity: str, due_at: datetime
                   ) -> None:
    await routing.publish(SlaDeadlineSet(reference=reference, clock="entity", entity=entity,
                                         stage="first_response", due_at=due_at))


# --- counters ------------------------------------------------------------------------------------


async def test_the_counters_follow_a_request_through_each_step_of_its_life(
    routing: RoutingService,
) -> None:
    now = noon_of_a_new_day(routing)
    who = "mlo.moin"
    reference = await routing.submit(entity="MOIN-HQ")
    await counted(routing, who, new=1, open=1)
    await deadline(routing, reference, "MOIN-HQ", now + timedelta(hours=2))
    await counted(routing, who, new=1, due_today=1, open=1)
    await ok(await routing.act(who, reference, "accept", {
        "classification": "complaint.procedures", "processing_working_days": 3}))
    await counted(routing, who, due_today=1, open=1)
    await ok(await routing.act(who, reference, "ask-info", {"question": "ما رقم المعاملة؟"}))
    await counted(routing, who, due_today=1, awaiting_requester=1, open=1)
    await routing.publish(RequestInfoProvided(reference=reference, answer="٤٥٦"))
    await counted(routing, who, due_today=1, open=1)
    await routing.publish(SlaBreached(reference=reference, clock="entity", entity="MOIN-HQ",
                                      stage="first_response", due_at=now))
    await counted(routing, who, overdue=1, open=1)
    await routing.publish(SlaEscalated(reference=reference, level=1, entity="MOIN-HQ",
                                       sector="MOIN", stage="first_response", overdue_since=now))
    await counted(routing, who, overdue=1, escalated=1, open=1)
    await ok(await routing.act(who, reference, "respond", {
        "actions_taken": "رُوجعت المعاملة", "solution": "أُنجزت"}))
    await counted(routing, who, escalated=1, open=1)  # answered: no deadline runs any more
    await routing.publish(RequestRated(reference=reference, score=5))
    await counted(routing, who)


async def test_a_deadline_after_today_in_amman_is_not_due_today(routing: RoutingService) -> None:
    now = noon_of_a_new_day(routing)
    today, tomorrow = [await routing.submit(entity="MOPIC-DOS") for _ in range(2)]
    end_of_today = datetime.combine(now.astimezone(AMMAN).date() + timedelta(days=1), time(),
                                    AMMAN)
    await deadline(routing, today, "MOPIC-DOS", end_of_today - timedelta(minutes=1))
    await deadline(routing, tomorrow, "MOPIC-DOS", end_of_today + timedelta(minutes=1))
    await counted(routing, "head.mopic-dos", new=2, due_today=1, open=2)


async def test_the_counters_count_only_the_callers_scope(routing: RoutingService) -> None:
    noon_of_a_new_day(routing)
    await routing.submit(entity="AWQAF-HQ")
    distributed = await routing.submit(entity="AWQAF-HQ")
    await ok(await routing.act("mlo.awqaf", distributed, "distribute", {"entity": "AWQAF-HQ"}))
    await routing.submit(entity="MOF-ISTD")  # another sector
    await counted(routing, "mlo.awqaf", new=2, open=2)
    await counted(routing, "minister.awqaf", new=2, open=2)
    await counted(routing, "slo.awqaf-hq", new=1, open=1)  # what was distributed to them
    await counted(routing, "head.mof-hq")  # another entity of the other sector
    assert (await counters(routing, "cmu.staff"))["open"] >= 3  # all of government
    refused = await routing.client.get("/api/v1/inbox/counters",
                                       headers=await routing.auth("decision.maker"))
    assert refused.status_code == 403


# --- filters -------------------------------------------------------------------------------------


async def test_the_inbox_filters_by_classification_and_channel_each_repeatable(
    routing: RoutingService,
) -> None:
    who = "mlo.memr"
    procedures = await routing.submit(entity="MEMR-HQ")
    fees = await routing.submit(entity="MEMR-HQ", channel=Channel.call_center)
    unclassified = await routing.submit(entity="MEMR-EMRC", channel=Channel.complaint_box)
    for reference, code in ((procedures, "complaint.procedures"),
                            (fees, "complaint.fees_and_billing")):
        await ok(await routing.act(who, reference, "accept", {
            "classification": code, "processing_working_days": 3}))
    assert await inbox(routing, who, classification="complaint.procedures") == [procedures]
    assert set(await inbox(routing, who, classification=[
        "complaint.procedures", "complaint.fees_and_billing"])) == {procedures, fees}
    assert await inbox(routing, who, channel="call_center") == [fees]
    assert set(await inbox(routing, who, channel=["call_center", "complaint_box"])) == {
        fees, unclassified}
    assert await inbox(routing, who, channel="call_center",
                       classification="complaint.procedures") == []


async def test_the_inbox_filters_by_exact_escalation_level(routing: RoutingService) -> None:
    now = noon_of_a_new_day(routing)
    who = "mlo.mits"
    none, head, minister = [await routing.submit(entity="MITS-CCD") for _ in range(3)]
    for reference, level in ((head, 1), (minister, 2)):
        await routing.publish(SlaEscalated(reference=reference, level=level, entity="MITS-CCD",
                                           sector="MITS", stage="first_response",
                                           overdue_since=now))

    async def escalated() -> None:
        assert await inbox(routing, who, escalation_level=2) == [minister]

    await eventually(escalated)
    assert await inbox(routing, who, escalation_level=1) == [head]
    assert await inbox(routing, who, escalation_level=0) == [none]


async def test_the_inbox_filters_by_due_window_in_amman_days(routing: RoutingService) -> None:
    now = noon_of_a_new_day(routing)
    who = "mlo.mof"
    today, this_week, later, late = [await routing.submit(entity="MOF-GBD") for _ in range(4)]
    for reference, due in ((today, now + timedelta(hours=3)),
                           (this_week, now + timedelta(days=6)),
                           (later, now + timedelta(days=7))):
        await deadline(routing, reference, "MOF-GBD", due)
    await routing.publish(SlaBreached(reference=late, clock="entity", entity="MOF-GBD",
                                      stage="first_response", due_at=now))

    async def known() -> None:
        assert await inbox(routing, who, due="overdue") == [late]
        assert len(await inbox(routing, who, due="week")) == 2

    await eventually(known)
    assert await inbox(routing, who, due="today") == [today]
    assert await inbox(routing, who, due="week") == [today, this_week]  # by deadline


async def test_bad_filter_values_are_refused_in_arabic_and_in_english(
    routing: RoutingService,
) -> None:
    headers = await routing.auth("mlo.moh")
    for query, field in (
        ({"escalation_level": "3"}, "query.escalation_level"),
        ({"escalation_level": "high"}, "query.escalation_level"),
        ({"due": "tomorrow"}, "query.due"),
        ({"channel": "fax"}, "query.channel.0"),
        ({"classification": "no good!"}, "query.classification.0"),
        ({"kind": "complain"}, "query.kind.0"),
        ({"status": "lost"}, "query.status.0"),
    ):
        arabic = await routing.client.get("/api/v1/inbox", params=query, headers=headers)
        english = await routing.client.get("/api/v1/inbox", params=query,
                                           headers={**headers, "Accept-Language": "en"})
        for response in (arabic, english):
            assert response.status_code == 422, (query, response.text)
            assert [e["field"] for e in problem(response)["errors"]] == [field]
        assert problem(arabic)["title"] != problem(english)["title"]
        message = problem(arabic)["errors"][0]["message"]
        assert any("\u0600" <= c <= "\u06ff" for c in message), message
        assert problem(english)["errors"][0]["message"].isascii()
