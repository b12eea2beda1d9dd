"""The working-day calendar: Jordan's working time, proven on examples and on properties.

The examples are the rules as people say them (Thursday afternoon → Sunday afternoon, the Eid
week, a holiday announced after a deadline was set); the properties are what must hold for any
instant and any span (what is added comes back when measured, deadlines land in official hours).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.calendar import (
    AMMAN,
    CalendarPolicy,
    DayOverride,
    DayStatus,
    OfficialHours,
    RamadanPeriod,
    Weekday,
    WorkingCalendar,
)
from shared.events.catalog import SlaPolicy, SlaRulesChanged

CALENDAR = WorkingCalendar()
# Without the Ramadan hours every working day has the normal length: arithmetic is exact.
EVEN_HOURS = CalendarPolicy(ramadan_hours=None)
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)


def amman(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMMAN)


def local(at: datetime) -> datetime:
    return at.astimezone(AMMAN)


# --- the rules, as examples ----------------------------------------------------------------------


def test_thursday_afternoon_has_one_working_day_until_sunday_afternoon() -> None:
    received = amman(2026, 11, 26, 14)  # a Thursday
    assert local(CALENDAR.add_working_days(received, 1)) == amman(2026, 11, 29, 14)


def test_a_request_received_on_friday_starts_counting_at_sunday_opening() -> None:
    received = amman(2026, 11, 27, 10)  # a Friday
    assert local(CALENDAR.next_working_instant(received)) == amman(2026, 11, 29, 8)
    # One working day from the opening ends at that day's close, not the next opening.
    assert local(CALENDAR.add_working_days(received, 1)) == amman(2026, 11, 29, 15)
    assert local(CALENDAR.add_working_days(received, 2)) == amman(2026, 11, 30, 15)


def test_before_opening_counts_from_opening_and_after_closing_from_the_next_day() -> None:
    assert local(CALENDAR.add_working_time(amman(2026, 11, 30, 6), 2 * HOUR)) == amman(
        2026, 11, 30, 10
    )
    assert local(CALENDAR.add_working_time(amman(2026, 11, 30, 18), 2 * HOUR)) == amman(
        2026, 12, 1, 10
    )
    # A Thursday evening counts from Sunday morning.
    assert local(CALENDAR.add_working_time(amman(2026, 12, 3, 16), 2 * HOUR)) == amman(
        2026, 12, 6, 10
    )


def test_one_working_day_is_one_days_official_hours() -> None:
    assert CALENDAR.day_length == timedelta(hours=7)
    start = amman(2026, 11, 30, 9)
    assert CALENDAR.add_working_days(start, 1) == CALENDAR.add_working_time(start, 7 * HOUR)
    assert CALENDAR.working_days_between(start, amman(2026, 12, 1, 12, 30)) == Fraction(3, 2)


def test_the_eid_al_adha_week_is_skipped() -> None:
    # 2025: Arafah on Thursday 5 June, Eid al-Adha Friday 6 to Sunday 8 June.
    calendar = WorkingCalendar(EVEN_HOURS)
    wednesday = amman(2025, 6, 4, 10)
    assert local(calendar.add_working_days(wednesday, 1)) == amman(2025, 6, 9, 10)
    assert calendar.working_days_between(wednesday, amman(2025, 6, 9, 10)) == 1
    for day in (date(2025, 6, 5), date(2025, 6, 8)):
        assert not calendar.is_working_day(day)


def test_official_holidays_of_jordan_are_days_off() -> None:
    independence_day = date(2025, 5, 25)  # a Sunday
    assert independence_day.weekday() == Weekday.sunday
    assert not CALENDAR.is_working_day(independence_day)
    assert CALENDAR.official_hours_on(independence_day) is None
    thursday = amman(2025, 5, 22, 12)
    assert local(CALENDAR.add_working_days(thursday, 1)) == amman(2025, 5, 26, 12)


def test_a_holiday_added_after_a_deadline_was_set_moves_the_deadline() -> None:
    received = amman(2026, 11, 30, 11)  # Monday
    deadline = CALENDAR.add_working_days(received, 2)
    assert local(deadline) == amman(2026, 12, 2, 11)
    with_holiday = WorkingCalendar(
        overrides=[DayOverride(day=date(2026, 12, 1), status=DayStatus.holiday,
                               name_ar="عطلة", name_en="Day off")]
    )
    assert local(with_holiday.add_working_days(received, 2)) == amman(2026, 12, 3, 11)


def test_the_cmu_corrects_an_estimated_eid_by_moving_it() -> None:
    # The tables estimate Eid al-Fitr 2026 holiday on Sunday 22 March; say it was announced for
    # Monday 23 March instead.
    estimated, announced = date(2026, 3, 22), date(2026, 3, 23)
    assert not CALENDAR.is_working_day(estimated)
    moved = WorkingCalendar(overrides=[
        DayOverride(day=estimated, status=DayStatus.working_day),
        DayOverride(day=announced, status=DayStatus.holiday, name_en="Eid al-Fitr Holiday"),
    ])
    assert moved.is_working_day(estimated)
    assert not moved.is_working_day(announced)
    listed = {h.day: h for h in moved.holidays(2026)}
    assert estimated not in listed
    assert listed[announced].source == "cmu"
    assert not listed[announced].estimated
    assert listed[announced].name_ar == "عطلة رسمية"  # no Arabic name given: the generic one


def test_the_holiday_list_names_each_day_in_both_languages_and_says_what_is_estimated() -> None:
    listed = {h.day: h for h in CALENDAR.holidays(2026)}
    independence = listed[date(2026, 5, 25)]
    assert (independence.name_ar, independence.name_en) == ("عيد الاستقلال", "Independence Day")
    assert independence.source == "official"
    assert not independence.estimated
    assert listed[date(2026, 5, 27)].estimated  # Eid al-Adha: from the lunar tables
    # A holiday on a Friday or Saturday is not a day off that a deadline notices: not listed.
    assert date(2026, 5, 29) not in listed


def test_a_compensating_saturday_can_be_declared_a_working_day() -> None:
    saturday = date(2026, 12, 5)
    calendar = WorkingCalendar(overrides=[DayOverride(day=saturday, status=DayStatus.working_day)])
    thursday = amman(2026, 12, 3, 12)
    assert local(calendar.add_working_days(thursday, 1)) == amman(2026, 12, 5, 12)


def test_a_ramadan_day_counts_as_one_working_day_with_its_own_hours() -> None:
    # 2025: Ramadan from 1 to 29 March (estimated); Ramadan hours 09:00–14:00.
    assert CALENDAR.is_ramadan(date(2025, 3, 2))
    assert CALENDAR.official_hours_on(date(2025, 3, 2)) == (
        amman(2025, 3, 2, 9).astimezone(UTC), amman(2025, 3, 2, 14).astimezone(UTC)
    )
    thursday = amman(2025, 2, 27, 10)  # 2 of 7 hours into a normal day
    due = local(CALENDAR.add_working_days(thursday, 1))
    # 2/7 into a five-hour day: 1 h 25 min 42.857… s after 09:00, rounded up to the microsecond.
    assert due == datetime(2025, 3, 2, 10, 25, 42, 857143, tzinfo=AMMAN)
    assert CALENDAR.working_days_between(thursday, due) - 1 < Fraction(1, 10**9)
    # A whole number of days keeps the place in the day whatever the hours.
    ramadan_morning = amman(2025, 3, 2, 9)
    assert local(CALENDAR.add_working_days(ramadan_morning, 2)) == amman(2025, 3, 3, 14)


def test_the_announced_ramadan_replaces_the_estimate() -> None:
    announced = RamadanPeriod(first_day=date(2025, 3, 2), last_day=date(2025, 3, 30))
    calendar = WorkingCalendar(ramadan=[announced])
    assert calendar.ramadan(2025) == [announced]
    assert not calendar.is_ramadan(date(2025, 3, 1))
    assert calendar.is_ramadan(date(2025, 3, 30))


def test_without_ramadan_hours_ramadan_days_keep_the_official_hours() -> None:
    calendar = WorkingCalendar(EVEN_HOURS)
    hours = calendar.official_hours_on(date(2025, 3, 2))
    assert hours is not None
    opens, closes = hours
    assert (local(opens), local(closes)) == (amman(2025, 3, 2, 8), amman(2025, 3, 2, 15))


def test_working_hours_are_wall_clock_hours_in_amman_across_a_daylight_saving_change() -> None:
    # Until October 2022 Jordan kept summer time: 2021's began on the night to Friday 26 March.
    thursday = amman(2021, 3, 25, 14)
    due = CALENDAR.add_working_days(thursday, 1)
    assert local(due) == amman(2021, 3, 28, 14)
    assert due - thursday == timedelta(days=3) - HOUR  # an hour shorter in UTC


def test_nothing_runs_outside_official_hours() -> None:
    friday, saturday = amman(2026, 11, 27, 9), amman(2026, 11, 28, 20)
    assert CALENDAR.working_time_between(friday, saturday) == timedelta(0)
    assert CALENDAR.working_time_between(amman(2026, 11, 30, 15), amman(2026, 12, 1, 8)) == (
        timedelta(0)
    )


def test_measuring_backwards_gives_a_negative_span() -> None:
    a, b = amman(2026, 11, 30, 9), amman(2026, 11, 30, 12)
    assert CALENDAR.working_time_between(b, a) == -3 * HOUR


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.add_working_days(datetime(2026, 11, 30, 9), 1)
    with pytest.raises(ValueError, match="forwards"):
        CALENDAR.add_working_time(amman(2026, 11, 30, 9), -HOUR)
    with pytest.raises(ValueError, match="forwards"):
        CALENDAR.add_working_days(amman(2026, 11, 30, 9), -1)


def test_rules_that_make_no_sense_are_refused() -> None:
    with pytest.raises(ValidationError, match="open before"):
        OfficialHours(opens=time(15), closes=time(8))
    with pytest.raises(ValidationError):
        CalendarPolicy(working_days=frozenset())
    with pytest.raises(ValidationError, match="29 or 30"):
        RamadanPeriod(first_day=date(2025, 3, 1), last_day=date(2025, 4, 15))
    with pytest.raises(ValidationError):
        DayOverride(day="2025-02-30", status=DayStatus.holiday)
    with pytest.raises(ValidationError):
        SlaPolicy(first_response_working_days=0)
    with pytest.raises(ValidationError):
        SlaPolicy(suggestion_working_days=-3)
    with pytest.raises(ValidationError, match="minister hears after"):
        SlaPolicy(entity_head_after_working_days=2, minister_after_working_days=2)


def test_a_calendar_without_working_days_says_so_instead_of_looping() -> None:
    every_day_off = [
        DayOverride(day=date(2026, 1, 1) + timedelta(days=n), status=DayStatus.holiday)
        for n in range(3700)
    ]
    calendar = WorkingCalendar(overrides=every_day_off)
    with pytest.raises(ValueError, match="no working day"):
        calendar.add_working_days(amman(2026, 1, 1, 9), 1)


def test_the_lunar_tables_give_a_ramadan_every_year() -> None:
    for year in range(2000, 2076):
        periods = CALENDAR.ramadan(year)
        assert 1 <= len(periods) <= 2, year


def test_consumers_rebuild_the_same_calendar_from_the_rules_event() -> None:
    override = DayOverride(day=date(2026, 12, 1), status=DayStatus.holiday)
    rules = SlaRulesChanged(revision=2, policy_version=1, policy=SlaPolicy(),
                            holiday_overrides=[override])
    rebuilt = SlaRulesChanged.model_validate_json(rules.model_dump_json()).calendar()
    start = amman(2026, 11, 30, 11)
    assert rebuilt.add_working_days(start, 2) == WorkingCalendar(
        overrides=[override]
    ).add_working_days(start, 2)


# --- properties ----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2019, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)
)
spans = st.integers(min_value=0, max_value=60 * 7 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)
overrides = st.lists(
    st.builds(
        DayOverride,
        day=st.dates(min_value=date(2019, 1, 1), max_value=date(2032, 12, 31)),
        status=st.sampled_from(DayStatus),
    ),
    max_size=30,
)
even_calendars = overrides.map(lambda o: WorkingCalendar(EVEN_HOURS, o))
any_calendars = st.one_of(
    even_calendars,
    overrides.map(lambda o: WorkingCalendar(CalendarPolicy(), o)),
    st.builds(
        lambda o, opens, hours: WorkingCalendar(
            CalendarPolicy(
                working_days=frozenset(Weekday) - {Weekday.friday},
                official_hours=OfficialHours(opens=time(opens), closes=time(opens + hours)),
                ramadan_hours=OfficialHours(opens=time(opens + 1), closes=time(opens + hours)),
            ),
            o,
        ),
        overrides,
        st.integers(min_value=6, max_value=10),
        st.integers(min_value=2, max_value=10),
    ),
)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


def reference_working_time(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Summed overlap of [start, end] with each day's official hours: the rule, said naively."""
    total = timedelta(0)
    day = local(start).date()
    while day <= local(end).date():
        hours = calendar.official_hours_on(day)
        if hours is not None:
            opens, closes = hours
            total += max(timedelta(0), min(end, closes) - max(start, opens))
        day += timedelta(days=1)
    return total


@PROPERTY_SETTINGS
@given(calendar=even_calendars, start=instants, span=spans)
def test_adding_then_measuring_gives_back_the_same_span(
    calendar: WorkingCalendar, start: datetime, span: timedelta
) -> None:
    assert calendar.working_time_between(start, calendar.add_working_time(start, span)) == span


@PROPERTY_SETTINGS
@given(calendar=any_calendars, start=instants, span=spans)
def test_with_days_of_other_lengths_the_span_comes_back_within_a_microsecond(
    calendar: WorkingCalendar, start: datetime, span: timedelta
) -> None:
    measured = calendar.working_time_between(start, calendar.add_working_time(start, span))
    assert span <= measured <= span + MICROSECOND


@PROPERTY_SETTINGS
@given(calendar=any_calendars, start=instants, days=st.integers(min_value=0, max_value=60))
def test_whole_working_days_come_back_whatever_the_hours(
    calendar: WorkingCalendar, start: datetime, days: int
) -> None:
    end = calendar.add_working_days(start, days)
    # Exact on days of normal length. On a shorter (Ramadan) day a microsecond of the normal day
    # has no instant of its own, so the count may come back one such microsecond long, as the
    # calendar's rules say; never short.
    overshoot = calendar.working_time_between(start, end) - days * calendar.day_length
    assert timedelta(0) <= overshoot <= MICROSECOND


@PROPERTY_SETTINGS
@given(calendar=any_calendars, start=instants, days=st.integers(min_value=1, max_value=60))
def test_deadlines_never_land_on_a_weekend_or_a_holiday(
    calendar: WorkingCalendar, start: datetime, days: int
) -> None:
    due = calendar.add_working_days(start, days)
    hours = calendar.official_hours_on(local(due).date())
    assert hours is not None, f"{local(due)} is not a working day"
    opens, closes = hours
    assert opens < due <= closes
    assert due.tzinfo is UTC


@PROPERTY_SETTINGS
@given(calendar=even_calendars, start=instants, end=instants)
def test_measured_working_time_is_the_overlap_with_official_hours(
    calendar: WorkingCalendar, start: datetime, end: datetime
) -> None:
    start, end = min(start, end), max(start, end)
    if (end - start) > timedelta(days=400):
        end = start + timedelta(days=400)
    assert calendar.working_time_between(start, end) == reference_working_time(
        calendar, start, end
    )


@PROPERTY_SETTINGS
@given(calendar=even_calendars, start=instants, first=spans, second=spans)
def test_adding_in_two_steps_is_adding_once(
    calendar: WorkingCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    # Adding zero moves an instant to the next opening, which is not a no-op: a first step that
    # ends exactly at closing time stays there, and a zero second step would move it on.
    first, second = max(first, MICROSECOND), max(second, MICROSECOND)
    assert calendar.add_working_time(calendar.add_working_time(start, first), second) == (
        calendar.add_working_time(start, first + second)
    )


@PROPERTY_SETTINGS
@given(calendar=any_calendars, a=instants, b=instants, c=instants)
def test_measures_add_up(calendar: WorkingCalendar, a: datetime, b: datetime, c: datetime) -> None:
    assert calendar.working_time_between(a, b) + calendar.working_time_between(
        b, c
    ) == calendar.working_time_between(a, c)


@PROPERTY_SETTINGS
@given(calendar=any_calendars, start=instants, later=spans, span=spans)
def test_later_starts_and_longer_spans_never_give_earlier_deadlines(
    calendar: WorkingCalendar, start: datetime, later: timedelta, span: timedelta
) -> None:
    assert calendar.add_working_time(start, span) <= calendar.add_working_time(
        start + later, span
    )
    assert calendar.add_working_time(start, span) <= calendar.add_working_time(
        start, span + later
    )


@PROPERTY_SETTINGS
@given(calendar=any_calendars, at=instants)
def test_the_next_working_instant_is_within_official_hours_and_stays_put(
    calendar: WorkingCalendar, at: datetime
) -> None:
    next_instant = calendar.next_working_instant(at)
    assert next_instant >= at
    assert calendar.next_working_instant(next_instant) == next_instant
    assert calendar.working_time_between(at, next_instant) == timedelta(0)
    hours = calendar.official_hours_on(local(next_instant).date())
    assert hours is not None
    assert hours[0] <= next_instant < hours[1]
