"""The embedded mode (`make run`): reports are sealed, filed and followed on SQLite with the
in-process bus, intake reaching integrity in memory."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services.colocated import colocated_services
from shared.auth import TokenIssuer, load_keys
from shared.bus import InMemoryBus
from shared.clock import SimulatedClock
from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair, open_report
from shared.settings import BaseServiceSettings
from tests.platform import eventually


async def test_a_report_is_sealed_filed_and_followed_in_the_embedded_mode(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock()
    bus = InMemoryBus()
    await bus.start()

    def embedded(_name: str) -> dict[str, Any]:
        return {"environment": "test", "database_url": "", "amqp_url": "", "data_dir": tmp_path}

    settings = BaseServiceSettings(service_name="tests")
    _keys, signing = load_keys(settings)
    assert signing is not None
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    commission = {"Authorization": f"Bearer {issuer.issue('c-1', Role.integrity_commission)}"}
    key = CommissionKeyPair.generate("commission-embedded")
    try:
        async with colocated_services(["intake", "integrity"], embedded, clock=clock,
                                      bus=bus) as apps:
            gateway = create_gateway(
                GatewaySettings(environment="test"),
                transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
            )
            async with (
                gateway.router.lifespan_context(gateway),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                                  base_url="http://embedded") as client,
                # The commission's calls go to integrity itself: through the gateway a staff
                # token also needs its person in routing's directory, not running here.
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["integrity"]),
                                  base_url="http://integrity") as account,
            ):
                registered = await account.post(
                    "/api/v1/integrity/keys",
                    json={"key_id": key.key_id, "public_key": key.public.encoded,
                          "fingerprint": key.public.fingerprint},
                    headers={**commission, "Idempotency-Key": str(uuid.uuid4())},
                )
                assert registered.status_code == 201, registered.json()
                submitted = await client.post(
                    "/api/v1/reports", json={"text": "embedded report"},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert submitted.status_code == 201, submitted.json()

                async def filed() -> str:
                    page = (await account.get("/api/v1/integrity/inbox",
                                             headers=commission)).json()
                    assert len(page["items"]) == 1
                    return str(page["items"][0]["envelope_id"])

                envelope_id = await eventually(filed)
                envelope = (await account.get(
                    f"/api/v1/integrity/inbox/{envelope_id}/envelope", headers=commission
                )).content
                _, content = open_report(envelope, {key.key_id: key.private_key})
                assert content.text == "embedded report"
                status = await client.get(f"/api/v1/reports/{submitted.json()['receipt']}")
                assert status.json()["status"] == "forwarded"
    finally:
        await bus.close()
    assert {p.name for p in tmp_path.glob("*.db")} >= {"intake.db", "integrity.db"}
