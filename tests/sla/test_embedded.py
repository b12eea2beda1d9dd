"""SLA in the embedded mode (`make run`): SQLite and the in-process bus, the same behaviour."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.sla.main import DEFINITION
from shared.bus import Delivery, InMemoryBus, OutgoingMessage
from shared.clock import SimulatedClock
from shared.events.catalog import EventType, SlaEscalated
from shared.events.envelope import Envelope, decode_envelope, parse_payload
from shared.events.vocabulary import Role
from shared.runtime import migrate_to_head
from shared.service import create_service_app
from tests.platform import eventually
from tests.sla.conftest import START, World, token_issuer
from tests.sla.facts import ENTITY, Event, Story, amman, role_changed


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[World]:
    clock = SimulatedClock()
    clock.set(START)
    settings = DEFINITION.load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/sla.db",
                                        scheduler_poll_interval_s=0.2,
                                        outbox_poll_interval_s=0.05)
    await migrate_to_head(DEFINITION, settings)
    bus = InMemoryBus(namespace="embedded")
    await bus.start()
    said: list[Envelope] = []

    async def listen(delivery: Delivery) -> None:
        said.append(decode_envelope(delivery.body))
        await delivery.ack()

    await bus.subscribe("embedded.test.sla-said", ["sla.#"], listen, prefetch=100)
    app = create_service_app(DEFINITION, settings, bus=bus, clock=clock)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://sla") as client:
                yield World(client=client, clock=clock, bus=bus, app=app, issuer=token_issuer(),
                            said=said)
    finally:
        await bus.close()


async def publish(world: World, *events: Event) -> None:
    await world.bus.publish([OutgoingMessage.from_envelope(e.envelope) for e in events])


async def test_deadlines_escalations_and_holidays_work_on_sqlite_with_the_in_process_bus(
    embedded: World,
) -> None:
    world = embedded
    head = uuid.uuid4()
    story = Story()
    await publish(world, role_changed(head, Role.entity_head, amman(2027, 9, 1), entity=ENTITY),
                  story.submitted(amman(2027, 9, 5, 9)), story.assigned(amman(2027, 9, 5, 9)))
    await world.until_timers(story.reference, "entity:1:first_response:escalation_2")

    declared = await world.client.post(
        "/api/v1/holidays", json={"day": "2027-09-06", "name_ar": "عطلة", "name_en": "Day off"},
        headers={"Idempotency-Key": str(uuid.uuid4()), **world.auth(Role.cmu_admin)})
    assert declared.status_code == 201, declared.text

    async def moved() -> None:
        found = await world.timers(story.reference)
        assert found["entity:1:first_response:escalation_1"].due_at == amman(2027, 9, 7, 9)

    await eventually(moved)
    world.clock.set(amman(2027, 9, 7, 9))

    async def escalated() -> SlaEscalated:
        found = [parse_payload(e) for e in world.said if e.type == EventType.sla_escalated]
        assert len(found) == 1, found
        payload = found[0]
        assert isinstance(payload, SlaEscalated)
        return payload

    first = await eventually(escalated)
    assert (first.level, first.recipient_ids) == (1, [head])
    kinds = {e.type for e in world.said}
    assert {EventType.sla_rules_changed, EventType.sla_deadline_set} <= kinds
