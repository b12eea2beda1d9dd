"""What a back-office page costs inside the web app alone: the page served against a canned
gateway (in memory: no network, no database, no other process), so that what is left is the web
app's own work (session, middleware, the API client, rendering).

    python -m bench.web_page_cost [--pages 500] [--path /office/queue] [--profile]

It prints the mean time per page, the median and fastest rendering (`Office.render`), and the
canned gateway's own time per call; `--profile` adds cProfile's 30 costliest functions. The
`web_office` scenario measures the whole topology; this says which part of a page is the web
app's (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import services.web.office as office_module
from services.web.config import WebSettings
from services.web.main import create_web_app

NOW = datetime.now(UTC)
# About a sector's size in the seed directory, and a full page of the queue.
ENTITIES = [{"code": f"MOH-E{i}", "sector": "MOH", "parent": None, "kind": "entity",
             "name_ar": f"جهة {i}", "name_en": f"Entity {i}", "retired_at": None}
            for i in range(100)]
CLASSIFICATIONS = [{"code": f"complaint.c{i}", "kind": "complaint", "name_ar": f"تصنيف {i}",
                    "name_en": f"Class {i}", "max_working_days": 10} for i in range(40)]
INBOX = {"next_cursor": "next", "items": [
    {"reference": f"2026-{i:07d}-1", "kind": "complaint", "status": "in_progress",
     "channel": "portal", "subject": "نقص الدواء في المركز الصحي", "entity": "MOH-E1",
     "sector": "MOH", "distributed_to": None, "submitted_at": (NOW - timedelta(days=2)).isoformat(),
     "due_at": (NOW + timedelta(days=1)).isoformat(), "overdue_since": None,
     "escalation_level": i % 3, "version": 3}
    for i in range(25)]}
ME = {"id": str(uuid.uuid4()), "username": "mlo.moh", "full_name": "ضابط الارتباط",
      "role": "main_liaison_officer", "sectors": ["MOH"], "entities": [],
      "permissions": ["cases.read", "cases.accept", "cases.respond"]}


def canned_gateway() -> Starlette:
    def answer(body: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            return JSONResponse(body)
        return endpoint

    tokens = {"access_token": "a", "refresh_token": "r", "token_type": "bearer",
              "expires_in": 600}
    return Starlette(routes=[
        Route("/api/v1/staff/auth/token", answer(tokens), methods=["POST"]),
        Route("/api/v1/staff/me", answer(ME)),
        Route("/api/v1/inbox", answer(INBOX)),
        Route("/api/v1/cases", answer(INBOX)),
        Route("/api/v1/entities", answer(ENTITIES)),
        Route("/api/v1/classifications", answer(CLASSIFICATIONS)),
        Route("/api/v1/sectors", answer([])),
        Route("/api/v1/governorates", answer([])),
    ])


async def measure(path: str, pages: int, profile: bool) -> None:
    gateway = canned_gateway()
    web = create_web_app(WebSettings(environment="test", gateway_url="http://gateway"),
                         gateway_transport=httpx.ASGITransport(app=gateway))
    renders: list[float] = []
    render = office_module.Office.render

    def timed_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            renders.append(time.perf_counter() - started)

    async with web.router.lifespan_context(web), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://web") as browser:
        form = await browser.get("/office/sign-in")
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert found, "no sign-in form"
        signed = await browser.post("/office/sign-in", data={
            "csrf_token": found.group(1), "username": "mlo.moh", "password": "canned"})
        assert signed.status_code == 303, signed.status_code
        for _ in range(50):  # warm-up: caches, compiled templates
            assert (await browser.get(path)).status_code == 200
        office_module.Office.render = timed_render  # type: ignore[method-assign]
        started = time.perf_counter()
        for _ in range(pages):
            await browser.get(path)
        per_page = (time.perf_counter() - started) / pages
        office_module.Office.render = render  # type: ignore[method-assign]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                                     base_url="http://gateway") as direct:
            started = time.perf_counter()
            for _ in range(pages):
                await direct.get("/api/v1/inbox")
            per_call = (time.perf_counter() - started) / pages
        print(f"{path}: {per_page * 1000:.2f} ms a page; rendering median "
              f"{statistics.median(renders) * 1000:.2f} ms, fastest {min(renders) * 1000:.2f} ms;"
              f" the canned gateway alone {per_call * 1000:.2f} ms a call ({pages} pages)")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(pages):
                await browser.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--path", default="/office/queue")
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.path, arguments.pages, arguments.profile))


if __name__ == "__main__":
    main()
