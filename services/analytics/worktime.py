"""Working time for analytics: SLA's calendar (`shared.calendar`) under the rules SLA announced.

Analytics keeps the latest `sla.rules_changed` it applied (`working_rules`) and measures every
duration with the calendar built from it, so a resolution time here is the same working time
SLA's deadlines were counted in; until SLA has announced any, the default rules hold. Durations
are measured when they end, under the rules in force then (a rebuild replays the rule changes in
their place, so it measures the same).

What it must never do: read the wall clock (durations are between two instants of events).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from shared.calendar import AMMAN, WorkingCalendar
from shared.events.catalog import SlaRulesChanged

DEFAULT_CALENDAR = WorkingCalendar()


@lru_cache(maxsize=8)
def _calendar(rules_json: str) -> WorkingCalendar:
    return SlaRulesChanged.model_validate_json(rules_json).calendar()


def calendar_of(rules: dict[str, Any] | None) -> WorkingCalendar:
    """The calendar of announced rules (the facts of an `sla.rules_changed`), or the default."""
    if rules is None:
        return DEFAULT_CALENDAR
    # One calendar per set of rules, so its per-day answers are cached across batches.
    return _calendar(json.dumps(rules, sort_keys=True))


def amman_day(instant: datetime) -> date:
    return instant.astimezone(AMMAN).date()
