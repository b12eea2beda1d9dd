"""Send limits on codes: per phone, per identity, per client address, and a global SMS budget;
they hold across replicas because the counts live in shared storage (Redis)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from services.intake.context import Intake
from tests.breakable_link import BreakableLink
from tests.intake.conftest import IntakeUnderTest, intake_app, sunday_clock
from tests.intake.factories import AHMAD, PASSWORD, SARA, key, register, registration

REGISTRATIONS = "/api/v1/citizens/registrations"


async def start(intake: IntakeUnderTest, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> Any:
    return await intake.client.post(REGISTRATIONS, json=body, headers={**key(), **(headers or {})})


def phone(i: int) -> str:
    return f"07910000{i:02d}"


async def test_a_fourth_code_to_one_phone_within_ten_minutes_is_refused_with_retry_after(
    intake: IntakeUnderTest,
) -> None:
    people = [AHMAD, SARA, {**AHMAD, "id_number": "9000000001"},
              {**AHMAD, "id_number": "9000000002"}]
    answers = [await start(intake, registration(person)) for person in people]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert len(await intake.events("citizen.code_requested")) == 3
    assert await intake.count("registrations") == 3


async def test_codes_per_identity_number_are_limited_whatever_the_phone(
    intake: IntakeUnderTest,
) -> None:
    answers = [await start(intake, registration(phone=phone(i))) for i in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]


async def test_codes_per_client_address_follow_the_address_the_gateway_vouches_for(
    postgres_url: str, pg_schema: str, registry_url: str
) -> None:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          codes_per_address="2/hour") as intake:
        # The gateway forwards the chain it trusts, its own peer last.
        client_a = {"X-Forwarded-For": "203.0.113.10"}
        client_b = {"X-Forwarded-For": "203.0.113.11"}
        bodies = [registration({**AHMAD, "id_number": f"90000000{i:02d}"}, phone=phone(i))
                  for i in range(4)]
        answers = [await start(intake, bodies[0], client_a), await start(intake, bodies[1],
                                                                          client_a),
                   await start(intake, bodies[2], client_a), await start(intake, bodies[3],
                                                                          client_b)]
        assert [a.status_code for a in answers] == [202, 202, 429, 202]


async def test_the_global_sms_budget_stops_pumping_from_everywhere(
    postgres_url: str, pg_schema: str, registry_url: str
) -> None:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          codes_everywhere="3/minute") as intake:
        answers = [
            await start(intake, registration({**AHMAD, "id_number": f"90000000{i:02d}"},
                                             phone=phone(i)),
                        {"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(4)
        ]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]


async def test_a_refused_send_does_not_eat_the_other_budgets(intake: IntakeUnderTest) -> None:
    # Three codes to one phone; the fourth (refused) must not count against the identity.
    for i in range(3):
        await start(intake, registration({**AHMAD, "id_number": f"90000000{i:02d}"}))
    refused = await start(intake, registration({**AHMAD, "id_number": "9000000099"}))
    assert refused.status_code == 429
    for i in range(5):  # the identity still has its five
        answer = await start(intake, registration({**AHMAD, "id_number": "9000000099"},
                                                  phone=phone(i + 10)))
        assert answer.status_code == 202


@pytest.fixture
async def two_replicas(
    postgres_url: str, pg_schema: str, registry_url: str, redis_url: str
) -> AsyncIterator[tuple[IntakeUnderTest, IntakeUnderTest]]:
    prefix = f"intake-test-{uuid.uuid4().hex[:8]}"  # one count, shared by both replicas
    clock = sunday_clock()
    async with (
        intake_app(postgres_url, pg_schema, registry_url, clock=clock,
                   rate_limit_storage_uri=redis_url, rate_limit_prefix=prefix) as first,
        intake_app(postgres_url, pg_schema, registry_url, clock=clock,
                   rate_limit_storage_uri=redis_url, rate_limit_prefix=prefix) as second,
    ):
        yield first, second
        await first.runtime.resources_as(Intake).throttle.limits.reset()


async def test_limits_hold_across_replicas_sharing_redis(
    two_replicas: tuple[IntakeUnderTest, IntakeUnderTest],
) -> None:
    first, second = two_replicas
    people = [AHMAD, SARA, {**AHMAD, "id_number": "9000000001"},
              {**AHMAD, "id_number": "9000000002"}]
    answers = [await (first if i % 2 == 0 else second).client.post(
        REGISTRATIONS, json=registration(person), headers=key()) for i, person in
        enumerate(people)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]


async def test_code_tries_are_counted_across_replicas(
    two_replicas: tuple[IntakeUnderTest, IntakeUnderTest],
) -> None:
    first, second = two_replicas
    started = await first.client.post(REGISTRATIONS, json=registration(), headers=key())
    registration_id = started.json()["registration_id"]
    code = (await first.events("citizen.code_requested"))[-1]["code"]
    wrong = "00000" if code != "00000" else "11111"
    for replica in (first, second, first):
        refused = await replica.client.post(f"{REGISTRATIONS}/{registration_id}/verify",
                                            json={"code": wrong}, headers=key())
        assert refused.status_code == 422
    dead = await second.client.post(f"{REGISTRATIONS}/{registration_id}/verify",
                                    json={"code": code}, headers=key())
    assert dead.status_code == 422
    assert dead.json()["attempts_left"] == 0


async def test_when_the_counts_cannot_be_read_no_code_is_sent(
    postgres_url: str, pg_schema: str, registry_url: str
) -> None:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          rate_limit_storage_uri="redis://127.0.0.1:9") as intake:
        refused = await start(intake, registration())
        assert refused.status_code == 503
        assert await intake.events("citizen.code_requested") == []
        assert await intake.count("registrations") == 0


async def test_while_redis_is_away_codes_are_refused_and_sign_in_attempts_stay_bounded(
    postgres_url: str, pg_schema: str, registry_url: str, redis_url: str
) -> None:
    address = urlsplit(redis_url)
    async with (
        BreakableLink(address.hostname or "127.0.0.1", address.port or 6379) as link,
        intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                   rate_limit_storage_uri=urlunsplit(address._replace(
                       netloc=f"127.0.0.1:{link.port}")),
                   rate_limit_prefix=f"intake-test-{uuid.uuid4().hex[:8]}") as intake,
    ):
        await register(intake)
        await link.cut()
        # A code costs an SMS: not sent without its counts.
        assert (await start(intake, registration(SARA))).status_code == 503
        # Sign-in is not shut out, and guessing is still counted (in this replica).
        body = {"id_number": AHMAD["id_number"], "password": "not-the-password"}
        answers = [await intake.client.post("/api/v1/auth/token", json=body)
                   for _ in range(11)]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        signed = await intake.client.post("/api/v1/auth/token", json={
            "id_number": SARA["id_number"], "password": PASSWORD})
        assert signed.status_code == 401  # another account's budget is its own: not refused
