"""What the dashboard and the reports say in words: each tile's definition is the docs' own, and
numbers take their nouns by CLDR's plural rules ("يوم واحد، يومان، 3 أيام، 11 يوماً")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.analytics import labels
from services.analytics.measures import DURATION_EDGES_WD, Tally, indicators
from services.analytics.routes import STATIC_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def test_every_tile_has_a_definition_and_every_definition_a_tile() -> None:
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    tiles = set(re.findall(r'class="tile" data-kpi="([a-z0-9_]+)"', page))
    assert tiles == set(labels.DEFINITION)
    assert tiles <= set(indicators(Tally())) | {"open"}  # each is a figure the API gives


@pytest.mark.parametrize("kpi", sorted(labels.DEFINITION))
def test_the_docs_define_each_tile_in_the_dashboards_words(kpi: str) -> None:
    docs = DOCS.read_text(encoding="utf-8").splitlines()
    arabic, english = labels.DEFINITION[kpi]
    assert english in docs
    assert arabic in docs


@pytest.mark.parametrize(("n", "arabic", "english"), [
    (0, "0 يوم", "0 days"),
    (1, "يوم واحد", "1 day"),
    (2, "يومان", "2 days"),
    (3, "3 أيام", "3 days"),
    (10, "10 أيام", "10 days"),
    (11, "11 يوماً", "11 days"),
    (30, "30 يوماً", "30 days"),
    (100, "100 يوم", "100 days"),
    (103, "103 أيام", "103 days"),
    (366, "366 يوماً", "366 days"),
])
def test_days_take_the_plural_form_cldr_gives_their_number(n: int, arabic: str,
                                                           english: str) -> None:
    assert labels.counted(labels.DAYS, n, "ar") == arabic
    assert labels.counted(labels.DAYS, n, "en") == english


def test_the_dashboards_period_reads_as_arabic_writes_it() -> None:
    assert [labels.counted(labels.LAST_DAYS, n, "ar") for n in (1, 2, 7, 30, 100)] == [
        "آخر يوم", "آخر يومين", "آخر 7 أيام", "آخر 30 يوماً", "آخر 100 يوم"]
    assert labels.counted(labels.LAST_DAYS, 30, "en") == "The last 30 days"


def test_processing_time_buckets_are_counted_in_working_days() -> None:
    def label(bucket: int) -> tuple[str, str]:
        return labels.bucket_label(labels.WORKING_DAYS, DURATION_EDGES_WD, bucket)

    assert label(0) == ("≤ 0.25 يوم عمل", "≤ 0.25 working days")
    assert label(2) == ("≤ يوم عمل واحد", "≤ 1 working day")
    assert label(3) == ("≤ يوما عمل", "≤ 2 working days")
    assert label(4) == ("≤ 3 أيام عمل", "≤ 3 working days")
    assert label(len(DURATION_EDGES_WD)) == ("أكثر من 30 يوم عمل", "more than 30 working days")
