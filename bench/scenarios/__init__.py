"""The scenario registry: name → async function returning results.

A scenario is a module in this package with a function decorated by `@scenario(...)`;
`load_all()` imports every module here, so adding a scenario is adding a file (no list to
edit). Example::

    from bench.harness import BenchContext, Result, closed_loop
    from bench.scenarios import scenario

    @scenario("outbox_pipeline", baseline="bare_amqp",
              description="events through the transactional outbox → RabbitMQ → inbox")
    async def outbox_pipeline(ctx: BenchContext) -> list[Result]:
        ...
        return [Result.from_closed_loop("outbox_pipeline", "...", stats)]

`baseline` names the scenario this one is compared with. The runner runs it first (also under
`--only`), so the ratio always compares figures measured in the same run, and fills in each
result's `baseline` (when the scenario left it None) with the baseline scenario's first result
of the same mode (closed-loop with closed-loop, open-loop with open-loop).
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bench.harness import BenchContext, Result

ScenarioFn = Callable[[BenchContext], Awaitable[list[Result]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fn: ScenarioFn
    description: str
    baseline: str | None = None


REGISTRY: dict[str, Scenario] = {}
#: modules of this package that failed to import (module name → traceback): one broken scenario
#: must not stop the others from running.
LOAD_ERRORS: dict[str, str] = {}


def scenario(name: str, *, description: str,
             baseline: str | None = None) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register `fn` under `name`; `baseline` is the name of the scenario it is compared with."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        existing = REGISTRY.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"scenario {name!r} registered twice")
        REGISTRY[name] = Scenario(name=name, fn=fn, description=description, baseline=baseline)
        return fn

    return register


def load_all() -> dict[str, Scenario]:
    """Import every module of this package (each registers its scenarios); a module that fails
    to import is recorded in LOAD_ERRORS instead."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{module.name}")
        except Exception:
            LOAD_ERRORS[module.name] = traceback.format_exc()
        else:
            LOAD_ERRORS.pop(module.name, None)
    return REGISTRY


def plan(names: Iterable[str] | None = None, *, with_baselines: bool = True) -> list[Scenario]:
    """The scenarios to run, in order: the requested ones (all, baselines first, when `names`
    is None), each preceded by its baseline chain unless `with_baselines` is False."""
    registry = load_all()
    if names is None:
        requested = sorted(registry, key=lambda n: (registry[n].baseline is not None, n))
    else:
        requested = list(names)
    unknown = [n for n in requested if n not in registry]
    if unknown:
        broken = [n for n in unknown if n in LOAD_ERRORS]
        detail = "".join(f"\n--- {n} failed to import:\n{LOAD_ERRORS[n]}" for n in broken)
        raise KeyError(f"unknown scenario(s) {', '.join(unknown)}; "
                       f"known: {', '.join(sorted(registry))}{detail}")
    ordered: list[Scenario] = []
    seen: set[str] = set()

    def add(name: str, chain: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in chain:
            raise ValueError(f"baseline cycle: {' → '.join((*chain, name))}")
        item = registry.get(name)
        if item is None:
            raise KeyError(f"scenario {chain[-1]!r} names unknown baseline {name!r}")
        if with_baselines and item.baseline:
            add(item.baseline, (*chain, name))
        seen.add(name)
        ordered.append(item)

    for name in requested:
        add(name, ())
    return ordered


def assign_baselines(item: Scenario, results: list[Result],
                     earlier: dict[str, Result]) -> None:
    """Give each result of `item` without a `baseline` the first earlier result of the
    baseline scenario with the same mode."""
    if not item.baseline:
        return
    for result in results:
        if result.baseline is not None:
            continue
        for candidate in earlier.values():
            if candidate.scenario == item.baseline and candidate.mode == result.mode \
                    and not candidate.error:
                result.baseline = candidate.name
                break
