"""The arithmetic of the indicators (docs/indicators.md): percentiles from buckets, the index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.analytics.measures import (
    BUCKETS,
    DURATION_EDGES_WD,
    INDEX_WEIGHTS,
    Tally,
    duration_bucket,
    histogram_percentile,
    index_components,
    indicators,
    performance_index,
)


def test_a_duration_falls_in_the_bucket_whose_upper_edge_it_is_below() -> None:
    assert duration_bucket(0.0) == 0
    assert duration_bucket(0.24) == 0
    assert duration_bucket(1.0) == 3  # exactly one working day: the "≤ 2" bucket
    assert duration_bucket(45.0) == BUCKETS - 1


def test_the_median_interpolates_inside_its_bucket() -> None:
    counts = [0] * BUCKETS
    counts[duration_bucket(1.5)] = 10  # all between 1 and 2 working days
    assert histogram_percentile(counts, 0.5) == 1.5
    assert histogram_percentile(counts, 0.9) == 1.9


def test_a_percentile_in_the_open_bucket_is_its_lower_edge() -> None:
    counts = [0] * BUCKETS
    counts[-1] = 3
    assert histogram_percentile(counts, 0.5) == DURATION_EDGES_WD[-1]


def test_no_durations_no_percentile() -> None:
    assert histogram_percentile([0] * BUCKETS, 0.5) is None


@given(st.lists(st.floats(min_value=0, max_value=29.9), min_size=1, max_size=200))
def test_the_estimated_median_is_in_the_bucket_of_the_true_median(values: list[float]) -> None:
    counts = [0] * BUCKETS
    for value in values:
        counts[duration_bucket(value)] += 1
    ordered = sorted(values)
    true_median = ordered[(len(ordered) - 1) // 2]
    estimate = histogram_percentile(counts, 0.5)
    assert estimate is not None
    bucket = duration_bucket(true_median)
    lower = DURATION_EDGES_WD[bucket - 1] if bucket else 0.0
    assert lower <= estimate <= DURATION_EDGES_WD[bucket]


def test_the_index_weights_sum_to_one() -> None:
    weights = INDEX_WEIGHTS
    total = (weights.timeliness + weights.satisfaction + weights.resolution
             + weights.responsiveness + weights.escalation)
    assert abs(total - 1.0) < 1e-9


def test_a_perfect_entity_scores_100_and_a_failing_one_0() -> None:
    perfect = Tally(received=10, answered=10, deadline_met=10, closed=10,
                    closed_resolved=10, rating_5=10)
    assert performance_index(perfect) == 100.0
    failing = Tally(received=10, answered=0, deadline_missed=10, closed=10,
                    closed_withdrawn=10, rating_1=10, escalated_1=10)
    assert performance_index(failing) == 0.0


def test_a_missing_component_gives_its_weight_to_the_others() -> None:
    no_ratings = Tally(received=10, answered=10, deadline_met=10, closed=10,
                       closed_resolved=10)
    assert index_components(no_ratings)["satisfaction"] is None
    assert performance_index(no_ratings) == 100.0


def test_nothing_received_nothing_to_judge() -> None:
    assert performance_index(Tally()) is None
    assert indicators(Tally())["within_deadline_pct"] is None
