"""Benchmark harness: `python -m bench [--quick] [--only NAME ...]`.

Shared pieces (machine facts, load generators, latency statistics, the result model and the
writers) live in `bench.harness`; the scenarios register themselves in `bench.scenarios`.
See bench/README.md.
"""
