"""Moving-window budgets count the same in this process and in Redis shared by replicas."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.ratelimit import RateLimits, parse_many

THREE_A_MINUTE = parse_many("3/minute")[0]


@pytest.fixture(params=["memory", "redis"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[RateLimits]:
    uri = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    opened = RateLimits(uri)
    yield opened
    await opened.aclose()


def someone() -> str:
    return uuid.uuid4().hex  # a fresh key per test: Redis is shared by every run


async def test_a_budget_admits_its_amount_then_refuses(limits: RateLimits) -> None:
    who = someone()
    assert [await limits.hit(THREE_A_MINUTE, "t", who) for _ in range(4)] == [
        True, True, True, False
    ]
    assert await limits.remaining(THREE_A_MINUTE, "t", who) == 0
    assert 1 <= await limits.retry_after_s(THREE_A_MINUTE, "t", who) <= 60


async def test_testing_counts_nothing(limits: RateLimits) -> None:
    who = someone()
    for _ in range(5):
        assert await limits.test(THREE_A_MINUTE, "t", who)
    assert await limits.remaining(THREE_A_MINUTE, "t", who) == 3


async def test_budgets_are_kept_apart_by_identifiers(limits: RateLimits) -> None:
    first, second = someone(), someone()
    for _ in range(3):
        await limits.hit(THREE_A_MINUTE, "t", first)
    assert not await limits.hit(THREE_A_MINUTE, "t", first)
    assert await limits.hit(THREE_A_MINUTE, "t", second)
    assert await limits.hit(THREE_A_MINUTE, "other", first)


async def test_a_hit_leaves_the_moving_window_after_its_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])  # the clock shared.ratelimit reads
    limits = RateLimits("memory://")
    who = someone()
    for offset in (0, 20, 40):
        now[0] = 1_000_000.0 + offset
        assert await limits.hit(THREE_A_MINUTE, "t", who)
    now[0] = 1_000_059.0
    assert not await limits.hit(THREE_A_MINUTE, "t", who)
    assert await limits.retry_after_s(THREE_A_MINUTE, "t", who) == 1
    now[0] = 1_000_060.5  # the first hit has left the window; the others are still in it
    assert await limits.hit(THREE_A_MINUTE, "t", who)
    assert not await limits.hit(THREE_A_MINUTE, "t", who)


async def test_idle_keys_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])  # the clock shared.ratelimit reads
    limits = RateLimits("memory://")
    for index in range(100):
        await limits.hit(THREE_A_MINUTE, "t", f"client-{index}")
    now[0] += 3_600
    await limits.hit(THREE_A_MINUTE, "t", "the-one-still-here")
    windows = limits._limiter._hits  # what memory the limiter still holds
    assert list(windows) == [THREE_A_MINUTE.key_for("t", "the-one-still-here")]


def test_an_unknown_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://"):
        RateLimits("mongodb://somewhere")
