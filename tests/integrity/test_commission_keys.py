"""Intake's copy of the commission's key (`services.intake.reports.CommissionKeys`).

Integrity is played by `httpx.MockTransport` here (how httpx clients are tested); the real
exchange over HTTP is in test_report_intake.py and tests/e2e.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.intake.commission_keys import PUBLIC_KEY_PATH, CommissionKeys, ReportsUnavailable
from shared.sealing import CommissionKeyPair

KEY = CommissionKeyPair.generate("commission-1").public


def integrity(answer: httpx.Response | Exception) -> tuple[httpx.AsyncClient, list[str]]:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handle),
                             base_url="http://integrity"), asked


def published(**changes: str) -> httpx.Response:
    return httpx.Response(200, json={"key_id": KEY.key_id, "public_key": KEY.encoded,
                                     "fingerprint": KEY.fingerprint, **changes})


async def test_the_key_is_asked_for_once_and_kept() -> None:
    client, asked = integrity(published())
    keys = CommissionKeys(client, max_age_s=60)
    got = await asyncio.gather(*(keys.current() for _ in range(10)))
    assert {k.key_id for k in got} == {KEY.key_id}
    assert asked == [PUBLIC_KEY_PATH]


async def test_an_old_copy_is_asked_for_again() -> None:
    client, asked = integrity(published())
    keys = CommissionKeys(client, max_age_s=0)
    await keys.current()
    await keys.current()
    assert asked == [PUBLIC_KEY_PATH, PUBLIC_KEY_PATH]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(404, json={"type": "/problems/no-commission-key"}),
        httpx.Response(503),
        published(fingerprint="00" * 32),
        published(public_key="AAAA"),
        httpx.Response(200, text="not json"),
    ],
)
async def test_without_a_usable_key_no_report_is_taken(
    answer: httpx.Response | Exception,
) -> None:
    client, _ = integrity(answer)
    with pytest.raises(ReportsUnavailable):
        await CommissionKeys(client, max_age_s=60).current()
