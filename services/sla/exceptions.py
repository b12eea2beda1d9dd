"""The sla service's problems (RFC 9457), each titled in Arabic and English."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Problem, Text


class NotAHoliday(NotFound):
    code = "not-a-holiday"
    title = Text("هذا اليوم ليس عطلة", "This day is not a holiday")


class AlreadyADayOff(Conflict):
    code = "already-a-day-off"
    title = Text("هذا اليوم عطلة أصلاً", "This day is already a day off")


class DayOutOfRange(Problem):
    status = 422
    code = "day-out-of-range"
    title = Text("التاريخ خارج المدى المسموح", "The date is outside the accepted range")


class RangeTooLong(Problem):
    status = 422
    code = "range-too-long"
    title = Text("المدى المطلوب أطول من المسموح", "The requested range is too long")


class StalePolicyVersion(Conflict):
    code = "policy-version-stale"
    title = Text(
        "نُشر إصدار أحدث من السياسة؛ راجعه ثم أعد المحاولة",
        "A newer version of the policy was published; review it and try again",
    )


class PolicyUnchanged(Conflict):
    code = "policy-unchanged"
    title = Text("لا يختلف الإصدار المقترح عن السياسة النافذة",
                 "The proposed version is the same as the policy in force")


class RamadanOverlaps(Conflict):
    code = "ramadan-overlaps"
    title = Text("الفترة تتداخل مع رمضان آخر معلن", "The period overlaps another announced Ramadan")
