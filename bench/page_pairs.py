"""A page against the API call it is made of, in interleaved pairs: the back office's pages
(`web_office`) and the public ones (`public_tracking`) are measured the same way, on the same
topology (`pages_over`: a service, the gateway in front of it, the web app in front of that).

The machine's speed drifts, so each pair (API, then page, at the same open-loop rate) is judged
on its own: each side's p95, and their ratio; the median pair stands for the run.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from bench.harness import (
    BenchContext,
    CpuMeter,
    OpenLoopStats,
    Result,
    ServerProcess,
    Target,
    open_loop,
    percentile,
    uvicorn_server,
)

Op = Callable[[], Awaitable[None]]
QUIET: Final = {"BKH_ENVIRONMENT": "test", "BKH_LOG_LEVEL": "WARNING"}


@asynccontextmanager
async def pages_over(service: str, env: Mapping[str, str]
                     ) -> AsyncIterator[tuple[ServerProcess, ServerProcess, ServerProcess]]:
    """`service`'s API (with `env`), the gateway in front of it and the web app in front of the
    gateway, each its own uvicorn process as in a cluster: (service, gateway, web)."""
    async with (
        uvicorn_server(f"services.{service}.main:create_app", env=env, ready_path="/livez",
                       extra_args=["--factory"]) as api,
        uvicorn_server("gateway.main:create_app", ready_path="/livez", extra_args=["--factory"],
                       env={**QUIET, f"BKH_{service.upper()}_URL": api.base_url,
                            # Every call of a bench comes from this one address.
                            "BKH_RATE_LIMIT_PER_CLIENT": "100000/minute",
                            "BKH_RATE_LIMIT_ROUTES": "[]"}) as gateway,
        uvicorn_server("services.web.main:create_web_app", ready_path="/livez",
                       extra_args=["--factory"],
                       env={**QUIET, "BKH_GATEWAY_URL": gateway.base_url}) as web,
    ):
        yield api, gateway, web


def p95_ms(stats: OpenLoopStats) -> float:
    return round(percentile(sorted(stats.latencies_s), 95) * 1000, 2)


async def page_pairs(ctx: BenchContext, label: str, api: Op, page: Op, pids: dict[str, int],
                     *, rate: float) -> dict[str, Any]:
    """API then page, `pairs` times, at `rate`: each side's p95 per pair, their ratio."""
    pairs, duration, warmup = int(ctx.pick(5, 2)), ctx.pick(10.0, 3.0), ctx.pick(2.0, 1.0)
    runs: list[tuple[OpenLoopStats, OpenLoopStats]] = []
    cpu: list[dict[str, float]] = []
    for index in range(pairs):
        ctx.log(f"  {label} pair {index + 1}/{pairs}: API then page, {rate:g}/s, {duration:g} s")
        meter = CpuMeter(pids).start()
        api_stats = await open_loop(api, rate, duration, warmup)
        page_stats = await open_loop(page, rate, duration, warmup)
        cpu.append(meter.stop())
        runs.append((api_stats, page_stats))
    ratios = [p95_ms(p) / p95_ms(a) for a, p in runs]
    median_ratio = statistics.median(ratios)
    # The pair whose ratio is the median stands for the run in the table.
    middle = min(range(pairs), key=lambda i: abs(ratios[i] - median_ratio))
    return {"runs": runs, "ratios": ratios, "median_ratio": median_ratio, "middle": middle,
            "api_p95_ms": [p95_ms(a) for a, _ in runs],
            "page_p95_ms": [p95_ms(p) for _, p in runs], "cpu": cpu[middle]}


def page_result(name: str, description: str, measured: dict[str, Any], *,
                target_p95_ms: float, target_ratio: float | None,
                params: dict[str, Any]) -> Result:
    _api, page = measured["runs"][measured["middle"]]
    pages, ratios = measured["page_p95_ms"], measured["ratios"]
    targets = [Target("page p95 (ms)", target_p95_ms, at_most=True,
                      median=statistics.median(pages), spread=(min(pages), max(pages)))]
    if target_ratio is not None:
        targets.append(Target("page p95 ÷ API p95", target_ratio, at_most=True,
                              median=measured["median_ratio"],
                              spread=(min(ratios), max(ratios))))
    notes = [t.sentence() for t in targets]
    if target_ratio is None:
        notes.append(f"page p95 ÷ API p95, per pair: median {measured['median_ratio']:.2f} "
                     f"(spread {min(ratios):.2f}–{max(ratios):.2f})")
    notes.append("figures of the row: the page side of the median pair")
    return Result.from_open_loop(
        name, description, page, params=params, baseline="", targets=targets,
        extra={"page_p95_ms_per_pair": pages,
               "api_p95_ms_per_pair": measured["api_p95_ms"],
               "ratio_per_pair": [round(r, 3) for r in ratios],
               "median_ratio": round(measured["median_ratio"], 3), "cpu": measured["cpu"]},
        notes=notes)
