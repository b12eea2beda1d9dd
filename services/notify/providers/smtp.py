"""Email over SMTP with aiosmtplib: STARTTLS (or implicit TLS) and authentication.

A small pool of open connections (`smtp_connections`, shared by every batch in flight): each
one authenticates once and then carries message after message, so a message costs three round
trips rather than a whole session. A reply
in 5xx refuses the message for good; 4xx asks to try again; a broken connection, a timeout or
a refused login means the relay itself is unavailable (the circuit breaker counts it).

Each message carries `Message-ID: <notification id@domain>`: a resend after a crash between the
relay's acceptance and our record of it is recognisably the same message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Iterator, Sequence
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from services.notify.config import NotifySettings
from services.notify.providers import Outcome, OutgoingMessage, Result
from shared.clock import Clock
from shared.events.vocabulary import NoticeChannel


@functools.cache
def _from_header(sender: str) -> tuple[str, str]:
    """(the From header, the bare address) of the configured sender; encoded once."""
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8"), address


def build_email(message: OutgoingMessage, *, sender: str, clock: Clock) -> bytes:
    """The MIME message, ready for DATA: a plain-text part and an HTML alternative, UTF-8.

    Built with the `email.mime` classes rather than `EmailMessage`: the modern header registry
    parses and refolds every header and costs several times more, which at hundreds of
    messages a second is most of a core. Addresses come from the contact book (validated, no
    whitespace) and subjects are one line, so no header can be injected.
    """
    from_header, address = _from_header(sender)
    email = MIMEMultipart("alternative")
    email["From"] = from_header
    email["To"] = message.address
    email["Subject"] = Header(message.subject, "utf-8").encode()
    email["Date"] = format_datetime(clock.now())
    email["Message-ID"] = f"<{message.notification_id}@{address.rpartition('@')[2]}>"
    email["Content-Language"] = message.language.value
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots stay quiet
    email.attach(MIMEText(message.text, "plain", "utf-8"))
    email.attach(MIMEText(message.html, "html", "utf-8"))
    return email.as_bytes(policy=_WIRE)


_WIRE = compat32.clone(linesep="\r\n")


class SmtpProvider:
    name = "smtp"
    channel = NoticeChannel.email

    def __init__(self, settings: NotifySettings, *, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._sender = parseaddr(settings.smtp_sender)[1]
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_connections)
        self._tls: ssl.SSLContext | None = None
        if settings.smtp_ca_file is not None:
            self._tls = ssl.create_default_context(cafile=str(settings.smtp_ca_file))

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
        s = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, timeout=s.smtp_timeout_s,
            use_tls=s.smtp_implicit_tls, start_tls=s.smtp_starttls and not s.smtp_implicit_tls,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() or None,
            tls_context=self._tls,
        )
        await smtp.connect()
        return smtp

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]:
        """Up to `smtp_connections` connections (across every batch in flight) share the work."""
        pending = iter(messages)
        lanes = min(self._settings.smtp_connections, len(messages))
        results = await asyncio.gather(*(self._carry(pending) for _ in range(lanes)))
        return [outcome for result in results for outcome in result]

    async def _carry(self, pending: Iterator[OutgoingMessage]) -> list[Outcome]:
        async with self._slots:
            outcomes: list[Outcome] = []
            try:
                smtp = await self._connection()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return [Outcome(m.notification_id, Result.unavailable, _reason(exc))
                        for m in pending]
            for message in pending:
                outcome = await self._send_one(smtp, message)
                outcomes.append(outcome)
                if outcome.result is Result.unavailable:
                    # The connection (or our standing with the relay) is gone: so is the rest.
                    outcomes += [Outcome(m.notification_id, Result.unavailable,
                                         outcome.reason_code) for m in pending]
                    with contextlib.suppress(Exception):
                        smtp.close()
                    return outcomes
            self._idle.append(smtp)
            return outcomes

    async def _send_one(self, smtp: aiosmtplib.SMTP, message: OutgoingMessage) -> Outcome:
        email = build_email(message, sender=self._settings.smtp_sender, clock=self._clock)
        try:
            await smtp.sendmail(self._sender, [message.address], email)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = exc.recipients[0].code if exc.recipients else 550
            return _by_code(message, code, "recipient_refused")
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPSenderRefused,
                OSError, TimeoutError) as exc:
            return Outcome(message.notification_id, Result.unavailable, _reason(exc))
        except aiosmtplib.SMTPResponseException as exc:
            return _by_code(message, exc.code, "message_refused")
        return Outcome.accepted(message.notification_id, f"<{message.notification_id}>")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(smtp.quit(), self._settings.smtp_timeout_s)


def _by_code(message: OutgoingMessage, code: int, refused: str) -> Outcome:
    # SMTP's own rule: 5xx is permanent, 4xx transient.
    if code >= 500:
        return Outcome(message.notification_id, Result.refused, f"smtp_{refused}_{code}")
    return Outcome(message.notification_id, Result.retry, f"smtp_deferred_{code}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
        return "smtp_timeout"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "smtp_auth_failed"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "smtp_sender_refused"
    return "smtp_unavailable"
