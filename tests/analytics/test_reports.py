"""Reports and who may see them: grouping, formats, formula-safe cells, clear refusals."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.analytics import models
from services.analytics.config import AnalyticsSettings
from services.analytics.published import ReportLinks
from services.analytics.schedule import publish_due_reports, run_schedule
from shared.bus import Delivery
from shared.events import catalog as c
from shared.events.envelope import Envelope
from shared.events.vocabulary import Channel, DirectoryChange, RequestKind, Role
from tests.analytics.conftest import World
from tests.analytics.test_projection import assigned, closed, responded
from tests.platform import eventually

REPORTS = "/api/v1/analytics/reports"


async def _mixed_requests(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1", governorate="JO-AM", city="عمان")
    await world.submit("JO-2", governorate="JO-IR", city="إربد", kind=RequestKind.inquiry)
    await world.submit("JO-3", entity="MOE-SCH", sector="MOE", governorate="JO-IR",
                       channel=Channel.call_center, city="=HYPERLINK(\"http://evil\")")
    await world.publish(assigned("JO-1"), responded("JO-1"), closed("JO-1"))
    await world.settled()


async def test_a_report_groups_requests_by_the_fields_asked(world: World) -> None:
    await _mixed_requests(world)
    response = await world.get(REPORTS, group_by="sector,governorate", lang="en")
    assert response.status_code == 200
    rows = {(r["sector"], r["governorate"]): r for r in response.json()["rows"]}
    assert set(rows) == {("MOH", "JO-AM"), ("MOH", "JO-IR"), ("MOE", "JO-IR")}
    assert rows[("MOH", "JO-AM")]["closed"] == 1
    assert rows[("MOH", "JO-AM")]["resolved"] == 1
    assert rows[("MOH", "JO-AM")]["sector_name"] == "Ministry of Health"
    assert rows[("MOH", "JO-IR")]["governorate_name"] == "Irbid"


async def test_a_report_is_filtered_by_status_city_and_processing_time(world: World) -> None:
    await _mixed_requests(world)
    open_only = (await world.get(REPORTS, group_by="status", status="received")).json()
    assert [r["received"] for r in open_only["rows"]] == [2]
    irbid = (await world.get(REPORTS, group_by="city", city="إربد")).json()
    assert [r["city"] for r in irbid["rows"]] == ["إربد"]
    not_closed = (await world.get(REPORTS, group_by="processing_time",
                                  processing_time=-1)).json()
    assert not_closed["rows"][0]["received"] == 2
    assert not_closed["rows"][0]["processing_time_name"] == "لم يُغلق بعد"


async def test_weeks_and_months_group_the_days_of_the_period(world: World) -> None:
    await _mixed_requests(world)
    world.clock.advance(timedelta(days=7))
    await world.submit("JO-4")
    await world.settled()
    by_week = (await world.get(REPORTS, group_by="week")).json()["rows"]
    assert [(r["week"], r["received"]) for r in by_week] == [("2027-09-05", 3),
                                                              ("2027-09-12", 1)]
    by_month = (await world.get(REPORTS, group_by="month")).json()["rows"]
    assert [(r["month"], r["received"]) for r in by_month] == [("2027-09", 4)]


async def test_csv_has_a_bom_arabic_headers_and_no_formula(world: World) -> None:
    await _mixed_requests(world)
    response = await world.get(REPORTS, group_by="city", format_="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "المدينة"
    cities = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil\")" in cities
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_xlsx_is_right_to_left_with_arabic_headers_and_no_formula(world: World) -> None:
    await _mixed_requests(world)
    response = await world.get(REPORTS, group_by="city", format_="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.sheet_view.rightToLeft is True
    assert sheet.cell(row=2, column=1).value == "المدينة"
    cells = [cell for row in sheet.iter_rows(min_row=3) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=HYPERLINK(\"http://evil\")" in [cell.value for cell in cells]


async def test_the_english_xlsx_is_left_to_right(world: World) -> None:
    await _mixed_requests(world)
    response = await world.get(REPORTS, group_by="kind", format_="xlsx", lang="en")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert not sheet.sheet_view.rightToLeft
    assert sheet.cell(row=2, column=1).value == "Kind"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"governorate": "JO-XX"}, "unknown-filter-value"),
        ({"kind": "report"}, "unknown-filter-value"),
        ({"status": "lost"}, "unknown-filter-value"),
        ({"entity": "NOPE"}, "unknown-filter-value"),
        ({"city": "Atlantis"}, "unknown-filter-value"),
        ({"from_": "2027-09-10", "to": "2027-09-01"}, "bad-period"),
        ({"from_": "2025-01-01", "to": "2027-09-05"}, "bad-period"),
        ({"group_by": "requester_id"}, "forbidden-group-by"),
        ({"group_by": "entity,kind,channel,city"}, "forbidden-group-by"),
        ({"group_by": "entity,entity"}, "forbidden-group-by"),
        ({"from_": "yesterday"}, "validation-failed"),
    ],
)
async def test_bad_questions_get_a_clear_problem(world: World, params: dict[str, str],
                                                  problem: str) -> None:
    await world.seed_directory()
    await world.settled()
    response = await world.get(REPORTS, **params)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{problem}"
    assert response.json()["title"]  # Arabic by default


async def test_an_entity_head_sees_only_their_entity(world: World) -> None:
    await _mixed_requests(world)
    head = world.auth(Role.entity_head, entities=["MOE-SCH"])
    rows = (await world.get(REPORTS, head, group_by="entity")).json()["rows"]
    assert [r["entity"] for r in rows] == ["MOE-SCH"]
    assert (await world.kpis(head))["received"] == 1
    # Another entity, or the whole sector, is as if it did not exist.
    for params in ({"entity": "MOH-HOSP"}, {"sector": "MOE"}):
        refused = await world.get(REPORTS, head, **params)
        assert refused.status_code == 404
        assert (await world.get("/api/v1/analytics/kpis", head, **params)).status_code == 404


async def test_a_minister_sees_their_sector_and_the_cmu_everything(world: World) -> None:
    await _mixed_requests(world)
    minister = world.auth(Role.minister, sectors=["MOH"])
    rows = (await world.get(REPORTS, minister, group_by="entity")).json()["rows"]
    assert {r["entity"] for r in rows} == {"MOH-HOSP"}
    assert (await world.kpis(minister))["received"] == 2
    assert (await world.get(REPORTS, minister, entity="MOE-SCH")).status_code == 404
    assert (await world.kpis(world.auth(Role.decision_maker)))["received"] == 3


@pytest.mark.parametrize("role", [Role.citizen, Role.sub_liaison_officer,
                                  Role.integrity_commission, Role.call_center_agent])
async def test_people_without_a_dashboard_are_refused(world: World, role: Role) -> None:
    await _mixed_requests(world)
    response = await world.get(REPORTS, world.auth(role, entities=["MOH-HOSP"]))
    assert response.status_code == 403
    assert "rows" not in response.text


async def test_without_a_token_nothing_is_said(world: World) -> None:
    response = await world.get("/api/v1/analytics/kpis", {})
    assert response.status_code == 401


async def test_exports_are_limited_per_person(world: World) -> None:
    await world.seed_directory()
    await world.settled()
    person = world.auth(Role.cmu_staff)
    statuses = [(await world.get(REPORTS, person, format_="csv")).status_code
                for _ in range(21)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


async def test_open_data_suppresses_small_counts(world: World) -> None:
    await world.seed_directory()
    for index in range(12):
        await world.submit(f"JO-A{index}", governorate="JO-AM")
    await world.submit("JO-B1", governorate="JO-AQ")
    await world.settled()
    world.clock.advance(timedelta(days=30))  # September 2027 is complete now

    response = await world.get("/api/v1/analytics/open-data/monthly", {}, month="2027-09")
    assert response.status_code == 200
    rows = {r["governorate"]: r for r in response.json()["rows"]}
    assert rows["JO-AM"]["received"] == 12
    assert rows["JO-AM"]["suppressed"] is False
    assert rows["JO-AQ"]["received"] is None
    assert rows["JO-AQ"]["suppressed"] is True
    assert "JO-A1" not in response.text
    current = await world.get("/api/v1/analytics/open-data/monthly", {}, month="2027-10")
    assert current.status_code == 422


def report_links(world: World) -> ReportLinks:
    settings = world.runtime.settings
    assert isinstance(settings, AnalyticsSettings)
    return ReportLinks.of(settings, world.clock)


async def publish(world: World) -> int:
    async with world.runtime.sessionmaker.begin() as session:
        return await publish_due_reports(session, outbox=world.runtime.outbox,
                                         links=report_links(world), now=world.clock.now())


async def listen_for_reports(world: World) -> list[c.AnalyticsReportPublished]:
    """Notify's part: what `analytics.report_published` announces, as it arrives."""
    heard: list[c.AnalyticsReportPublished] = []

    async def listen(delivery: Delivery) -> None:
        envelope = Envelope.model_validate_json(delivery.body)
        assert set(envelope.payload) == {"report_id", "cadence", "period_start", "period_end",
                                         "sector", "link"}  # a link, no figures
        heard.append(c.AnalyticsReportPublished.model_validate(envelope.payload))
        await delivery.ack()

    await world.bus.subscribe(world.bus.queue_name("notify-stand-in", "reports"),
                              [c.EventType.analytics_report_published.value], listen,
                              prefetch=10)
    return heard


async def link_to_the_weeks_report(world: World, heard: list[c.AnalyticsReportPublished],
                                   sector: str = "MOH") -> str:
    """Let the week end, publish, and give the link the sector's minister receives."""
    world.clock.advance(timedelta(days=7))
    await publish(world)

    async def announced() -> None:
        assert any(a.sector == sector for a in heard)

    await eventually(announced)
    return next(a.link for a in heard if a.sector == sector)


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "1999-12", "2100-01", "9999-12"])
async def test_open_data_for_a_month_outside_the_calendar_is_invalid_not_a_failure(
    world: World, month: str
) -> None:
    response = await world.get("/api/v1/analytics/open-data/monthly", {}, month=month)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("period", [{"to_": "0001-01-01"}, {"from_": "9999-12-31"},
                                    {"from_": "0001-01-01", "to_": "9999-12-31"}])
async def test_a_period_outside_the_calendar_is_invalid_not_a_failure(
    world: World, period: dict[str, str]
) -> None:
    for question in ("kpis", "trend", "ranking", "governorates", "reports"):
        response = await world.get(f"/api/v1/analytics/{question}", **period)
        assert response.status_code == 422, (question, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_periodic_reports_are_published_once_and_read_within_scope(world: World) -> None:
    await _mixed_requests(world)
    world.clock.advance(timedelta(days=7))
    first = await publish(world)
    again = await publish(world)
    # The week that ended, for each of the two sectors and for the whole government (August
    # ended before the platform's first day: no monthly report for it).
    assert (first, again) == (3, 0)
    async with world.runtime.sessionmaker() as session:
        reports = (await session.execute(select(models.published_reports))).mappings().all()
    weekly_moh = next(r for r in reports if r["sector"] == "MOH" and r["cadence"] == "weekly")
    assert (weekly_moh["period_start"].isoformat(), weekly_moh["period_end"].isoformat()) == (
        "2027-09-05", "2027-09-11")

    link = f"/api/v1/analytics/published-reports/{weekly_moh['id']}"
    minister = world.auth(Role.minister, sectors=["MOH"])
    sheet = await world.get(link, minister)
    assert sheet.status_code == 200
    workbook = load_workbook(io.BytesIO(sheet.content)).active
    assert workbook is not None
    assert workbook.sheet_view.rightToLeft is True
    as_json = (await world.get(link, minister, format_="json")).json()
    assert {r["entity"] for r in as_json["rows"]} == {"MOH-HOSP"}
    other = world.auth(Role.minister, sectors=["MOE"])
    assert (await world.get(link, other)).status_code == 404
    listed = (await world.get("/api/v1/analytics/published-reports", other)).json()["reports"]
    assert {r["sector"] for r in listed} == {"MOE"}


async def test_a_published_report_is_announced_with_a_link_and_no_figures(world: World) -> None:
    heard = await listen_for_reports(world)
    await _mixed_requests(world)
    world.clock.advance(timedelta(days=7))
    await publish(world)

    async def three_announcements() -> None:
        assert len(heard) == 3

    await eventually(three_announcements)
    for announcement in heard:
        assert announcement.link.startswith(
            f"/api/v1/analytics/published-reports/{announcement.report_id}/page?token=")


async def test_the_first_start_publishes_nothing_for_periods_before_the_platform_began(
    world: World,
) -> None:
    """The last week and month before the first start had no requests: no report, no SMS."""
    await _mixed_requests(world)
    assert await publish(world) == 0
    world.clock.advance(timedelta(days=7))  # then on schedule, once the first week has ended
    assert await publish(world) == 3


async def test_the_reports_link_opens_a_readable_page_without_signing_in(world: World) -> None:
    heard = await listen_for_reports(world)
    await _mixed_requests(world)
    await world.publish(c.DirectoryEntityChanged(
        entity="MOH-HOSP", sector="MOH", name_ar="مستشفى <b>البشير</b>",
        name_en="Al-Bashir <script>alert(1)</script>", change=DirectoryChange.updated))
    await world.settled()
    link = await link_to_the_weeks_report(world, heard)
    page = await world.client.get(link)  # no Authorization: the link's token is the key
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="ar" dir="rtl">' in html
    assert "التقرير الأسبوعي" in html
    assert "وزارة الصحة" in html
    assert "مستشفى &lt;b&gt;البشير&lt;/b&gt;" in html
    assert "<b>" not in html
    assert "5–11 أيلول 2027" in html
    token = link.split("token=")[1]
    assert f'href="?token={token}&amp;lang=en"' in html  # the other language, same link
    english = await world.client.get(f"{link}&lang=en")
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Ministry of Health" in english.text
    assert "Weekly report" in english.text
    assert "Al-Bashir &lt;script&gt;" in english.text
    assert "<script>" not in english.text
    assert "Answered within deadline" in english.text

    report_id = link.split("/")[-2]
    other = next(a for a in heard if a.sector != "MOH")
    for refused in (f"{link[:-3]}AAA", link.replace(report_id, str(other.report_id)),
                    f"/api/v1/analytics/published-reports/{report_id}/page?token={token[::-1]}"):
        answer = await world.client.get(refused)
        assert answer.status_code == 404
        assert "الرابط غير صالح" in answer.text
    world.clock.advance(timedelta(days=31))  # the link's life is 30 days
    assert (await world.client.get(link)).status_code == 404


async def test_the_schedule_publishes_by_itself_once_a_period_has_ended(world: World) -> None:
    await _mixed_requests(world)
    world.clock.advance(timedelta(days=30))  # September has ended, and a week of it
    loop = asyncio.create_task(run_schedule(world.runtime, interval_s=0.05,
                                            links=report_links(world)))
    try:
        async def published() -> None:
            async with world.runtime.sessionmaker() as session:
                rows = (await session.execute(select(models.published_reports.c.cadence,
                                                     models.published_reports.c.sector))).all()
            assert sorted(rows) == sorted(
                (cadence, sector) for cadence in ("monthly", "weekly")
                for sector in ("", "MOE", "MOH"))

        await eventually(published)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
