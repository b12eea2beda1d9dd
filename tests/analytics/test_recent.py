"""A board watched by many: one scope's answer is computed once a second, never shared across
questions, and a failure is not remembered."""

from __future__ import annotations

import time

import pytest

from services.analytics.recent import RecentAnswers


class Counter:
    def __init__(self) -> None:
        self.computed = 0

    async def __call__(self) -> int:
        self.computed += 1
        return self.computed


async def test_the_same_question_within_the_reuse_time_is_answered_once() -> None:
    recent, compute = RecentAnswers(ttl_s=60), Counter()
    answers = [await recent.get(("kpis", "MOH"), compute) for _ in range(5)]
    assert answers == [1, 1, 1, 1, 1]
    assert compute.computed == 1


async def test_different_questions_never_share_an_answer() -> None:
    recent, compute = RecentAnswers(ttl_s=60), Counter()
    assert await recent.get(("kpis", "MOH"), compute) == 1
    assert await recent.get(("kpis", "MOE"), compute) == 2
    assert await recent.get(("dashboard", "MOH"), compute) == 3


async def test_an_old_answer_is_computed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    recent, compute = RecentAnswers(ttl_s=1.0), Counter()
    assert await recent.get("q", compute) == 1
    now[0] += 0.9
    assert await recent.get("q", compute) == 1
    now[0] += 0.2
    assert await recent.get("q", compute) == 2


async def test_zero_reuse_computes_every_time_and_keeps_nothing() -> None:
    recent, compute = RecentAnswers(ttl_s=0), Counter()
    assert [await recent.get("q", compute) for _ in range(3)] == [1, 2, 3]
    assert not recent._answers


async def test_a_failure_is_not_remembered() -> None:
    recent = RecentAnswers(ttl_s=60)

    async def failing() -> int:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await recent.get("q", failing)
    assert await recent.get("q", Counter()) == 1


async def test_no_more_than_the_limit_is_kept() -> None:
    recent, compute = RecentAnswers(ttl_s=60, max_entries=3), Counter()
    for question in range(10):
        await recent.get(question, compute)
    assert list(recent._answers) == [7, 8, 9]
