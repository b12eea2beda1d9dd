"""The commission's public keys: registered by the commission, the newest seals new reports."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import httpx
import pytest

from services.__main__ import definition_of
from shared.auth import KeySet, TokenIssuer, generate_signing_key
from shared.bus.rabbitmq import delete_declared
from shared.clock import SystemClock
from shared.events.vocabulary import Role
from shared.runtime import migrate_to_head
from shared.sealing import CommissionKeyPair, display_fingerprint
from shared.service import create_service_app
from tests.integrity.conftest import Integrity

KEYS = "/api/v1/integrity/keys"
PUBLIC_KEY = "/api/v1/integrity/public-key"


def registration(key: CommissionKeyPair, **changes: str) -> dict[str, str]:
    return {"key_id": key.key_id, "public_key": key.public.encoded,
            "fingerprint": key.public.fingerprint, **changes}


def fresh_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_before_any_key_is_registered_the_public_key_is_not_found(
    integrity: Integrity,
) -> None:
    response = await integrity.client.get(PUBLIC_KEY)
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/no-commission-key"


async def test_the_newest_registered_key_is_the_one_new_reports_are_sealed_to(
    integrity: Integrity,
) -> None:
    first = CommissionKeyPair.generate("commission-2026-01")
    second = CommissionKeyPair.generate("commission-2026-02")
    await integrity.register(first)
    published = (await integrity.client.get(PUBLIC_KEY)).json()
    assert published["key_id"] == first.key_id
    await integrity.register(second)
    response = await integrity.client.get(PUBLIC_KEY)  # no token: the key is public
    assert response.status_code == 200
    assert response.json() == {
        "key_id": second.key_id,
        "public_key": second.public.encoded,
        "fingerprint": second.public.fingerprint,
        "algorithm": "x25519-sealedbox+xchacha20poly1305-ietf",
        "envelope_version": 2,
    }
    listed = (await integrity.client.get(KEYS, headers=integrity.commission())).json()
    assert [(k["key_id"], k["current"]) for k in listed] == [
        (second.key_id, True), (first.key_id, False)
    ]


async def test_a_fingerprint_typed_in_groups_and_capitals_is_accepted(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    typed = display_fingerprint(commission_key.public.fingerprint).upper()
    response = await integrity.client.post(
        KEYS, json=registration(commission_key, fingerprint=typed),
        headers={**integrity.commission(), **fresh_key()},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["fingerprint"] == commission_key.public.fingerprint


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"fingerprint": "00" * 32}, "fingerprint-mismatch"),
        ({"public_key": base64.b64encode(bytes(32)).decode()}, "invalid-public-key"),
        ({"public_key": "A" * 44}, "invalid-public-key"),
        ({"public_key": "!" * 44}, "invalid-public-key"),
        ({"key_id": "has spaces"}, "validation-failed"),
        ({"private_key": "c2VjcmV0"}, "validation-failed"),
    ],
)
async def test_a_bad_registration_is_refused_and_registers_nothing(
    integrity: Integrity, commission_key: CommissionKeyPair, changes: dict[str, str],
    problem: str,
) -> None:
    response = await integrity.client.post(
        KEYS, json=registration(commission_key, **changes),
        headers={**integrity.commission(), **fresh_key()},
    )
    assert response.status_code in (409, 422), response.json()
    assert response.json()["type"] == f"/problems/{problem}"
    assert (await integrity.client.get(PUBLIC_KEY)).status_code == 404


async def test_a_key_or_key_id_registered_twice_is_a_conflict(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    same_id = CommissionKeyPair.generate(commission_key.key_id)
    for body in (registration(same_id), registration(commission_key, key_id="another-id")):
        response = await integrity.client.post(
            KEYS, json=body, headers={**integrity.commission(), **fresh_key()}
        )
        assert response.status_code == 409
        assert response.json()["type"] == "/problems/key-already-registered"
    listed = (await integrity.client.get(KEYS, headers=integrity.commission())).json()
    assert [k["key_id"] for k in listed] == [commission_key.key_id]


async def test_a_registration_retried_with_its_idempotency_key_registers_once(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    headers = {**integrity.commission("commissioner-1"), **fresh_key()}
    first = await integrity.client.post(KEYS, json=registration(commission_key), headers=headers)
    again = await integrity.client.post(KEYS, json=registration(commission_key), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    missing = await integrity.client.post(
        KEYS, json=registration(CommissionKeyPair.generate("k2")), headers=integrity.commission()
    )
    assert missing.status_code == 400
    assert missing.json()["type"] == "/problems/idempotency-key-missing"


async def test_production_refuses_a_development_key(
    tmp_path: Path, postgres_url: str, pg_schema: str, amqp_url: str, bus_namespace: str
) -> None:
    signing = generate_signing_key("prod-key-1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeySet.of(signing).to_jwks()))
    definition = definition_of("integrity")
    settings = definition.load_settings(
        environment="production", jwt_public_keys_file=jwks, database_url=postgres_url,
        database_schema=pg_schema, amqp_url=amqp_url, bus_namespace=bus_namespace,
        run_workers=False,
    )
    await migrate_to_head(definition, settings)
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         clock=SystemClock())
    commission = {"Authorization": f"Bearer {issuer.issue('c-1', Role.integrity_commission)}"}
    app = create_service_app(definition, settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://integrity") as client,
        ):
            development = CommissionKeyPair.generate("dev-commission-0a1b2c")
            refused = await client.post(KEYS, json=registration(development),
                                        headers={**commission, **fresh_key()})
            assert refused.status_code == 422
            assert refused.json()["type"] == "/problems/development-key-refused"
            assert (await client.get(KEYS, headers=commission)).json() == []
            real = CommissionKeyPair.generate("commission-2026-01")
            accepted = await client.post(KEYS, json=registration(real),
                                         headers={**commission, **fresh_key()})
            assert accepted.status_code == 201, accepted.json()
    finally:
        await delete_declared(amqp_url, bus_namespace, [], retry_delays_ms=())
