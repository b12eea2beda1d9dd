"""The back office's pages, with a million requests in the store: the officer's work queue and
staff search, rendered by the web app, each beside the API call it is made of.

The production topology on one machine: routing (its own uvicorn process) on PostgreSQL with
routing's store of 1,000,000 requests (100,000 with --quick; `bench/scenarios/routing.py`
builds it, words and search keys included), the gateway in front of it, and the web app in front
of the gateway (each its own process), calling it over HTTP as it does in a cluster. Officers
sign in to the web app once (a server-side session, tokens refreshed there); the API side uses
the same officers' tokens.

- `web_office.queue`: `GET /office/queue` (the list, the counters and the filters' choices, asked
  for at once, then rendered) against `GET /api/v1/inbox` through the gateway alone, at the same
  open-loop rate, as interleaved pairs (API, page, API, page …): the machine's speed drifts, so
  each pair is judged on its own and the median of the pairs' ratios is the figure. Targets
  (issue 18): page p95 ≤ 100 ms and ≤ 1.5× the API call's.
- `web_office.search`: `GET /office/search?q=…` (common, rare and two-word queries, names; the
  CMU across government and officers in their scope) against `GET /api/v1/cases?q=…`, the same
  way. Target: page p95 ≤ 150 ms.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from bench.fixtures import delete_service_queues, scratch_schema
from bench.harness import BenchContext, Result, make_http_client, uvicorn_server
from bench.page_pairs import Op, page_pairs, page_result, pages_over
from bench.scenarios import scenario
from bench.scenarios.routing import load_store, service_env
from services.routing.directory.demo import DEMO_PASSWORD
from services.routing.main import DEFINITION
from shared.runtime import migrate_to_head

DESCRIPTION = ("The back office with 1,000,000 requests in the store: the officer's work queue "
               "and staff search rendered by the web app (its own process, calling the gateway "
               "over HTTP), each against the API call alone, in interleaved pairs.")
RATE: Final = 20.0
PAGE: Final = 25
QUEUE_TARGET_P95_MS: Final = 100.0
QUEUE_TARGET_RATIO: Final = 1.5
SEARCH_TARGET_P95_MS: Final = 150.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class UnexpectedStatus(Exception):
    pass


def _people(store: dict[str, Any]) -> list[str]:
    """The usernames whose pages are measured: the busiest sectors' main officers (most often),
    the busiest distributions' sub-officers, and the CMU."""
    mains = [f"mlo.{sector.lower()}" for sector, _ in store["busiest_sectors"][:4]]
    subs = [f"slo.{entity.lower()}" for entity, _ in store["busiest_distributions"][:3]]
    return mains * 3 + subs + ["cmu.staff"]


async def _sign_in(web_url: str, gateway_url: str, username: str) -> tuple[str, str]:
    """(the web session's cookie, an API access token) of one demo officer."""
    async with httpx.AsyncClient(base_url=web_url) as browser:
        form = await browser.get("/office/sign-in")
        csrf = _CSRF.search(form.text)
        assert csrf, form.text[:300]
        signed = await browser.post("/office/sign-in", data={
            "csrf_token": csrf.group(1), "username": username, "password": DEMO_PASSWORD,
            "next": "/office/queue"})
        if signed.status_code != 303:
            raise UnexpectedStatus(f"web sign-in of {username}: HTTP {signed.status_code}")
        cookie = f"bkh_office={signed.cookies['bkh_office']}"
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        answer = await client.post("/api/v1/staff/auth/token",
                                   json={"username": username, "password": DEMO_PASSWORD})
        answer.raise_for_status()
        return cookie, str(answer.json()["access_token"])


def _queries(store: dict[str, Any]) -> list[str]:
    """What staff type: a common word, a rarer one, two words, a requester's name."""
    words, names = store["words"], store["names"]
    return [words[0], words[3], words[40], words[700], f"{words[2]} {words[90]}",
            f"{names[5]} {names[40]}", names[11], words[5000]]


@scenario("web_office", description=DESCRIPTION)
async def web_office(ctx: BenchContext) -> list[Result]:
    requests = int(ctx.pick(1_000_000, 100_000))
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    async with scratch_schema(ctx, "bench_web") as schema:
        url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        await migrate_to_head(DEFINITION, DEFINITION.load_settings(
            database_url=url, database_schema=schema))
        env = service_env(ctx, schema, namespace)
        try:
            async with uvicorn_server("services.routing.main:create_app", env=env,
                                      ready_path="/livez", extra_args=["--factory"]):
                pass  # seeds the directory and the demo staff
            ctx.log(f"  loading {requests:,} requests")
            store = await load_store(ctx, schema, requests)
            ctx.log(f"  loaded in {store['load_s']} s: {store['open']:,} open")
            return await _measure(ctx, env, store)
        finally:
            await delete_service_queues(ctx, namespace, ["routing"])


async def _measure(ctx: BenchContext, env: dict[str, str], store: dict[str, Any]
                   ) -> list[Result]:
    async with pages_over("routing", env) as (routing, gateway, web):
        people = _people(store)
        signed = {name: await _sign_in(web.base_url, gateway.base_url, name)
                  for name in dict.fromkeys(people)}
        queries = _queries(store)
        api = make_http_client(ctx.http_client, gateway.base_url, 32)
        pages = make_http_client(ctx.http_client, web.base_url, 32)
        turn = iter(range(1 << 62))

        def caller(client: Any, path: Callable[[int], str], *, as_page: bool) -> Op:
            async def call() -> None:
                n = next(turn)
                cookie, token = signed[people[n % len(people)]]
                headers = {"Cookie": cookie} if as_page else {"Authorization": f"Bearer {token}"}
                response = await client.request("GET", path(n), headers=headers)
                if response.status != 200:
                    raise UnexpectedStatus(f"HTTP {response.status}: {response.body[:200]!r}")

            return call

        queue_api = caller(api, lambda n: f"/api/v1/inbox?limit={PAGE}", as_page=False)
        queue_page = caller(pages, lambda n: "/office/queue", as_page=True)
        search_api = caller(api, lambda n: "/api/v1/cases?" + urlencode(
            {"limit": PAGE, "q": queries[n % len(queries)]}), as_page=False)
        search_page = caller(pages, lambda n: "/office/search?" + urlencode(
            {"q": queries[n % len(queries)]}), as_page=True)
        for _ in range(len(people) * 2):  # first pages warm caches, pools and sessions
            await queue_page()
            await search_page()
        pids = {"generator": os.getpid(), "web": web.pid, "gateway": gateway.pid,
                "routing": routing.pid}
        try:
            queue = await page_pairs(ctx, "queue", queue_api, queue_page, pids, rate=RATE)
            search = await page_pairs(ctx, "search", search_api, search_page, pids, rate=RATE)
        finally:
            await api.aclose()
            await pages.aclose()

    params = {"requests_in_store": store["requests"], "open_requests": store["open"],
              "rate_per_s": RATE, "page_size": PAGE, "people": len(set(people)),
              "http_client": ctx.http_client,
              "topology": "web app → gateway → routing, each its own uvicorn process"}
    return [
        page_result("web_office.queue", DESCRIPTION + " The work queue page (GET "
                    "/office/queue) against GET /api/v1/inbox through the gateway.", queue,
                    target_p95_ms=QUEUE_TARGET_P95_MS, target_ratio=QUEUE_TARGET_RATIO,
                    params=params),
        page_result("web_office.search", DESCRIPTION + " The search page (GET "
                    "/office/search?q=…) against GET /api/v1/cases?q=… through the gateway.",
                    search, target_p95_ms=SEARCH_TARGET_P95_MS, target_ratio=None,
                    params={**params, "queries": len(queries)}),
    ]
