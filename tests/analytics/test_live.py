"""The live feed: a new event reaches an open dashboard stream within seconds, cut to the
viewer's scope, and a stream never outlives its token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx

from gateway.embedded import StreamingASGITransport
from shared.events.vocabulary import Role
from tests.analytics.conftest import World

FRESHNESS_S = 5.0


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next_event(self, timeout_s: float = FRESHNESS_S) -> tuple[str, dict[str, Any]]:
        async with asyncio.timeout(timeout_s):
            event = ""
            async for line in self.lines:
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event:
                    return event, json.loads(line.removeprefix("data: "))
        raise AssertionError("the stream ended")


@asynccontextmanager
async def live(world: World, headers: dict[str, str]) -> AsyncIterator[Stream]:
    transport = StreamingASGITransport(world.app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://analytics") as client,
        client.stream("GET", "/api/v1/analytics/live", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


async def test_a_new_request_changes_the_open_dashboard_within_five_seconds(
    world: World,
) -> None:
    await world.seed_directory()
    await world.settled()
    async with live(world, world.cmu) as stream:
        event, first = await stream.next_event()
        assert event == "dashboard"
        assert first["headline"]["received"] == 0

        await world.submit("JO-1")
        published = time.monotonic()
        event, second = await stream.next_event()
        assert event == "dashboard"
        assert second["headline"]["received"] == 1
        assert time.monotonic() - published < FRESHNESS_S


async def test_each_viewer_hears_only_their_own_scope(world: World) -> None:
    await world.seed_directory()
    await world.submit("JO-1", entity="MOE-SCH", sector="MOE")
    await world.settled()
    head = world.auth(Role.entity_head, entities=["MOH-HOSP"])
    async with live(world, head) as stream:
        _, figures = await stream.next_event()
        assert figures["headline"]["received"] == 0
        assert figures["scope"] == {"everything": False, "sectors": [], "entities": [
            {"code": "MOH-HOSP", "name_ar": "مستشفى البشير", "name_en": "Al-Bashir Hospital"}]}
        assert "MOE-SCH" not in json.dumps(figures)


async def test_a_stream_ends_when_its_token_expires(world: World) -> None:
    await world.seed_directory()
    await world.settled()
    short = world.auth(Role.decision_maker, lifetime=timedelta(minutes=1))
    async with live(world, short) as stream:
        assert (await stream.next_event())[0] == "dashboard"
        world.wall_clock.advance(timedelta(minutes=2))
        assert (await stream.next_event())[0] == "expired"


async def test_a_citizen_cannot_open_the_feed(world: World) -> None:
    response = await world.get("/api/v1/analytics/live", world.auth(Role.citizen))
    assert response.status_code == 403
