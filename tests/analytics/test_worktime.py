"""Durations are working time under the rules SLA announced (`sla.rules_changed`), as SLA counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.analytics import models
from shared.calendar import DayOverride, DayStatus
from shared.events import catalog as c
from tests.analytics.conftest import World
from tests.analytics.test_projection import accepted, assigned

WORKING_DAY_S = 7 * 3600


async def first_response_wd(world: World) -> float:
    async with world.runtime.sessionmaker() as session:
        value = await session.scalar(select(models.requests.c.first_response_wd))
    assert value is not None
    return float(value)


async def test_a_weekend_and_the_night_are_not_working_time(world: World) -> None:
    await world.seed_directory()
    world.clock.advance(timedelta(days=4, hours=5))  # Thursday 14:00
    await world.submit("JO-1")
    world.clock.advance(timedelta(days=3))  # Sunday 14:00
    await world.publish(assigned("JO-1"), accepted("JO-1"))
    await world.settled()
    assert abs(await first_response_wd(world) - 1.0) < 0.001


async def test_a_holiday_the_cmu_declares_does_not_count(world: World) -> None:
    await world.seed_directory()
    await world.publish(c.SlaRulesChanged(
        revision=2, policy_version=1, policy=c.SlaPolicy(),
        holiday_overrides=[DayOverride(day=world.clock.now().date() + timedelta(days=1),
                                       status=DayStatus.holiday, name_en="Announced holiday")],
    ))
    await world.submit("JO-1")  # Sunday 09:00
    world.clock.advance(timedelta(days=2))  # Tuesday 09:00; Monday was declared a holiday
    await world.publish(assigned("JO-1"), accepted("JO-1"))
    await world.settled()
    assert abs(await first_response_wd(world) - 1.0) < 0.001


async def test_an_older_revision_of_the_rules_does_not_replace_a_newer(world: World) -> None:
    await world.seed_directory()
    monday = world.clock.now().date() + timedelta(days=1)
    await world.publish(
        c.SlaRulesChanged(revision=3, policy_version=1, policy=c.SlaPolicy(),
                          holiday_overrides=[DayOverride(day=monday, status=DayStatus.holiday)]),
        c.SlaRulesChanged(revision=2, policy_version=1, policy=c.SlaPolicy()),
    )
    await world.settled()
    async with world.runtime.sessionmaker() as session:
        kept = await session.scalar(select(models.working_rules.c.revision))
    assert kept == 3
