"""The simulated clock as an integrating developer drives it, outside production.

The demo operator signs in like any demo official and moves every service's time forward by
days. Tokens and sessions live in real time, never in the simulated business time: the
operator's token outlives its own jump, and an official signed in before it stays signed in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.routing.directory.demo import DEMO_PASSWORD
from tests.platform import running_platform

ADVANCE = "/api/v1/ops/clock/advance"


async def sign_in(client: Any, username: str) -> dict[str, Any]:
    response = await client.post("/api/v1/staff/auth/token", json={
        "username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_the_demo_operator_moves_time_by_days_and_every_sign_in_survives_the_jumps(
    postgres_url: str, amqp_url: str
) -> None:
    async with running_platform(postgres_url, amqp_url) as platform:
        client = platform.client
        operator = await sign_in(client, "operator")
        assert operator["role"] == "operator"
        officer = await sign_in(client, "mlo.pm")
        before = platform.clock.now()

        for _ in range(2):
            moved = await client.post(ADVANCE, json={"seconds": 2 * 86_400},
                                      headers=bearer(operator))
            assert moved.status_code == 200, moved.text
            assert set(moved.json()["services"].values()) == {"ok"}
        assert platform.clock.now() - before >= timedelta(days=4)

        # Signed in before the jumps, the officer still works and still renews the session.
        assert (await client.get("/api/v1/inbox", headers=bearer(officer))).status_code == 200
        renewed = await client.post("/api/v1/staff/auth/refresh",
                                    json={"refresh_token": officer["refresh_token"]})
        assert renewed.status_code == 200, renewed.text

        # The operator drives the clock and nothing else.
        assert (await client.get("/api/v1/inbox", headers=bearer(operator))).status_code == 403
