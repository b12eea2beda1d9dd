"""A published periodic report as a page a minister opens from the message on a phone.

The message (SMS or email, sent by notify) carries a signed, expiring link to the report's page
(`shared.links`: purpose `published-report`, the report's id in the claims), so that it opens
without signing in: a minister's phone rarely holds a staff session. The page shows the report
as it was frozen when published, in Arabic (right to left) or English, readable at phone width.

What it must never do: open a report for a token made for another report or purpose, or one
that has expired; put the report's figures in the link; let the report's text through
unescaped (names come from the directory, typed by people).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from uuid import UUID

import jinja2
from babel.dates import format_datetime, format_interval
from fastapi.responses import HTMLResponse

from services.analytics import labels
from services.analytics.config import AnalyticsSettings
from shared.calendar import AMMAN
from shared.clock import Clock
from shared.links import InvalidLink, LinkSigner
from shared.locales import LOCALES

LINK_PURPOSE: Final = "published-report"
PAGE_PATH: Final = "/api/v1/analytics/published-reports/{report_id}/page"

# The report's headline figures the page shows first, in this order (keys of `measures.indicators`).
HEADLINE: Final = ("received", "answered", "response_rate_pct", "within_deadline_pct",
                   "breaches", "closed", "resolved_pct", "resolution_median_wd",
                   "satisfaction_mean", "escalated_level_1", "escalated_level_2")

_WORDS: Final[dict[str, tuple[str, str]]] = {
    "weekly": ("التقرير الأسبوعي", "Weekly report"),
    "monthly": ("التقرير الشهري", "Monthly report"),
    "government": ("الحكومة كلها", "The whole government"),
    "headline": ("الأرقام الرئيسية", "Headline figures"),
    "by_entity": ("حسب الجهة", "By entity"),
    "by_sector": ("حسب القطاع", "By sector"),
    "nothing": ("لم ترد طلبات خلال هذه الفترة.", "No requests were received in this period."),
    "published": ("نُشر في", "Published on"),
    "frozen": ("الأرقام كما كانت عند النشر.", "The figures as they stood when published."),
    "other_language": ("English", "العربية"),
    "refused_title": ("الرابط غير صالح", "This link does not work"),
    "refused": ("انتهت مدة هذا الرابط أو أنه غير صالح. اقرأ التقرير من بوابة الموظفين بعد تسجيل"
                " الدخول.",
                "This link has expired or is not valid. Read the report in the staff portal"
                " after signing in."),
}
_PAGE_HEADERS: Final = {
    # Nothing but our own style sheet and fonts; the token in the address goes nowhere else.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; font-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class ReportLinks:
    """Signs and checks the links to published reports' pages."""

    signer: LinkSigner
    lifetime: timedelta

    @classmethod
    def of(cls, settings: AnalyticsSettings, clock: Clock) -> ReportLinks:
        return cls(LinkSigner(settings.link_secret, clock=clock),
                   timedelta(days=settings.report_link_lifetime_days))

    def link(self, report_id: UUID) -> str:
        """The page's path with its token (notify puts the public base URL before it)."""
        token = self.signer.sign(LINK_PURPOSE, {"report": str(report_id)},
                                 lifetime=self.lifetime)
        return f"{PAGE_PATH.format(report_id=report_id)}?token={token}"

    def allows(self, token: str, report_id: UUID) -> bool:
        try:
            claims = self.signer.verify(LINK_PURPOSE, token)
        except InvalidLink:
            return False
        return claims.get("report") == str(report_id)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("services.analytics", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
    )


def _word(key: str, language: str) -> str:
    return labels.pick(_WORDS[key], language)


def _figure(key: str, value: Any, language: str) -> str:
    if value is None or isinstance(value, str) and not value:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = labels.number(value, language)
    return f"{text}%" if key.endswith("_pct") else text


def render_period(start: date, end: date, language: str) -> str:
    return format_interval(start, end, "yMMMd", locale=LOCALES[language])


def render(row: dict[str, Any], *, language: str, token: str, audience: str | None
           ) -> HTMLResponse:
    """The frozen report `row` (as `repository.published_report` reads it) as a page."""
    content = json.loads(row["content"])
    table = content[language]
    headline = content.get("headline", {})
    group_names = [f"{g}_name" for g in table["group_by"]]
    measures = [c for c in table["columns"] if c["key"] not in group_names]
    published_at: datetime = row["published_at"]
    page = _templates().get_template("published_report.html").render(
        language=language,
        direction="rtl" if language == "ar" else "ltr",
        other_language="en" if language == "ar" else "ar",
        words={key: _word(key, language) for key in _WORDS},
        title=_word(row["cadence"], language),
        audience=audience or _word("government", language),
        period=render_period(row["period_start"], row["period_end"], language),
        published=format_datetime(published_at, "medium", tzinfo=AMMAN,
                                  locale=LOCALES[language]),
        token=token,
        figures=[{
            "label": labels.pick(labels.COLUMN[key], language),
            "value": _figure(key, headline.get(key), language),
            "definition": labels.pick(labels.DEFINITION[key], language)
            if key in labels.DEFINITION else "",
        } for key in HEADLINE],
        by=_word("by_sector" if "sector" in table["group_by"] else "by_entity", language),
        groups=[{
            "name": " · ".join(str(r.get(name) or "—") for name in group_names),
            "values": [{"label": c[language], "value": _figure(c["key"], r.get(c["key"]), language)}
                       for c in measures],
        } for r in table["rows"]],
    )
    return HTMLResponse(page, headers=_PAGE_HEADERS)


def refused(language: str) -> HTMLResponse:
    """A link that does not open its report: said plainly, as a page (404, like no report)."""
    page = _templates().get_template("published_report_refused.html").render(
        language=language, direction="rtl" if language == "ar" else "ltr",
        title=_word("refused_title", language), message=_word("refused", language))
    return HTMLResponse(page, status_code=404, headers=_PAGE_HEADERS)
