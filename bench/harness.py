"""Shared pieces of the benchmark harness.

- machine facts (`machine_facts`), recorded at the top of every results file;
- load generators: `closed_loop` (N workers back to back: peak throughput) and `open_loop`
  (sends at a fixed rate, latency measured from the *intended* send time: no coordinated
  omission);
- latency statistics (`percentile`, `summarize_ms`);
- the result model (`Figures`, `Result`, `BenchRun`) and the writers (`compute_ratios`,
  `render_markdown`, `write_results`);
- helpers for HTTP systems under test: `uvicorn_server` (the server in a separate process),
  `RawHttpClient` / `HttpxClient` (the load generator side), `CpuMeter` (who used the cores).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.metadata
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"

KEY_PACKAGES = (
    "fastapi", "uvicorn", "sqlalchemy", "asyncpg", "aio-pika", "aiormq",
    "httpx", "uvloop", "httptools", "pydantic",
)

Op = Callable[[], Awaitable[object]]
Mode = Literal["closed-loop", "open-loop"]
T = TypeVar("T")


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values: the smallest value such that at
    least q % of the values are <= it (p100 is the maximum, p0 the minimum)."""
    if not sorted_values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside [0, 100]")
    rank = math.ceil(q * len(sorted_values) / 100)  # q * n first: exact for whole numbers
    return sorted_values[max(rank, 1) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency percentiles in milliseconds (None when there were no samples)."""

    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, latencies_s: Iterable[float]) -> LatencySummary:
        values = sorted(latencies_s)
        if not values:
            return cls(None, None, None, None)
        return cls(*(percentile(values, q) * 1000 for q in (50, 90, 99, 100)))


def summarize_ms(latencies_s: Iterable[float]) -> LatencySummary:
    return LatencySummary.of(latencies_s)


def _error_kind(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


# --------------------------------------------------------------------------- load generators


@dataclass
class ClosedLoopStats:
    """What `closed_loop` measured. Only operations *completing* inside the measured window
    (after the warm-up, before the deadline) count."""

    concurrency: int
    duration_s: float
    completed: int
    errors: int
    latencies_s: list[float]
    error_kinds: dict[str, int]

    @property
    def throughput_per_s(self) -> float:
        return self.completed / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def latency(self) -> LatencySummary:
        return LatencySummary.of(self.latencies_s)


async def closed_loop(op: Op, concurrency: int, duration_s: float,
                      warmup_s: float = 0.0) -> ClosedLoopStats:
    """Run `concurrency` workers, each calling `op()` back to back, for `warmup_s` +
    `duration_s`. Throughput = successful completions in the measured window / `duration_s`;
    latency = time of each `op()` call. An exception from `op` counts as an error (its kind is
    tallied) and the worker carries on. Workers start nothing after the deadline and the
    operations still in flight then are awaited but not counted."""
    if concurrency < 1 or duration_s <= 0 or warmup_s < 0:
        raise ValueError("need concurrency >= 1, duration_s > 0, warmup_s >= 0")
    latencies: list[float] = []
    kinds: Counter[str] = Counter()
    errors = 0
    clock = time.perf_counter
    measure_from = clock() + warmup_s
    deadline = measure_from + duration_s

    async def worker() -> None:
        nonlocal errors
        while True:
            started = clock()
            if started >= deadline:
                return
            try:
                await op()
            except Exception as exc:  # an error is a measurement, not a crash
                ended = clock()
                if measure_from <= ended <= deadline:
                    errors += 1
                    kinds[_error_kind(exc)] += 1
                continue
            ended = clock()
            if measure_from <= ended <= deadline:
                latencies.append(ended - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ClosedLoopStats(concurrency=concurrency, duration_s=duration_s,
                           completed=len(latencies), errors=errors, latencies_s=latencies,
                           error_kinds=dict(kinds))


@dataclass(frozen=True)
class OpenLoopSample:
    """One measured send: `latency_s` = completion time - `scheduled_s` (the intended time)."""

    index: int
    scheduled_s: float
    fired_s: float
    latency_s: float
    ok: bool


@dataclass
class OpenLoopStats:
    """What `open_loop` measured (warm-up sends excluded)."""

    target_rate_per_s: float
    duration_s: float
    sent: int
    achieved_rate_per_s: float
    late_sends: int
    max_lateness_ms: float
    late_threshold_ms: float
    errors: int
    unfinished: int
    samples: list[OpenLoopSample]
    error_kinds: dict[str, int]

    @property
    def completed(self) -> int:
        return sum(1 for s in self.samples if s.ok)

    @property
    def latencies_s(self) -> list[float]:
        return [s.latency_s for s in self.samples if s.ok]

    @property
    def throughput_per_s(self) -> float:
        return self.completed / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def latency(self) -> LatencySummary:
        return LatencySummary.of(self.latencies_s)


async def open_loop(op: Op, rate_per_s: float, duration_s: float, warmup_s: float = 0.0, *,
                    late_threshold_s: float = 0.002,
                    drain_limit_s: float = 30.0) -> OpenLoopStats:
    """Fire `op()` at a fixed rate, each call as its own task, whatever the system's state.

    Send i is scheduled at start + i / rate. The generator sleeps until that instant (or fires
    at once, in a burst, when it is behind), so a slow system cannot slow down the sends; a
    send's latency is completion time - its *scheduled* time, which includes any lag of the
    generator itself (no coordinated omission). A send fired more than `late_threshold_s`
    after its scheduled time counts as late: many late sends mean the generator, not the
    system under test, was short of CPU. Sends scheduled in the first `warmup_s` are not
    measured. After the last send, the tasks still running get `drain_limit_s` to finish;
    the rest are cancelled and counted as errors (`unfinished`)."""
    if rate_per_s <= 0 or duration_s <= 0 or warmup_s < 0:
        raise ValueError("need rate_per_s > 0, duration_s > 0, warmup_s >= 0")
    clock = time.perf_counter
    interval = 1.0 / rate_per_s
    n_warmup = round(warmup_s * rate_per_s)
    total = n_warmup + max(1, round(duration_s * rate_per_s))
    samples: list[OpenLoopSample] = []
    kinds: Counter[str] = Counter()
    tasks: set[asyncio.Task[None]] = set()
    late = 0
    max_lateness = 0.0
    first_fired = last_fired = 0.0

    async def timed(index: int, scheduled: float, fired: float) -> None:
        try:
            await op()
        except Exception as exc:  # an error is a measurement, not a crash
            if index >= n_warmup:
                kinds[_error_kind(exc)] += 1
                samples.append(OpenLoopSample(index, scheduled, fired, clock() - scheduled,
                                              ok=False))
            return
        if index >= n_warmup:
            samples.append(OpenLoopSample(index, scheduled, fired, clock() - scheduled, ok=True))

    start = clock() + 0.005
    for index in range(total):
        scheduled = start + index * interval
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        fired = clock()
        if index >= n_warmup:
            lateness = fired - scheduled
            max_lateness = max(max_lateness, lateness)
            if lateness > late_threshold_s:
                late += 1
            if index == n_warmup:
                first_fired = fired
            last_fired = fired
        task = asyncio.create_task(timed(index, scheduled, fired))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    unfinished = 0
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=drain_limit_s)
        unfinished = len(pending)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            kinds["unfinished after drain limit"] += unfinished
    sent = total - n_warmup
    span = last_fired - first_fired + interval
    samples.sort(key=lambda s: s.index)
    return OpenLoopStats(
        target_rate_per_s=rate_per_s, duration_s=duration_s, sent=sent,
        achieved_rate_per_s=sent / span if span > 0 else 0.0, late_sends=late,
        max_lateness_ms=max_lateness * 1000, late_threshold_ms=late_threshold_s * 1000,
        errors=sum(1 for s in samples if not s.ok) + unfinished, unfinished=unfinished,
        samples=samples, error_kinds=dict(kinds))


# --------------------------------------------------------------------------- result model


@dataclass
class Figures:
    """The numbers of one result. `throughput_per_s` is successful operations per second of
    the measured window; latencies are in milliseconds. The open-loop fields are None for a
    closed-loop result."""

    throughput_per_s: float
    count: int
    errors: int
    duration_s: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    target_rate_per_s: float | None = None
    achieved_rate_per_s: float | None = None
    late_sends: int | None = None


#: what a result is compared on by default, per mode: peak throughput for a closed loop; for an
#: open loop (same rate for both sides) the throughput ratio says nothing, p99 latency does.
DEFAULT_COMPARE_ON: dict[str, str] = {"closed-loop": "throughput_per_s", "open-loop": "p99_ms"}


@dataclass(frozen=True, slots=True)
class Target:
    """One of an issue's targets, as this run measured it: the median of its repeats, and
    their spread when it was measured more than once (interleaved pairs)."""

    what: str  # "page p95 (ms)", "page p95 ÷ API p95"
    limit: float
    at_most: bool  # True: the figure must be ≤ limit; False: ≥ limit
    median: float
    spread: tuple[float, float] | None = None

    @property
    def met(self) -> bool:
        return self.median <= self.limit if self.at_most else self.median >= self.limit

    def sentence(self) -> str:
        spread = "" if self.spread is None else f" (spread {_fmt(self.spread[0])}–" \
                                                f"{_fmt(self.spread[1])})"
        return (f"{self.what}: median {_fmt(self.median)}{spread}: "
                f"{'meets' if self.met else 'MISSES'} the target "
                f"{'≤' if self.at_most else '≥'} {self.limit:g}")


@dataclass
class Result:
    """One measured figure set. `baseline` names another result of the same run (by its
    `name`); the writer sets `ratio` = figures[compare_on] / baseline figures[compare_on]."""

    name: str
    description: str
    mode: Mode
    figures: Figures
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    baseline: str | None = None
    compare_on: str | None = None  # None: DEFAULT_COMPARE_ON[mode]
    ratio: float | None = None
    scenario: str | None = None  # set by the runner
    error: str | None = None  # set when the scenario failed
    disturbed: bool = False  # set by the runner: something else used the cores meanwhile
    targets: list[Target] = field(default_factory=list)  # the issue's, as measured here

    @property
    def metric(self) -> str:
        return self.compare_on or DEFAULT_COMPARE_ON[self.mode]

    @classmethod
    def from_closed_loop(cls, name: str, description: str, stats: ClosedLoopStats,
                         **kwargs: Any) -> Result:
        lat = stats.latency
        figures = Figures(
            throughput_per_s=stats.throughput_per_s, count=stats.completed, errors=stats.errors,
            duration_s=stats.duration_s, p50_ms=lat.p50_ms, p90_ms=lat.p90_ms,
            p99_ms=lat.p99_ms, max_ms=lat.max_ms)
        result = cls(name=name, description=description, mode="closed-loop", figures=figures,
                     **kwargs)
        result.params.setdefault("concurrency", stats.concurrency)
        if stats.error_kinds:
            result.extra["error_kinds"] = stats.error_kinds
        return result

    @classmethod
    def from_open_loop(cls, name: str, description: str, stats: OpenLoopStats,
                       **kwargs: Any) -> Result:
        lat = stats.latency
        figures = Figures(
            throughput_per_s=stats.throughput_per_s, count=stats.completed, errors=stats.errors,
            duration_s=stats.duration_s, p50_ms=lat.p50_ms, p90_ms=lat.p90_ms,
            p99_ms=lat.p99_ms, max_ms=lat.max_ms, target_rate_per_s=stats.target_rate_per_s,
            achieved_rate_per_s=stats.achieved_rate_per_s, late_sends=stats.late_sends)
        result = cls(name=name, description=description, mode="open-loop", figures=figures,
                     **kwargs)
        result.params.setdefault("rate_per_s", stats.target_rate_per_s)
        result.extra.setdefault("max_send_lateness_ms", round(stats.max_lateness_ms, 3))
        result.extra.setdefault("late_threshold_ms", stats.late_threshold_ms)
        if stats.sent and stats.late_sends > 0.01 * stats.sent:
            result.notes.append(
                f"{stats.late_sends} of {stats.sent} sends fired more than "
                f"{stats.late_threshold_ms:g} ms late (worst {stats.max_lateness_ms:.0f} ms): "
                "the generator itself stalled, which shows in the latencies")
        if stats.error_kinds:
            result.extra["error_kinds"] = stats.error_kinds
        return result

    @classmethod
    def failed(cls, name: str, description: str, error: str) -> Result:
        return cls(name=name, description=description, mode="closed-loop",
                   figures=Figures(0.0, 0, 0, 0.0, None, None, None, None), error=error)


@dataclass
class BenchRun:
    """Everything one `python -m bench` run writes."""

    started_at: str
    quick: bool
    argv: list[str]
    machine: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    finished_at: str | None = None
    notes: list[str] = field(default_factory=list)


def utc_now() -> datetime:
    return datetime.now(UTC)


def compute_ratios(results: Sequence[Result]) -> None:
    """Set each result's `ratio` from its baseline result (same run, looked up by name)."""
    by_name = {r.name: r for r in results}
    for result in results:
        result.ratio = None
        base = by_name.get(result.baseline) if result.baseline else None
        if base is None or result.error or base.error:
            continue
        mine = getattr(result.figures, result.metric, None)
        theirs = getattr(base.figures, result.metric, None)
        if isinstance(mine, int | float) and isinstance(theirs, int | float) and theirs:
            result.ratio = mine / theirs


def run_to_dict(run: BenchRun) -> dict[str, Any]:
    compute_ratios(run.results)
    results = []
    for r in run.results:
        item = dataclasses.asdict(r)
        item["compare_on"] = r.metric
        results.append(item)
    return {"schema": 1, "started_at": run.started_at, "finished_at": run.finished_at,
            "quick": run.quick, "argv": run.argv, "machine": run.machine, "notes": run.notes,
            "results": results}


def _fmt(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


GENERATOR_CAVEAT = (
    "The load generator runs on the same machine as the systems under test (PostgreSQL, "
    "RabbitMQ, the uvicorn server process). With {cores} cores they compete for CPU, so the "
    "absolute figures are a floor for this machine, not a property of the code; compare a "
    "scenario with its baseline from the same run (the *ratio* column), not across machines. "
    "The `cpu` line of each result says who used the cores (100 % = one core).")


def render_markdown(run: BenchRun) -> str:
    compute_ratios(run.results)
    m = run.machine
    lines = [f"# Benchmark results — {run.started_at}", ""]
    lines.append("Run: `python -m bench " + " ".join(run.argv) + "`"
                 + (" (quick: short runs, figures are indicative only)" if run.quick else ""))
    lines += ["", "## Machine", "", "| fact | value |", "|---|---|"]
    for key in ("date", "cpu_model", "cores", "memory_gib", "kernel", "python", "event_loop",
                "postgresql", "rabbitmq", "git_commit"):
        if key in m:
            lines.append(f"| {key} | {m[key]} |")
    if m.get("postgresql_settings"):
        settings = ", ".join(f"{k}={v}" for k, v in m["postgresql_settings"].items())
        lines.append(f"| postgresql settings | {settings} |")
    if m.get("packages"):
        pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        lines.append(f"| packages | {pkgs} |")
    lines += ["", "> " + GENERATOR_CAVEAT.format(cores=m.get("cores", "?")), ""]
    lines += _targets_table(run)
    lines += ["## Results", "",
              "| scenario | mode | throughput/s | p50 ms | p90 ms | p99 ms | max ms | count "
              "| errors | duration s | baseline | ratio |",
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"]
    for r in run.results:
        f = r.figures
        if r.error:
            lines.append(f"| {r.name} | FAILED | | | | | | | | | {r.baseline or ''} | |")
            continue
        mode: str = r.mode
        if r.mode == "open-loop" and f.target_rate_per_s is not None:
            mode = f"open-loop @ {f.target_rate_per_s:g}/s"
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f} ({r.metric})"
        name = f"⚠ {r.name}" if r.disturbed else r.name
        lines.append(
            f"| {name} | {mode} | {_fmt(f.throughput_per_s, 1)} | {_fmt(f.p50_ms)} "
            f"| {_fmt(f.p90_ms)} | {_fmt(f.p99_ms)} | {_fmt(f.max_ms)} | {_fmt(f.count)} "
            f"| {_fmt(f.errors)} | {_fmt(f.duration_s, 1)} | {r.baseline or '–'} | {ratio} |")
    lines += ["", "How to read: *throughput/s* counts successful operations per second of the "
              "measured window (warm-up excluded). Closed-loop rows are peak throughput at the "
              "given concurrency, their latencies include queueing behind the other workers. "
              "Open-loop rows send at a fixed rate and measure latency from each send's "
              "*scheduled* time (no coordinated omission). *ratio* = this row's figure / the "
              "baseline row's figure for the metric in brackets: for throughput higher is "
              "better (1.00 = as fast as the bare limit), for p99 lower is better. ⚠ = something "
              "else used the cores during the scenario (see its notes): discard the figures.",
              ""]
    lines += ["## Details", ""]
    for r in run.results:
        lines.append(f"### {r.name}")
        lines.append("")
        lines.append(r.description)
        lines.append("")
        if r.error:
            lines += ["**FAILED:**", "", "```", r.error.rstrip(), "```", ""]
            continue
        f = r.figures
        if r.mode == "open-loop":
            lines.append(f"- sends: target {_fmt(f.target_rate_per_s, 1)}/s, achieved "
                         f"{_fmt(f.achieved_rate_per_s, 1)}/s, late sends {_fmt(f.late_sends)}")
        if r.params:
            lines.append("- params: " + ", ".join(f"{k}={v}" for k, v in r.params.items()))
        for key, value in r.extra.items():
            lines.append(f"- {key}: {_render_value(value)}")
        lines += [f"- note: {n}" for n in r.notes]
        lines.append("")
    if run.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in run.notes] + [""]
    return "\n".join(lines)


def _targets_table(run: BenchRun) -> list[str]:
    """Each target of the run's scenarios: the median, the spread, met or not."""
    rows = [(r, t) for r in run.results if not r.error for t in r.targets]
    if not rows:
        return []
    lines = ["## Targets", "", "| scenario | target | median | spread | met |",
             "|---|---|--:|---|---|"]
    for result, target in rows:
        spread = "–" if target.spread is None else \
            f"{_fmt(target.spread[0])}–{_fmt(target.spread[1])}"
        verdict = "yes" if target.met else "**no**"
        name = f"⚠ {result.name}" if result.disturbed else result.name
        lines.append(f"| {name} | {target.what} {'≤' if target.at_most else '≥'} "
                     f"{target.limit:g} | {_fmt(target.median)} | {spread} | {verdict} |")
    return [*lines, ""]


def _render_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_render_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_results(run: BenchRun, out_dir: Path = RESULTS_DIR) -> list[Path]:
    """Write latest.json, latest.md and a timestamped copy <UTC timestamp>.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    as_json = json.dumps(run_to_dict(run), indent=2, ensure_ascii=False, default=str) + "\n"
    stamp = datetime.fromisoformat(run.started_at).strftime("%Y%m%dT%H%M%SZ")
    paths = [out_dir / "latest.json", out_dir / "latest.md", out_dir / f"{stamp}.json"]
    _atomic_write(paths[0], as_json)
    _atomic_write(paths[1], render_markdown(run))
    _atomic_write(paths[2], as_json)
    return paths


# --------------------------------------------------------------------------- machine facts


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _cpu_model() -> str:
    for line in (_read_text("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    for line in (_read_text("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def event_loop_name() -> str:
    loop = asyncio.get_running_loop()
    return f"{type(loop).__module__}.{type(loop).__name__}"


def plain_postgres_dsn(url: str) -> str:
    """asyncpg wants postgresql://…; accept SQLAlchemy's postgresql+asyncpg://… too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def postgres_facts(dsn: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(plain_postgres_dsn(dsn))
    try:
        version = await conn.fetchval("SELECT version()")
        settings = {
            row["name"]: row["setting"] + (row["unit"] or "")
            for row in await conn.fetch(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])",
                ["fsync", "synchronous_commit", "shared_buffers", "max_connections",
                 "wal_level", "full_page_writes"])
        }
    finally:
        await conn.close()
    return {"postgresql": version, "postgresql_settings": settings}


async def rabbitmq_facts(url: str) -> dict[str, Any]:
    import aiormq

    conn = await aiormq.connect(url)
    try:
        props = conn.server_properties

        def text(key: str) -> str:
            value = props.get(key, "?")
            return value.decode() if isinstance(value, bytes) else str(value)

        return {"rabbitmq": f"{text('product')} {text('version')} "
                            f"(Erlang {text('platform').removeprefix('Erlang/OTP ')})"}
    finally:
        await conn.close()


async def machine_facts(postgres_dsn: str | None = None,
                        amqp_url: str | None = None) -> dict[str, Any]:
    """Cores, memory, CPU model, kernel, Python, key package versions, server versions, date.
    A server that does not answer is recorded as such instead of failing the run."""
    facts: dict[str, Any] = {
        "date": utc_now().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "event_loop": event_loop_name(),
        "packages": package_versions(),
        "git_commit": _git_commit(),
        "load_average": (_read_text("/proc/loadavg") or "").split(" ")[:3],
    }
    if postgres_dsn:
        try:
            facts.update(await postgres_facts(postgres_dsn))
        except Exception as exc:  # recorded; the scenarios will fail loudly
            facts["postgresql"] = f"unreachable ({_error_kind(exc)})"
    if amqp_url:
        try:
            facts.update(await rabbitmq_facts(amqp_url))
        except Exception as exc:
            facts["rabbitmq"] = f"unreachable ({_error_kind(exc)})"
    return facts


# --------------------------------------------------------------------------- CPU accounting

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children_cpu_s() -> float:
    """User + system CPU seconds of this process's children that have ended and been waited for
    (a `pgbench` run, say): the difference across a run is what the children used."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), None when unavailable."""
    raw = _read_text(f"/proc/{pid}/stat")
    if raw is None:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


def _machine_ticks() -> tuple[int, int, int, int] | None:
    """(total, idle incl. iowait, steal, interrupts) ticks of all cores since boot.

    Interrupt time (irq + softirq) is the kernel moving packets, loopback ones included: the
    benchmarks' own HTTP, PostgreSQL and AMQP traffic, which no process is charged for.
    """
    raw = _read_text("/proc/stat")
    if not raw:
        return None
    values = [int(v) for v in raw.splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    interrupts = sum(values[5:7])
    steal = values[7] if len(values) > 7 else 0
    return sum(values[:8]), idle, steal, interrupts  # guest time is already inside user time


#: process names (/proc/<pid>/comm) of the shared services, reported as their own CPU groups
SERVICE_PROCESSES: dict[str, tuple[str, ...]] = {
    "postgres": ("postgres",),
    "rabbitmq": ("beam.smp", "erl_child_setup", "epmd", "inet_gethost"),
}


def _service_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by each SERVICE_PROCESSES group: its live processes, and the
    children they have reaped (a PostgreSQL backend that ended with its connection, as
    pgbench's does, is charged to the postmaster then)."""
    totals = dict.fromkeys(SERVICE_PROCESSES, 0.0)
    for entry in Path("/proc").glob("[0-9]*"):
        raw = _read_text(str(entry / "stat"))
        if raw is None or "(" not in raw:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        for group, names in SERVICE_PROCESSES.items():
            if comm.startswith(names):
                fields = raw.rsplit(")", 1)[1].split()
                # utime, stime, and cutime, cstime: the reaped children's
                totals[group] += sum(int(f) for f in fields[11:15]) / _CLK_TCK
    return totals


class CpuMeter:
    """CPU used between `start()` and `stop()`, in % of one core (100 = one core busy):

    - `<name>_pct_of_core` for each named process (e.g. generator, server);
    - `postgres_pct_of_core`, `rabbitmq_pct_of_core`: all their processes;
    - `interrupts_pct_of_core`: the kernel's interrupt time (irq + softirq), mostly moving the
      benchmark's own loopback traffic, charged to no process;
    - `other_pct_of_core`: everything else on the machine (short-lived processes included) —
      well above a few % means something outside the benchmark shared the cores;
    - `machine_busy_pct`: all cores together, in % of the machine;
    - `steal_pct` (when non-zero): time the hypervisor gave the virtual CPUs to others."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._t0 = 0.0
        self._cpu0: dict[str, float | None] = {}
        self._services0: dict[str, float] = {}
        self._machine0: tuple[int, int, int, int] | None = None

    def start(self) -> CpuMeter:
        self._cpu0 = {name: process_cpu_s(pid) for name, pid in self.pids.items()}
        self._services0 = _service_cpu_s()
        self._machine0 = _machine_ticks()
        self._t0 = time.perf_counter()
        return self

    def stop(self, *, exited: Mapping[str, float] | None = None) -> dict[str, float]:
        """`exited`: CPU seconds of named processes of the benchmark that ended during the
        measurement (see `children_cpu_s`), charged to them rather than to `other`."""
        wall = time.perf_counter() - self._t0
        machine1 = _machine_ticks()
        services1 = _service_cpu_s()
        out: dict[str, float] = {}
        if wall <= 0:
            return out
        accounted = 0.0
        for name, used in (exited or {}).items():
            out[f"{name}_pct_of_core"] = round(100 * used / wall, 1)
            accounted += used
        for name, pid in self.pids.items():
            before, after = self._cpu0.get(name), process_cpu_s(pid)
            if before is not None and after is not None:
                out[f"{name}_pct_of_core"] = round(100 * (after - before) / wall, 1)
                accounted += after - before
        for group, after_s in services1.items():
            # a process that exited meanwhile takes its CPU time along: never below zero
            used = max(after_s - self._services0.get(group, 0.0), 0.0)
            out[f"{group}_pct_of_core"] = round(100 * used / wall, 1)
            accounted += used
        if self._machine0 and machine1:
            total, idle, steal, interrupts = (
                b - a for a, b in zip(self._machine0, machine1, strict=True)
            )
            if total > 0:
                busy_s = (total - idle - steal) / _CLK_TCK
                interrupts_s = interrupts / _CLK_TCK
                out["interrupts_pct_of_core"] = round(100 * interrupts_s / wall, 1)
                out["other_pct_of_core"] = round(
                    max(100 * (busy_s - interrupts_s - accounted) / wall, 0.0), 1
                )
                out["machine_busy_pct"] = round(100 * (total - idle) / total, 1)
                if steal:
                    out["steal_pct"] = round(100 * steal / total, 1)
        return out


async def machine_busy_pct(sample_s: float = 1.0) -> float | None:
    """The whole machine's busy % over the next `sample_s` (all cores; Linux /proc/stat)."""
    before = _machine_ticks()
    await asyncio.sleep(sample_s)
    after = _machine_ticks()
    if before is None or after is None or after[0] <= before[0]:
        return None
    total, idle = after[0] - before[0], after[1] - before[1]
    return round(100 * (total - idle) / total, 1)


async def settle(threshold_pct: float = 20.0, limit_s: float = 15.0) -> float | None:
    """Wait (1 s samples, at most `limit_s`) until the machine is below `threshold_pct` busy:
    the previous scenario's aftermath (RabbitMQ deleting a queue, PostgreSQL writing back)
    must not count against the next one. Returns the last sample."""
    deadline = time.monotonic() + limit_s
    busy = await machine_busy_pct(1.0)
    while busy is not None and busy > threshold_pct and time.monotonic() < deadline:
        busy = await machine_busy_pct(1.0)
    return busy


def cpu_probe_ms(rounds: int = 3) -> float:
    """How long a fixed piece of pure-Python work takes now (the best of `rounds`): a shared VM's
    cores change speed under us (twice as slow for minutes at a time was seen here), and the
    runner compares each scenario's probe with its baseline's."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return round(1000 * best, 1)


#: How much the cores' speed (`cpu_probe_ms`) may vary, as a factor, over a scenario and its
#: baseline together until the ratio between them is flagged as skewed.
PROBE_DRIFT_LIMIT = 1.2


def _probes(result: Result | None) -> list[float]:
    probes = result.extra.get("cpu_probe_ms") if result is not None else None
    if not isinstance(probes, Mapping):
        return []
    return [v for v in probes.values() if isinstance(v, int | float)]


def speed_drift(result: Result, results: Mapping[str, Result]) -> list[str]:
    """A note when the cores did not keep one speed (`cpu_probe_ms`, timed before and after each
    scenario) over `result` and its baseline: the ratio between them measures the machine too."""
    mine = _probes(result)
    theirs = _probes(results.get(result.baseline) if result.baseline else None)
    if not mine or not theirs:
        return []
    slowest, fastest = max(mine + theirs), min(mine + theirs)
    if slowest <= PROBE_DRIFT_LIMIT * fastest:
        return []
    return [f"the cores changed speed between {result.baseline} and this scenario: the same "
            f"fixed work took {fastest:.0f} to {slowest:.0f} ms (cpu_probe_ms of both), so the "
            "ratio measures the machine as well as the code"]


def other_bench_runs() -> list[str]:
    """Command lines of other `python -m bench` processes (they would share the cores)."""
    mine = {os.getpid(), os.getppid()}
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        if int(entry.name) in mine:
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"python" in args[0] and any(
                a == b"-m" and b == b"bench" for a, b in zip(args, args[1:], strict=False)):
            found.append(f"{entry.name}: " + " ".join(a.decode(errors="replace") for a in args))
    return found


# --------------------------------------------------------------------------- HTTP helpers


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _module_available(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class ServerProcess:
    """A running uvicorn server: where it listens and its pid (for `CpuMeter`)."""

    base_url: str
    host: str
    port: int
    pid: int
    log_path: Path
    command: tuple[str, ...]

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join((_read_text(str(self.log_path)) or "").splitlines()[-lines:])


def _open_log() -> tuple[Path, Any]:
    handle = tempfile.NamedTemporaryFile(  # closed by uvicorn_server
        prefix="bench-uvicorn-", suffix=".log", delete=False)
    return Path(handle.name), handle


async def stop_process(process: asyncio.subprocess.Process, grace_s: float = 10.0) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL if it is still running after `grace_s`."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        process.kill()
        await process.wait()


async def http_ready(host: str, port: int, path: str) -> bool:
    """Whether GET `path` answers 200 now (any failure to connect or read is a no)."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        await writer.drain()
        status_line = await reader.readline()
        return status_line.split(b" ")[1:2] == [b"200"]
    except (OSError, IndexError, asyncio.IncompleteReadError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def uvicorn_server(app: str, *, env: Mapping[str, str] | None = None,
                         host: str = "127.0.0.1", ready_path: str = "/healthz",
                         startup_limit_s: float = 30.0,
                         extra_args: Sequence[str] = ()) -> AsyncIterator[ServerProcess]:
    """Run `uvicorn <app>` ("module:attribute", importable from the repository root) in a
    separate process on a free localhost port: 1 worker, no access log, uvloop and httptools
    when installed. Ready when GET `ready_path` answers 200. Terminated (SIGTERM, then
    SIGKILL) on exit; its output goes to a temporary log file whose tail is shown on failure."""
    port = free_port(host)
    command = [sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port),
               "--workers", "1", "--no-access-log", "--log-level", "warning"]
    if _module_available("uvloop"):
        command += ["--loop", "uvloop"]
    if _module_available("httptools"):
        command += ["--http", "httptools"]
    command += list(extra_args)
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), child_env.get("PYTHONPATH", "")) if p)
    log_path, log_handle = _open_log()
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=REPO_ROOT, env=child_env, stdin=subprocess.DEVNULL,
        stdout=log_handle, stderr=subprocess.STDOUT)
    server = ServerProcess(base_url=f"http://{host}:{port}", host=host, port=port,
                           pid=proc.pid, log_path=log_path, command=tuple(command))
    try:
        deadline = time.monotonic() + startup_limit_s
        while not await http_ready(host, port, ready_path):
            if proc.returncode is not None:
                raise RuntimeError(f"uvicorn {app} exited with {proc.returncode}:\n"
                                   f"{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn {app} not ready after {startup_limit_s} s:\n"
                                   f"{server.log_tail()}")
            await asyncio.sleep(0.1)
        yield server
    finally:
        await stop_process(proc)
        log_handle.close()
        with contextlib.suppress(OSError):
            log_path.unlink()


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


class HttpClient(Protocol):
    """What the scenarios use to drive an HTTP system under test."""

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> HttpResponse: ...

    async def aclose(self) -> None: ...


class HttpError(Exception):
    """A protocol-level failure of `RawHttpClient`."""


class _Conn:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def reusable(self, now: float, max_idle_s: float) -> bool:
        return (now - self.idle_since < max_idle_s and not self.reader.at_eof()
                and not self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class RawHttpClient:
    """A deliberately small HTTP/1.1 client over asyncio streams: keep-alive connections (at
    most `max_connections`, one request at a time each), Content-Length and chunked bodies.
    Several times cheaper in CPU per request than httpx, which matters when the load generator
    shares the cores with the server (see bench/README.md).

    A connection idle for `max_idle_s` or longer is not reused: uvicorn closes keep-alive
    connections after 5 s idle, and a request racing that close would fail spuriously."""

    def __init__(self, base_url: str, max_connections: int = 64,
                 max_idle_s: float = 4.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"RawHttpClient speaks plain http only, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._host_header = f"{self.host}:{self.port}"
        self.max_idle_s = max_idle_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._all: set[_Conn] = set()

    async def _connect(self) -> _Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(reader, writer)
        self._all.add(conn)
        return conn

    async def _acquire(self) -> _Conn:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable(now, self.max_idle_s):
                return conn
            self._discard(conn)
        return await self._connect()

    def _discard(self, conn: _Conn) -> None:
        self._all.discard(conn)
        conn.close()

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> HttpResponse:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}",
                f"Content-Length: {len(body)}"]
        if headers:
            head += [f"{k}: {v}" for k, v in headers.items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        async with self._slots:
            conn = await self._acquire()
            try:
                conn.writer.write(data)
                await conn.writer.drain()
                response, keep_alive = await self._read_response(conn.reader)
            except BaseException:
                self._discard(conn)
                raise
            if keep_alive:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                self._discard(conn)
            return response

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[HttpResponse, bool]:
        raw_head = await reader.readuntil(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        length: int | None = None
        chunked = False
        keep_alive = parts[0] == "HTTP/1.1"
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection":
                keep_alive = value.lower() == "keep-alive" or (
                    keep_alive and value.lower() != "close")
        if chunked:
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            return HttpResponse(status, b"".join(chunks)), keep_alive
        if length is None:
            if status in (204, 304) or 100 <= status < 200:
                return HttpResponse(status, b""), keep_alive
            return HttpResponse(status, await reader.read()), False
        return HttpResponse(status, await reader.readexactly(length)), keep_alive

    async def aclose(self) -> None:
        conns = list(self._all)
        self._all.clear()
        self._idle.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                await conn.writer.wait_closed()


class HttpxClient:
    """The same interface over httpx.AsyncClient (pool of `max_connections` keep-alive
    connections). Convenient and complete, but its CPU cost per request is high: measured
    against RawHttpClient in bench/README.md."""

    def __init__(self, base_url: str, max_connections: int = 64) -> None:
        import httpx

        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> HttpResponse:
        response = await self._client.request(method, path, content=body,
                                              headers=dict(headers or {}))
        return HttpResponse(response.status_code, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


HTTP_CLIENTS: dict[str, Callable[[str, int], HttpClient]] = {
    "raw": RawHttpClient,
    "httpx": HttpxClient,
}


def make_http_client(kind: str, base_url: str, max_connections: int) -> HttpClient:
    """`kind` is "raw" (RawHttpClient) or "httpx" (HttpxClient)."""
    try:
        factory = HTTP_CLIENTS[kind]
    except KeyError:
        raise ValueError(f"unknown HTTP client {kind!r}; one of {sorted(HTTP_CLIENTS)}") from None
    return factory(base_url, max_connections)


# --------------------------------------------------------------------------- scenario context


@dataclass
class BenchContext:
    """What a scenario gets: the run's settings, the results so far, a progress printer."""

    quick: bool
    postgres_dsn: str = DEFAULT_POSTGRES_URL
    amqp_url: str = DEFAULT_AMQP_URL
    http_client: str = "raw"
    results: dict[str, Result] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def pick(self, full: T, quick: T) -> T:
        """`full` for a full run, `quick` with --quick."""
        return quick if self.quick else full
