"""The dashboard's questions one by one: trends by day and hour, the ranking, the governorates,
the oldest open requests, and the whole board in one answer."""

from __future__ import annotations

from datetime import timedelta

from shared.events.vocabulary import Role
from tests.analytics.conftest import World
from tests.analytics.test_projection import accepted, assigned, closed, responded

API = "/api/v1/analytics"


async def _busy_entity(world: World, count: int = 25) -> None:
    await world.seed_directory()
    for index in range(count):
        reference = f"JO-H{index}"
        await world.submit(reference, governorate="JO-IR" if index % 5 == 0 else "JO-AM")
        await world.publish(assigned(reference), accepted(reference), responded(reference),
                            closed(reference))
    await world.submit("JO-L1", entity="MOH-LAB", governorate="JO-AQ")
    await world.settled()


async def test_the_trend_counts_per_day_and_per_hour(world: World) -> None:
    await _busy_entity(world, count=3)
    world.clock.advance(timedelta(hours=2))
    await world.submit("JO-LATER")
    await world.settled()
    days = (await world.get(f"{API}/trend")).json()
    assert [(d["day"], d["received"], d["closed"]) for d in days] == [("2027-09-05", 5, 3)]
    hours = (await world.get(f"{API}/trend", granularity="hour")).json()
    assert [h["received"] for h in hours] == [4, 1]
    assert hours[0]["hour"].startswith("2027-09-05T06:00")  # 09:00 in Amman, kept in UTC
    too_long = await world.get(f"{API}/trend", granularity="hour", from_="2027-08-01")
    assert too_long.json()["type"] == "/problems/bad-period"
    by_place = await world.get(f"{API}/trend", granularity="hour", governorate="JO-AM")
    assert by_place.json()["type"] == "/problems/filter-not-available"


async def test_the_ranking_ranks_only_entities_with_enough_requests(world: World) -> None:
    await _busy_entity(world)
    ranking = (await world.get(f"{API}/ranking")).json()
    hospital, lab = ranking["entities"]
    assert (hospital["code"], hospital["rank"], hospital["index"]) == ("MOH-HOSP", 1, 100.0)
    assert hospital["name_ar"] == "مستشفى البشير"
    assert (lab["code"], lab["rank"], lab["ranked"]) == ("MOH-LAB", None, False)
    assert ranking["sectors"][0]["code"] == "MOH"


async def test_every_governorate_has_a_tile(world: World) -> None:
    await _busy_entity(world)
    tiles = {g["code"]: g for g in (await world.get(f"{API}/governorates")).json()}
    assert len(tiles) == 12
    assert (tiles["JO-IR"]["received"], tiles["JO-AQ"]["open"]) == (5, 1)
    assert tiles["JO-MN"]["received"] == 0
    assert tiles["JO-AQ"]["name_en"] == "Aqaba"


async def test_the_board_answers_in_one_call_within_scope(world: World) -> None:
    await _busy_entity(world)
    world.clock.advance(timedelta(days=3))
    head = world.auth(Role.entity_head, entities=["MOH-LAB"])
    board = (await world.get(f"{API}/dashboard", head)).json()
    assert board["headline"]["received"] == 1
    assert [r["reference"] for r in board["oldest_open"]] == ["JO-L1"]
    assert board["oldest_open"][0]["age_days"] == 3
    assert board["oldest_open"][0]["entity_name_en"] == "Central laboratories"
    assert [e["code"] for e in board["ranking"]["entities"]] == ["MOH-LAB"]
    assert "notifications" not in board["headline"]  # platform-wide counts: the CMU's
    everything = (await world.get(f"{API}/dashboard")).json()
    assert everything["headline"]["received"] == 26
    assert everything["headline"]["notifications"] == {"sent": 0, "failed": 0}
    # Received on Sunday, three days before: whole days from the day of receipt.
    assert everything["headline"]["backlog_by_age"][1] == {"max_days": 3, "count": 1}
    backlog = everything["labels"]["backlog"]  # its buckets in words, plurals by CLDR
    assert [b["ar"] for b in backlog] == ["≤ يوم واحد", "≤ 3 أيام", "≤ 7 أيام", "≤ 14 يوماً",
                                          "≤ 30 يوماً", "أكثر من 30 يوماً"]
    assert backlog[0]["en"] == "≤ 1 day"


async def test_the_longest_period_is_said_with_its_plural(world: World) -> None:
    too_long = await world.get(f"{API}/trend", granularity="hour", from_="2027-08-01")
    assert too_long.json()["detail"] == "أطول فترة مسموح بها 7 أيام."
    english = await world.get(f"{API}/trend", {**world.cmu, "Accept-Language": "en"},
                              granularity="hour", from_="2027-08-01")
    assert english.json()["detail"] == "The longest period allowed is 7 days."
