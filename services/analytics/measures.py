"""The counters analytics keeps and the indicators computed from them: the one place of both.

Every rollup row, and every report group, is a `Tally`: counters by name (`COUNTERS`). The
indicators (shares, medians, the performance index) are derived from a tally here and nowhere
else, so the dashboard, the KPI API, the reports and the periodic reports cannot disagree.
docs/indicators.md documents each definition; keep the two in step.

Durations are kept as histograms over fixed working-day buckets (`DURATION_EDGES_WD`), so a
median or a 90th percentile over any slice is a sum of rollup rows, never a scan of requests;
the estimate interpolates inside the bucket that holds the percentile.

This module must never do I/O: it is arithmetic over numbers already read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from shared.events.vocabulary import ClosingCode

# Upper edges of the duration buckets, in working days (one working day = the official hours
# of one day); the last bucket is open-ended (more than 30 working days).
DURATION_EDGES_WD: Final = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0)
BUCKETS: Final = len(DURATION_EDGES_WD) + 1

RATINGS: Final = (1, 2, 3, 4, 5)


def closing_counter(code: ClosingCode | str) -> str:
    return f"closed_{ClosingCode(code).value}"


def first_response_counter(bucket: int) -> str:
    return f"first_response_b{bucket}"


def resolution_counter(bucket: int) -> str:
    return f"resolution_b{bucket}"


def rating_counter(score: int) -> str:
    return f"rating_{score}"


COUNTERS: Final[tuple[str, ...]] = (
    "received",
    "first_responded",
    "answered",
    "deadline_met",
    "deadline_missed",
    "closed",
    *(closing_counter(code) for code in ClosingCode),
    "inadmissible",
    "escalated_1",
    "escalated_2",
    "transferred",
    "reopened",
    "chased",
    "breached",
    "rated",
    *(rating_counter(score) for score in RATINGS),
    *(first_response_counter(b) for b in range(BUCKETS)),
    *(resolution_counter(b) for b in range(BUCKETS)),
)
"""Every counter a rollup row holds (one column each), flows counted on the day they happen.

Counters of requests count each request once, however many rounds it has: `answered` at its
first answer, `deadline_met` or `deadline_missed` at its one verdict, `escalated_1/2` when it
first reaches that level, `reopened` at its first reopening, `chased` when its requester first
chases a late answer, and the ratings by its latest
rating (an earlier one is taken back where it was counted). `transferred` counts transfers."""


def duration_bucket(working_days: float) -> int:
    return bisect_right(DURATION_EDGES_WD, working_days)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def histogram_percentile(counts: list[int], q: float) -> float | None:
    """The q-th percentile (0 < q < 1) of a bucketed duration, in working days.

    Linear interpolation inside the bucket holding the rank; in the open-ended last bucket the
    answer is its lower edge (the figure is then "more than" that, and says so in the docs).
    """
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for bucket, count in enumerate(counts):
        if count and seen + count >= rank:
            lower = DURATION_EDGES_WD[bucket - 1] if bucket > 0 else 0.0
            if bucket >= len(DURATION_EDGES_WD):
                return lower
            upper = DURATION_EDGES_WD[bucket]
            return round(lower + (upper - lower) * (rank - seen) / count, 2)
        seen += count
    return DURATION_EDGES_WD[-1]


class Tally(dict[str, int]):
    """Counters by name; missing ones are zero. Adding tallies adds counters."""

    def __missing__(self, key: str) -> int:
        return 0

    @classmethod
    def of(cls, row: Mapping[str, object]) -> Tally:
        return cls({name: int(str(row[name] or 0)) for name in COUNTERS if name in row})

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        result = cls()
        for tally in tallies:
            result.add(tally)
        return result

    def add(self, other: Mapping[str, int]) -> None:
        for name, value in other.items():
            self[name] += value

    def first_response_histogram(self) -> list[int]:
        return [self[first_response_counter(b)] for b in range(BUCKETS)]

    def resolution_histogram(self) -> list[int]:
        return [self[resolution_counter(b)] for b in range(BUCKETS)]

    def ratings(self) -> dict[int, int]:
        return {score: self[rating_counter(score)] for score in RATINGS}

    def mean_rating(self) -> float | None:
        ratings = self.ratings()
        count = sum(ratings.values())
        if not count:
            return None
        return round(sum(score * n for score, n in ratings.items()) / count, 2)


def within_deadline_pct(tally: Tally) -> float | None:
    """Answered in time ÷ judged: an overdue request with no answer is judged, against."""
    met = tally["deadline_met"]
    return _share(met, met + tally["deadline_missed"])


@dataclass(frozen=True, slots=True)
class IndexWeights:
    """The published weights of the performance index (docs/indicators.md), summing to 1."""

    timeliness: float = 0.30
    satisfaction: float = 0.25
    resolution: float = 0.20
    responsiveness: float = 0.15
    escalation: float = 0.10


INDEX_WEIGHTS: Final = IndexWeights()


def index_components(tally: Tally) -> dict[str, float | None]:
    """Each component of the performance index on 0–100; None where there is nothing to judge."""
    mean = tally.mean_rating()
    received = tally["received"]
    return {
        "timeliness": within_deadline_pct(tally),
        "satisfaction": round((mean - 1) / 4 * 100, 1) if mean is not None else None,
        "resolution": _share(tally[closing_counter(ClosingCode.resolved)], tally["closed"]),
        "responsiveness": (
            round(100.0 * min(tally["answered"] / received, 1.0), 1) if received else None
        ),
        "escalation": (
            round(100.0 * (1 - min(tally["escalated_1"] / received, 1.0)), 1)
            if received else None
        ),
    }


def performance_index(tally: Tally, weights: IndexWeights = INDEX_WEIGHTS) -> float | None:
    """Weighted mean of the components present (absent ones give their weight to the others)."""
    components = index_components(tally)
    present = {name: value for name, value in components.items() if value is not None}
    weight_sum = sum(getattr(weights, name) for name in present)
    if not present or weight_sum == 0:
        return None
    weighted = sum(float(getattr(weights, n)) * v for n, v in present.items())
    return round(float(weighted / weight_sum), 1)


def indicators(tally: Tally) -> dict[str, object]:
    """The flow indicators of one slice (a period, a scope, a report group)."""
    first_response = tally.first_response_histogram()
    resolution = tally.resolution_histogram()
    ratings = tally.ratings()
    rated = sum(ratings.values())
    resolved = tally[closing_counter(ClosingCode.resolved)]
    return {
        "received": tally["received"],
        "answered": tally["answered"],
        "closed": tally["closed"],
        "resolved": resolved,
        "resolved_pct": _share(resolved, tally["closed"]),
        "closing_codes": {code.value: tally[closing_counter(code)] for code in ClosingCode},
        "inadmissible": tally["inadmissible"],
        "first_response_median_wd": histogram_percentile(first_response, 0.5),
        "first_response_p90_wd": histogram_percentile(first_response, 0.9),
        "resolution_median_wd": histogram_percentile(resolution, 0.5),
        "resolution_p90_wd": histogram_percentile(resolution, 0.9),
        "deadline_met": tally["deadline_met"],
        "deadline_missed": tally["deadline_missed"],
        "within_deadline_pct": within_deadline_pct(tally),
        "escalated_level_1": tally["escalated_1"],
        "escalated_level_2": tally["escalated_2"],
        "transfers": tally["transferred"],
        "breaches": tally["breached"],
        "reopened": tally["reopened"],
        "reopen_rate_pct": _share(tally["reopened"], tally["closed"]),
        "chased": tally["chased"],
        "ratings": rated,
        "satisfaction_mean": tally.mean_rating(),
        "satisfaction_distribution": {str(score): n for score, n in ratings.items()},
        "rating_1_pct": _share(ratings[1], rated),
        "response_rate_pct": _share(tally["answered"], tally["received"]),
        "performance_index": performance_index(tally),
    }
