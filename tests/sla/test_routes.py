"""SLA's API: the published rules and the calendar (public), the CMU's changes, a request's
deadlines (staff of its entity only), and bad input refused with a clear problem, changing nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from services.sla.service import working_time_left
from shared.calendar import WorkingCalendar
from shared.events.catalog import EventType, SlaDeadlineSet, SlaRulesChanged
from shared.events.vocabulary import Role
from tests.platform import eventually
from tests.sla.conftest import World
from tests.sla.facts import ENTITY, OTHER_ENTITY, SECTOR, Story, amman

PROBLEM = "application/problem+json"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def admin(world: World) -> dict[str, str]:
    return world.auth(Role.cmu_admin, str(uuid.uuid4()))


async def revision(world: World) -> int:
    response = await world.client.get("/api/v1/sla/rules")
    assert response.status_code == 200
    value: int = response.json()["revision"]
    return value


async def followed(world: World) -> dict[str, Any]:
    """The rules once open deadlines follow them (the scheduler has caught up)."""
    async def caught_up() -> dict[str, Any]:
        rules: dict[str, Any] = (await world.client.get("/api/v1/sla/rules")).json()
        assert rules["open_deadlines_follow"], rules
        return rules

    return await eventually(caught_up)


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == f"/problems/{code}"


# --- reading (public) ----------------------------------------------------------------------------


async def test_the_policy_and_the_calendar_are_public_and_shown_in_amman_time(
    world: World,
) -> None:
    policy = (await world.client.get("/api/v1/sla/policy")).json()
    assert policy["version"] == 1
    assert policy["policy"]["first_response_working_days"] == 1
    assert policy["policy"]["minister_after_working_days"] == 2

    deadline = await world.client.get("/api/v1/calendar/deadline", params={
        "from": "2027-09-09T14:00:00+03:00", "working_days": 1})
    assert deadline.json()["due_at"] == "2027-09-12T14:00:00+03:00"

    measured = (await world.client.get("/api/v1/calendar/working-time", params={
        "from": "2027-09-09T14:00:00+03:00", "to": "2027-09-12T14:00:00+03:00"})).json()
    assert (measured["working_seconds"], measured["working_days"]) == (7 * 3600, 1.0)

    days = (await world.client.get("/api/v1/calendar/days",
                                   params={"from": "2027-09-09", "to": "2027-09-12"})).json()
    assert [d["working"] for d in days] == [True, False, False, True]
    assert (days[0]["opens_at"], days[0]["closes_at"]) == (
        "2027-09-09T08:00:00+03:00", "2027-09-09T15:00:00+03:00")

    holidays = (await world.client.get("/api/v1/holidays", params={"year": 2027})).json()
    independence = next(h for h in holidays["holidays"] if h["day"] == "2027-05-25")
    assert independence == {"day": "2027-05-25", "name_ar": "عيد الاستقلال",
                            "name_en": "Independence Day", "source": "official",
                            "estimated": False}
    ramadan = (await world.client.get("/api/v1/calendar/ramadan", params={"year": 2028})).json()
    assert ramadan["periods"] == [{"first_day": "2028-01-28", "last_day": "2028-02-25",
                                   "source": "estimated"}]


async def test_the_rules_are_announced_whole_once_after_the_first_start(world: World) -> None:
    async def announced() -> SlaRulesChanged:
        found = world.heard(EventType.sla_rules_changed)
        assert len(found) == 1, found
        return found[0]  # type: ignore[no-any-return]

    rules = await eventually(announced)
    assert (rules.revision, rules.policy_version) == (1, 1)
    assert rules.holiday_overrides == []


async def test_calendar_questions_out_of_range_are_refused(world: World) -> None:
    too_long = await world.client.get("/api/v1/calendar/days",
                                      params={"from": "2027-01-01", "to": "2028-12-31"})
    assert_problem(too_long, 422, "range-too-long")
    naive = await world.client.get("/api/v1/calendar/deadline",
                                   params={"from": "2027-09-09T14:00:00", "working_days": 1})
    assert_problem(naive, 422, "validation-failed")
    zero = await world.client.get("/api/v1/calendar/deadline",
                                  params={"from": "2027-09-09T14:00:00Z", "working_days": 0})
    assert_problem(zero, 422, "validation-failed")
    not_a_date = await world.client.get("/api/v1/holidays", params={"year": "next"})
    assert_problem(not_a_date, 422, "validation-failed")


# --- the CMU's changes ---------------------------------------------------------------------------


async def test_only_cmu_administrators_declare_holidays_and_once_per_key(world: World) -> None:
    body = {"day": "2027-09-20", "name_ar": "عطلة رسمية", "name_en": "Official holiday"}
    assert (await world.client.post("/api/v1/holidays", json=body, headers=key())
            ).status_code == 401
    for role in (Role.citizen, Role.cmu_staff, Role.main_liaison_officer):
        refused = await world.client.post("/api/v1/holidays", json=body,
                                          headers={**key(), **world.auth(role)})
        assert_problem(refused, 403, "forbidden")
    headers = admin(world)
    assert_problem(await world.client.post("/api/v1/holidays", json=body, headers=headers),
                   400, "idempotency-key-missing")
    assert await revision(world) == 1

    once = {**headers, **key()}
    first = await world.client.post("/api/v1/holidays", json=body, headers=once)
    assert first.status_code == 201, first.text
    assert first.json() == {"revision": 2}
    again = await world.client.post("/api/v1/holidays", json=body, headers=once)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await revision(world) == 2

    listed = (await world.client.get("/api/v1/holidays", params={"year": 2027})).json()
    declared = next(h for h in listed["holidays"] if h["day"] == "2027-09-20")
    assert (declared["source"], declared["name_en"]) == ("cmu", "Official holiday")

    async def announced() -> SlaRulesChanged:
        found = [r for r in world.heard(EventType.sla_rules_changed) if r.revision == 2]
        assert found
        return found[0]  # type: ignore[no-any-return]

    rules = await eventually(announced)
    assert [o.day for o in rules.holiday_overrides] == [date(2027, 9, 20)]
    assert rules.calendar().is_working_day(date(2027, 9, 20)) is False


async def test_bad_days_are_refused_clearly_and_change_nothing(world: World) -> None:
    headers = admin(world)
    not_a_date = await world.client.post(
        "/api/v1/holidays", json={"day": "2027-02-30", "name_ar": "ع", "name_en": "x"},
        headers={**headers, **key()})
    assert_problem(not_a_date, 422, "validation-failed")
    friday = await world.client.post(
        "/api/v1/holidays", json={"day": "2027-09-10", "name_ar": "ع", "name_en": "x"},
        headers={**headers, **key()})
    assert_problem(friday, 409, "already-a-day-off")
    far = await world.client.post(
        "/api/v1/holidays", json={"day": "2040-09-10", "name_ar": "ع", "name_en": "x"},
        headers={**headers, **key()})
    assert_problem(far, 422, "day-out-of-range")
    working = await world.client.delete("/api/v1/holidays/2027-09-06", headers=headers)
    assert_problem(working, 404, "not-a-holiday")
    assert_problem(await world.client.delete("/api/v1/holidays/someday", headers=headers),
                   422, "validation-failed")
    to_a_friday = await world.client.post(
        "/api/v1/holidays/2027-05-25/move", json={"to": "2027-09-10"},
        headers={**headers, **key()})
    assert_problem(to_a_friday, 409, "already-a-day-off")
    english = await world.client.delete("/api/v1/holidays/2027-09-06",
                                        headers={**headers, "Accept-Language": "en"})
    assert english.json()["title"] == "This day is not a holiday"
    arabic = await world.client.delete("/api/v1/holidays/2027-09-06", headers=headers)
    assert arabic.json()["title"] == "هذا اليوم ليس عطلة"
    assert await revision(world) == 1


async def test_a_refused_day_names_the_field_it_is_about_for_forms(world: World) -> None:
    """A back-office form shows the problem beside the field it is about: `errors` names it."""
    headers = {**admin(world), "Accept-Language": "en"}
    friday = await world.client.post(
        "/api/v1/holidays", json={"day": "2027-09-10", "name_ar": "ع", "name_en": "x"},
        headers={**headers, **key()})
    assert friday.json()["errors"] == [{"field": "day", "code": "already_a_day_off",
                                        "message": "This day is already a day off"}]
    far = await world.client.post(
        "/api/v1/holidays/2027-05-25/move", json={"to": "2040-09-10"},
        headers={**headers, **key()})
    assert [e["field"] for e in far.json()["errors"]] == ["to"]
    to_a_friday = await world.client.post(
        "/api/v1/holidays/2027-05-25/move", json={"to": "2027-09-10"},
        headers={**headers, **key()})
    assert [e["field"] for e in to_a_friday.json()["errors"]] == ["to"]
    assert await revision(world) == 1


async def test_policy_rules_are_explained_in_arabic_too(world: World) -> None:
    policy = (await world.client.get("/api/v1/sla/policy")).json()["policy"]
    policy["minister_after_working_days"] = policy["entity_head_after_working_days"]
    policy["calendar"]["official_hours"] = {"opens": "15:00", "closes": "08:00"}
    refused = await world.client.post(
        "/api/v1/sla/policy/versions", json={"policy": policy, "based_on_version": 1},
        headers={**admin(world), **key()})
    assert_problem(refused, 422, "validation-failed")
    messages = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert messages["body.policy.calendar.official_hours"] == "يجب أن يبدأ الدوام قبل أن ينتهي."
    short = await world.client.post(
        "/api/v1/calendar/ramadan", json={"first_day": "2028-01-27", "last_day": "2028-02-10"},
        headers={**admin(world), **key()})
    assert short.json()["errors"][0]["message"].startswith("رمضان 29 أو 30 يوماً")
    policy["calendar"]["official_hours"] = {"opens": "08:00", "closes": "15:00"}
    late = await world.client.post(
        "/api/v1/sla/policy/versions", json={"policy": policy, "based_on_version": 1},
        headers={**admin(world), **key()})
    assert late.json()["errors"][0]["message"] == "يُبلَّغ الوزير بعد رئيس الجهة."
    assert (await world.client.get("/api/v1/sla/policy")).json()["version"] == 1


async def test_an_official_holiday_can_be_cancelled_and_a_declared_one_moved(
    world: World,
) -> None:
    headers = admin(world)
    cancelled = await world.client.delete("/api/v1/holidays/2028-02-27", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    days_2028 = {h["day"] for h in (await world.client.get(
        "/api/v1/holidays", params={"year": 2028})).json()["holidays"]}
    assert "2028-02-27" not in days_2028

    await world.client.post("/api/v1/holidays", json={
        "day": "2027-09-20", "name_ar": "عطلة", "name_en": "Day off"}, headers={
        **headers, **key()})
    moved = await world.client.post("/api/v1/holidays/2027-09-20/move",
                                    json={"to": "2027-09-21"}, headers={**headers, **key()})
    assert moved.status_code == 200, moved.text
    listed = {h["day"]: h for h in (await world.client.get(
        "/api/v1/holidays", params={"year": 2027})).json()["holidays"]}
    assert "2027-09-20" not in listed
    assert listed["2027-09-21"]["name_en"] == "Day off"
    assert await revision(world) == 4


async def test_a_holiday_declared_after_deadlines_were_set_moves_them(world: World) -> None:
    story, before = Story(), Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)),
                        before.submitted(amman(2027, 9, 5, 8)),
                        before.assigned(amman(2027, 9, 5, 8)), before.accepted(
                            amman(2027, 9, 5, 8, 30), days=1))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_2")
    await world.until_timers(before.reference, "entity:1:processing:deadline")
    unmoved = (await world.timers(before.reference))["requester:1:processing:deadline"].due_at

    declared = await world.client.post("/api/v1/holidays", json={
        "day": "2027-09-07", "name_ar": "عطلة", "name_en": "Day off"}, headers={
        **admin(world), **key()})
    assert declared.status_code == 201
    await followed(world)
    timers = await world.timers(story.reference)
    assert timers["entity:1:first_response:escalation_1"].due_at == amman(2027, 9, 6, 9)
    assert timers["entity:1:first_response:escalation_2"].due_at == amman(2027, 9, 8, 9)
    # Deadlines whose running time does not reach the new holiday stay where they were.
    assert (await world.timers(before.reference))["requester:1:processing:deadline"].due_at == (
        unmoved)

    moved = await world.client.delete("/api/v1/holidays/2027-09-07", headers=admin(world))
    assert moved.status_code == 200
    await followed(world)
    timers = await world.timers(story.reference)
    assert timers["entity:1:first_response:escalation_2"].due_at == amman(2027, 9, 7, 9)


async def test_a_new_policy_applies_to_new_deadlines_unless_the_cmu_moves_open_ones(
    world: World,
) -> None:
    headers = admin(world)
    current = (await world.client.get("/api/v1/sla/policy")).json()["policy"]
    slower = {**current, "entity_head_after_working_days": 2, "minister_after_working_days": 3}
    old, new = Story(), Story()
    await world.publish(old.submitted(amman(2027, 9, 5, 9)), old.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(old.reference, "entity:1:first_response:escalation_2")

    published = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": slower, "based_on_version": 1, "reason": "A longer first step"},
        headers={**headers, **key()})
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    await followed(world)
    world.clock.set(amman(2027, 9, 5, 10))
    await world.publish(new.submitted(amman(2027, 9, 5, 10)), new.assigned(amman(2027, 9, 5, 10)))
    await world.until_timers(new.reference, "entity:1:first_response:escalation_2")
    headers = admin(world)  # tokens live ten minutes; the clock moved
    assert (await world.timers(old.reference))["entity:1:first_response:escalation_1"].due_at == (
        amman(2027, 9, 6, 9))
    assert (await world.timers(new.reference))["entity:1:first_response:escalation_1"].due_at == (
        amman(2027, 9, 7, 10))

    stale = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": slower, "based_on_version": 1}, headers={**headers, **key()})
    assert_problem(stale, 409, "policy-version-stale")
    same = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": slower, "based_on_version": 2}, headers={**headers, **key()})
    assert_problem(same, 409, "policy-unchanged")
    zero = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": {**slower, "first_response_working_days": 0}, "based_on_version": 2},
        headers={**headers, **key()})
    assert_problem(zero, 422, "validation-failed")
    negative = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": {**slower, "suggestion_working_days": -7}, "based_on_version": 2},
        headers={**headers, **key()})
    assert_problem(negative, 422, "validation-failed")
    staff = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": current, "based_on_version": 2}, headers={**world.auth(Role.cmu_staff),
                                                            **key()})
    assert_problem(staff, 403, "forbidden")

    applied = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": {**slower, "minister_after_working_days": 4}, "based_on_version": 2,
        "applies_to_open": True}, headers={**headers, **key()})
    assert applied.status_code == 201
    await followed(world)
    old_timers = await world.timers(old.reference)
    assert old_timers["entity:1:first_response:escalation_1"].due_at == amman(2027, 9, 7, 9)
    assert old_timers["entity:1:first_response:escalation_2"].due_at == amman(2027, 9, 9, 9)
    assert old_timers["entity:1:first_response:escalation_2"].policy_version == 3
    history = (await world.client.get("/api/v1/sla/policy/versions", headers=headers)).json()
    assert [v["version"] for v in history] == [3, 2, 1]
    assert history[1]["reason"] == "A longer first step"


async def test_a_moved_deadline_is_announced(world: World) -> None:
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:deadline")
    await world.client.post("/api/v1/holidays", json={
        "day": "2027-09-06", "name_ar": "عطلة", "name_en": "Day off"}, headers={
        **admin(world), **key()})

    async def announced() -> list[SlaDeadlineSet]:
        found = world.heard(EventType.sla_deadline_set, story.reference)
        assert len(found) == 2, found
        return found

    first, moved = await eventually(announced)
    assert first.due_at == amman(2027, 9, 6, 9)
    assert moved.due_at == amman(2027, 9, 7, 9)
    assert (moved.entity, moved.stage) == (ENTITY, "first_response")


async def test_ramadan_as_announced_replaces_the_estimate(world: World) -> None:
    headers = admin(world)
    wrong = await world.client.post("/api/v1/calendar/ramadan", json={
        "first_day": "2028-01-28", "last_day": "2028-03-10"}, headers={**headers, **key()})
    assert_problem(wrong, 422, "validation-failed")
    announced = await world.client.post("/api/v1/calendar/ramadan", json={
        "first_day": "2028-01-29", "last_day": "2028-02-27"}, headers={**headers, **key()})
    assert announced.status_code == 201, announced.text
    periods = (await world.client.get("/api/v1/calendar/ramadan", params={"year": 2028})).json()
    assert periods["periods"] == [{"first_day": "2028-01-29", "last_day": "2028-02-27",
                                   "source": "announced"}]
    day = (await world.client.get("/api/v1/calendar/days", params={
        "from": "2028-01-30", "to": "2028-01-30"})).json()[0]
    assert (day["ramadan"], day["opens_at"]) == (True, "2028-01-30T09:00:00+03:00")


# --- a request's deadlines -----------------------------------------------------------------------


async def test_a_requests_deadlines_are_for_the_staff_who_may_act_for_its_entity(
    world: World,
) -> None:
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_2")
    path = f"/api/v1/sla/requests/{story.reference}/deadlines"

    assert (await world.client.get(path)).status_code == 401
    for allowed in (world.auth(Role.sub_liaison_officer, entities=[ENTITY]),
                    world.auth(Role.main_liaison_officer, sectors=[SECTOR]),
                    world.auth(Role.cmu_staff)):
        seen = await world.client.get(path, headers=allowed)
        assert seen.status_code == 200, seen.text
    body = seen.json()
    assert (body["entity"], body["sector"]) == (ENTITY, SECTOR)
    ladder = {(t["stage"], t["escalation_level"]): t for t in body["timers"]}
    assert ladder[("first_response", 2)]["due_at"] == "2027-09-07T09:00:00+03:00"
    assert ladder[("first_response", None)]["state"] == "pending"

    for refused in (world.auth(Role.sub_liaison_officer, entities=[OTHER_ENTITY]),
                    world.auth(Role.main_liaison_officer, sectors=["MOE"]),
                    world.auth(Role.citizen, entities=[ENTITY])):
        assert_problem(await world.client.get(path, headers=refused), 404, "not-found")
    unknown = await world.client.get("/api/v1/sla/requests/BKH-0000-404/deadlines",
                                     headers=world.auth(Role.cmu_staff))
    assert_problem(unknown, 404, "not-found")


async def test_running_timers_say_how_much_working_time_is_left_from_now(world: World) -> None:
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_2")
    path = f"/api/v1/sla/requests/{story.reference}/deadlines"

    async def left() -> dict[tuple[str, str, int | None], Any]:
        response = await world.client.get(path, headers=world.auth(Role.cmu_staff))
        assert response.status_code == 200, response.text
        body = response.json()
        return {(t["clock"], t["stage"], t["escalation_level"]): t for t in body["timers"]}

    # Sunday 14:00: Monday 09:00 is Sunday's last hour and Monday's first away.
    world.clock.set(amman(2027, 9, 5, 14))
    timers = await left()
    first_response = timers[("entity", "first_response", None)]
    assert first_response["state"] == "pending"
    assert abs(first_response["working_seconds_left"] - 2 * 3600) < 60  # time still flows
    assert first_response["working_days_left"] == 0.29  # two of a day's seven hours
    minister = timers[("entity", "first_response", 2)]
    assert abs(minister["working_seconds_left"] - 9 * 3600) < 60
    assert minister["working_days_left"] == 1.29

    # Monday 10:00: the deadline has fired and counts nothing down any more.
    world.clock.set(amman(2027, 9, 6, 10))

    async def fired() -> None:
        timers = await left()
        assert timers[("entity", "first_response", None)]["state"] == "fired"
        assert timers[("entity", "first_response", None)]["working_seconds_left"] is None
        assert abs(timers[("entity", "first_response", 2)]["working_seconds_left"]
                   - 6 * 3600) < 60

    await eventually(fired)


def test_no_working_time_is_left_once_a_deadline_is_past() -> None:
    calendar = WorkingCalendar()
    due = amman(2027, 9, 6, 9)
    assert working_time_left(calendar, now=amman(2027, 9, 6, 12), due_at=due) == timedelta(0)
    assert working_time_left(calendar, now=amman(2027, 9, 5, 14), due_at=due) == timedelta(
        hours=2)


async def test_new_official_hours_reshape_open_deadlines_keeping_their_working_days(
    world: World,
) -> None:
    story = Story()
    await world.publish(story.submitted(amman(2027, 9, 5, 9)),
                        story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_2")
    current = (await world.client.get("/api/v1/sla/policy")).json()["policy"]
    shorter = {**current, "calendar": {**current["calendar"], "official_hours": {
        "opens": "09:00:00", "closes": "15:00:00"}}}
    published = await world.client.post("/api/v1/sla/policy/versions", json={
        "policy": shorter, "based_on_version": 1}, headers={**admin(world), **key()})
    assert published.status_code == 201, published.text
    await followed(world)
    timers = await world.timers(story.reference)
    # Assigned at Sunday's new opening: one working day is the whole of Sunday, two reach
    # Monday's close.
    assert timers["entity:1:first_response:escalation_1"].due_at == amman(2027, 9, 5, 15)
    assert timers["entity:1:first_response:escalation_2"].due_at == amman(2027, 9, 6, 15)
    assert timers["entity:1:first_response:escalation_2"].budget_us == 2 * 6 * 3600 * 10**6
