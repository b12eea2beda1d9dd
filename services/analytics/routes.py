"""Public routes of analytics: `/api/v1/analytics/...` (indicators, reports, the live feed, open
data, published periodic reports) and `/dashboard` (the page and its vendored assets).

Routes parse, ask `services.analytics.service` (or `reports`), and return. Every route but the
open data, the dashboard page and a published report's page (opened by the signed link its
message carries, `services.analytics.published`) needs a viewer's token, and every answer is
cut to the viewer's scope (`service.viewer_scope`).
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from limits import RateLimitItemPerMinute

from services.analytics import published, reports, repository, service
from services.analytics.config import AnalyticsSettings
from services.analytics.exceptions import (
    BadPeriod,
    ExportsTooFrequent,
    FilterNotAvailable,
    ReportNotFound,
)
from services.analytics.live import LiveFeed
from services.analytics.recent import RecentAnswers
from services.analytics.slices import Period, Scope, Slice
from services.analytics.worktime import amman_day
from shared.calendar import FIRST_YEAR, LAST_YEAR
from shared.dependencies import ClockDep, PrincipalDep, RuntimeDep, SessionDep
from shared.errors import PROBLEM_CONTENT_TYPE, NotFound, Text, preferred_language
from shared.ratelimit import RateLimits

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
pages = APIRouter(tags=["dashboard"])

STATIC_DIR: Final = Path(__file__).parent / "static"
Format = Literal["json", "csv", "xlsx"]
Language = Literal["ar", "en"]


async def settings_of(runtime: RuntimeDep) -> AnalyticsSettings:
    settings = runtime.settings_as(AnalyticsSettings)
    return settings


SettingsDep = Annotated[AnalyticsSettings, Depends(settings_of)]


async def recent_answers(request: Request, settings: SettingsDep) -> RecentAnswers:
    """One memory of recent answers per process, made on first use."""
    recent: RecentAnswers | None = getattr(request.app.state, "analytics_recent", None)
    if recent is None:
        recent = RecentAnswers(ttl_s=settings.answer_reuse_s)
        request.app.state.analytics_recent = recent
    return recent


RecentDep = Annotated[RecentAnswers, Depends(recent_answers)]


async def scope_of(principal: PrincipalDep) -> Scope:
    return service.viewer_scope(principal)


ScopeDep = Annotated[Scope, Depends(scope_of)]


async def slice_of(
    entity: Annotated[str | None, Query(max_length=40)] = None,
    sector: Annotated[str | None, Query(max_length=20)] = None,
    governorate: Annotated[str | None, Query(max_length=5)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
) -> Slice:
    return Slice(entity=entity, sector=sector, governorate=governorate, kind=kind,
                 channel=channel)


SliceDep = Annotated[Slice, Depends(slice_of)]
_FIRST_DAY, _LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
FromQuery = Annotated[date | None, Query(alias="from", ge=_FIRST_DAY, le=_LAST_DAY,
                                         description="First day (Asia/Amman).")]
ToQuery = Annotated[date | None, Query(alias="to", ge=_FIRST_DAY, le=_LAST_DAY,
                                       description="Last day, included.")]


def _language(lang: Language | None, accept_language: str | None) -> str:
    return lang or preferred_language(accept_language)


def _json(content: Any) -> Response:
    return Response(json.dumps(jsonable_encoder(content), ensure_ascii=False),
                    media_type="application/json")


# --- indicators --------------------------------------------------------------------------------


@router.get("/kpis", summary="Headline indicators of the viewer's scope over a period")
async def get_kpis(session: SessionDep, scope: ScopeDep, clock: ClockDep, settings: SettingsDep,
                   where: SliceDep, recent: RecentDep, start: FromQuery = None,
                   end: ToQuery = None) -> Response:
    now = clock.now()
    period = service.period_of(start, end, today=amman_day(now),
                               max_days=settings.max_report_days)
    await service.check_slice(session, scope=scope, where=where)
    return _json(await recent.get(
        ("kpis", scope, period, where),
        lambda: service.kpis(session, scope=scope, period=period, where=where, now=now),
    ))


@router.get("/trend", summary="Received, responded and closed per day or per hour")
async def get_trend(session: SessionDep, scope: ScopeDep, clock: ClockDep, settings: SettingsDep,
                    where: SliceDep, start: FromQuery = None, end: ToQuery = None,
                    granularity: Literal["day", "hour"] = "day") -> Response:
    now = clock.now()
    # Hours only for a few days: an hourly series of a year is no trend anyone reads.
    period = service.period_of(start, end, today=amman_day(now),
                               max_days=7 if granularity == "hour" else settings.max_report_days,
                               default_days=2 if granularity == "hour" else 30)
    await service.check_slice(session, scope=scope, where=where)
    if granularity == "hour" and where.dimensions() - {"entity", "sector"}:
        raise FilterNotAvailable(Text("السلسلة الساعية تُصفّى حسب الجهة أو القطاع فقط.",
                             "An hourly series is filtered by entity or sector only."))
    return _json(await service.trend(session, scope=scope, period=period, where=where,
                                     grain=granularity))


@router.get("/ranking", summary="Performance index of entities and sectors, best first")
async def get_ranking(session: SessionDep, scope: ScopeDep, clock: ClockDep,
                      settings: SettingsDep, start: FromQuery = None,
                      end: ToQuery = None) -> Response:
    period = service.period_of(start, end, today=amman_day(clock.now()),
                               max_days=settings.max_report_days)
    return _json(await service.ranking(session, scope=scope, period=period,
                                       min_received=settings.ranking_min_received))


@router.get("/governorates", summary="Received and open requests in each governorate")
async def get_governorates(session: SessionDep, scope: ScopeDep, clock: ClockDep,
                           settings: SettingsDep, start: FromQuery = None,
                           end: ToQuery = None) -> Response:
    period = service.period_of(start, end, today=amman_day(clock.now()),
                               max_days=settings.max_report_days)
    return _json(await service.governorates(session, scope=scope, period=period))


@router.get("/dashboard", summary="Everything the dashboard shows, in one answer")
async def get_dashboard(session: SessionDep, scope: ScopeDep, clock: ClockDep,
                        settings: SettingsDep, recent: RecentDep) -> Response:
    return _json(await recent.get(
        ("dashboard", scope), lambda: _dashboard(session, scope, clock.now(), settings)
    ))


async def _dashboard(session: Any, scope: Scope, now: Any, settings: AnalyticsSettings
                     ) -> dict[str, Any]:
    return await service.dashboard(session, scope=scope, now=now,
                                   period_days=settings.dashboard_period_days,
                                   min_received=settings.ranking_min_received)


async def live_feed(request: Request, runtime: RuntimeDep, settings: SettingsDep) -> LiveFeed:
    """One feed per process, made on first use (it needs the runtime the lifespan opened)."""
    feed: LiveFeed | None = getattr(request.app.state, "analytics_live_feed", None)
    if feed is None:
        async def snapshot(session: Any, scope: Scope, now: Any) -> dict[str, Any]:
            return await _dashboard(session, scope, now, settings)

        feed = LiveFeed(sessionmaker=runtime.sessionmaker, clock=runtime.clock,
                        wall_clock=runtime.wall_clock, snapshot=snapshot,
                        poll_interval_s=settings.live_poll_interval_s,
                        heartbeat_s=settings.live_heartbeat_s)
        request.app.state.analytics_live_feed = feed
    return feed


@router.get(
    "/live",
    summary="The dashboard's figures as server-sent events, pushed when they change",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def get_live(principal: PrincipalDep, scope: ScopeDep,
                   feed: Annotated[LiveFeed, Depends(live_feed)]) -> StreamingResponse:
    return StreamingResponse(
        feed.stream(scope, expires_at=principal.expires_at),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# --- reports -----------------------------------------------------------------------------------

async def export_limits(request: Request, settings: SettingsDep) -> RateLimits:
    """One counter of exports per process, made on first use (nothing is built at import)."""
    limits: RateLimits | None = getattr(request.app.state, "analytics_export_limits", None)
    if limits is None:
        # Counted in this process while the storage is away: exports go on, still bounded.
        limits = RateLimits(settings.rate_limit_storage_uri, in_process_when_unreachable=True)
        request.app.state.analytics_export_limits = limits
    return limits


ExportLimitsDep = Annotated[RateLimits, Depends(export_limits)]


async def _count_export(limits: RateLimits, subject: str, per_minute: int) -> None:
    budget = RateLimitItemPerMinute(per_minute)
    if not await limits.hit(budget, "analytics-export", subject):
        raise ExportsTooFrequent(
            await limits.retry_after_s(budget, "analytics-export", subject),
            Text("صدّرت تقارير كثيرة خلال دقيقة، حاول بعد قليل.",
                 "Too many exports in a minute; try again shortly."),
        )


_XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _formats(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The answer's other content types (by `format`), beside JSON, for the OpenAPI document."""
    return {200: {"content": {media_type: {"schema": {"type": "string"}}
                              for media_type in media_types}}}


def _rendered(table: reports.ReportTable, fmt: Format, language: str, name: str) -> Response:
    if fmt == "csv":
        return Response(reports.to_csv(table, language), media_type="text/csv; charset=utf-8",
                        headers=_attachment(f"{name}.csv"))
    if fmt == "xlsx":
        return Response(
            reports.to_xlsx(table, language),
            media_type=_XLSX,
            headers=_attachment(f"{name}.xlsx"))
    return _json(reports.to_json(table))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}


@router.get("/reports", summary="Requests received in a period, filtered and grouped",
            responses=_formats("text/csv", _XLSX))
async def get_report(
    session: SessionDep, principal: PrincipalDep, scope: ScopeDep, clock: ClockDep,
    settings: SettingsDep, where: SliceDep, export_limits: ExportLimitsDep,
    start: FromQuery = None, end: ToQuery = None,
    group_by: Annotated[str | None, Query(max_length=200, description=(
        "Up to 3 of: " + ", ".join(reports.GROUPABLE)))] = None,
    city: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    closing_code: Annotated[str | None, Query(max_length=40)] = None,
    processing_time: Annotated[int | None, Query(ge=-1, le=20, description=(
        "A duration bucket: -1 not closed yet, 0.. the buckets of docs/indicators.md"))] = None,
    format: Format = "json",
    lang: Language | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    now = clock.now()
    period = service.period_of(start, end, today=amman_day(now),
                               max_days=settings.max_report_days)
    groups = reports.parse_group_by(group_by)
    full = dataclasses.replace(where, city=city, status=status, closing_code=closing_code,
                               processing_time=processing_time)
    await service.check_slice(session, scope=scope, where=full)
    if format != "json":
        await _count_export(export_limits, principal.subject, settings.exports_per_minute)
    language = _language(lang, accept_language)
    table = await reports.build_report(session, scope=scope, period=period, where=full,
                                       group_by=groups, language=language)
    return _rendered(table, format, language,
                     f"bekhedmetkom-{period.start.isoformat()}-{period.end.isoformat()}")


@router.get("/open-data/monthly", summary="Open data: a month's counts, small cells suppressed",
            responses=_formats("text/csv"))
async def get_open_data(
    session: SessionDep, clock: ClockDep, settings: SettingsDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                description=f"YYYY-MM, of {FIRST_YEAR} to {LAST_YEAR}")],
    format: Literal["json", "csv"] = "json",
) -> Response:
    year, number = int(month[:4]), int(month[5:])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadPeriod(Text(f"تُنشر البيانات المفتوحة لأشهر السنوات {FIRST_YEAR}–{LAST_YEAR}.",
                             f"Open data is published for the months of {FIRST_YEAR}–{LAST_YEAR}."))
    first = date(year, number, 1)
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    if next_month > amman_day(clock.now()):
        raise BadPeriod(Text("تُنشر البيانات المفتوحة للأشهر المكتملة فقط.",
                             "Open data is published for complete months only."))
    period = Period(first, next_month - timedelta(days=1))
    rows = await reports.open_data_month(session, period=period,
                                         min_cell=settings.open_data_min_cell)
    if format == "csv":
        return Response(reports.open_data_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="bekhedmetkom-open-data-{month}.csv"'})
    return _json({"month": month, "min_cell": settings.open_data_min_cell, "rows": rows})


@router.get("/published-reports", summary="The periodic reports the viewer may read")
async def list_published_reports(session: SessionDep, scope: ScopeDep) -> Response:
    if not scope.everything and not scope.sectors:
        return _json({"reports": []})  # entity heads get no sector or government report
    rows = await repository.published_reports(session, sectors=service.scoped_sectors(scope),
                                              limit=200)
    return _json({"reports": [{**row, "sector": row["sector"] or None,
                               "link": f"/api/v1/analytics/published-reports/{row['id']}"}
                              for row in rows]})


@router.get("/published-reports/{report_id}", summary="One periodic report, as published",
            responses=_formats("text/csv", _XLSX))
async def get_published_report(
    session: SessionDep, principal: PrincipalDep, scope: ScopeDep, settings: SettingsDep,
    export_limits: ExportLimitsDep,
    report_id: UUID, format: Format = "xlsx", lang: Language | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    row = await repository.published_report(session, report_id)
    allowed = service.scoped_sectors(scope)
    if row is None or (allowed is not None and row["sector"] not in allowed):
        raise ReportNotFound()
    if format != "json":
        await _count_export(export_limits, principal.subject, settings.exports_per_minute)
    language = _language(lang, accept_language)
    content = json.loads(row["content"])
    table = reports.ReportTable.from_json(content[language])
    name = f"bekhedmetkom-{row['cadence']}-{row['sector'] or 'government'}-{row['period_start']}"
    return _rendered(table, format, language, name)


@router.get(
    "/published-reports/{report_id}/page", response_class=HTMLResponse,
    responses={404: {"description": "The link expired, was altered, or names no report: a "
                                    "page that says so (a problem when the address itself is "
                                    "malformed).",
                      "content": {"text/html": {}, PROBLEM_CONTENT_TYPE: {
                          "schema": {"$ref": "#/components/schemas/Problem"}}}}},
    summary="One periodic report as a page, opened from its message's signed link",
    description=(
        "No token: the signed, expiring `token` the report's message carries is the key "
        "(a minister's phone rarely holds a staff session). An expired, altered or foreign "
        "token answers 404 with a page that says so."),
)
async def published_report_page(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, report_id: UUID,
    token: Annotated[str, Query(min_length=10, max_length=2048,
                                description="The link's signed token (`shared.links`).")],
    lang: Language | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    language = _language(lang, accept_language)
    links = published.ReportLinks.of(settings, clock)
    row = (await repository.published_report(session, report_id)
           if links.allows(token, report_id) else None)
    if row is None:
        return published.refused(language)
    sector = (await repository.sector_names(session)).get(row["sector"]) if row["sector"] else None
    return published.render(row, language=language, token=token,
                            audience=sector[f"name_{language}"] if sector else None)


# --- the dashboard page ------------------------------------------------------------------------

_ASSET: Final = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_ASSETS: Final = {str(p.relative_to(STATIC_DIR)): p for p in STATIC_DIR.rglob("*")
                  if p.is_file() and p.name != "index.html"}
_PAGE_HEADERS: Final = {
    # Everything from ourselves: no CDN, no inline script; ECharts sets element styles.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@pages.get("/dashboard", response_class=HTMLResponse, summary="The live dashboard (Arabic first)")
async def dashboard_page() -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"),
                        headers=_PAGE_HEADERS)


@pages.get("/dashboard/static/{asset:path}", include_in_schema=False)
async def dashboard_asset(asset: str) -> FileResponse:
    path = _ASSETS.get(asset) if _ASSET.fullmatch(asset) else None
    if path is None:
        raise NotFound()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
