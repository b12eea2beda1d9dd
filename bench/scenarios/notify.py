"""notify: events → notify → a local SMTP server and an HTTP SMS gateway, against bare sends.

The production topology on one machine: notify in its own uvicorn process (PostgreSQL schema
migrated, RabbitMQ, consumers and dispatcher inside, as `make up` runs it), an SMTP server
(`python -m aiosmtpd`, STARTTLS, a sink) and the SMS gateway simulator (its own uvicorn), each
in its own process. The bench process plays intake: it publishes `citizen.registered` for 2,000
citizens (half want email, half SMS), then `request.submitted` events; each one makes notify
queue one acknowledgement and hand it to a provider. Hand-off time is measured per message from
the event's `occurred_at` to the provider's acceptance (`submitted_at`), read from notify's
delivery log.

- `notify_bare_providers` (baseline, same servers, same run): aiosmtplib over 8 open STARTTLS
  connections and httpx posting batches of 100 to the gateway, half and half, as fast as they
  go — the bare limit of handing messages over;
- `notify_handoff` (closed loop): 10,000 events published at once; messages handed over per
  second, first event to last hand-off (the issue: ≥ 500/s);
- `notify_handoff_latency` (open loop, 100 events/s): event → hand-off p50/p99 (the issue:
  p99 ≤ 1 s), compared with the bare p99 of one message sent on its own at the same rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.fixtures import delete_service_queues, scratch_schema
from bench.harness import (
    REPO_ROOT,
    BenchContext,
    CpuMeter,
    Figures,
    LatencySummary,
    Result,
    Target,
    free_port,
    open_loop,
    plain_postgres_dsn,
    stop_process,
    uvicorn_server,
)
from bench.scenarios import scenario
from services.notify.main import DEFINITION
from shared.bus import OutgoingMessage, RabbitMQBus
from shared.clock import SystemClock
from shared.events.catalog import CitizenRegistered, RequestSubmitted
from shared.events.envelope import EventPayload, new_envelope
from shared.events.vocabulary import Channel, Language, NoticeChannel, RequestKind
from shared.runtime import migrate_to_head

DESCRIPTION = ("request.submitted events over RabbitMQ to notify (its own process): contact "
               "lookup, one queued message each, the dispatcher's lanes hand them to a local "
               "SMTP server (STARTTLS) and the HTTP SMS gateway; event → provider acceptance.")
BARE_DESCRIPTION = ("aiosmtplib over 8 open STARTTLS connections and httpx posting batches of "
                    "100 to the same SMTP server and SMS gateway, half and half.")
CITIZENS = 2_000
API_KEY = "bench-gateway-key"
OPEN_LOOP_RATE = 100.0
SMTP_CONNECTIONS = 8
SMS_BATCH = 100
RETRY_DELAYS_MS = (1_000, 10_000, 60_000, 300_000)
CLOCK = SystemClock()


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.bench")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextlib.asynccontextmanager
async def _smtp_sink(directory: Path) -> AsyncIterator[tuple[int, Path, int]]:
    """`python -m aiosmtpd` with STARTTLS, discarding what it receives: (port, CA file, pid)."""
    cert, key = _certificate(directory)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
        "-l", f"127.0.0.1:{port}", "--tlscert", str(cert), "--tlskey", str(key),
        cwd=REPO_ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.returncode is not None:
                    raise RuntimeError("the SMTP sink did not start") from None
                await asyncio.sleep(0.1)
        yield port, cert, proc.pid
    finally:
        await stop_process(proc)


def _template() -> bytes:
    message = EmailMessage()
    message["From"] = "no-reply@bekhedmetkom.gov.jo"
    message["To"] = "citizen@example.jo"
    message["Subject"] = "استلمنا طلبك رقم BKH-2026-000000"
    message.set_content("مرحباً،\n\nاستلمنا طلبك.\n" * 8)
    message.add_alternative("<p dir='rtl'>استلمنا طلبك.</p>" * 8, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


# Built once: the bare limit is the protocol's, not the MIME library's.
_EMAIL = _template()


class _BareProviders:
    """Bare hand-offs: pooled aiosmtplib connections and batched httpx posts."""

    def __init__(self, smtp_port: int, ca_file: Path, gateway_url: str) -> None:
        import ssl

        self.smtp_port = smtp_port
        self.tls = ssl.create_default_context(cafile=str(ca_file))
        self.http = httpx.AsyncClient(base_url=gateway_url, timeout=30,
                                      headers={"Authorization": f"Bearer {API_KEY}"})
        self.pool: list[aiosmtplib.SMTP] = []

    async def connection(self) -> aiosmtplib.SMTP:
        if self.pool:
            return self.pool.pop()
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.smtp_port, start_tls=True,
                               tls_context=self.tls, timeout=30)
        await smtp.connect()
        return smtp

    async def send_email(self, number: int) -> None:
        smtp = await self.connection()
        await smtp.sendmail("no-reply@bekhedmetkom.gov.jo", [f"citizen{number}@example.jo"],
                            _EMAIL)
        self.pool.append(smtp)

    async def post_sms(self, numbers: range) -> None:
        response = await self.http.post("/messages", json={
            "sender_id": "BKHEDMETKOM",
            "messages": [{"client_reference": str(uuid.uuid4()), "to": _phone(n),
                          "text": f"بخدمتكم: استلمنا طلبك ورقمه BKH-2026-{n:06d}."}
                         for n in numbers]})
        response.raise_for_status()

    async def closed_loop(self, messages: int) -> float:
        """Messages handed over per second, half by email (8 connections), half by SMS."""
        emails = messages // 2
        queue = iter(range(emails))

        async def mailer() -> None:
            for number in queue:
                await self.send_email(number)

        async def texter() -> None:
            for start in range(0, messages - emails, SMS_BATCH):
                await self.post_sms(range(start, min(start + SMS_BATCH, messages - emails)))

        started = time.perf_counter()
        await asyncio.gather(*(mailer() for _ in range(SMTP_CONNECTIONS)), texter())
        return messages / (time.perf_counter() - started)

    async def close(self) -> None:
        await self.http.aclose()
        for smtp in self.pool:
            with contextlib.suppress(Exception):
                await smtp.quit()


def _phone(number: int) -> str:
    return f"+96279{number % 10_000_000:07d}"


def _citizens() -> list[CitizenRegistered]:
    return [CitizenRegistered(
        citizen_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-citizen-{n}"), phone=_phone(n),
        email=f"citizen{n}@example.jo", language=Language.ar,
        notice_channel=NoticeChannel.email if n % 2 else NoticeChannel.sms)
        for n in range(CITIZENS)]


class _Intake:
    """Publishes events as intake's relay would: envelopes on the topic exchange, confirmed."""

    def __init__(self, bus: RabbitMQBus, run: str) -> None:
        self.bus = bus
        self.run = run
        self.sent = 0
        self.citizens = _citizens()

    def submitted(self) -> RequestSubmitted:
        self.sent += 1
        citizen = self.citizens[self.sent % CITIZENS]
        return RequestSubmitted(
            reference=f"B{self.run}-{self.sent:07d}", kind=RequestKind.complaint, entity="MWI",
            sector="MWI", governorate="JO-AM", channel=Channel.mobile_app,
            subject="انقطاع المياه عن الحي منذ أسبوع", description="لا تصل المياه منذ أسبوع.",
            requester_id=citizen.citizen_id, submitted_at=CLOCK.now())

    def references(self, first: int, last: int) -> list[str]:
        return [f"B{self.run}-{n:07d}" for n in range(first, last + 1)]

    async def publish(self, payloads: list[EventPayload]) -> None:
        await self.bus.publish([OutgoingMessage.from_envelope(
            new_envelope(p, producer="intake", clock=CLOCK)) for p in payloads])


async def _handoffs(dsn: str, schema: str, references: list[str]
                    ) -> list[tuple[dt.datetime, dt.datetime]]:
    """(event instant, provider acceptance) of each handed-over message of these requests."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            f'SELECT created_at, submitted_at FROM "{schema}".notifications '
            "WHERE reference = ANY($1::text[]) AND submitted_at IS NOT NULL", references)
    finally:
        await connection.close()
    return [(row["created_at"], row["submitted_at"]) for row in rows]


async def _count(dsn: str, schema: str, table: str, where: str = "TRUE") -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(
            f'SELECT count(*) FROM "{schema}".{table} WHERE {where}'))
    finally:
        await connection.close()


async def _wait_for(check: Any, expected: int, limit_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:  # noqa: ASYNC110 - polling the database
        if await check() >= expected:
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@scenario("notify", description=DESCRIPTION)
async def notify(ctx: BenchContext) -> list[Result]:
    run = uuid.uuid4().hex[:6]
    namespace = f"bench-notify-{run}"
    dsn = plain_postgres_dsn(ctx.postgres_dsn)
    url = ctx.postgres_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    async with scratch_schema(ctx, "bench_notify") as schema:
        settings = DEFINITION.load_settings(database_url=url, database_schema=schema)
        await migrate_to_head(DEFINITION, settings)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
                return await _measure(ctx, Path(tmp), run, schema, namespace, url, dsn)
        finally:
            await delete_service_queues(ctx, namespace, ["notify"],
                                        retry_delays_ms=RETRY_DELAYS_MS)


async def _measure(ctx: BenchContext, tmp: Path, run: str, schema: str, namespace: str,
                   url: str, dsn: str) -> list[Result]:
    async with (
        _smtp_sink(tmp) as (smtp_port, ca_file, smtp_pid),
        uvicorn_server("simulators.sms_gateway:create_app",
                       extra_args=["--factory"],
                       env={"BKH_SMS_GATEWAY_API_KEY": API_KEY}) as gateway,
    ):
        bare = _BareProviders(smtp_port, ca_file, gateway.base_url)
        try:
            ctx.log("  bare providers: warm-up, then closed loop")
            await bare.closed_loop(ctx.pick(400, 100))
            meter = CpuMeter({"generator": os.getpid(), "sms_gateway": gateway.pid,
                              "smtp_server": smtp_pid}).start()
            bare_messages = ctx.pick(10_000, 2_000)
            bare_rate = await bare.closed_loop(bare_messages)
            bare_cpu = meter.stop()
            ctx.log(f"  bare: {bare_rate:,.0f} messages/s; open loop at {OPEN_LOOP_RATE:.0f}/s")
            counter = iter(range(10**9))

            async def bare_one() -> None:
                number = next(counter)
                if number % 2:
                    await bare.send_email(number)
                else:
                    await bare.post_sms(range(number, number + 1))

            bare_open = await open_loop(bare_one, OPEN_LOOP_RATE, ctx.pick(20.0, 6.0),
                                        ctx.pick(2.0, 1.0))
        finally:
            await bare.close()
        results = [
            Result(name="notify_bare_providers", description=BARE_DESCRIPTION,
                   mode="closed-loop",
                   figures=Figures(throughput_per_s=bare_rate, count=bare_messages, errors=0,
                                   duration_s=bare_messages / bare_rate, p50_ms=None,
                                   p90_ms=None, p99_ms=None, max_ms=None),
                   params={"smtp_connections": SMTP_CONNECTIONS, "sms_batch": SMS_BATCH,
                           "tls": "STARTTLS"},
                   extra={"cpu": bare_cpu}),
            Result.from_open_loop("notify_bare_providers_latency",
                                  "One message at a time, bare, at the same rate",
                                  bare_open),
        ]
        env = {
            "BKH_ENVIRONMENT": "test", "BKH_DATABASE_URL": url, "BKH_DATABASE_SCHEMA": schema,
            "BKH_AMQP_URL": ctx.amqp_url, "BKH_BUS_NAMESPACE": namespace,
            "BKH_LOG_LEVEL": "WARNING", "BKH_SMTP_HOST": "127.0.0.1",
            "BKH_SMTP_PORT": str(smtp_port), "BKH_SMTP_CA_FILE": str(ca_file),
            "BKH_SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
            "BKH_SMS_GATEWAY_URL": gateway.base_url, "BKH_SMS_GATEWAY_API_KEY": API_KEY,
        }
        async with uvicorn_server("services.notify.main:create_app", extra_args=["--factory"],
                                  env=env, ready_path="/readyz") as service:
            bus = RabbitMQBus(ctx.amqp_url, namespace=namespace, connection_name="bench-intake")
            await bus.start()
            try:
                results += await _notify_runs(ctx, bus, run, schema, dsn, service.pid,
                                              gateway.pid, smtp_pid)
            finally:
                await bus.close()
    return results


async def _notify_runs(ctx: BenchContext, bus: RabbitMQBus, run: str, schema: str, dsn: str,
                       notify_pid: int, gateway_pid: int, smtp_pid: int) -> list[Result]:
    intake = _Intake(bus, run)
    for start in range(0, CITIZENS, 500):
        await intake.publish(list(intake.citizens[start:start + 500]))
    await _wait_for(lambda: _count(dsn, schema, "contacts"), CITIZENS, 60)
    ctx.log("  notify: warm-up")
    warmup = ctx.pick(1_000, 200)
    await intake.publish([intake.submitted() for _ in range(warmup)])
    await _wait_for(lambda: _count(dsn, schema, "notifications", "submitted_at IS NOT NULL"),
                    warmup, 60)

    # Closed loop: a burst of events, as fast as the bench can publish them.
    burst = ctx.pick(10_000, 2_000)
    first = intake.sent + 1
    ctx.log(f"  notify: closed loop, {burst:,} events")
    meter = CpuMeter({"generator": os.getpid(), "notify": notify_pid,
                      "sms_gateway": gateway_pid, "smtp_server": smtp_pid}).start()
    for start in range(0, burst, 500):
        await intake.publish([intake.submitted() for _ in range(min(500, burst - start))])
    drain_s = await _wait_for(
        lambda: _count(dsn, schema, "notifications", "submitted_at IS NOT NULL"),
        warmup + burst, ctx.pick(120, 60))
    cpu = meter.stop()
    handed = await _handoffs(dsn, schema, intake.references(first, intake.sent))
    span_s = (max(s for _c, s in handed) - min(c for c, _s in handed)).total_seconds()
    waits = LatencySummary.of((s - c).total_seconds() for c, s in handed)
    closed = Result(
        name="notify_handoff", description=DESCRIPTION, mode="closed-loop",
        figures=Figures(throughput_per_s=len(handed) / span_s, count=len(handed),
                        errors=burst - len(handed), duration_s=span_s, p50_ms=waits.p50_ms,
                        p90_ms=waits.p90_ms, p99_ms=waits.p99_ms, max_ms=waits.max_ms),
        params={"events": burst, "smtp_connections": SMTP_CONNECTIONS,
                "sms_batch": SMS_BATCH, "citizens": CITIZENS},
        extra={"cpu": cpu, "drain_s": round(drain_s, 2)},
        notes=["throughput = messages handed to a provider per second, first event to last "
               "hand-off; latencies include the wait behind the burst"],
        targets=[Target("notifications handed over per second", 500.0, at_most=False,
                        median=len(handed) / span_s)])
    closed.baseline = "notify_bare_providers"

    # Open loop: 100 events a second, each on its own, latency from event to hand-off.
    ctx.log(f"  notify: open loop at {OPEN_LOOP_RATE:.0f} events/s")
    before = intake.sent

    async def one_event() -> None:
        await intake.publish([intake.submitted()])

    meter = CpuMeter({"generator": os.getpid(), "notify": notify_pid,
                      "sms_gateway": gateway_pid, "smtp_server": smtp_pid}).start()
    stats = await open_loop(one_event, OPEN_LOOP_RATE, ctx.pick(20.0, 6.0))
    await _wait_for(lambda: _count(dsn, schema, "notifications", "submitted_at IS NOT NULL"),
                    intake.sent, 60)
    open_cpu = meter.stop()
    references = intake.references(before + 1, intake.sent)
    latencies = [(s - c).total_seconds() for c, s in await _handoffs(dsn, schema, references)]
    latency = LatencySummary.of(latencies)
    opened = Result(
        name="notify_handoff_latency", description=DESCRIPTION, mode="open-loop",
        figures=Figures(throughput_per_s=len(latencies) / max(stats.duration_s, 1e-9),
                        count=len(latencies), errors=len(references) - len(latencies),
                        duration_s=stats.duration_s, p50_ms=latency.p50_ms,
                        p90_ms=latency.p90_ms, p99_ms=latency.p99_ms, max_ms=latency.max_ms,
                        target_rate_per_s=OPEN_LOOP_RATE,
                        achieved_rate_per_s=stats.achieved_rate_per_s,
                        late_sends=stats.late_sends),
        params={"rate_per_s": OPEN_LOOP_RATE},
        extra={"cpu": open_cpu},
        notes=["latency = the event's occurred_at → the provider's acceptance (submitted_at)"],
        targets=[] if latency.p99_ms is None else [
            Target("event → hand-off p99 (ms)", 1000.0, at_most=True, median=latency.p99_ms)])
    opened.baseline = "notify_bare_providers_latency"
    return [closed, opened]
