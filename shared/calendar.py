"""The working-day calendar: Jordan's official working time, as pure functions.

Every deadline of the platform is counted in this calendar; SLA owns its rules (the policy and
the CMU's overrides) and announces them whole in `sla.rules_changed`, so intake, analytics and
SLA itself build the same `WorkingCalendar` from the same data and agree to the microsecond.

The rules
    - Working days are the policy's weekdays (Sunday–Thursday) in Asia/Amman, except holidays:
      Jordan's official holidays from the `holidays` package (its Islamic dates are estimates),
      as corrected by the CMU's overrides. An override declares one date a holiday (an announced
      Eid day, an extra day off) or a working day (an estimate that proved wrong, a compensating
      Saturday); moving a holiday is one override of each kind.
    - A working day has the policy's official hours (08:00–15:00); during Ramadan, the Ramadan
      hours. Ramadan is estimated from the same lunar tables unless the CMU gives the announced
      period (`RamadanPeriod`), which replaces the estimate it overlaps.
    - One working day is one working day's official hours, whatever their length that day. Working
      time is measured in `day_length` units (the normal day, 7 h): a day with other hours
      (Ramadan) still counts as one working day, its hours stretched onto the normal day. One
      working day from 10:00 on a normal day ends at 10:00 on the next working day; on a Ramadan
      day of 09:00–14:00 it ends 2/7 into that day's hours.
    - An instant outside official hours counts from the next opening: a request received on
      Friday starts counting at 08:00 on Sunday. A deadline always falls inside the official hours
      of a working day; one that ends exactly at the end of a day is that day's closing time
      (Thursday 15:00, not Sunday 08:00).
    - Exact to the microsecond on days of normal length; on other days the scaling rounds up, so a
      span added and then measured may come back one microsecond longer.

Instants go in and come out timezone-aware (results in UTC); naive datetimes are refused.

What it must never do: read a clock, a file, a database or the network. It is handed everything
it knows; the time "now" is always an argument.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from fractions import Fraction
from typing import Annotated, Final, Literal, Self
from zoneinfo import ZoneInfo

from holidays.calendars.islamic import _IslamicLunar  # its Hijri tables; no public name yet
from holidays.countries.jordan import Jordan
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from shared.errors import Text, field_error

AMMAN: Final = ZoneInfo("Asia/Amman")
# The years the API answers for. A date outside them (0001, 9999) is a client's mistake: refused
# as invalid (422), never computed with, where a month or a span around it would overflow.
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2099
# Long enough for any real gap between working days (the longest Eid break is about ten days);
# a calendar that finds none in ten years is broken, and saying so beats looping forever.
_SEARCH_LIMIT_DAYS: Final = 3660
_MICROSECOND: Final = timedelta(microseconds=1)


class Weekday(IntEnum):
    """`date.weekday()` numbering."""

    monday = 0
    tuesday = 1
    wednesday = 2
    thursday = 3
    friday = 4
    saturday = 5
    sunday = 6


SUNDAY_TO_THURSDAY: Final = frozenset(
    {Weekday.sunday, Weekday.monday, Weekday.tuesday, Weekday.wednesday, Weekday.thursday}
)

HolidayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


WallClockTime = Annotated[time, WithJsonSchema({
    # Not `format: time`: that is RFC 3339's full-time, which has an offset; these have none.
    "type": "string",
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
    "description": "A time of day on Amman's wall clock, HH:MM[:SS], without a zone.",
    "examples": ["08:00:00"],
})]


class OfficialHours(_Rule):
    """The hours of a working day, in Amman's wall-clock time."""

    opens: WallClockTime
    closes: WallClockTime

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> Self:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise field_error("hours_zoned", Text(
                "ساعات الدوام بتوقيت عمّان المحلي، بلا منطقة زمنية.",
                "Official hours are Amman wall-clock times, without a zone."))
        if self.opens >= self.closes:
            raise field_error("hours_order", Text(
                "يجب أن يبدأ الدوام قبل أن ينتهي.", "Official hours must open before they close."))
        return self

    @property
    def length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)


class CalendarPolicy(_Rule):
    """The part of the SLA policy that shapes working time."""

    working_days: frozenset[Weekday] = Field(default=SUNDAY_TO_THURSDAY, min_length=1)
    official_hours: OfficialHours = OfficialHours(opens=time(8), closes=time(15))
    ramadan_hours: OfficialHours | None = Field(
        default=OfficialHours(opens=time(9), closes=time(14)),
        description="The hours during Ramadan; None keeps the official hours all year.",
    )


class DayStatus(StrEnum):
    holiday = "holiday"
    working_day = "working_day"


class DayOverride(_Rule):
    """The CMU's word on one date, above the official calendar."""

    day: date
    status: DayStatus
    name_ar: HolidayName | None = None
    name_en: HolidayName | None = None


class RamadanPeriod(_Rule):
    """Ramadan as announced: the first and the last day of the fast."""

    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _is_a_month(self) -> Self:
        if not 29 <= (self.last_day - self.first_day).days + 1 <= 30:
            raise field_error("ramadan_length", Text(
                "رمضان 29 أو 30 يوماً: راجع اليوم الأول والأخير.",
                "Ramadan lasts 29 or 30 days: check its first and last day."))
        return self


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day off on a day that would otherwise be worked, and where the calendar learned it."""

    day: date
    name_ar: str
    name_en: str
    source: Literal["official", "cmu"]
    estimated: bool  # an Islamic date from the lunar tables, not yet announced


@dataclass(frozen=True, slots=True)
class _OfficialHoliday:
    name_ar: str
    name_en: str
    estimated: bool


@functools.lru_cache(maxsize=512)
def _official_holidays(year: int) -> Mapping[date, _OfficialHoliday]:
    """Jordan's official holidays of `year` from the `holidays` package, in both languages."""
    arabic = Jordan(years=year, language="ar", islamic_show_estimated=False)
    english = Jordan(years=year, language="en_US", islamic_show_estimated=False)
    labelled = Jordan(years=year, language="en_US", islamic_show_estimated=True)
    return {
        day: _OfficialHoliday(
            name_ar=str(arabic[day]),
            name_en=str(english[day]),
            estimated=str(labelled[day]) != str(english[day]),
        )
        for day in sorted(english)
    }


@functools.lru_cache(maxsize=512)
def _estimated_ramadans(year: int) -> tuple[RamadanPeriod, ...]:
    """The Ramadans that begin in `year` by the lunar tables; each ends the day before Eid."""
    lunar = _IslamicLunar()
    eids = sorted(
        day for y in (year, year + 1) for day, _estimated in lunar.eid_al_fitr_dates(y)
    )
    periods = []
    for first, _estimated in lunar.ramadan_beginning_dates(year):
        if first.year != year:
            continue
        eid = next((e for e in eids if e > first), None)
        if eid is not None:
            periods.append(RamadanPeriod(first_day=first, last_day=eid - timedelta(days=1)))
    return tuple(periods)


@dataclass(frozen=True, slots=True)
class _Day:
    opens: datetime  # UTC
    closes: datetime  # UTC
    length_us: int


def _us(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the working-day calendar needs timezone-aware instants")
    return at


class WorkingCalendar:
    """Working time under one set of rules; immutable, so its per-day answers are cached."""

    def __init__(
        self,
        policy: CalendarPolicy | None = None,
        overrides: Iterable[DayOverride] = (),
        ramadan: Iterable[RamadanPeriod] = (),
    ) -> None:
        self.policy = policy or CalendarPolicy()
        self.overrides: Mapping[date, DayOverride] = {o.day: o for o in overrides}
        self.announced_ramadans = tuple(sorted(ramadan, key=lambda p: p.first_day))
        self._nominal_us = _us(self.policy.official_hours.length)
        self._days: dict[date, _Day | None] = {}

    @property
    def day_length(self) -> timedelta:
        """The working time one working day counts for (the normal official hours)."""
        return self.policy.official_hours.length

    # --- days ----------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override.status is DayStatus.working_day
        return day.weekday() in self.policy.working_days and day not in _official_holidays(
            day.year
        )

    def holidays(self, year: int) -> list[Holiday]:
        """The days off in `year` that fall on the policy's working weekdays, in date order."""
        found: dict[date, Holiday] = {}
        for day, official in _official_holidays(year).items():
            if day.weekday() in self.policy.working_days:
                found[day] = Holiday(day, official.name_ar, official.name_en, "official",
                                     official.estimated)
        for day, override in self.overrides.items():
            if day.year != year:
                continue
            if override.status is DayStatus.working_day:
                found.pop(day, None)
            else:
                known = _official_holidays(year).get(day)
                found[day] = Holiday(
                    day,
                    override.name_ar or (known.name_ar if known else "عطلة رسمية"),
                    override.name_en or (known.name_en if known else "Official holiday"),
                    "cmu",
                    estimated=False,
                )
        return [found[day] for day in sorted(found)]

    def ramadan(self, year: int) -> list[RamadanPeriod]:
        """The Ramadans that begin in `year`: as announced by the CMU, else as estimated."""
        periods = [p for p in self.announced_ramadans if p.first_day.year == year]
        for estimate in _estimated_ramadans(year):
            if not any(_same_month(estimate, p) for p in self.announced_ramadans):
                periods.append(estimate)
        return sorted(periods, key=lambda p: p.first_day)

    def is_ramadan(self, day: date) -> bool:
        return any(
            p.first_day <= day <= p.last_day
            for year in (day.year - 1, day.year)
            for p in self.ramadan(year)
        )

    def official_hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """When `day`'s official hours open and close (UTC), or None when it is not worked."""
        info = self._day(day)
        return None if info is None else (info.opens, info.closes)

    # --- instants ------------------------------------------------------------------------------

    def next_working_instant(self, at: datetime) -> datetime:
        """`at` itself when it falls within official hours, else the next opening."""
        info = self._day(_aware(at).astimezone(AMMAN).date())
        if info is not None and info.opens <= at < info.closes:
            return at.astimezone(UTC)
        day, _offset = self._position(at)
        return self._required(day).opens

    def add_working_time(self, at: datetime, span: timedelta) -> datetime:
        """The instant `span` of working time after `at` (see the rules for where it lands)."""
        span_us = _us(span)
        if span_us < 0:
            raise ValueError("working time is added forwards only")
        if span_us == 0:
            return self.next_working_instant(at)
        day, offset = self._position(_aware(at))
        whole_days, rest = divmod(offset + span_us - 1, self._nominal_us)
        return self._instant(self._nth_working_day(day, whole_days), rest + 1)

    def add_working_days(self, at: datetime, days: int | Fraction) -> datetime:
        if days < 0:
            raise ValueError("working days are added forwards only")
        return self.add_working_time(at, math.ceil(days * self._nominal_us) * _MICROSECOND)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end`; negative when `end` comes first."""
        if _aware(end) < _aware(start):
            return -self.working_time_between(end, start)
        first_day, first_offset = self._position(start)
        last_day, last_offset = self._position(end)
        whole_days = self._working_days_from(first_day, last_day)
        return (whole_days * self._nominal_us + last_offset - first_offset) * _MICROSECOND

    def working_days_between(self, start: datetime, end: datetime) -> Fraction:
        return Fraction(_us(self.working_time_between(start, end)), self._nominal_us)

    # --- the arithmetic ------------------------------------------------------------------------
    # A position is (working day, offset): the working time already run on that day, in
    # microseconds of the normal day, from 0 (opening) to the normal day's length (closing).

    def _day(self, day: date) -> _Day | None:
        if day not in self._days:
            info = None
            if self.is_working_day(day):
                hours = self.policy.official_hours
                if self.policy.ramadan_hours is not None and self.is_ramadan(day):
                    hours = self.policy.ramadan_hours
                opens = datetime.combine(day, hours.opens, AMMAN).astimezone(UTC)
                closes = datetime.combine(day, hours.closes, AMMAN).astimezone(UTC)
                info = _Day(opens, closes, _us(closes - opens))
            self._days[day] = info
        return self._days[day]

    def _required(self, day: date) -> _Day:
        info = self._day(day)
        assert info is not None, "positions are always on working days"
        return info

    def _next_working_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT_DAYS):
            day += timedelta(days=1)
            if self._day(day) is not None:
                return day
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {day}")

    def _nth_working_day(self, day: date, n: int) -> date:
        for _ in range(n):
            day = self._next_working_day(day)
        return day

    def _working_days_from(self, first: date, last: date) -> int:
        """How many working days there are from `first` (included) to `last` (excluded)."""
        count = 0
        day = first
        while day < last:
            if self._day(day) is not None:
                count += 1
            day += timedelta(days=1)
        return count

    def _position(self, at: datetime) -> tuple[date, int]:
        day = at.astimezone(AMMAN).date()
        info = self._day(day)
        if info is None or at >= info.closes:
            return self._next_working_day(day), 0
        if at <= info.opens:
            return day, 0
        elapsed = _us(at - info.opens)
        if info.length_us != self._nominal_us:
            elapsed = elapsed * self._nominal_us // info.length_us
        return day, elapsed

    def _instant(self, day: date, offset: int) -> datetime:
        info = self._required(day)
        if info.length_us != self._nominal_us:
            offset = -(-offset * info.length_us // self._nominal_us)  # rounded up
        return info.opens + offset * _MICROSECOND


def _same_month(a: RamadanPeriod, b: RamadanPeriod) -> bool:
    """Whether two periods are the same Ramadan (an estimate and its announcement)."""
    return abs((a.first_day - b.first_day).days) <= 15
