"""Working time between two instants, for the durations analytics reports (in working days).

The rules are SLA's: official hours on working days in Asia/Amman, official holidays excluded
(DESIGN.md, "Time rules"). `WorkingCalendar` is the one object the projection asks; it is built
from `WorkingRules`, which SLA announces whole with `sla.rules_changed` once that event exists
(docs/integration.md). Until then analytics measures with the published defaults below.

What it must never do: read the wall clock (durations are between two instants of events), or
count a paused interval twice (the projection subtracts pauses it measured with this same
calendar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

AMMAN: Final = ZoneInfo("Asia/Amman")
_DAY: Final = timedelta(days=1)


@dataclass(frozen=True)
class WorkingRules:
    """Official hours, working weekdays (Monday = 0) and holidays beyond the Jordan calendar."""

    opens: time = time(8, 0)
    closes: time = time(15, 0)
    working_weekdays: frozenset[int] = frozenset({6, 0, 1, 2, 3})  # Sunday to Thursday
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    cancelled_holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def working_day_s(self) -> float:
        return (datetime.combine(date.min, self.closes)
                - datetime.combine(date.min, self.opens)).total_seconds()


DEFAULT_RULES: Final = WorkingRules()


@lru_cache(maxsize=64)
def _jordan_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JO", years=year))


class WorkingCalendar:
    def __init__(self, rules: WorkingRules = DEFAULT_RULES) -> None:
        self.rules = rules

    def is_working_day(self, day: date) -> bool:
        rules = self.rules
        if day.weekday() not in rules.working_weekdays or day in rules.extra_holidays:
            return False
        return day in rules.cancelled_holidays or day not in _jordan_holidays(day.year)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of official hours on working days between `start` and `end` (0 if reversed)."""
        if end <= start:
            return 0.0
        start_local, end_local = start.astimezone(AMMAN), end.astimezone(AMMAN)
        total = 0.0
        day = start_local.date()
        while day <= end_local.date():
            if self.is_working_day(day):
                opens = datetime.combine(day, self.rules.opens, AMMAN)
                closes = datetime.combine(day, self.rules.closes, AMMAN)
                lower, upper = max(opens, start_local), min(closes, end_local)
                if upper > lower:
                    total += (upper - lower).total_seconds()
            day += _DAY
        return total

    def working_days(self, start: datetime, end: datetime) -> float:
        return self.working_seconds(start, end) / self.rules.working_day_s


def amman_day(instant: datetime) -> date:
    return instant.astimezone(AMMAN).date()
