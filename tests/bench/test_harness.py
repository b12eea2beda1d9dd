"""The benchmark harness's own logic, without PostgreSQL or RabbitMQ: percentiles, the load
generators' counting and scheduling, the ratio written next to each result, the run plan.

No timing assertions beyond lower bounds that hold by construction."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from bench.harness import (
    BenchRun,
    Figures,
    LatencySummary,
    Result,
    Target,
    closed_loop,
    open_loop,
    percentile,
    render_markdown,
    speed_drift,
    write_results,
)
from bench.scenarios import REGISTRY, Scenario, assign_baselines, plan


async def _sleep_at_least(seconds: float) -> None:
    """Sleep, then make sure `seconds` really passed on the perf_counter clock (an event loop
    may wake a timer up to its clock resolution early)."""
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    _block(seconds - (time.perf_counter() - start))


def _block(seconds: float) -> None:
    """Hold the event loop (a stand-in for a generator short of CPU)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


# --------------------------------------------------------------------------- percentiles


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([7.0], 99) == 7
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2
    assert percentile([1.0, 2.0, 3.0, 4.0], 51) == 3


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], q)


def test_percentile_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)


def test_latency_summary_in_ms() -> None:
    summary = LatencySummary.of([0.003, 0.001, 0.002, 0.010])
    assert summary == LatencySummary(p50_ms=2.0, p90_ms=10.0, p99_ms=10.0, max_ms=10.0)
    assert LatencySummary.of([]) == LatencySummary(None, None, None, None)


# --------------------------------------------------------------------------- open loop


async def test_open_loop_counts_orders_and_measures_from_scheduled_time() -> None:
    rate, duration, warmup, op_s = 200.0, 0.25, 0.05, 0.02
    calls: list[int] = []

    async def op() -> None:
        calls.append(len(calls))
        if len(calls) % 5 == 0:
            raise ValueError("every fifth call fails")
        await _sleep_at_least(op_s)

    stats = await open_loop(op, rate, duration, warmup)

    n_warmup, n_measured = 10, 50
    assert len(calls) == n_warmup + n_measured  # warm-up sends are made, not measured
    assert stats.sent == n_measured
    assert [s.index for s in stats.samples] == list(range(n_warmup, n_warmup + n_measured))
    scheduled = [s.scheduled_s for s in stats.samples]
    assert scheduled == sorted(scheduled)
    assert len(set(scheduled)) == n_measured
    failing = [i for i in range(n_warmup, n_warmup + n_measured) if (i + 1) % 5 == 0]
    assert stats.errors == len(failing) == n_measured - stats.completed
    assert [s.index for s in stats.samples if not s.ok] == failing
    assert stats.error_kinds == {"ValueError: every fifth call fails": len(failing)}
    assert stats.unfinished == 0
    for sample in stats.samples:
        assert sample.fired_s >= sample.scheduled_s
        if sample.ok:
            assert sample.latency_s >= op_s
            assert sample.latency_s >= (sample.fired_s - sample.scheduled_s) + op_s
    assert len(stats.latencies_s) == stats.completed
    assert stats.latency.p50_ms is not None
    assert stats.latency.p50_ms >= op_s * 1000


async def test_open_loop_charges_generator_lag_to_latency() -> None:
    """A stalled generator fires late; the late sends' latency still counts from their
    scheduled time (no coordinated omission) and they are reported as late."""
    rate, stall_s = 100.0, 0.06
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            _block(stall_s)  # holds the loop: sends 3.. fire late, in a burst
        await asyncio.sleep(0)

    stats = await open_loop(op, rate, duration_s=0.2, late_threshold_s=0.002)

    assert calls == stats.sent == 20
    assert stats.late_sends >= 1
    assert stats.max_lateness_ms >= 1000 * (stall_s - 2 / rate)
    late = [s for s in stats.samples if s.fired_s - s.scheduled_s >= stall_s - 2 / rate]
    assert late
    for sample in stats.samples:
        assert sample.latency_s >= sample.fired_s - sample.scheduled_s


async def test_open_loop_cancels_what_outlives_the_drain_limit() -> None:
    async def op() -> None:
        await asyncio.sleep(3600)

    stats = await open_loop(op, 100.0, duration_s=0.03, drain_limit_s=0.05)
    assert stats.sent == 3
    assert stats.unfinished == stats.errors == 3
    assert stats.completed == 0


# --------------------------------------------------------------------------- closed loop


async def test_closed_loop_counts_completions_and_errors() -> None:
    calls = 0

    async def op() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.001)
        if calls % 3 == 0:
            raise RuntimeError("boom")

    stats = await closed_loop(op, concurrency=4, duration_s=0.1, warmup_s=0.02)
    assert stats.completed > 0
    assert stats.errors > 0
    assert stats.completed + stats.errors <= calls
    assert len(stats.latencies_s) == stats.completed
    assert all(lat >= 0.001 for lat in stats.latencies_s)
    assert set(stats.error_kinds) == {"RuntimeError: boom"}
    assert stats.throughput_per_s == stats.completed / 0.1


# --------------------------------------------------------------------------- writers


def _figures(throughput: float, p99_ms: float) -> Figures:
    return Figures(throughput_per_s=throughput, count=100, errors=0, duration_s=1.0,
                   p50_ms=p99_ms / 2, p90_ms=p99_ms, p99_ms=p99_ms, max_ms=p99_ms)


def _run(results: list[Result]) -> BenchRun:
    return BenchRun(started_at="2030-01-02T03:04:05+00:00", quick=True, argv=["--quick"],
                    machine={"cores": 2, "cpu_model": "test"}, results=results)


def test_writer_computes_ratio_against_the_named_baseline(tmp_path: Path) -> None:
    results = [
        Result("bare_amqp", "bare", "closed-loop", _figures(1000.0, 40.0)),
        Result("outbox_pipeline", "outbox", "closed-loop", _figures(520.0, 90.0),
               baseline="bare_amqp"),
        Result("bare_insert.open_loop", "bare", "open-loop", _figures(300.0, 4.0)),
        Result("intake.open_loop", "intake", "open-loop", _figures(300.0, 10.0),
               baseline="bare_insert.open_loop"),
        Result("orphan", "no such baseline", "closed-loop", _figures(1.0, 1.0),
               baseline="missing"),
    ]
    paths = write_results(_run(results), tmp_path)

    assert sorted(p.name for p in paths) == ["20300102T030405Z.json", "latest.json",
                                             "latest.md"]
    data = json.loads((tmp_path / "latest.json").read_text())
    by_name = {r["name"]: r for r in data["results"]}
    assert by_name["outbox_pipeline"]["ratio"] == pytest.approx(0.52)
    assert by_name["outbox_pipeline"]["compare_on"] == "throughput_per_s"
    assert by_name["intake.open_loop"]["ratio"] == pytest.approx(2.5)
    assert by_name["intake.open_loop"]["compare_on"] == "p99_ms"
    assert by_name["bare_amqp"]["ratio"] is None
    assert by_name["orphan"]["ratio"] is None
    assert data["machine"] == {"cores": 2, "cpu_model": "test"}
    assert (tmp_path / "20300102T030405Z.json").read_text() == (
        tmp_path / "latest.json").read_text()
    markdown = (tmp_path / "latest.md").read_text()
    assert "| outbox_pipeline | closed-loop | 520.0 |" in markdown
    assert "0.52 (throughput_per_s)" in markdown
    assert not list(tmp_path.glob("*.tmp"))


def test_a_ratio_is_flagged_when_the_cores_changed_speed_since_its_baseline() -> None:
    def probes(before: float, after: float) -> dict[str, Any]:
        return {"cpu_probe_ms": {"before": before, "after": after}}

    base = Result("bare_insert", "bare", "closed-loop", _figures(2000.0, 5.0),
                  extra=probes(40.0, 42.0))
    steady = Result("intake", "intake", "closed-loop", _figures(500.0, 9.0),
                    baseline="bare_insert", extra=probes(44.0, 46.0))
    slowed = Result("reports", "reports", "closed-loop", _figures(250.0, 9.0),
                    baseline="bare_insert", extra=probes(41.0, 80.0))
    known = {r.name: r for r in (base, steady, slowed)}

    assert speed_drift(steady, known) == []
    [note] = speed_drift(slowed, known)
    assert "took 40 to 80 ms" in note
    assert speed_drift(base, known) == []  # no baseline of its own


def test_the_report_opens_with_each_target_its_median_spread_and_verdict() -> None:
    page = Result("web_office.queue", "pages", "open-loop", _figures(20.0, 14.0), targets=[
        Target("page p95 (ms)", 100.0, at_most=True, median=13.3, spread=(11.9, 13.7)),
        Target("page p95 ÷ API p95", 1.5, at_most=True, median=1.52, spread=(1.38, 1.65))])
    placements = Result("routing_assignment", "placements", "closed-loop",
                        _figures(1200.0, 1.0),
                        targets=[Target("placements per second", 1000.0, at_most=False,
                                        median=1200.0)])
    markdown = render_markdown(_run([page, placements]))
    assert markdown.index("## Targets") < markdown.index("## Results")
    assert "| web_office.queue | page p95 (ms) ≤ 100 | 13.30 | 11.90–13.70 | yes |" in markdown
    assert "| web_office.queue | page p95 ÷ API p95 ≤ 1.5 | 1.52 | 1.38–1.65 | **no** |" \
        in markdown
    assert "| routing_assignment | placements per second ≥ 1000 | 1,200.00 | – | yes |" \
        in markdown
    assert page.targets[1].sentence() == (
        "page p95 ÷ API p95: median 1.52 (spread 1.38–1.65): MISSES the target ≤ 1.5")


def test_markdown_shows_failed_scenarios() -> None:
    failed = Result.failed("broken", "a scenario that raised", "Traceback: boom")
    markdown = render_markdown(_run([failed]))
    assert "| broken | FAILED |" in markdown
    assert "Traceback: boom" in markdown


# --------------------------------------------------------------------------- registry


async def _noop(_: object) -> list[Result]:
    return []


def test_plan_runs_the_baseline_first_and_assigns_it(monkeypatch: pytest.MonkeyPatch) -> None:
    plan([])  # loads the real scenarios before the registry is patched
    item = Scenario("derived", _noop, "depends on bare_amqp", baseline="bare_amqp")
    monkeypatch.setitem(REGISTRY, "derived", item)

    assert [s.name for s in plan(["derived"])] == ["bare_amqp", "derived"]
    assert [s.name for s in plan(["derived"], with_baselines=False)] == ["derived"]
    assert [s.name for s in plan(["bare_amqp", "derived"])] == ["bare_amqp", "derived"]
    with pytest.raises(KeyError, match="unknown scenario"):
        plan(["nope"])

    earlier = {"bare_amqp": Result("bare_amqp", "", "closed-loop", _figures(1.0, 1.0),
                                   scenario="bare_amqp")}
    mine = [Result("derived", "", "closed-loop", _figures(1.0, 1.0)),
            Result("derived.open", "", "open-loop", _figures(1.0, 1.0))]
    assign_baselines(item, mine, earlier)
    assert [r.baseline for r in mine] == ["bare_amqp", None]
