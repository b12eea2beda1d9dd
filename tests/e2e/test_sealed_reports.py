"""Proof that a corruption report is readable by the commission's private key and nothing else.

The whole platform runs (every service on PostgreSQL and RabbitMQ, behind the gateway). A report
carrying a canary string, with a reporter identity carrying a fake national number, goes in
through `POST /api/v1/reports`; afterwards neither is found in a `pg_dump` of every schema, in
any message published on the bus, in any log record (captured at DEBUG), or in any file written
meanwhile. Positive control: the commission's offline tool, with its key, recovers both from
the envelopes downloaded from the inbox.

And a reporter's receipt never lies: an envelope damaged after sealing or under a taken id is
refused at the door with no receipt, and one that passed but does not open is declared so by
the commission, whose tool says how; its receipt then asks for a new report.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from gateway.config import GatewaySettings
from services.__main__ import definition_of
from services.integrity.commission_cli import KEY_FILE_FORMAT, KeyFile
from services.routing.directory.demo import demo_person_id
from shared.events.vocabulary import Role
from shared.sealing import (
    CommissionPublicKey,
    EnvelopeKind,
    ReportContent,
    report_day,
    seal,
    seal_report,
)
from shared.settings import VAR_DIR
from tests.platform import Platform, eventually, running_platform

PASSPHRASE = "the commission's long passphrase"
PROJECT_ROOT = Path(__file__).parents[2]


def encodings(needle: str) -> list[bytes]:
    """The needle as it could sit in a dump, a message or a file: raw, hex, base64."""
    raw = needle.encode()
    forms = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for offset in range(3):  # base64 of the needle wherever it starts in a longer string
        encoded = base64.b64encode(bytes(offset) + raw)
        stable = encoded[4 * ((offset + 2) // 3): 4 * ((offset + len(raw)) // 3)]
        forms += [stable, stable.replace(b"+", b"-").replace(b"/", b"_")]
    return forms


def found_in(haystack: bytes, needles: Iterable[str]) -> list[str]:
    return [needle for needle in needles if any(f in haystack for f in encodings(needle))]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.integrity.commission_cli", *map(str, args)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
    )


def files_written_since(started: float, roots: Iterable[Path], skip: Iterable[Path]
                        ) -> Iterator[Path]:
    skipped = [p.resolve() for p in skip]
    for root in roots:
        for directory, _dirs, names in os.walk(root):
            if any(Path(directory).resolve().is_relative_to(s) for s in skipped):
                continue
            for name in names:
                path = Path(directory) / name
                try:
                    if path.is_file() and path.stat().st_mtime >= started and \
                            path.stat().st_size < 64 * 1024 * 1024:
                        yield path
                except OSError:
                    continue


async def pg_dump(postgres_url: str, schemas: Iterable[str]) -> bytes:
    dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    command = ["pg_dump", "--no-owner", "--dbname", dsn]
    for schema in schemas:
        command += ["--schema", schema]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, check=True)
    return done.stdout


async def tap_everything(amqp_url: str, namespace: str) -> tuple[Any, Any]:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(f"{namespace}.tests.tap", exclusive=True)
    await queue.bind(f"{namespace}.events", routing_key="#")
    return connection, queue


async def drain(queue: Any) -> list[aio_pika.abc.AbstractIncomingMessage]:
    messages = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        messages.append(message)
    return messages


async def dead_letters_everywhere(platform: Platform) -> list[tuple[bytes, str]]:
    dead = []
    for name in platform.apps:
        runtime = platform.runtime(name)
        for subscription in definition_of(name).subscriptions:
            queue = runtime.bus.queue_name(name, subscription.name)
            dead += await runtime.bus.dead_letters(queue)
    return dead


async def test_a_reports_content_and_reporter_are_found_nowhere_but_with_the_commissions_key(
    postgres_url: str, amqp_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    national_number = "99" + "".join(secrets.choice("0123456789") for _ in range(8))
    needles = (canary, national_number)
    started = time.time() - 1
    caplog.set_level(logging.DEBUG)

    # The commission makes its key pair offline, as it would.
    key_file = tmp_path / "commission.key"
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE)
    made = cli("generate", "--key-id", "commission-2026-01", "--out", key_file,
               "--strength", "interactive", "--passphrase-file", passphrase)
    assert made.returncode == 0, made.stderr
    registration = json.loads(made.stdout.strip().splitlines()[-1])

    async with running_platform(postgres_url, amqp_url) as platform:
        namespace = platform.runtime("intake").bus.namespace
        connection, tap = await tap_everything(amqp_url, namespace)
        # The commission's account as routing's directory seeds it (the gateway checks a staff
        # token's standing there before forwarding it).
        commission = platform.auth(Role.integrity_commission,
                                   str(demo_person_id("commission")))
        registration_key = str(uuid.uuid4())

        async def registered() -> None:
            response = await platform.client.post(
                "/api/v1/integrity/keys", json=registration,
                headers={**commission, "Idempotency-Key": registration_key},
            )
            assert response.status_code == 201, response.json()

        await eventually(registered)

        submitted = await platform.client.post(
            "/api/v1/reports",
            json={"subject": "رشوة", "text": f"The permit clerk asked for money. {canary}",
                  "attachments": [{"name": "note.pdf", "content": base64.b64encode(
                      b"%PDF-1.4\n" + canary.encode() + b"\n%%EOF").decode()}],
                  "identity": {"name": "Reporter Name", "national_number": national_number}},
            headers={**platform.auth(Role.citizen), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert submitted.status_code == 201, submitted.json()
        receipt = submitted.json()["receipt"]

        async def filed() -> str:
            page = (await platform.client.get("/api/v1/integrity/inbox",
                                              headers=commission)).json()
            assert len(page["items"]) == 1
            return str(page["items"][0]["envelope_id"])

        envelope_id = await eventually(filed)
        inbox = f"/api/v1/integrity/inbox/{envelope_id}"
        acknowledged = await platform.client.post(
            f"{inbox}/acknowledgement",
            headers={**commission, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert acknowledged.status_code == 201
        envelope = tmp_path / "report.bkhe"
        envelope.write_bytes((await platform.client.get(f"{inbox}/envelope",
                                                        headers=commission)).content)
        identity = tmp_path / "identity.bkhe"
        identity.write_bytes((await platform.client.get(f"{inbox}/identity-envelope",
                                                        headers=commission)).content)
        status = (await platform.client.get(f"/api/v1/reports/{receipt}")).json()
        assert status["status"] == "acknowledged"

        async def every_report_event_published() -> list[Any]:
            messages = tap_messages + await drain(tap)
            tap_messages[:] = messages
            types = {m.routing_key for m in messages}
            assert {"report.sealed", "report.forwarded", "report.acknowledged"} <= types
            return messages

        tap_messages: list[Any] = []
        messages = await eventually(every_report_event_published)
        await asyncio.sleep(1)  # anything published in reaction to them
        messages += await drain(tap)
        dead = await dead_letters_everywhere(platform)
        dump = await pg_dump(postgres_url, platform.schemas.values())
        await connection.close()

    # Controls: each place searched does hold this report, sealed.
    assert envelope_id.encode() in dump
    assert any(m.routing_key == "report.sealed" and envelope_id.encode() in m.body
               for m in messages)
    assert caplog.records

    # Nowhere in the clear.
    assert found_in(dump, needles) == [], "pg_dump of every schema"
    for message in messages:
        assert found_in(message.body, needles) == [], f"a {message.routing_key} message"
    for body, _reason in dead:
        assert found_in(body, needles) == [], "a dead letter"
    for record in caplog.records:
        text = " ".join([record.getMessage(), record.exc_text or "",
                         *(str(v) for v in record.__dict__.values())])
        assert found_in(text.encode(), needles) == [], f"a log record of {record.name}"
    written = list(files_written_since(
        started, [VAR_DIR, Path(tempfile.gettempdir())],
        skip=[Path(tempfile.gettempdir()) / d for d in os.listdir(tempfile.gettempdir())
              if d.startswith("bash_jobs")],
    ))
    assert envelope in written  # the scan sees what was written meanwhile
    for path in written:
        assert found_in(path.read_bytes(), needles) == [], f"file {path}"

    # Positive control: the commission's tool and key recover both.
    out = tmp_path / "opened"
    opened = cli("open", "--key", key_file, "--passphrase-file", passphrase, "--out", out,
                 envelope, identity)
    assert opened.returncode == 0, opened.stderr
    folder = out / envelope_id
    assert canary in (folder / "report.txt").read_text(encoding="utf-8")
    assert canary.encode() in (folder / "01-note.pdf").read_bytes()
    assert json.loads((folder / "identity.json").read_text())["national_number"] == (
        national_number
    )
    verified = cli("verify-receipt", "--key", key_file, "--passphrase-file", passphrase,
                   envelope, receipt)
    assert verified.returncode == 0, verified.stderr


# --- no private key on the server side ----------------------------------------------------------


def private_key_findings(values: Iterable[tuple[str, object]], private_key_forms: list[bytes]
                         ) -> list[str]:
    """Where a commission private key shows: its key file, or the raw key in any spelling,
    inline or in a file a value points at."""
    findings = []
    for where, value in values:
        text = str(value)
        candidates = [text.encode()]
        path = Path(text) if text and len(text) < 4096 and "\n" not in text else None
        try:
            if path is not None and path.is_file() and path.stat().st_size < 16 * 1024 * 1024:
                candidates.append(path.read_bytes())
        except OSError:
            pass
        if any(KEY_FILE_FORMAT.encode() in c or any(f in c for f in private_key_forms)
               for c in candidates):
            findings.append(where)
    return findings


def _forms(raw: bytes) -> list[bytes]:
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw)]


def settings_values(name: str, settings: Any) -> Iterator[tuple[str, object]]:
    for field, value in settings.model_dump().items():
        yield f"{name} setting {field}", value


def manifest_values() -> Iterator[tuple[str, object]]:
    for path in (PROJECT_ROOT / "deploy").rglob("*"):
        if path.is_file():
            yield f"manifest {path.relative_to(PROJECT_ROOT)}", path.read_text(errors="replace")


async def test_no_service_holds_a_commission_private_key_in_settings_environment_or_secrets(
    postgres_url: str, amqp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE)
    key_file = tmp_path / "commission.key"
    assert cli("generate", "--key-id", "k1", "--out", key_file, "--strength", "interactive",
               "--passphrase-file", passphrase).returncode == 0
    private = bytes(KeyFile.read(key_file).unlock(PASSPHRASE))
    forms = _forms(private)

    async with running_platform(postgres_url, amqp_url) as platform:
        values = [
            *(pair for name in platform.apps
              for pair in settings_values(name, platform.runtime(name).settings)),
            *settings_values("gateway", GatewaySettings()),
            *((f"environment {k}", v) for k, v in os.environ.items()),
            *manifest_values(),
        ]
        assert private_key_findings(values, forms) == []
        # No setting is even meant for one: integrity keeps public keys only.
        for name in platform.apps:
            fields = type(platform.runtime(name).settings).model_fields
            assert not [f for f in fields if "commission" in f and "private" in f], name

    # Positive control: the scan finds a key file a variable points at, and a raw key.
    monkeypatch.setenv("BKH_SOMETHING_FILE", str(key_file))
    planted = [*((f"environment {k}", v) for k, v in os.environ.items()),
               ("a setting", base64.b64encode(private).decode())]
    assert sorted(private_key_findings(planted, forms)) == [
        "a setting", "environment BKH_SOMETHING_FILE"
    ]


# --- a receipt never lies -------------------------------------------------------------------------


def flipped(data: bytes, position: int = -100) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 0x01
    return bytes(damaged)


async def test_a_receipt_never_lies_about_a_report_the_commission_cannot_read(
    postgres_url: str, amqp_url: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "commission.key"
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE)
    made = cli("generate", "--key-id", "commission-2026-01", "--out", key_file,
               "--strength", "interactive", "--passphrase-file", passphrase)
    assert made.returncode == 0, made.stderr
    registration = json.loads(made.stdout.strip().splitlines()[-1])
    public = CommissionPublicKey.from_base64(registration["key_id"], registration["public_key"])

    async with running_platform(postgres_url, amqp_url) as platform:
        commission = platform.auth(Role.integrity_commission,
                                   str(demo_person_id("commission")))
        registration_key = str(uuid.uuid4())

        async def registered() -> None:
            response = await platform.client.post(
                "/api/v1/integrity/keys", json=registration,
                headers={**commission, "Idempotency-Key": registration_key},
            )
            assert response.status_code == 201, response.json()

        await eventually(registered)
        today = report_day(platform.clock)

        async def send(envelope: bytes) -> Any:
            return await platform.client.post(
                "/api/v1/reports", json={"envelope": base64.b64encode(envelope).decode()},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )

        # Damaged after sealing: refused at the door, without the key, and no receipt.
        report = seal_report(ReportContent(text="a bribe at the permit office"), None,
                             to=public, day=today)
        damaged = await send(flipped(report.envelope))
        assert damaged.status_code == 422
        assert damaged.json()["reason"] == "damaged"
        sent = await send(report.envelope)
        assert sent.status_code == 201
        # Another envelope under a taken id: refused at the door, and no receipt.
        reused = seal_report(ReportContent(text="another"), None, to=public, day=today,
                             envelope_id=report.envelope_id)
        taken = await send(reused.envelope)
        assert taken.status_code == 409
        assert "receipt" not in taken.json()

        # An older client's envelope (version 1, no digest) damaged on its way passes the
        # door; the commission's tool cannot open it, and says what to do.
        old_id = uuid.uuid4()
        old = flipped(seal(ReportContent(text="t").to_plaintext(), to=public,
                           kind=EnvelopeKind.report, envelope_id=old_id, day=today, version=1))
        accepted = await send(old)
        assert accepted.status_code == 201
        inbox = f"/api/v1/integrity/inbox/{old_id}"

        async def filed() -> bytes:
            response = await platform.client.get(f"{inbox}/envelope", headers=commission)
            assert response.status_code == 200
            return response.content

        downloaded = tmp_path / f"{old_id}.report.bkhe"
        downloaded.write_bytes(await eventually(filed))
        opened = cli("open", "--key", key_file, "--passphrase-file", passphrase,
                     "--out", tmp_path / "opened", downloaded)
        assert opened.returncode == 1
        assert f"POST {inbox}/cannot-be-opened" in opened.stderr
        declared = await platform.client.post(
            f"{inbox}/cannot-be-opened",
            headers={**commission, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert declared.status_code == 201, declared.json()

        receipt = await platform.client.get(f"/api/v1/reports/{accepted.json()['receipt']}")
        assert receipt.json()["status"] == "cannot_be_opened"
        assert "new report" in receipt.json()["label"]["en"]

        async def the_good_one_arrived() -> None:
            response = await platform.client.get(f"/api/v1/reports/{sent.json()['receipt']}")
            assert response.json()["status"] == "forwarded"

        await eventually(the_good_one_arrived)
