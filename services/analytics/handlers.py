"""Event handlers: every consumed event goes to the event log and through the projector.

One handler of runs serves every type (`CONSUMED`): the consumer hands it runs of events, it
strips them to facts, logs them, loads the requests they are about in one query, applies them in
memory and writes the result with one upsert per table, all in the consumer's transaction (the
inbox row of each event commits with its effect).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics import repository
from services.analytics.projection import CONSUMED, Fact, Projector
from shared.bus import Handlers, ReceivedEvent


async def apply_events(session: AsyncSession, events: Sequence[ReceivedEvent]) -> None:
    await apply_facts(session, [Fact.of(event) for event in events], log=True)


async def apply_facts(session: AsyncSession, facts: Sequence[Fact], *, log: bool) -> None:
    """Apply facts in order; `log` False when they come from the log itself (a rebuild)."""
    if log:
        await repository.log_facts(session, facts)
    rows = await repository.load_requests(session, (f.reference for f in facts if f.reference))
    projector = Projector(rows, parents=await repository.department_parents(session),
                          rules=await repository.working_rules(session))
    await repository.flush(session, projector.apply(facts))


PROJECTIONS = Handlers()
for consumed in CONSUMED:
    PROJECTIONS.on_runs(consumed)(apply_events)
