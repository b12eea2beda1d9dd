"""What a question to analytics is about: whose requests (`Scope`), when (`Period`), and which
(`Slice`). Built and checked by `services.analytics.service`; turned into SQL by the repository.

A scope only ever narrows: filters are intersected with it, never added to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.auth import Principal, Role


@dataclass(frozen=True, slots=True)
class Scope:
    """The entities and sectors a person may see; both None means everything."""

    entities: frozenset[str] | None = None
    sectors: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.entities is None and self.sectors is None

    @property
    def key(self) -> str:
        if self.everything:
            return "*"
        return "e:" + ",".join(sorted(self.entities or ())) + "|s:" + ",".join(
            sorted(self.sectors or ()))

    def covers(self, *, entity: str | None = None, sector: str | None = None) -> bool:
        if self.everything:
            return True
        return bool((entity is not None and entity in (self.entities or ()))
                    or (sector is not None and sector in (self.sectors or ())))

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        if principal.sees_all_entities:
            return cls()
        if principal.role is Role.minister:
            return cls(entities=frozenset(), sectors=frozenset(principal.sector_ids))
        return cls(entities=frozenset(principal.entity_ids), sectors=frozenset())


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days in Asia/Amman, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def last(cls, days: int, today: date) -> Period:
        return cls(today - timedelta(days=days - 1), today)


@dataclass(frozen=True, slots=True)
class Slice:
    """Filters on the request's dimensions; None means any."""

    entity: str | None = None
    sector: str | None = None
    governorate: str | None = None
    kind: str | None = None
    channel: str | None = None
    city: str | None = None
    status: str | None = None
    closing_code: str | None = None
    processing_time: int | None = None  # a duration bucket (`measures.DURATION_EDGES_WD`)

    def dimensions(self) -> set[str]:
        return {name for name in ("entity", "sector", "governorate", "kind", "channel")
                if getattr(self, name) is not None}
