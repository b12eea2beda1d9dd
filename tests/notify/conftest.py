"""Real parts for notify's tests: an SMTP server (aiosmtpd, STARTTLS and AUTH required), the SMS
gateway simulator on a free port, and the notify service itself on PostgreSQL.

`notify` gives a running notify service (migrated schema, dispatcher running, the in-process
bus) wired to both; tests publish events into its bus as the other services would, and read
what reached the SMTP server and the gateway. `tests/notify/test_on_rabbitmq.py` runs the same
path over RabbitMQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from sqlalchemy import select

from services.notify.main import DEFINITION
from services.notify.models import notifications
from services.notify.repository import AnyRow
from shared.auth import TokenIssuer, load_keys
from shared.bus import Delivery, OutgoingMessage
from shared.clock import SimulatedClock
from shared.events.envelope import Envelope as EventEnvelope
from shared.events.envelope import EventPayload, decode_envelope, new_envelope
from shared.events.vocabulary import Role
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from shared.settings import BaseServiceSettings
from simulators.sms_gateway import SimulatedSmsGateway
from tests.platform import eventually, serve_http

SMTP_USER = "notify"
SMTP_PASSWORD = "relay-password-for-tests"
SMS_API_KEY = "gateway-key-for-tests"
RECEIPT_SECRET = "receipt-secret-for-tests-0123456789abcdef"



# --- SMTP ---------------------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class SmtpServer:
    """A real SMTP server: STARTTLS before AUTH, AUTH before mail; keeps what it receives."""

    host: str
    port: int
    ca_file: Path
    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)   # 550 for these recipients
    defer: set[str] = field(default_factory=set)    # 451 for these recipients
    logins: int = 0

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        if address in self.defer:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                     mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
              and auth_data.password == SMTP_PASSWORD.encode())
        self.logins += ok
        return AuthResult(success=ok)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
async def smtp_server(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    state = SmtpServer("127.0.0.1", 0, cert)
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(state, tls_context=tls, require_starttls=True, auth_required=True,
                     authenticator=state.authenticate, hostname="smtp.test"),
        "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


# --- the notify service -----------------------------------------------------------------------


@dataclass
class Notify:
    app: FastAPI
    client: httpx.AsyncClient
    clock: SimulatedClock
    gateway: SimulatedSmsGateway
    smtp: SmtpServer
    issuer: TokenIssuer
    published: list[EventEnvelope] = field(default_factory=list)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def publish(self, payload: EventPayload, *, correlation_id: str | None = None,
                      producer: str = "tests") -> EventEnvelope:
        envelope = new_envelope(payload, producer=producer, clock=self.clock,
                                correlation_id=correlation_id)
        await self.runtime.bus.publish([OutgoingMessage.from_envelope(envelope)])
        return envelope

    async def rows(self, **where: Any) -> list[AnyRow]:
        query = select(notifications).order_by(notifications.c.created_at)
        for column, value in where.items():
            query = query.where(notifications.c[column] == value)
        async with self.runtime.sessionmaker() as session:
            return list((await session.execute(query)).all())

    async def events(self, event_type: str, count: int) -> list[dict[str, Any]]:
        """Payloads of the events of `event_type` notify published, once there are `count`."""
        async def published() -> list[dict[str, Any]]:
            payloads = [e.payload for e in self.published if e.type == event_type]
            assert len(payloads) == count
            return payloads
        return await eventually(published)

    def auth(self, role: Role, subject: uuid.UUID | str | None = None,
             **scope: Iterable[str]) -> dict[str, str]:
        token = self.issuer.issue(str(subject or uuid.uuid4()), role,
                                  entity_ids=scope.get("entities", ()),
                                  sector_ids=scope.get("sectors", ()))
        return {"Authorization": f"Bearer {token}"}


def notify_settings(postgres_url: str, schema: str, smtp: SmtpServer, gateway_url: str,
                    **overrides: Any) -> dict[str, Any]:
    return {
        "environment": "test", "database_url": postgres_url, "database_schema": schema,
        "amqp_url": "", "smtp_host": smtp.host, "smtp_port": smtp.port,
        "smtp_ca_file": smtp.ca_file, "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD, "smtp_timeout_s": 5,
        "sms_gateway_url": gateway_url, "sms_gateway_api_key": SMS_API_KEY,
        "sms_receipt_secret": RECEIPT_SECRET, "sms_timeout_s": 2,
        "public_base_url": "https://bekhedmetkom.test",
        "retry_base_s": 0.05, "retry_cap_s": 0.2, "retry_max_attempts": 3,
        "breaker_failure_threshold": 2, "breaker_open_s": 0.5,
        "dispatch_poll_interval_s": 0.1, "digest_check_interval_s": 0.1,
        "retry_delays_ms": (100, 300),
        **overrides,
    }


@contextlib.asynccontextmanager
async def running_notify(
    postgres_url: str, schema: str, smtp: SmtpServer, *, clock: SimulatedClock | None = None,
    settings: Mapping[str, Any] | None = None,
) -> AsyncIterator[Notify]:
    clock = clock or SimulatedClock()
    gateway = SimulatedSmsGateway(api_key=SMS_API_KEY, receipt_secret=RECEIPT_SECRET,
                                  clock=clock)
    async with serve_http(gateway.app()) as gateway_url:
        values = notify_settings(postgres_url, schema, smtp, gateway_url, **(settings or {}))
        definition_settings = DEFINITION.load_settings(**values)
        await migrate_to_head(DEFINITION, definition_settings)
        app = create_service_app(DEFINITION, definition_settings, clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
                gateway.receipt_transport = transport
                gateway.receipt_url = "http://notify/api/v1/notifications/sms/receipts"
                keys_settings = BaseServiceSettings(service_name="tests")
                _keys, signing = load_keys(keys_settings)
                assert signing is not None
                issuer = TokenIssuer(signing, issuer=keys_settings.jwt_issuer,
                                     audience=keys_settings.jwt_audience)
                service = Notify(app, client, clock, gateway, smtp, issuer)

                async def record(delivery: Delivery) -> None:
                    service.published.append(decode_envelope(delivery.body))
                    await delivery.ack()

                await service.runtime.bus.subscribe("tests.notify.published", ["notification.#"],
                                                    record, prefetch=10_000)
                yield service


@pytest.fixture
async def notify(postgres_url: str, pg_schema: str, smtp_server: SmtpServer
                 ) -> AsyncIterator[Notify]:
    async with running_notify(postgres_url, pg_schema, smtp_server) as service:
        yield service
