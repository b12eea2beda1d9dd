"""Decisions of the analytics service: who sees what, which questions are valid, and the
indicator sets the API, the dashboard and the live feed return.

Keyword-only functions over a session; they never commit (nothing here writes, except the
scheduled reports in `services.analytics.schedule`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics import labels, repository
from services.analytics.exceptions import (
    BadPeriod,
    NotAnalyticsViewer,
    OutOfScope,
    UnknownFilterValue,
)
from services.analytics.measures import (
    DURATION_EDGES_WD,
    Tally,
    indicators,
    performance_index,
)
from services.analytics.projection import OPEN_STATUSES
from services.analytics.slices import Period, Scope, Slice
from services.analytics.worktime import amman_day
from shared.auth import Principal, Role
from shared.errors import Text
from shared.events.vocabulary import (
    GOVERNORATES,
    Channel,
    ClosingCode,
    RequestKind,
    RequestStatus,
)

VIEWERS: Final = frozenset({Role.entity_head, Role.minister, Role.cmu_staff, Role.cmu_admin,
                            Role.decision_maker})
DEFAULT_PERIOD_DAYS: Final = 30
OLDEST_OPEN_SHOWN: Final = 10


def viewer_scope(principal: Principal) -> Scope:
    """Entity heads see their entities, ministers their sectors, the CMU and the PM's office all."""
    if principal.role not in VIEWERS:
        raise NotAnalyticsViewer()
    return Scope.of(principal)


@cache
def governorate_names() -> dict[str, dict[str, str]]:
    path = Path(__file__).parent / "data" / "governorates.json"
    return {g["code"]: {"name_ar": g["name_ar"], "name_en": g["name_en"]}
            for g in json.loads(path.read_text(encoding="utf-8"))}


def period_of(start: date | None, end: date | None, *, today: date, max_days: int,
              default_days: int = DEFAULT_PERIOD_DAYS) -> Period:
    end = end or today
    start = start or Period.last(min(default_days, max_days), end).start
    if end < start:
        raise BadPeriod(Text("تاريخ النهاية يسبق تاريخ البداية.", "The end is before the start."))
    period = Period(start, end)
    if period.days > max_days:
        raise BadPeriod(Text(f"أطول فترة مسموح بها {labels.counted(labels.DAYS, max_days, 'ar')}.",
                             f"The longest period allowed is "
                             f"{labels.counted(labels.DAYS, max_days, 'en')}."),
                        max_days=max_days)
    return period


_ENUMS: Final[dict[str, frozenset[str]]] = {
    "governorate": frozenset(GOVERNORATES),
    "kind": frozenset(k.value for k in RequestKind if k is not RequestKind.report),
    "channel": frozenset(c.value for c in Channel),
    "status": frozenset(s.value for s in RequestStatus),
    "closing_code": frozenset(c.value for c in ClosingCode),
}


async def check_slice(session: AsyncSession, *, scope: Scope, where: Slice) -> None:
    """Unknown values are 422; an entity or sector outside the scope is 404, as if absent."""
    for name, allowed in _ENUMS.items():
        value = getattr(where, name)
        if value is not None and value not in allowed:
            raise UnknownFilterValue(name, sorted(allowed))
    if where.processing_time is not None and not (
            -1 <= where.processing_time <= len(DURATION_EDGES_WD)):
        raise UnknownFilterValue("processing_time")
    if where.entity is not None:
        entity = (await repository.entity_names(session)).get(where.entity)
        if entity is None:
            raise UnknownFilterValue("entity")
        if not scope.covers(entity=where.entity, sector=entity["sector"]):
            raise OutOfScope()
    if where.sector is not None:
        if where.sector not in await repository.sector_names(session):
            raise UnknownFilterValue("sector")
        if not scope.everything and where.sector not in (scope.sectors or ()):
            # An entity head sees their entity's rows only, never the whole sector's.
            raise OutOfScope()
    if where.city is not None and not await repository.known_cities(session, where.city):
        raise UnknownFilterValue("city")


# --- indicators --------------------------------------------------------------------------------


def _open_summary(by_status: dict[str, int]) -> dict[str, Any]:
    return {"open": sum(n for s, n in by_status.items() if s in OPEN_STATUSES),
            "by_status": {s: by_status.get(s, 0) for s in sorted(OPEN_STATUSES)}}


async def kpis(session: AsyncSession, *, scope: Scope, period: Period, where: Slice,
               now: datetime) -> dict[str, Any]:
    """The headline indicators of a scope and slice over a period (docs/indicators.md)."""
    tally = await repository.cube_total(session, scope=scope, period=period, where=where)
    by_status = (await repository.open_by_status(session, scope=scope, where=where)).get((), {})
    # Ages are kept by entity and sector only (`open_by_day`): a finer slice has no backlog.
    backlog = None
    if where.dimensions() <= {"entity", "sector"}:
        backlog = await repository.backlog_by_age(session, scope=scope, today=amman_day(now),
                                                  where=where)
    applied, last_event_at = await repository.freshness(session)
    result: dict[str, Any] = {
        "period": {"from": period.start, "to": period.end},
        "as_of": now,
        "last_event_at": last_event_at,
        "events_applied": applied,
        **indicators(tally),
        **_open_summary(by_status),
        "backlog_by_age": None if backlog is None else [
            {"max_days": edge, "count": count}
            for edge, count in zip([*repository.AGE_BUCKETS_DAYS, None], backlog, strict=True)
        ],
    }
    if scope.everything and where == repository.ANY:
        # Platform-wide counts that belong to no entity: shown to those who see everything.
        result["notifications"] = await repository.notification_totals(session, period)
        result["corruption_reports"] = await repository.integrity_totals(session, period)
    return result


async def trend(session: AsyncSession, *, scope: Scope, period: Period, where: Slice,
                grain: str) -> list[dict[str, Any]]:
    series = await repository.cube_tallies(session, scope=scope, period=period, where=where,
                                           group_by=(grain,), grain=grain)
    return [
        {grain: key[0], "received": t["received"], "answered": t["answered"],
         "closed": t["closed"], "resolved": t["closed_resolved"]}
        for key, t in sorted(series.items(), key=lambda item: item[0][0])
    ]


async def ranking(session: AsyncSession, *, scope: Scope, period: Period, min_received: int
                  ) -> dict[str, list[dict[str, Any]]]:
    """The performance index of each entity and sector in scope, best first."""
    by_entity = await repository.cube_tallies(session, scope=scope, period=period,
                                              group_by=("sector", "entity"))
    entity_names = await repository.entity_names(session)
    sector_names = await repository.sector_names(session)
    sectors: dict[str, Tally] = defaultdict(Tally)
    entities = []
    for (sector, entity), tally in by_entity.items():
        sectors[sector].add(tally)
        if entity:
            entities.append(_ranked(entity, entity_names.get(entity), tally, min_received))
    sector_rows = [_ranked(code, sector_names.get(code), tally, min_received)
                   for code, tally in sectors.items() if code]
    return {"entities": _rank(entities), "sectors": _rank(sector_rows)}


def _ranked(code: str, names: dict[str, Any] | None, tally: Tally, min_received: int
            ) -> dict[str, Any]:
    values = indicators(tally)
    return {
        **_named(code, names),
        "received": tally["received"],
        "within_deadline_pct": values["within_deadline_pct"],
        "satisfaction_mean": values["satisfaction_mean"],
        "resolved_pct": values["resolved_pct"],
        "response_rate_pct": values["response_rate_pct"],
        "index": performance_index(tally),
        "ranked": tally["received"] >= min_received,
    }


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (not r["ranked"], -(r["index"] or 0.0), r["code"]))
    position = 0
    for row in rows:
        if row["ranked"] and row["index"] is not None:
            position += 1
            row["rank"] = position
        else:
            row["rank"] = None
    return rows


async def governorates(session: AsyncSession, *, scope: Scope, period: Period
                       ) -> list[dict[str, Any]]:
    flows = await repository.cube_tallies(session, scope=scope, period=period,
                                          group_by=("governorate",))
    stock = await repository.open_by_status(session, scope=scope, group_by=("governorate",))
    names = governorate_names()
    return [
        {"code": code, **names[code], "received": flows.get((code,), Tally())["received"],
         "open": _open_summary(stock.get((code,), {}))["open"]}
        for code in sorted(names)
    ]


async def oldest_open(session: AsyncSession, *, scope: Scope, now: datetime
                      ) -> list[dict[str, Any]]:
    rows = await repository.oldest_open(session, scope=scope, limit=OLDEST_OPEN_SHOWN)
    names = await repository.entity_names(session)
    for row in rows:
        row["age_days"] = (now - row["submitted_at"]).days
        row["age"] = labels.both(labels.DAYS, row["age_days"])
        entity = names.get(row["entity"] or "")
        row["entity_name_ar"] = entity["name_ar"] if entity else None
        row["entity_name_en"] = entity["name_en"] if entity else None
    return rows


async def dashboard(session: AsyncSession, *, scope: Scope, now: datetime, period_days: int,
                    min_received: int) -> dict[str, Any]:
    """Everything the dashboard shows, in one answer (also what the live feed pushes)."""
    period = Period.last(period_days, amman_day(now))
    ranks = await ranking(session, scope=scope, period=period, min_received=min_received)
    return {
        "scope": await _describe(session, scope),
        "headline": await kpis(session, scope=scope, period=period, where=repository.ANY,
                               now=now),
        "trend": await trend(session, scope=scope, period=period, where=repository.ANY,
                             grain="day"),
        "sla_by_entity": sorted(
            ({k: r[k] for k in ("code", "name_ar", "name_en", "received",
                                "within_deadline_pct")} for r in ranks["entities"]),
            key=lambda r: (r["within_deadline_pct"] is None, r["within_deadline_pct"] or 0.0),
        ),
        "ranking": ranks,
        "governorates": await governorates(session, scope=scope, period=period),
        "oldest_open": await oldest_open(session, scope=scope, now=now),
        "labels": {
            "status": labels.STATUS, "kind": labels.KIND,
            "definitions": {key: {"ar": ar, "en": en}
                            for key, (ar, en) in labels.DEFINITION.items()},
            "period": labels.both(labels.LAST_DAYS, period_days),
            "backlog": _backlog_labels(),
        },
    }


def _backlog_labels() -> list[dict[str, str]]:
    """The backlog's age buckets in words: "≤ يوم واحد" … "أكثر من 30 يوماً"."""
    edges = repository.AGE_BUCKETS_DAYS
    return [dict(zip(("ar", "en"), labels.bucket_label(labels.DAYS, edges, bucket), strict=True))
            for bucket in range(len(edges) + 1)]


async def _describe(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Whose figures these are, by name: the minister reads their ministry, not its code."""
    if scope.everything:
        return {"everything": True, "entities": [], "sectors": []}
    sectors = await repository.sector_names(session)
    entities = await repository.entity_names(session)
    return {"everything": False,
            "sectors": [_named(code, sectors.get(code)) for code in sorted(scope.sectors or ())],
            "entities": [_named(code, entities.get(code))
                         for code in sorted(scope.entities or ())]}


def _named(code: str, names: dict[str, Any] | None) -> dict[str, str]:
    """A code with its Arabic and English names (the code itself until the directory says)."""
    return {"code": code, "name_ar": (names or {}).get("name_ar", code),
            "name_en": (names or {}).get("name_en", code)}


def scoped_sectors(scope: Scope) -> frozenset[str] | None:
    """Which published sector reports a scope may read ('' is the government-wide one)."""
    if scope.everything:
        return None
    return frozenset(scope.sectors or ())
