"""What both token issuers (intake for citizens, routing for staff) must do with refresh tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from shared.clock import SimulatedClock


async def two_refreshes_at_once_keep_the_session(
    client: httpx.AsyncClient, path: str, refresh_token: str, clock: SimulatedClock
) -> None:
    """One app refreshing from two calls at once: one rotates the token, the other is told it
    was just rotated (409), within the grace the old token still only gets that 409 (the
    session is not revoked), and the new token refreshes."""
    answers = await asyncio.gather(*(
        client.post(path, json={"refresh_token": refresh_token}) for _ in range(2)
    ))
    assert sorted(a.status_code for a in answers) == [200, 409]
    (raced,) = [a for a in answers if a.status_code == 409]
    assert raced.json()["type"] == "/problems/refresh-token-just-rotated"
    (won,) = [a.json() for a in answers if a.status_code == 200]
    clock.advance(timedelta(seconds=5))
    late = await client.post(path, json={"refresh_token": refresh_token})
    assert late.status_code == 409  # still the app's own race: the session lives on
    following = await client.post(path, json={"refresh_token": won["refresh_token"]})
    assert following.status_code == 200
