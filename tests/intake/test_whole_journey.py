"""A citizen's whole journey, twice: through the gateway on PostgreSQL and RabbitMQ (as in
production), and on SQLite with the in-process bus (as `make run` runs it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.intake.main import DEFINITION
from shared.auth import Role
from shared.bus import InMemoryBus, OutgoingMessage
from shared.bus.rabbitmq import delete_declared
from shared.clock import SimulatedClock
from shared.events.catalog import DirectoryEntityChanged, RequestResponded
from shared.events.envelope import new_envelope
from shared.runtime import migrate_to_head
from shared.service import create_service_app
from tests.intake.conftest import IntakeUnderTest, _issuer, feed, sunday_clock
from tests.intake.factories import PASSWORD, key, registration
from tests.intake.test_submissions import complaint
from tests.platform import TEST_RETRY_DELAYS_MS, eventually, running_platform


async def journey(client: httpx.AsyncClient, code_of: Any, *, answer: Any) -> dict[str, Any]:
    """Register, sign in, submit, get an answer, rate it; returns the final view."""
    started = await client.post("/api/v1/citizens/registrations", json=registration(),
                                headers=key())
    assert started.status_code == 202, started.json()
    registration_id = started.json()["registration_id"]
    verified = await client.post(f"/api/v1/citizens/registrations/{registration_id}/verify",
                                 json={"code": await code_of()}, headers=key())
    assert verified.status_code == 201, verified.json()
    tokens = (await client.post("/api/v1/auth/token", json={
        "id_number": "9861012345", "password": PASSWORD})).json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    submitted = await client.post("/api/v1/requests", json=complaint(entity="PM-GAM"),
                                  headers={**me, **key()})
    assert submitted.status_code == 201, submitted.json()
    reference = submitted.json()["reference"]
    await answer(reference)

    async def answered() -> dict[str, Any]:
        shown = (await client.get(f"/api/v1/requests/{reference}", headers=me)).json()
        assert shown["status"]["code"] == "responded", shown["status"]
        return dict(shown)

    await eventually(answered)
    rated = await client.post(f"/api/v1/requests/{reference}/rating", json={"score": 5},
                              headers={**me, **key()})
    assert rated.status_code == 201, rated.json()
    return dict((await client.get(f"/api/v1/requests/{reference}", headers=me)).json())


def _answer(reference: str) -> RequestResponded:
    return RequestResponded(reference=reference, actions_taken="أصلحنا الحفرة",
                            solution="تم إصلاح الشارع", actor_id=uuid.uuid4())


async def test_through_the_gateway_on_postgresql_and_rabbitmq(
    postgres_url: str, amqp_url: str, registry_url: str
) -> None:
    own_queue = namespace = ""
    try:
        async with running_platform(
            postgres_url, amqp_url, services=["intake"],
            overrides={"intake": {"civil_registry_url": registry_url}},
        ) as platform:
            runtime = platform.runtime("intake")
            await runtime.bus.publish([OutgoingMessage.from_envelope(new_envelope(
                DirectoryEntityChanged(entity="PM-GAM", sector="PM", name_ar="أمانة عمان الكبرى",
                                       name_en="Greater Amman Municipality", change="created"),
                producer="routing", clock=platform.clock))])
            # The relay publishes intake's events; a queue of the test's own catches the codes.
            codes: list[str] = []

            async def on_code(delivery: Any) -> None:
                codes.append(json.loads(delivery.body)["payload"]["code"])
                await delivery.ack()

            namespace = runtime.bus.namespace
            own_queue = f"{namespace}.test.codes"
            await runtime.bus.subscribe(own_queue, ["citizen.code_requested"], on_code, prefetch=10)

            async def code_of() -> str:
                async def arrived() -> str:
                    assert codes
                    return codes[-1]

                return await eventually(arrived)

            async def entity_known() -> None:
                probe = await platform.client.post(
                    "/api/v1/requests", json=complaint(entity="PM-GAM"),
                    headers={**platform.auth(Role.citizen), **key()})
                assert probe.status_code == 201, probe.json()

            await eventually(entity_known)

            async def answer(reference: str) -> None:
                await runtime.bus.publish([OutgoingMessage.from_envelope(new_envelope(
                    _answer(reference), producer="routing", clock=platform.clock,
                    correlation_id=reference))])

            final = await journey(platform.client, code_of, answer=answer)
    finally:
        # The test's own queue (with the dead and retry queues subscribing made), once the
        # platform and its consumer are gone: deleted under a live consumer, the robust channel
        # may declare it again.
        if own_queue:
            await delete_declared(amqp_url, namespace, [own_queue],
                                  retry_delays_ms=TEST_RETRY_DELAYS_MS)
    assert final["rating"] == 5
    assert final["solution"] == "تم إصلاح الشارع"


@pytest.fixture
async def on_sqlite(tmp_path: Path, registry_url: str) -> AsyncIterator[IntakeUnderTest]:
    clock = sunday_clock()
    bus = InMemoryBus()
    await bus.start()
    settings = DEFINITION.load_settings(
        environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/intake.db",
        civil_registry_url=registry_url, run_workers=False,
    )
    await migrate_to_head(DEFINITION, settings)
    wall_clock = SimulatedClock()
    app = create_service_app(DEFINITION, settings, bus=bus, clock=clock, wall_clock=wall_clock)
    try:
        async with app.router.lifespan_context(app):
            await app.state.runtime.start_consumers()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                yield IntakeUnderTest(app=app, client=client, clock=clock,
                                      wall_clock=wall_clock, issuer=_issuer(wall_clock))
    finally:
        await bus.close()


async def test_on_sqlite_with_the_in_process_bus(on_sqlite: IntakeUnderTest) -> None:
    intake = on_sqlite
    await feed(intake, DirectoryEntityChanged(entity="PM-GAM", sector="PM",
                                              name_ar="أمانة عمان الكبرى",
                                              name_en="Greater Amman Municipality",
                                              change="created"))

    async def code_of() -> str:
        return str((await intake.events("citizen.code_requested"))[-1]["code"])

    async def answer(reference: str) -> None:
        await intake.runtime.bus.publish([OutgoingMessage.from_envelope(new_envelope(
            _answer(reference), producer="routing", clock=intake.clock,
            correlation_id=reference))])

    final = await journey(intake.client, code_of, answer=answer)
    assert final["rating"] == 5
    assert final["timeline"][-1]["step"] == "request.rated"
    second = await intake.client.post("/api/v1/requests", json=complaint(
        entity="PM-GAM", subject="موضوع مختلف تماماً عن الأول"),
        headers={**intake.auth(Role.citizen), **key()})
    assert second.status_code == 201
    first_serial = int(final["reference"].split("-")[1])
    assert int(second.json()["reference"].split("-")[1]) == first_serial + 1


async def test_a_call_center_agent_of_routings_directory_submits_and_routing_places_it(
    postgres_url: str, amqp_url: str, registry_url: str
) -> None:
    from services.routing.directory.demo import demo_person_id
    from tests.intake.factories import AHMAD

    async with running_platform(
        postgres_url, amqp_url, services=["intake", "routing"],
        overrides={"intake": {"civil_registry_url": registry_url}},
    ) as platform:
        # Behind the gateway a staff token must name a person of routing's directory.
        agent = platform.auth(Role.call_center_agent, str(demo_person_id("call.center")))
        checked = await platform.client.post(
            "/api/v1/citizens/caller-checks", json={**AHMAD, "phone": "0795555555"},
            headers={**agent, **key()})
        assert checked.status_code == 201, checked.json()

        async def submitted() -> str:  # intake learns routing's seeded directory by events
            response = await platform.client.post(
                "/api/v1/requests",
                json=complaint(entity="PM-GAM", caller_check_id=checked.json()["check_id"]),
                headers={**agent, **key()})
            assert response.status_code == 201, response.json()
            return str(response.json()["reference"])

        reference = await eventually(submitted, timeout_s=30)

        async def placed() -> None:
            shown = await platform.client.post(
                f"/api/v1/requests/{reference}/caller-lookup",
                json={"id_number": AHMAD["id_number"]}, headers=agent)
            assert shown.status_code == 200, shown.json()
            assert shown.json()["status"]["code"] == "assigned", shown.json()["status"]

        await eventually(placed, timeout_s=30)
