"""The embedded mode (`make run`): reports are sealed, filed and followed on SQLite with the
in-process bus, intake reaching integrity in memory; outside production a development
commission key makes that work from the first start."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from services.colocated import colocated_services
from services.integrity.commission_cli import KeyFile
from services.integrity.development_key import (
    KEY_FILE,
    PASSPHRASE_FILE,
    register_development_key,
)
from shared.auth import TokenIssuer, load_keys
from shared.bus import InMemoryBus
from shared.clock import SimulatedClock
from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair, open_report
from shared.settings import (
    PROJECT_ROOT,
    VAR_DIR,
    BaseServiceSettings,
    Environment,
    PlatformSettings,
)
from tests.platform import eventually
from tests.test_two_ways_to_run import (  # noqa: F401 - embedded is a fixture
    embedded,
    stop_with_ctrl_c,
    wait_until_ready,
)


async def test_a_report_is_sealed_filed_and_followed_in_the_embedded_mode(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock()
    bus = InMemoryBus()
    await bus.start()

    def settings_for(_name: str) -> dict[str, Any]:
        return {"environment": "test", "database_url": "", "amqp_url": "", "data_dir": tmp_path}

    settings = BaseServiceSettings(service_name="tests")
    _keys, signing = load_keys(settings)
    assert signing is not None
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    commission = {"Authorization": f"Bearer {issuer.issue('c-1', Role.integrity_commission)}"}
    key = CommissionKeyPair.generate("commission-embedded")
    try:
        async with colocated_services(["intake", "integrity"], settings_for, clock=clock,
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


async def test_outside_production_reports_are_taken_from_the_first_start_with_a_development_key(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock()
    bus = InMemoryBus()
    await bus.start()
    dev_keys = tmp_path / "dev-keys" / "commission"
    settings = BaseServiceSettings(service_name="tests")

    def settings_for(_name: str) -> dict[str, Any]:
        return {"environment": "test", "database_url": "", "amqp_url": "", "data_dir": tmp_path}

    try:
        async with colocated_services(["intake", "integrity"], settings_for, clock=clock,
                                      bus=bus) as apps:
            gateway = create_gateway(
                GatewaySettings(environment="test"),
                transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
            )
            async with (
                gateway.router.lifespan_context(gateway),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                                  base_url="http://embedded") as client,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["integrity"]),
                                  base_url="http://integrity") as integrity,
            ):
                key_id = await register_development_key(integrity, settings=settings,
                                                        clock=clock, root=dev_keys)
                assert key_id is not None
                assert key_id.startswith("dev-")
                submitted = await client.post(
                    "/api/v1/reports", json={"text": "sealed to the development key"},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert submitted.status_code == 201, submitted.json()
                # A second start finds the key registered and registers nothing.
                assert await register_development_key(integrity, settings=settings,
                                                      clock=clock, root=dev_keys) is None

                issuer = TokenIssuer(load_keys(settings)[1],  # type: ignore[arg-type]
                                     issuer=settings.jwt_issuer,
                                     audience=settings.jwt_audience, clock=clock)
                commission = {"Authorization":
                              f"Bearer {issuer.issue('c-1', Role.integrity_commission)}"}

                async def filed() -> bytes:
                    page = (await integrity.get("/api/v1/integrity/inbox",
                                                headers=commission)).json()
                    assert len(page["items"]) == 1
                    envelope_id = page["items"][0]["envelope_id"]
                    return (await integrity.get(
                        f"/api/v1/integrity/inbox/{envelope_id}/envelope", headers=commission
                    )).content

                envelope = await eventually(filed)
                keys = (await integrity.get("/api/v1/integrity/keys", headers=commission)).json()
                assert [k["key_id"] for k in keys] == [key_id]

                # Once the commission registered its own key, a start with no development key
                # on disk makes none, and the commission's key stays the one reports go to.
                own = CommissionKeyPair.generate("commission-2026-01")
                registered = await integrity.post(
                    "/api/v1/integrity/keys",
                    json={"key_id": own.key_id, "public_key": own.public.encoded,
                          "fingerprint": own.public.fingerprint},
                    headers={**commission, "Idempotency-Key": str(uuid.uuid4())},
                )
                assert registered.status_code == 201
                elsewhere = tmp_path / "other-dev-keys" / "commission"
                assert await register_development_key(integrity, settings=settings,
                                                      clock=clock, root=elsewhere) is None
                assert not elsewhere.exists()
                current = (await integrity.get("/api/v1/integrity/public-key")).json()
                assert current["key_id"] == own.key_id
    finally:
        await bus.close()

    # The private part sits beside the other development keys, readable by its owner alone,
    # and opens what the inbox holds with the commission's own tool format.
    assert stat.S_IMODE(dev_keys.stat().st_mode) == 0o700
    for name in (KEY_FILE, PASSPHRASE_FILE):
        assert stat.S_IMODE((dev_keys / name).stat().st_mode) == 0o600
    passphrase = (dev_keys / PASSPHRASE_FILE).read_text().strip()
    private_key = KeyFile.read(dev_keys / KEY_FILE).unlock(passphrase)
    _, content = open_report(envelope, {key_id: private_key})
    assert content.text == "sealed to the development key"


async def test_the_development_commission_key_is_refused_in_production(tmp_path: Path) -> None:
    production = PlatformSettings.model_construct(environment=Environment.production)
    unused = httpx.AsyncClient(base_url="http://integrity.invalid")
    with pytest.raises(RuntimeError, match="refused in production"):
        await register_development_key(unused, settings=production, clock=SimulatedClock(),
                                       root=tmp_path / "commission")
    assert not (tmp_path / "commission").exists()


def readme_commands(section: str) -> list[str]:
    """The shell blocks of a section of the README, as a reader copies them."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n### {section}")
    end = readme.index("\n#", start + 1)
    return re.findall(r"```sh\n(.*?)```", readme[start:end], flags=re.DOTALL)


def run_as_a_reader(commands: str, workdir: Path, port: int) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands], cwd=workdir, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
        env={**os.environ, "PORT": str(port), "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_shows_how_to_open_a_report_with_the_commissions_tool(
    embedded: tuple[str, subprocess.Popen[bytes]],  # noqa: F811 - the `make run` fixture
    tmp_path: Path,
) -> None:
    base_url, process = embedded
    wait_until_ready(base_url, process)
    send, open_it = readme_commands("Demo corruption reports")
    # A checkout as the reader has it (the development keys, the virtualenv), in a folder of
    # this test's own for what the commands write.
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    (workdir / "var").symlink_to(VAR_DIR)
    (workdir / ".venv").symlink_to(sys.prefix)
    port = int(base_url.rsplit(":", 1)[1])

    sent = json.loads(run_as_a_reader(send, workdir, port))
    assert sent["status"] == "sealed", sent

    def forwarded() -> None:
        status = httpx.get(f"{base_url}/api/v1/reports/{sent['receipt']}").json()
        assert status["status"] == "forwarded"

    wait_for(forwarded)
    opened = run_as_a_reader(open_it, workdir, port)
    assert "The permit clerk asked for 50 dinars to sign." in opened
    assert stop_with_ctrl_c(process) == 0


def wait_for(check: Callable[[], None], limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)
