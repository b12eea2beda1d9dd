"""Working time as DESIGN.md defines it: Sunday–Thursday, 08:00–15:00 Asia/Amman, no holidays."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.analytics.worktime import WorkingCalendar, WorkingRules

AMMAN = ZoneInfo("Asia/Amman")
DAY_S = 7 * 3600
calendar = WorkingCalendar()


def at(day: int, hour: int, month: int = 9, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=AMMAN)


def test_thursday_14h_to_sunday_14h_is_one_working_day() -> None:
    assert calendar.working_seconds(at(9, 14), at(12, 14)) == DAY_S


def test_a_request_on_friday_starts_counting_on_sunday_at_8() -> None:
    assert calendar.working_seconds(at(10, 11), at(12, 9)) == 3600


def test_hours_outside_the_official_day_do_not_count() -> None:
    assert calendar.working_seconds(at(5, 6), at(5, 20)) == DAY_S


def test_an_official_holiday_does_not_count() -> None:
    # Independence Day, Tuesday 25 May 2027.
    assert calendar.working_seconds(at(24, 15, month=5), at(26, 8, month=5)) == 0


def test_a_holiday_the_cmu_adds_does_not_count_and_a_cancelled_one_does() -> None:
    added = WorkingCalendar(WorkingRules(extra_holidays=frozenset({date(2027, 9, 6)})))
    assert added.working_seconds(at(6, 8), at(6, 15)) == 0
    cancelled = WorkingCalendar(WorkingRules(cancelled_holidays=frozenset({date(2027, 5, 25)})))
    assert cancelled.working_seconds(at(25, 8, month=5), at(25, 15, month=5)) == DAY_S


def test_an_end_before_the_start_is_no_time() -> None:
    assert calendar.working_seconds(at(6, 12), at(6, 10)) == 0
