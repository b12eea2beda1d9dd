"""The requester's view, kept current from the other services' events over real RabbitMQ;
rating (in the app and by one-tap link) and answering a question."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.intake.context import Intake
from shared.auth import Role
from shared.bus import OutgoingMessage
from shared.events.catalog import (
    DirectoryEntityChanged,
    DirectorySectorChanged,
    RequestAccepted,
    RequestAssigned,
    RequestClosed,
    RequestInfoRequested,
    RequestReopened,
    RequestResponded,
    RequestReviewOpened,
    SlaDeadlineEnded,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRulesChanged,
)
from shared.events.envelope import new_envelope
from shared.links import DEVELOPMENT_SECRET, LinkSigner
from tests.intake.conftest import Broker, IntakeUnderTest
from tests.intake.factories import key
from tests.intake.test_submissions import REQUESTS, complaint
from tests.platform import eventually

OFFICER = uuid.uuid4()


async def seeded(intake: IntakeUnderTest, broker: Broker) -> None:
    await broker.publish(DirectorySectorChanged(sector="MOH", name_ar="وزارة الصحة",
                                                name_en="Ministry of Health", change="created"))
    await broker.publish(DirectoryEntityChanged(entity="MOH-HOSP", sector="MOH",
                                                name_ar="مستشفى البشير",
                                                name_en="Al-Bashir Hospital", change="created"))

    async def entity_known() -> None:
        assert await intake.count("entities") == 1

    await eventually(entity_known)


async def submitted(intake: IntakeUnderTest, me: dict[str, str], **changes: Any) -> str:
    response = await intake.client.post(REQUESTS, json=complaint(**changes),
                                        headers={**me, **key()})
    assert response.status_code == 201, response.json()
    return str(response.json()["reference"])


async def view(intake: IntakeUnderTest, me: dict[str, str], reference: str) -> dict[str, Any]:
    response = await intake.client.get(f"{REQUESTS}/{reference}", headers=me)
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


async def until_status(intake: IntakeUnderTest, me: dict[str, str], reference: str,
                       status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any]:
        shown = await view(intake, me, reference)
        assert shown["status"]["code"] == status, shown["status"]
        return shown

    return await eventually(reached)


async def answered(intake: IntakeUnderTest, broker: Broker, citizen_id: str | None = None,
                   **changes: Any) -> tuple[dict[str, str], str]:
    """A citizen's request that routing has answered: (their headers, its reference)."""
    await seeded(intake, broker)
    me = intake.auth(Role.citizen, citizen_id)
    ref = await submitted(intake, me, **changes)
    await broker.publish(RequestResponded(reference=ref, actions_taken="تم", solution="تم الحل",
                                          actor_id=OFFICER))
    await until_status(intake, me, ref, "responded")
    return me, ref


async def test_the_requester_follows_every_step_in_plain_words(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    await seeded(intake, broker)
    me = intake.auth(Role.citizen)
    ref = await submitted(intake, me)
    first = await view(intake, me, ref)
    assert first["status"]["label"]["en"] == "Received"
    assert first["entity_name"] == {"ar": "مستشفى البشير", "en": "Al-Bashir Hospital"}
    assert first["deadlines"][0]["provisional"] is True

    await broker.publish(RequestAssigned(reference=ref, entity="MOH-HOSP", sector="MOH",
                                         officer_ids=[OFFICER]), correlation_id=ref)
    due = intake.clock.now() + timedelta(days=1)
    await broker.publish(SlaDeadlineSet(reference=ref, clock="requester", entity=None,
                                        stage="first_response", due_at=due), producer="sla")
    shown = await until_status(intake, me, ref, "assigned")
    assert shown["next_step"]["en"].startswith("The entity's liaison officer")

    async def deadline_from_sla() -> None:
        deadlines = (await view(intake, me, ref))["deadlines"]
        assert [d["provisional"] for d in deadlines] == [False]

    await eventually(deadline_from_sla)

    await broker.publish(RequestAccepted(reference=ref, classification="waiting-times",
                                         processing_working_days=5, actor_id=OFFICER))
    await until_status(intake, me, ref, "in_progress")
    await broker.publish(RequestInfoRequested(reference=ref, question="ما رقم الموعد؟",
                                              actor_id=OFFICER))
    shown = await until_status(intake, me, ref, "awaiting_information")
    assert shown["timeline"][-1]["details"] == {"question": "ما رقم الموعد؟"}
    assert shown["timeline"][-1]["label"]["en"] == "Information was asked of you"

    answered = await intake.client.post(f"{REQUESTS}/{ref}/information",
                                        json={"answer": "رقم الموعد 4471"},
                                        headers={**me, **key()})
    assert answered.status_code == 201, answered.json()
    assert answered.json()["status"]["code"] == "in_progress"  # where it stood before
    (provided,) = await intake.events("request.info_provided")
    assert provided["answer"] == "رقم الموعد 4471"
    again = await intake.client.post(f"{REQUESTS}/{ref}/information",
                                     json={"answer": "مرة أخرى"}, headers={**me, **key()})
    assert again.status_code == 409

    not_yet = await intake.client.post(f"{REQUESTS}/{ref}/rating", json={"score": 5},
                                       headers={**me, **key()})
    assert not_yet.status_code == 409
    assert not_yet.json()["type"] == "/problems/request-not-rateable"

    await broker.publish(SlaEscalated(reference=ref, level=1, entity="MOH-HOSP", sector="MOH",
                                      stage="first_response",
                                      overdue_since=intake.clock.now()), producer="sla")
    await broker.publish(RequestResponded(reference=ref, actions_taken="راجعنا جدول المواعيد",
                                          solution="أضيفت عيادة مسائية", actor_id=OFFICER))
    shown = await until_status(intake, me, ref, "responded")
    assert shown["solution"] == "أضيفت عيادة مسائية"
    assert shown["actions_taken"] == "راجعنا جدول المواعيد"
    steps = [step["step"] for step in shown["timeline"]]
    assert steps == ["request.submitted", "request.assigned", "request.accepted",
                     "request.info_requested", "request.info_provided", "sla.escalated",
                     "request.responded"]

    await broker.publish(RequestClosed(reference=ref, closing_code="resolved",
                                       closed_by="system"))
    shown = await until_status(intake, me, ref, "closed")
    assert shown["outcome"] == "resolved"


async def test_a_late_older_event_never_moves_the_status_back_and_repeats_count_once(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    await seeded(intake, broker)
    me = intake.auth(Role.citizen)
    ref = await submitted(intake, me)
    assigned_at = intake.clock.now()
    intake.clock.advance(timedelta(minutes=5))
    responded = new_envelope(
        RequestResponded(reference=ref, actions_taken="تم", solution="تم الحل", actor_id=OFFICER),
        producer="routing", clock=intake.clock, correlation_id=ref,
    )
    message = OutgoingMessage.from_envelope(responded)
    await broker.bus.publish([message, message])  # delivered twice
    await until_status(intake, me, ref, "responded")
    await broker.publish(RequestAssigned(reference=ref, entity="MOH-HOSP", sector="MOH",
                                         officer_ids=[OFFICER]), at=assigned_at)

    async def applied() -> None:
        assert await intake.count("timeline") == 2

    await eventually(applied)
    shown = await view(intake, me, ref)
    assert shown["status"]["code"] == "responded"
    assert [s["step"] for s in shown["timeline"]] == [
        "request.submitted", "request.assigned", "request.responded"]


async def test_rating_once_answered_with_a_score_from_one_to_five(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    me, ref = await answered(intake, broker)
    rating = f"{REQUESTS}/{ref}/rating"
    for bad in (0, 6):
        refused = await intake.client.post(rating, json={"score": bad}, headers={**me, **key()})
        assert refused.status_code == 422
    stranger = await intake.client.post(rating, json={"score": 5},
                                        headers={**intake.auth(Role.citizen), **key()})
    assert stranger.status_code == 404
    rated = await intake.client.post(rating, json={"score": 1, "comment": "لم تحل المشكلة"},
                                     headers={**me, **key()})
    assert rated.status_code == 201, rated.json()
    assert "complaints unit" in rated.json()["next_step"]["en"]
    assert await intake.events("request.rated") == [
        {"reference": ref, "score": 1, "comment": "لم تحل المشكلة", "round": 1}]
    same = await intake.client.post(rating, json={"score": 1, "comment": "لم تحل المشكلة"},
                                    headers={**me, **key()})
    assert same.status_code == 201
    changed = await intake.client.post(rating, json={"score": 5}, headers={**me, **key()})
    assert changed.status_code == 409
    shown = await view(intake, me, ref)
    assert shown["rating"] == 1
    assert "complaints unit" in shown["next_step"]["en"]  # no longer asked to rate
    assert len(await intake.events("request.rated")) == 1


async def reopened_and_answered_again(intake: IntakeUnderTest, broker: Broker,
                                      me: dict[str, str], ref: str) -> dict[str, Any]:
    """The CMU reopens a request rated 1 and the entity answers it a second time."""
    await broker.publish(RequestReviewOpened(reference=ref, entity="MOH-HOSP", sector="MOH"))
    await until_status(intake, me, ref, "under_review")
    await broker.publish(RequestReopened(reference=ref, entity="MOH-HOSP", sector="MOH",
                                         decision="الرد لم يعالج التأخير", actor_id=OFFICER))
    await until_status(intake, me, ref, "in_progress")
    await broker.publish(RequestResponded(reference=ref, actions_taken="أضيفت عيادة",
                                          solution="مواعيد مسائية", actor_id=OFFICER, round=2))
    return await until_status(intake, me, ref, "responded")


async def test_a_reopened_request_can_be_rated_again_for_its_new_answer(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    me, ref = await answered(intake, broker)
    rating = f"{REQUESTS}/{ref}/rating"
    first = await intake.client.post(rating, json={"score": 1}, headers={**me, **key()})
    assert first.status_code == 201, first.json()
    assert first.json()["round"] == 1

    shown = await reopened_and_answered_again(intake, broker, me, ref)
    assert (shown["answer_round"], shown["rating"]) == (2, None)
    assert shown["next_step"]["en"].startswith("Rate the answer")  # asked again, as the SMS does

    second = await intake.client.post(rating, json={"score": 5, "comment": "شكراً"},
                                      headers={**me, **key()})
    assert second.status_code == 201, second.json()
    assert (second.json()["round"], second.json()["score"]) == (2, 5)
    again = await intake.client.post(rating, json={"score": 5, "comment": "شكراً"},
                                     headers={**me, **key()})
    assert again.status_code == 201  # the same rating of the same answer: answered as before
    assert again.json()["rated_at"] == second.json()["rated_at"]
    changed = await intake.client.post(rating, json={"score": 4}, headers={**me, **key()})
    assert changed.status_code == 409
    assert changed.json()["reason"] == "already_rated"
    assert await intake.events("request.rated") == [
        {"reference": ref, "score": 1, "comment": None, "round": 1},
        {"reference": ref, "score": 5, "comment": "شكراً", "round": 2},
    ]

    shown = await view(intake, me, ref)
    assert shown["rating"] == 5
    rounds = [(s["step"], s["details"].get("round"), s["details"].get("score"),
               s["details"].get("solution")) for s in shown["timeline"]
              if s["step"] in ("request.responded", "request.rated")]
    assert rounds == [
        ("request.responded", 1, None, "تم الحل"), ("request.rated", 1, 1, None),
        ("request.responded", 2, None, "مواعيد مسائية"), ("request.rated", 2, 5, None),
    ]


async def test_a_rating_of_an_answer_a_newer_one_replaced_is_refused_clearly(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    citizen_id = str(uuid.uuid4())
    me, ref = await answered(intake, broker, citizen_id)
    signer = LinkSigner(DEVELOPMENT_SECRET, clock=intake.clock)
    link = f"{REQUESTS}/{ref}/rating/link"

    def token_of(answer_round: int) -> str:  # as notify signs the link of each answer's SMS
        return signer.sign("rate", {"ref": ref, "sub": citizen_id, "round": answer_round},
                           lifetime=timedelta(days=3))

    first = await intake.client.post(link, params={"token": token_of(1)}, json={"score": 1})
    assert first.status_code == 201, first.json()
    await reopened_and_answered_again(intake, broker, me, ref)

    state = await intake.client.get(f"{link}/state", params={"token": token_of(1)})
    assert state.status_code == 200, state.json()
    assert state.json() | {"status": None, "next_step": None} == {
        "reference": ref, "subject": complaint()["subject"], "status": None,
        "link_round": 1, "answer_round": 2, "actions_taken": "أضيفت عيادة",
        "solution": "مواعيد مسائية",
        "rateable": False, "why_not": "superseded", "rating": 1, "next_step": None}
    for late in (
        intake.client.post(link, params={"token": token_of(1)}, json={"score": 5}),
        intake.client.post(f"{REQUESTS}/{ref}/rating", json={"score": 5, "round": 1},
                           headers={**me, **key()}),
    ):
        refused = await late
        assert refused.status_code == 409, refused.json()
        assert (refused.json()["reason"], refused.json()["answer_round"]) == (
            "answer_superseded", 2)
        assert "newer" in refused.json()["detail"] or "أحدث" in refused.json()["detail"]
    replayed = await intake.client.post(link, params={"token": token_of(1)}, json={"score": 1})
    assert (replayed.status_code, replayed.json()["round"]) == (201, 1)
    not_yet = await intake.client.post(f"{REQUESTS}/{ref}/rating", json={"score": 5, "round": 3},
                                       headers={**me, **key()})
    assert (not_yet.status_code, not_yet.json()["reason"]) == (409, "not_answered")
    assert len(await intake.events("request.rated")) == 1

    state = await intake.client.get(f"{link}/state", params={"token": token_of(2)})
    assert (state.json()["rateable"], state.json()["why_not"]) == (True, None)
    tapped = await intake.client.post(link, params={"token": token_of(2)}, json={"score": 5})
    assert (tapped.status_code, tapped.json()["round"]) == (201, 2)
    assert [e["round"] for e in await intake.events("request.rated")] == [1, 2]


async def test_the_requester_sees_only_the_deadlines_still_running(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    """Through a reopening: the first answer's deadlines end, the second answer's run."""
    intake, broker = intake_with_bus
    me, ref = await answered(intake, broker)
    start = intake.clock.now()

    def at(hours: int) -> Any:
        return start + timedelta(hours=hours)

    async def sla_says(payload: Any, hours: int) -> None:
        await broker.publish(payload, producer="sla", at=at(hours))

    async def shown(*expected: tuple[str, str]) -> None:
        async def running() -> None:
            deadlines = (await view(intake, me, ref))["deadlines"]
            assert sorted((d["clock"], d["stage"]) for d in deadlines) == sorted(expected)

        await eventually(running)

    def set_(clock: str, stage: str, due_in: int, entity: str | None = None) -> SlaDeadlineSet:
        return SlaDeadlineSet(reference=ref, clock=clock, entity=entity, stage=stage,
                              due_at=at(due_in))

    def ended(clock: str, stage: str, due_in: int, hours: int,
              entity: str | None = None) -> SlaDeadlineEnded:
        return SlaDeadlineEnded(reference=ref, clock=clock, entity=entity, stage=stage,
                                due_at=at(due_in), ended_at=at(hours))

    await sla_says(set_("requester", "processing", 40), 0)
    await sla_says(set_("entity", "processing", 40, "MOH-HOSP"), 0)
    await sla_says(set_("requester", "rating_window", 10), 1)
    # The first answer ended both processing deadlines.
    await sla_says(ended("requester", "processing", 40, 1), 1)
    await sla_says(ended("entity", "processing", 40, 1, "MOH-HOSP"), 1)
    await shown(("requester", "rating_window"))
    # Rated 1, reviewed, reopened: the entity processes again; the rating window is over.
    await sla_says(ended("requester", "rating_window", 10, 2), 2)
    await sla_says(set_("entity", "processing", 60, "MOH-HOSP"), 3)
    await shown(("entity", "processing"))
    # The second answer: its own rating window, heard before the end of the processing it ends.
    await sla_says(set_("requester", "rating_window", 30), 20)
    await sla_says(ended("entity", "processing", 60, 20, "MOH-HOSP"), 20)
    await shown(("requester", "rating_window"))
    # An end heard before the deadline it ends (out of order) still ends it.
    await sla_says(ended("requester", "review", 50, 25), 25)
    await sla_says(set_("requester", "review", 50), 21)
    await sla_says(ended("requester", "rating_window", 30, 21), 21)
    await shown()


async def test_the_one_tap_link_shows_its_answer_and_rates_only_its_own_request(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    intake, broker = intake_with_bus
    citizen_id = str(uuid.uuid4())
    me, ref = await answered(intake, broker, citizen_id)
    # Notify signs the link with the same secret.
    signer = LinkSigner(DEVELOPMENT_SECRET, clock=intake.clock)
    token = signer.sign("rate", {"ref": ref, "sub": citizen_id}, lifetime=timedelta(days=3))
    link = f"{REQUESTS}/{ref}/rating/link"

    state = await intake.client.get(f"{link}/state", params={"token": token})
    assert state.status_code == 200, state.json()
    assert (state.json()["rateable"], state.json()["solution"]) == (True, "تم الحل")
    assert await intake.events("request.rated") == []  # opening the link changes nothing
    # A link sent before the web app served its page goes on to that page.
    sent_before = await intake.client.get(link, params={"token": token})
    assert sent_before.status_code == 303
    assert sent_before.headers["location"] == f"/rate/{ref}?token={token}"
    assert sent_before.headers["referrer-policy"] == "no-referrer"

    forged = signer.sign("rate", {"ref": ref, "sub": str(uuid.uuid4())},
                         lifetime=timedelta(days=3))
    other_purpose = signer.sign("unsubscribe", {"ref": ref, "sub": citizen_id},
                                lifetime=timedelta(days=3))
    for bad in (forged, other_purpose, token[:-2] + "xx"):
        refused = await intake.client.post(link, params={"token": bad}, json={"score": 4})
        assert refused.status_code == 404
    tapped = await intake.client.post(link, params={"token": token}, json={"score": 4})
    assert tapped.status_code == 201
    assert tapped.json()["next_step"]["ar"]
    assert await intake.events("request.rated") == [
        {"reference": ref, "score": 4, "comment": None, "round": 1}]
    rated = await intake.client.get(f"{link}/state", params={"token": token})
    assert (rated.json()["why_not"], rated.json()["rating"]) == ("already_rated", 4)

    intake.clock.advance(timedelta(days=4))
    expired = await intake.client.get(f"{link}/state", params={"token": token})
    assert expired.status_code == 404


async def test_the_rules_sla_announces_set_the_provisional_deadlines(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    from shared.events.catalog import SlaPolicy

    intake, broker = intake_with_bus
    await seeded(intake, broker)
    await broker.publish(SlaRulesChanged(revision=3, policy_version=2,
                                         policy=SlaPolicy(first_response_working_days=2,
                                                          entity_head_after_working_days=2,
                                                          minister_after_working_days=3)),
                         producer="sla")

    async def stored() -> None:
        assert await intake.count("sla_rules") == 1

    await eventually(stored)
    intake.runtime.resources_as(Intake).rules.forget()
    receipt = await intake.client.post(REQUESTS, json=complaint(),
                                       headers={**intake.auth(Role.citizen), **key()})
    due = receipt.json()["deadlines"][0]["due_at"]
    assert due.startswith("2030-03-05T10:00")  # Sunday 10:00 + two working days


async def test_a_rating_score_is_a_whole_number_never_text(
    intake_with_bus: tuple[IntakeUnderTest, Broker],
) -> None:
    """`{"score": "5"}` is refused by the API and by the link's JSON (the link's page, which
    reads a form's text, sends the number: tests/web/test_rating.py)."""
    intake, broker = intake_with_bus
    citizen_id = str(uuid.uuid4())
    me, ref = await answered(intake, broker, citizen_id)
    token = LinkSigner(DEVELOPMENT_SECRET, clock=intake.clock).sign(
        "rate", {"ref": ref, "sub": citizen_id}, lifetime=timedelta(days=3))
    link = f"{REQUESTS}/{ref}/rating/link"
    for not_a_number in ("5", 5.0, True, "five"):
        by_app = await intake.client.post(f"{REQUESTS}/{ref}/rating",
                                          json={"score": not_a_number}, headers={**me, **key()})
        by_link = await intake.client.post(link, params={"token": token},
                                           json={"score": not_a_number})
        for refused in (by_app, by_link):
            assert refused.status_code == 422, (not_a_number, refused.text)
            assert [e["field"] for e in refused.json()["errors"]] == ["body.score"]
    assert await intake.events("request.rated") == []
