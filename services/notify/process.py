"""What this process alone holds: one-time codes waiting for their SMS, and its dispatchers' wake.

A one-time code must reach the citizen but must never be stored or logged. So the consumer that
receives `citizen.code_requested` stores the notification without its code, marks this process
as its holder, and leaves the code here, in memory, until the process's own dispatcher sends it
(`CODES.take`). If the process dies first, the code dies with it: the notification expires at
the code's expiry and the citizen asks for a new one.

Consumers commit notifications; the dispatchers of this process are woken the moment such a
commit lands (`wake_dispatchers_after_commit`), so a message waits for no poll interval.

Process-wide by design, not by convenience: several notify apps in one process (tests) share it
harmlessly, since notification ids are unique and waking a dispatcher early costs one query.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

HOLDER: Final = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_WAKE_AFTER_COMMIT: Final = "bkh_notify_wake"


class CodeVault:
    """Codes by notification id, each until its expiry; never written anywhere."""

    def __init__(self) -> None:
        self._codes: dict[uuid.UUID, tuple[str, datetime]] = {}

    def put(self, notification_id: uuid.UUID, code: str, *, expires_at: datetime) -> None:
        self._codes[notification_id] = (code, expires_at)

    def take(self, notification_id: uuid.UUID) -> str | None:
        entry = self._codes.pop(notification_id, None)
        return entry[0] if entry else None

    def give_back(self, notification_id: uuid.UUID, code: str, *, expires_at: datetime) -> None:
        """A failed attempt keeps the code for the next one."""
        self.put(notification_id, code, expires_at=expires_at)

    def forget_expired(self, now: datetime) -> None:
        for notification_id in [k for k, (_, expiry) in self._codes.items() if expiry <= now]:
            del self._codes[notification_id]

    def __repr__(self) -> str:  # never the codes, even in a debugger's or a traceback's view
        return f"CodeVault({len(self._codes)} codes)"


CODES: Final = CodeVault()
_dispatchers: set[Callable[[], None]] = set()


def register_dispatcher(wake: Callable[[], None]) -> None:
    _dispatchers.add(wake)


def unregister_dispatcher(wake: Callable[[], None]) -> None:
    _dispatchers.discard(wake)


def wake_dispatchers_after_commit(session: AsyncSession) -> None:
    session.sync_session.info[_WAKE_AFTER_COMMIT] = True


def wake_dispatchers() -> None:
    for wake in list(_dispatchers):
        wake()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE_AFTER_COMMIT, False):
        wake_dispatchers()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_AFTER_COMMIT, None)
