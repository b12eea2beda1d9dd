"""Reports: requests received in a period, grouped by the fields asked for, as JSON, CSV or XLSX.

A report is a `ReportTable` (columns with Arabic and English headers, rows of plain values);
the renderers only format it. CSV is UTF-8 with a BOM (so Excel shows Arabic); XLSX sheets are
right-to-left when Arabic. Every text cell passes `safe_cell` first: a cell that begins with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a spreadsheet, and a city name
typed by a citizen must never become one (OWASP "CSV injection"): it gets a leading apostrophe.

Open data (`open_data_month`) are monthly counts by sector, governorate and kind from the
rollups, with every count under the threshold suppressed (and the shares computed from it).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics import labels, repository
from services.analytics.exceptions import ForbiddenGrouping
from services.analytics.measures import DURATION_EDGES_WD, Tally, indicators
from services.analytics.service import governorate_names
from services.analytics.slices import Period, Scope, Slice

GROUPABLE: Final = ("governorate", "city", "status", "closing_code", "entity", "sector", "kind",
                    "channel", "day", "week", "month", "processing_time")
MAX_GROUPS: Final = 3
MEASURES: Final = ("received", "open", "answered", "response_rate_pct", "closed", "resolved",
                   "resolved_pct", "within_deadline_pct", "breaches",
                   "first_response_median_wd", "resolution_median_wd",
                   "resolution_p90_wd", "escalated_level_1", "escalated_level_2", "transfers",
                   "reopened", "chased", "satisfaction_mean", "rating_1_pct")
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def parse_group_by(value: str | None) -> list[str]:
    fields = [f.strip() for f in (value or "").split(",") if f.strip()]
    allowed = list(GROUPABLE)
    for name in fields:
        if name not in GROUPABLE:
            raise ForbiddenGrouping(name, allowed)
    if len(set(fields)) != len(fields) or len(fields) > MAX_GROUPS:
        raise ForbiddenGrouping(",".join(fields), allowed)
    return fields


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class ReportTable:
    title: tuple[str, str]
    period: Period
    group_by: list[str]
    # (key, Arabic header, English header)
    columns: list[tuple[str, str, str]]
    rows: list[dict[str, Any]]

    @classmethod
    def from_json(cls, content: dict[str, Any]) -> ReportTable:
        """The inverse of `to_json` (a published report is stored as JSON)."""
        return cls(
            title=(content["title"]["ar"], content["title"]["en"]),
            period=Period(date.fromisoformat(content["period"]["from"]),
                          date.fromisoformat(content["period"]["to"])),
            group_by=list(content["group_by"]),
            columns=[(c["key"], c["ar"], c["en"]) for c in content["columns"]],
            rows=list(content["rows"]),
        )

    def headers(self, language: str) -> list[str]:
        return [ar if language == "ar" else en for _key, ar, en in self.columns]


def _fold_period(day: date, unit: str) -> str:
    if unit == "week":
        return (day - timedelta(days=(day.weekday() + 1) % 7)).isoformat()  # from Sunday
    if unit == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


async def build_report(session: AsyncSession, *, scope: Scope, period: Period, where: Slice,
                       group_by: Sequence[str], language: str) -> ReportTable:
    # Weeks and months are days folded here: one portable query for both databases.
    sql_groups = ["day" if g in ("week", "month") else g for g in group_by]
    sql_groups = list(dict.fromkeys(sql_groups))
    groups = await repository.report_groups(session, scope=scope, period=period, where=where,
                                            group_by=sql_groups)
    folded: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    for group, tally in groups:
        folded[tuple(_fold_period(group["day"], g) if g in ("day", "week", "month") else group[g]
                     for g in group_by)].add(tally)
    names = await _names(session)
    rows = []
    for key, tally in sorted(folded.items(), key=lambda item: tuple(str(k) for k in item[0])):
        values = indicators(tally)
        values["open"] = tally["open"]
        row: dict[str, Any] = {}
        for name, code in zip(group_by, key, strict=True):
            row[name] = code
            row[f"{name}_name"] = _label(name, code, names, language)
        row.update({m: values[m] for m in MEASURES})
        rows.append(row)
    columns: list[tuple[str, str, str]] = []
    for name in group_by:
        ar, en = labels.COLUMN[name]
        columns.append((f"{name}_name", ar, en))
    columns += [(m, *labels.COLUMN[m]) for m in MEASURES]
    return ReportTable(title=("تقرير الطلبات", "Requests report"), period=period,
                       group_by=list(group_by), columns=columns, rows=rows)


async def _names(session: AsyncSession) -> dict[str, dict[str, dict[str, Any]]]:
    return {"entity": await repository.entity_names(session),
            "sector": await repository.sector_names(session),
            "governorate": dict(governorate_names())}


def _label(name: str, code: Any, names: dict[str, dict[str, dict[str, Any]]],
           language: str) -> str:
    if name == "processing_time":
        if code == repository.NOT_CLOSED_BUCKET:
            return labels.pick(labels.NOT_CLOSED, language)
        return labels.pick(labels.bucket_label(labels.WORKING_DAYS, DURATION_EDGES_WD,
                                               int(code)), language)
    if code is None or code == "":
        return labels.pick(labels.NONE, language)
    if name in names:
        found = names[name].get(code)
        return str(found[f"name_{language}"]) if found else str(code)
    vocabulary = {"status": labels.STATUS, "kind": labels.KIND, "channel": labels.CHANNEL,
                  "closing_code": labels.CLOSING_CODE}.get(name)
    if vocabulary is not None and code in vocabulary:
        return labels.pick(vocabulary[code], language)
    return str(code)


# --- rendering ---------------------------------------------------------------------------------


def to_json(table: ReportTable) -> dict[str, Any]:
    return {
        "title": {"ar": table.title[0], "en": table.title[1]},
        "period": {"from": table.period.start.isoformat(), "to": table.period.end.isoformat()},
        "group_by": table.group_by,
        "columns": [{"key": k, "ar": ar, "en": en} for k, ar, en in table.columns],
        "rows": table.rows,
    }


def to_csv(table: ReportTable, language: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in table.headers(language)])
    for row in table.rows:
        writer.writerow([safe_cell(_plain(row.get(key))) for key, _ar, _en in table.columns])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(table: ReportTable, language: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "تقرير" if language == "ar" else "Report"
    sheet.sheet_view.rightToLeft = language == "ar"
    title = table.title[0] if language == "ar" else table.title[1]
    sheet.append([safe_cell(f"{title} {table.period.start} – {table.period.end}")])
    sheet.append([safe_cell(h) for h in table.headers(language)])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in table.rows:
        values = [safe_cell(_plain(row.get(key))) for key, _ar, _en in table.columns]
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet.freeze_panes = "A3"
    for index, (_key, ar, en) in enumerate(table.columns, start=1):
        letter = sheet.cell(row=2, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(ar if language == "ar" else en) + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    return "" if value is None else value


# --- open data ---------------------------------------------------------------------------------

OPEN_DATA_COUNTS: Final = ("received", "answered", "closed", "resolved",
                           "escalated_level_1", "escalated_level_2")


async def open_data_month(session: AsyncSession, *, period: Period, min_cell: int
                          ) -> list[dict[str, Any]]:
    """Monthly counts by sector, governorate and kind; counts in 1..min_cell-1 are suppressed."""
    groups = await repository.cube_tallies(
        session, scope=Scope(), period=period, group_by=("sector", "governorate", "kind"))
    sector_names = await repository.sector_names(session)
    governorates = governorate_names()
    rows = []
    for (sector, governorate, kind), tally in sorted(groups.items()):
        values = indicators(tally)
        row: dict[str, Any] = {
            "month": period.start.strftime("%Y-%m"),
            "sector": sector or None,
            "sector_name_ar": sector_names.get(sector, {}).get("name_ar"),
            "sector_name_en": sector_names.get(sector, {}).get("name_en"),
            "governorate": governorate or None,
            "governorate_name_ar": governorates.get(governorate, {}).get("name_ar"),
            "governorate_name_en": governorates.get(governorate, {}).get("name_en"),
            "kind": kind,
        }
        suppressed = False
        for name in OPEN_DATA_COUNTS:
            count = int(values[name])  # type: ignore[call-overload]
            if 0 < count < min_cell:
                row[name], suppressed = None, True
            else:
                row[name] = count
        # A share computed from a suppressed count, or from a few judged requests, would
        # reveal them.
        judged = tally["deadline_met"] + tally["deadline_missed"]
        row["within_deadline_pct"] = (None if suppressed or 0 < judged < min_cell
                                      else values["within_deadline_pct"])
        row["suppressed"] = suppressed
        rows.append(row)
    return rows


def open_data_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    columns = ["month", "sector", "sector_name_ar", "sector_name_en", "governorate",
               "governorate_name_ar", "governorate_name_en", "kind", *OPEN_DATA_COUNTS,
               "within_deadline_pct", "suppressed"]
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(_plain(row[c])) for c in columns])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
