"""A service's own resources: built from the runtime when it opens, reached typed, closed with
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared.bus import InMemoryBus, inbox_table, outbox_table
from shared.clock import SimulatedClock
from shared.db import service_metadata
from shared.runtime import Runtime, ServiceDefinition

metadata = service_metadata()
outbox_table(metadata)
inbox_table(metadata)


@dataclass
class Held:
    """What the test service holds: it notes what happened to it."""

    opened_with: str
    events: list[str] = field(default_factory=list)


def definition(tmp_path: Path, held: list[Held], *, fail: bool = False) -> ServiceDefinition:
    @asynccontextmanager
    async def open_held(runtime: Runtime) -> AsyncIterator[Held]:
        resource = Held(opened_with=runtime.definition.name)
        held.append(resource)
        if fail:
            raise RuntimeError("cannot open")
        try:
            yield resource
        finally:
            resource.events.append("closed")

    (tmp_path / "versions").mkdir(exist_ok=True)
    return ServiceDefinition(name="things", title="things", metadata=metadata,
                             migrations=tmp_path, resources=open_held)


async def open_runtime(tmp_path: Path, held: list[Held], *, fail: bool = False) -> Runtime:
    chosen = definition(tmp_path, held, fail=fail)
    settings = chosen.load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/things.db",
                                    run_workers=False)
    return await Runtime.open(chosen, settings, bus=InMemoryBus(), clock=SimulatedClock())


async def test_the_resources_open_with_the_runtime_and_close_before_it(tmp_path: Path) -> None:
    held: list[Held] = []
    runtime = await open_runtime(tmp_path, held)
    resource = runtime.resources_as(Held)
    assert resource is held[0]
    assert resource.opened_with == "things"
    assert resource.events == []
    await runtime.close()
    assert resource.events == ["closed"]


async def test_resources_of_another_type_are_refused_loudly(tmp_path: Path) -> None:
    runtime = await open_runtime(tmp_path, [])
    try:
        with pytest.raises(TypeError, match="things holds Held, not str"):
            runtime.resources_as(str)
    finally:
        await runtime.close()


async def test_resources_that_fail_to_open_leave_nothing_open(tmp_path: Path) -> None:
    held: list[Held] = []
    with pytest.raises(RuntimeError, match="cannot open"):
        await open_runtime(tmp_path, held, fail=True)
    assert len(held) == 1  # it was tried, and the runtime's own parts were closed again
