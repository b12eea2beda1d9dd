"""Intake's event handlers alone: merged duplicates, unknown requests, late directory news."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text

from shared.auth import Role
from shared.events.catalog import (
    DirectoryEntityChanged,
    RequestClosed,
    RequestResponded,
    SlaPolicy,
    SlaRulesChanged,
)
from tests.intake.conftest import IntakeUnderTest, feed, seed_directory
from tests.intake.factories import key
from tests.intake.test_submissions import REQUESTS, complaint

OFFICER = uuid.uuid4()


async def test_the_requester_of_a_merged_duplicate_reads_the_answer_on_their_own_request(
    intake: IntakeUnderTest,
) -> None:
    await seed_directory(intake)
    first, second = intake.auth(Role.citizen), intake.auth(Role.citizen)
    original = (await intake.client.post(REQUESTS, json=complaint(),
                                         headers={**first, **key()})).json()["reference"]
    duplicate = (await intake.client.post(REQUESTS, json=complaint(),
                                          headers={**second, **key()})).json()["reference"]
    await feed(intake, RequestClosed(reference=duplicate, closing_code="duplicate",
                                     closed_by="officer", actor_id=OFFICER,
                                     merged_into=original))
    intake.clock.advance(timedelta(minutes=1))
    await feed(intake, RequestResponded(reference=original, actions_taken="زدنا الأطباء",
                                        solution="مواعيد أسرع", actor_id=OFFICER,
                                        also_answers=[duplicate]))
    shown = (await intake.client.get(f"{REQUESTS}/{duplicate}", headers=second)).json()
    assert shown["status"]["code"] == "closed"
    assert shown["outcome"] == "duplicate"
    assert shown["solution"] == "مواعيد أسرع"
    assert shown["timeline"][-1]["details"] == {"answered_with": original}
    rated = await intake.client.post(f"{REQUESTS}/{duplicate}/rating", json={"score": 5},
                                     headers={**second, **key()})
    assert rated.status_code == 409  # the original's requester rates


async def test_an_event_about_an_unknown_request_changes_nothing(intake: IntakeUnderTest) -> None:
    await feed(intake, RequestResponded(reference="2030-0009999-1", actions_taken="x",
                                        solution="y", actor_id=OFFICER))
    assert await intake.count("timeline") == 0


async def test_older_directory_news_never_overrides_newer(intake: IntakeUnderTest) -> None:
    now = intake.clock.now()
    await feed(intake, DirectoryEntityChanged(entity="MOH-HOSP", sector="MOH", name_ar="جديد",
                                              name_en="New name", change="updated"),
               at=now)
    await feed(intake, DirectoryEntityChanged(entity="MOH-HOSP", sector="MOH", name_ar="قديم",
                                              name_en="Old name", change="created"),
               at=now - timedelta(hours=1))
    async with intake.runtime.sessionmaker() as session:
        name = (await session.execute(text("SELECT name_en FROM entities"))).scalar_one()
    assert name == "New name"


async def test_only_the_newest_sla_rules_are_kept(intake: IntakeUnderTest) -> None:
    for revision in (2, 1, 3):
        await feed(intake, SlaRulesChanged(revision=revision, policy_version=1,
                                           policy=SlaPolicy()))
    async with intake.runtime.sessionmaker() as session:
        kept = (await session.execute(text("SELECT revision FROM sla_rules"))).scalars().all()
    assert list(kept) == [3]


async def test_expired_sign_ups_codes_and_sessions_are_forgotten(intake: IntakeUnderTest) -> None:
    from services.intake.housekeeping import forget_expired
    from tests.intake.factories import register, registration, sign_in

    await register(intake)
    await sign_in(intake)
    pending = await intake.client.post("/api/v1/citizens/registrations", headers=key(),
                                       json=registration(phone="0797777777"))
    assert pending.status_code == 202
    async with intake.runtime.sessionmaker.begin() as session:
        await forget_expired(session, now=intake.clock.now(), wall_now=intake.wall_clock.now())
    assert await intake.count("registrations") == 2  # nothing expired yet
    later = timedelta(days=40)
    async with intake.runtime.sessionmaker.begin() as session:  # the simulated clock jumped
        await forget_expired(session, now=intake.clock.now() + later,
                             wall_now=intake.wall_clock.now())
    for table in ("registrations", "phone_codes"):
        assert await intake.count(table) == 0, table
    assert await intake.count("refresh_tokens") == 1  # sessions live in real time
    async with intake.runtime.sessionmaker.begin() as session:
        await forget_expired(session, now=intake.clock.now() + later,
                             wall_now=intake.wall_clock.now() + later)
    assert await intake.count("refresh_tokens") == 0
    assert await intake.count("citizens") == 1  # the account itself stays
