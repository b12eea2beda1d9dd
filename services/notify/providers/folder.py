"""The development stand-in for both providers: each message becomes a file, and a log line.

`make run` has no SMTP relay and no SMS gateway: messages are written to `messages_dir`
(`var/embedded/messages/` by default), an email as the `.eml` file a relay would have received,
an SMS as a `.txt` file, so a developer can read the code that registration just sent. The log
line says that a message was written and to whom, masked; never what it says.

Production refuses it (`NotifySettings.production_problems`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from services.notify.providers import Outcome, OutgoingMessage, mask_address
from services.notify.providers.smtp import build_email
from shared.clock import Clock
from shared.events.vocabulary import NoticeChannel

log = logging.getLogger(__name__)


class FolderProvider:
    def __init__(self, directory: Path, channel: NoticeChannel, *, sender: str,
                 clock: Clock) -> None:
        self.name = f"folder_{channel.value}"
        self.channel = channel
        self._directory = directory
        self._sender = sender
        self._clock = clock

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]:
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%S")
        files = {}
        for message in messages:
            if message.channel is NoticeChannel.email:
                content = build_email(message, sender=self._sender, clock=self._clock)
                name = f"{stamp}-email-{message.notification_id}.eml"
            else:
                content = f"To: {message.address}\n\n{message.text}\n".encode()
                name = f"{stamp}-sms-{message.notification_id}.txt"
            files[name] = content
        await asyncio.to_thread(self._write, files)
        for message in messages:
            log.info("message written to the development folder", extra={
                "notification_id": str(message.notification_id),
                "channel": message.channel.value, "to": mask_address(message.address)})
        return [Outcome.accepted(m.notification_id, f"folder:{m.notification_id}")
                for m in messages]

    def _write(self, files: dict[str, bytes]) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (self._directory / name).write_bytes(content)

    async def close(self) -> None:
        return None
