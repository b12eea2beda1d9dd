"""`python -m bench [--quick] [--only NAME ...]`: run the scenarios, write bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bench.harness import (
    DEFAULT_AMQP_URL,
    DEFAULT_POSTGRES_URL,
    HTTP_CLIENTS,
    RESULTS_DIR,
    BenchContext,
    BenchRun,
    Result,
    compute_ratios,
    cpu_probe_ms,
    machine_facts,
    other_bench_runs,
    settle,
    speed_drift,
    utc_now,
    write_results,
)
from bench.scenarios import LOAD_ERRORS, assign_baselines, load_all, plan
from shared.memory import tune_for_serving


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the benchmark scenarios (bench/README.md).")
    parser.add_argument("--quick", action="store_true",
                        help="short runs (seconds, not minutes): a smoke test of the figures")
    parser.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                        help="run these scenarios, in this order (their baselines first)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="with --only: do not add the baselines (no ratio then)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help=f"results directory (default {RESULTS_DIR})")
    parser.add_argument("--postgres-url",
                        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="PostgreSQL (env BENCH_POSTGRES_URL; default %(default)s)")
    parser.add_argument("--amqp-url", default=os.environ.get("BENCH_AMQP_URL", DEFAULT_AMQP_URL),
                        help="RabbitMQ (env BENCH_AMQP_URL; default %(default)s)")
    parser.add_argument("--http-client", choices=sorted(HTTP_CLIENTS), default="raw",
                        help="load generator's HTTP client (default %(default)s)")
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(message, flush=True)


#: machine busy % (all cores) in the second before a scenario above which its figures are
#: flagged: something else (another run, a test suite) was using the cores. The runner waits
#: up to 15 s for the machine to fall below it first (the previous scenario's aftermath).
BUSY_BEFORE_LIMIT_PCT = 20.0


#: CPU (in % of one core) used during a measurement by processes outside the benchmark (not
#: the named processes, PostgreSQL or RabbitMQ; `CpuMeter`'s other_pct_of_core) above which
#: the result is flagged.
OTHER_CPU_LIMIT_PCT = 25.0


def _cpu_disturbance(result: Result) -> list[str]:
    cpu = result.extra.get("cpu")
    other = cpu.get("other_pct_of_core") if isinstance(cpu, dict) else None
    if isinstance(other, int | float) and other > OTHER_CPU_LIMIT_PCT:
        return [f"processes outside the benchmark used {other:.0f} % of a core during the "
                "measurement: figures disturbed"]
    return []


def _disturbance(busy_before: float | None) -> list[str]:
    lines = []
    if busy_before is not None and busy_before > BUSY_BEFORE_LIMIT_PCT:
        lines.append(f"the machine was {busy_before:.0f} % busy in the second before this "
                     "scenario started: something else shared the cores, figures disturbed")
    lines += [f"another bench run was active: {cmd[:160]}" for cmd in other_bench_runs()]
    return lines


def _summary_line(result: Result) -> str:
    f = result.figures
    if result.error:
        return f"  {result.name}: FAILED"
    lat = " ".join(f"{k} {v:.2f}" for k, v in
                   (("p50", f.p50_ms), ("p99", f.p99_ms), ("max", f.max_ms)) if v is not None)
    line = (f"  {result.name}: {f.throughput_per_s:,.1f}/s, {lat} ms, {f.count:,} ok, "
            f"{f.errors:,} errors")
    if f.late_sends is not None:
        line += f", late sends {f.late_sends:,}"
    if result.ratio is not None:
        line += f" — {result.ratio:.2f}× {result.baseline} ({result.metric})"
    if result.disturbed:
        line += "  ⚠ DISTURBED (see notes)"
    return line


async def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.list:
        for item in load_all().values():
            suffix = f" (baseline: {item.baseline})" if item.baseline else ""
            print(f"{item.name}{suffix}\n    {item.description}")
        for module, text in LOAD_ERRORS.items():
            print(f"{module}: FAILED TO IMPORT\n{text}")
        return 0
    try:
        scenarios = plan(args.only, with_baselines=not args.no_baselines)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    for module, text in LOAD_ERRORS.items():
        last = text.strip().splitlines()[-1]
        _log(f"WARNING: bench/scenarios/{module}.py failed to import, skipped: {last}")
    started = utc_now()
    _log(f"bench: {', '.join(s.name for s in scenarios)}" + (" (quick)" if args.quick else ""))
    machine = await machine_facts(args.postgres_url, args.amqp_url)
    _log(f"  {machine['cores']} cores, {machine['cpu_model']}, {machine.get('postgresql', '?')}"
         f"; {machine.get('rabbitmq', '?')}")
    bench_run = BenchRun(started_at=started.isoformat(timespec="seconds"), quick=args.quick,
                         argv=list(argv), machine=machine)
    ctx = BenchContext(quick=args.quick, postgres_dsn=args.postgres_url, amqp_url=args.amqp_url,
                       http_client=args.http_client, log=_log)
    failed = 0
    for index, item in enumerate(scenarios, 1):
        _log(f"[{index}/{len(scenarios)}] {item.name}: {item.description}")
        busy_before = await settle(BUSY_BEFORE_LIMIT_PCT)
        probe_before_ms = cpu_probe_ms()
        disturbed = _disturbance(busy_before)
        for line in disturbed:
            _log(f"  WARNING: {line}")
        t0 = time.perf_counter()
        try:
            results = await item.fn(ctx)
        except Exception:
            failed += 1
            text = traceback.format_exc()
            _log(text)
            results = [Result.failed(item.name, item.description, text)]
        probe_ms = {"before": probe_before_ms, "after": cpu_probe_ms()}
        seen = set(disturbed)
        for line in _disturbance(None):  # a bench run that started meanwhile
            if line not in seen:
                disturbed.append(line.replace("was active", "started during this scenario"))
                _log(f"  WARNING: {disturbed[-1]}")
        for result in results:
            result.scenario = item.name
            result.extra.setdefault("machine_busy_before_pct", busy_before)
            result.extra.setdefault("cpu_probe_ms", probe_ms)
            mine = disturbed + _cpu_disturbance(result)
            result.notes.extend(mine)
            result.disturbed = bool(mine)
        assign_baselines(item, results, ctx.results)
        known = {**ctx.results, **{result.name: result for result in results}}
        for result in results:
            result.notes.extend(speed_drift(result, known))
        for result in results:
            ctx.results[result.name] = result
            bench_run.results.append(result)
        compute_ratios(bench_run.results)
        for result in results:
            _log(_summary_line(result))
        _log(f"  ({time.perf_counter() - t0:.1f} s)")
    bench_run.finished_at = utc_now().isoformat(timespec="seconds")
    paths = write_results(bench_run, args.out)
    _log("wrote " + ", ".join(str(p) for p in paths))
    return 1 if failed else 0


def _runner(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop when installed (the load generator is then cheaper per operation)."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop
    except ImportError:
        pass
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The load generator's own collector pauses would show up as every scenario's latency.
    tune_for_serving()
    return _runner(run(parse_args(argv), argv))


if __name__ == "__main__":
    sys.exit(main())
