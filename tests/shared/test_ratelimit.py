"""Moving-window budgets count the same in this process and in Redis shared by replicas."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.exceptions

from shared.ratelimit import RateLimits, parse_many
from tests.breakable_link import BreakableLink

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


@pytest.fixture
async def redis_link(redis_url: str) -> AsyncIterator[BreakableLink]:
    """The real Redis behind a link the test can cut: Redis stays up for everyone else."""
    address = urlsplit(redis_url)
    async with BreakableLink(address.hostname or "127.0.0.1", address.port or 6379) as link:
        yield link


def _through(redis_url: str, link: BreakableLink) -> str:
    address = urlsplit(redis_url)
    return urlunsplit(address._replace(netloc=f"127.0.0.1:{link.port}"))


async def test_a_budget_that_falls_back_counts_in_this_process_while_redis_is_away(
    redis_url: str, redis_link: BreakableLink, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="shared.ratelimit")
    misses: list[int] = []
    limits = RateLimits(_through(redis_url, redis_link), in_process_when_unreachable=True,
                        on_unreachable=lambda: misses.append(1))
    who = someone()
    try:
        assert await limits.hit(THREE_A_MINUTE, "t", who)  # counted in Redis
        await redis_link.cut()
        # Away: the same budget, counted here (nobody shut out, nobody unlimited).
        assert [await limits.hit(THREE_A_MINUTE, "t", who) for _ in range(4)] == [
            True, True, True, False]
        assert 1 <= await limits.retry_after_s(THREE_A_MINUTE, "t", who) <= 60
        assert len(misses) == 5
        await redis_link.restore()
        assert await limits.hit(THREE_A_MINUTE, "t", who)  # Redis again: its one, and this
        assert await limits.remaining(THREE_A_MINUTE, "t", who) == 1
    finally:
        await limits.aclose()
    said = [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == "shared.ratelimit"]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert "counting in this process until it answers" in said[0][1]


async def test_a_budget_that_does_not_fall_back_refuses_to_guess(
    redis_url: str, redis_link: BreakableLink,
) -> None:
    limits = RateLimits(_through(redis_url, redis_link))
    try:
        await redis_link.cut()
        with pytest.raises(redis.exceptions.ConnectionError):
            await limits.hit(THREE_A_MINUTE, "t", someone())
    finally:
        await limits.aclose()


async def test_a_store_that_never_answers_holds_no_request_for_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store gone without a word (a node lost, its address unrouted) accepts or drops the
    connection and then says nothing: the counters give up after their timeout and fall back,
    instead of holding the request for the operating system's minutes."""
    silent: list[asyncio.StreamWriter] = []

    async def say_nothing(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limits = RateLimits(f"redis://127.0.0.1:{port}/0", in_process_when_unreachable=True)
    try:
        async with asyncio.timeout(30):  # a guard against hanging, not a speed measure
            assert await limits.hit(THREE_A_MINUTE, "t", someone())
    finally:
        await limits.aclose()
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()
    assert any("counting in this process" in r.getMessage() for r in caplog.records)
