"""The end-to-end harness itself: six services on PostgreSQL and RabbitMQ behind the gateway."""

from __future__ import annotations

from datetime import timedelta

from shared.events.vocabulary import Role
from tests.platform import running_platform


async def test_every_service_is_ready_and_the_operator_moves_all_their_clocks(
    postgres_url: str, amqp_url: str
) -> None:
    async with running_platform(postgres_url, amqp_url) as platform:
        ready = await platform.client.get("/readyz")
        assert ready.json()["upstreams"] == dict.fromkeys(platform.apps, "ok")
        for name in platform.apps:
            assert platform.runtime(name).bus.is_connected(), name

        before = platform.clock.now()
        moved = await platform.client.post(
            "/api/v1/ops/clock/advance", json={"seconds": 86_400},
            headers=platform.auth(Role.operator),
        )
        assert moved.status_code == 200, moved.json()
        assert moved.json()["services"] == dict.fromkeys(platform.apps, "ok")
        assert platform.clock.now() - before >= timedelta(days=1)
