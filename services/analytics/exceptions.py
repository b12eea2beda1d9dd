"""The analytics service's problems (RFC 9457), Arabic first.

    Problem
    ├── UnknownFilterValue      422  a filter names a value that does not exist
    ├── BadPeriod               422  an end before a start, or a span over the allowed one
    ├── FilterNotAvailable      422  a filter this question cannot take (hourly by governorate)
    ├── ForbiddenGrouping       422  a group-by on a field reports may not group by
    ├── NotAnalyticsViewer      403  the role has no dashboard (citizens, officers, …)
    ├── OutOfScope              404  an entity or sector the token does not cover (as if absent)
    ├── ReportNotFound          404
    └── ExportsTooFrequent      429  exports are heavy: a few per minute per person
"""

from __future__ import annotations

from typing import Any

from shared.errors import Forbidden, NotFound, Problem, Text, TooManyRequests


class UnknownFilterValue(Problem):
    status = 422
    code = "unknown-filter-value"
    title = Text("قيمة تصفية غير معروفة", "Unknown filter value")

    def __init__(self, field: str, allowed: list[str] | None = None) -> None:
        extensions: dict[str, Any] = {"field": field}
        if allowed is not None:
            extensions["allowed"] = allowed
        super().__init__(
            Text(f"القيمة المعطاة للحقل {field} غير معروفة.",
                 f"The value given for {field} is not known."),
            **extensions,
        )


class BadPeriod(Problem):
    status = 422
    code = "bad-period"
    title = Text("الفترة الزمنية غير صالحة", "The period is not valid")


class FilterNotAvailable(Problem):
    status = 422
    code = "filter-not-available"
    title = Text("هذه التصفية غير متاحة هنا", "This filter is not available here")


class ForbiddenGrouping(Problem):
    status = 422
    code = "forbidden-group-by"
    title = Text("لا يجوز التجميع حسب هذا الحقل", "Grouping by this field is not allowed")

    def __init__(self, field: str, allowed: list[str]) -> None:
        super().__init__(
            Text(f"لا يمكن تجميع التقارير حسب {field}.", f"Reports cannot be grouped by {field}."),
            field=field[:40], allowed=allowed,
        )


class NotAnalyticsViewer(Forbidden):
    code = "not-an-analytics-viewer"
    title = Text("لوحة المؤشرات لرؤساء الجهات والوزراء ووحدة الشكاوى وصنّاع القرار",
                 "Indicators are for entity heads, ministers, the CMU and decision makers")


class OutOfScope(NotFound):
    code = "not-found"


class ReportNotFound(NotFound):
    title = Text("التقرير غير موجود", "Report not found")


class ExportsTooFrequent(TooManyRequests):
    pass
