"""Both ways to run: over RabbitMQ (distributed), and embedded (SQLite, in-process bus, the
message folder with a masked log line); and what production refuses."""

from __future__ import annotations

import email
import json
import logging
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.notify.config import DEVELOPMENT_RECEIPT_SECRET, NotifySettings
from services.notify.main import DEFINITION
from shared.bus import OutgoingMessage
from shared.clock import SimulatedClock
from shared.events.envelope import new_envelope
from shared.events.vocabulary import NoticeChannel
from shared.runtime import Runtime, migrate_to_head
from shared.service import create_service_app
from simulators.sms_gateway import SimulatedSmsGateway
from tests.notify import factories as f
from tests.notify.conftest import (
    RECEIPT_SECRET,
    SMS_API_KEY,
    SmtpServer,
    notify_settings,
)
from tests.platform import eventually, running_platform, serve_http


async def test_over_rabbitmq_an_event_becomes_an_sms_and_an_email(
    postgres_url: str, amqp_url: str, smtp_server: SmtpServer,
) -> None:
    clock = SimulatedClock()
    gateway = SimulatedSmsGateway(api_key=SMS_API_KEY, receipt_secret=RECEIPT_SECRET,
                                  clock=clock)
    async with serve_http(gateway.app()) as gateway_url:
        settings = notify_settings(postgres_url, "unused", smtp_server, gateway_url)
        for key in ("environment", "database_url", "database_schema", "amqp_url",
                    "retry_delays_ms"):
            settings.pop(key)
        async with running_platform(postgres_url, amqp_url, services=["notify"],
                                    overrides={"notify": settings}, clock=clock) as platform:
            runtime = platform.runtime("notify")
            by_sms = f.citizen()
            by_mail = f.citizen(channel=NoticeChannel.email, email="rabbit@example.jo")
            events = [by_sms, by_mail, f.submitted(by_sms.citizen_id),
                      f.submitted(by_mail.citizen_id)]
            await runtime.bus.publish([OutgoingMessage.from_envelope(
                new_envelope(e, producer="intake", clock=clock)) for e in events])

            async def arrived() -> None:
                assert len(gateway.texts_to(by_sms.phone)) == 1
                assert len(smtp_server.to("rabbit@example.jo")) == 1
            await eventually(arrived)


async def test_embedded_messages_go_to_the_folder_and_the_log_masks_the_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    settings = DEFINITION.load_settings(
        environment="development", database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
        amqp_url="", messages_dir=tmp_path / "messages", dispatch_poll_interval_s=0.1)
    await migrate_to_head(DEFINITION, settings)
    clock = SimulatedClock()
    app = create_service_app(DEFINITION, settings, clock=clock)
    caplog.set_level(logging.INFO)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        person = f.citizen(channel=NoticeChannel.email, email="embedded@example.jo")
        request = f.submitted(person.citizen_id)
        code = f.code(person.phone, secret="551177", now=clock.now())
        await runtime.bus.publish([OutgoingMessage.from_envelope(
            new_envelope(e, producer="intake", clock=clock)) for e in (person, request, code)])

        async def written() -> list[Path]:
            files = sorted((tmp_path / "messages").glob("*"))
            assert len(files) == 2
            return files
        files = await eventually(written)
    email_file = next(p for p in files if p.suffix == ".eml")
    sms_file = next(p for p in files if p.suffix == ".txt")
    mail = email.message_from_bytes(email_file.read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert request.reference in plain.get_content()
    assert "551177" in sms_file.read_text()  # the developer reads the code here
    assert "embedded@example.jo" not in caplog.text
    assert person.phone not in caplog.text
    assert "551177" not in caplog.text
    logged = [r for r in caplog.records if r.getMessage().startswith("message written")]
    assert {vars(r)["to"] for r in logged} == {"e***@example.jo",
                                               f"{person.phone[:4]}•••{person.phone[-2:]}"}


def test_production_refuses_the_folder_development_secrets_and_plain_transports() -> None:
    with pytest.raises(ValueError, match="production settings refused") as refused:
        NotifySettings(service_name="notify", environment="production",
                       database_url="postgresql+asyncpg://db/bkh", amqp_url="amqp://mq/",
                       jwt_public_keys_file=Path("/etc/bkh/jwks.json"))
    message = str(refused.value)
    for expected in ("BKH_LINK_SECRET", "BKH_PUBLIC_BASE_URL", "BKH_SMTP_HOST",
                     "BKH_SMS_GATEWAY_URL", "BKH_SMS_GATEWAY_API_KEY",
                     "BKH_SMS_RECEIPT_SECRET"):
        assert expected in message
    ready = NotifySettings(
        service_name="notify", environment="production",
        database_url="postgresql+asyncpg://db/bkh", amqp_url="amqp://mq/",
        jwt_public_keys_file=Path("/etc/bkh/jwks.json"), link_secret="l" * 40,
        public_base_url="https://bekhedmetkom.gov.jo", smtp_host="relay.gov.jo",
        sms_gateway_url="https://sms.operator.jo/api", sms_gateway_api_key="k" * 20,
        sms_receipt_secret="r" * 40)
    assert ready.smtp_starttls
    assert ready.sms_receipt_secret.get_secret_value() != DEVELOPMENT_RECEIPT_SECRET
    assert "r" * 40 not in repr(ready)
    assert json.dumps(ready.model_dump(mode="json")).count("r" * 40) == 0
