"""The sla service's API models. Instants are stored in UTC and shown in Amman's time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from shared.calendar import AMMAN, DayOverride, HolidayName, RamadanPeriod
from shared.events.catalog import SlaPolicy
from shared.events.vocabulary import ClockKind, EntityCode, Reason, SectorCode, SlaStage

AmmanTime = Annotated[AwareDatetime, AfterValidator(lambda at: at.astimezone(AMMAN))]
"""An instant, shown at Amman's offset."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the policy ----------------------------------------------------------------------------------


class PolicyVersionPublic(_Model):
    version: int
    effective_from: AmmanTime
    applies_to_open: bool = Field(
        description="Open deadlines moved to this version too, not only new ones."
    )
    reason: str | None = None
    policy: SlaPolicy


class PolicyVersionCreate(_Model):
    policy: SlaPolicy
    based_on_version: int = Field(
        ge=1, description="The version this one was edited from; refused if a newer one exists."
    )
    applies_to_open: bool = Field(
        default=False, description="Move open deadlines to the new durations as well."
    )
    reason: Reason | None = None


class RulesPublic(_Model):
    """The rules in force, as `sla.rules_changed` carries them."""

    revision: int
    open_deadlines_follow: bool = Field(
        description="False for the moments after a change, until open deadlines are moved."
    )
    policy_version: int
    policy: SlaPolicy
    holiday_overrides: list[DayOverride]
    ramadan_periods: list[RamadanPeriod]


# --- holidays and the calendar -------------------------------------------------------------------


class HolidayPublic(_Model):
    day: date
    name_ar: str
    name_en: str
    source: Literal["official", "cmu"]
    estimated: bool = Field(description="An Islamic date from the lunar tables, not announced.")


class HolidaysPublic(_Model):
    year: int
    revision: int
    holidays: list[HolidayPublic]


class HolidayCreate(_Model):
    day: date
    name_ar: HolidayName
    name_en: HolidayName


class HolidayMove(_Model):
    to: date


class RulesChange(_Model):
    """A change of the rules: the revision that carries it."""

    revision: int


class RamadanPublic(_Model):
    first_day: date
    last_day: date
    source: Literal["announced", "estimated"]


class RamadanList(_Model):
    year: int
    periods: list[RamadanPublic]


class CalendarDay(_Model):
    day: date
    working: bool
    opens_at: AmmanTime | None
    closes_at: AmmanTime | None
    ramadan: bool
    holiday: HolidayPublic | None = None


class Deadline(_Model):
    start: AmmanTime
    working_days: int
    due_at: AmmanTime


class WorkingTime(_Model):
    start: AmmanTime
    end: AmmanTime
    working_seconds: float
    working_days: float


# --- a request's deadlines -----------------------------------------------------------------------


class TimerPublic(_Model):
    clock: ClockKind
    stage: SlaStage
    escalation_level: Literal[1, 2] | None = Field(
        description="None for the deadline itself; 1 the entity head, 2 the minister."
    )
    entity: EntityCode | None
    state: Literal["pending", "paused", "fired", "cancelled"]
    due_at: AmmanTime | None
    fired_at: AmmanTime | None
    working_seconds_left: int | None = Field(
        default=None, description="A running (pending) timer: the working time until it falls "
        "due, from now, in seconds (0 once past due); None for the others.")
    working_days_left: float | None = Field(
        default=None, description="The same in working days (a day: the normal official "
        "hours), to two decimals.")


class RequestDeadlines(_Model):
    reference: str
    entity: EntityCode | None
    sector: SectorCode | None
    closed_at: AmmanTime | None
    timers: list[TimerPublic]
