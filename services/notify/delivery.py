"""Where a message's delivery stands, and every move it makes: the delivery state machine.

    queued ──accepted──▶ submitted ──receipt: delivered──▶ delivered
      │  ▲                    └─────receipt: undeliverable/expired──▶ failed
      │  └──retry / unavailable (backoff with jitter)
      ├──refused, expired, recipient deactivated ──▶ failed
      └──attempts used up ──▶ dead_lettered ──(CMU: retry)──▶ queued

Each move is one guarded update in a short transaction of its own, with its event
(`notification.sent` / `notification.failed`) written to the outbox in that same transaction.
States only move forward: a receipt that arrives before the sender recorded its hand-off wins.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import repository
from services.notify.models import DeliveryStatus
from services.notify.providers import Outcome, Result
from services.notify.repository import AnyRow
from shared.bus import Outbox
from shared.events.catalog import NotificationFailed, NotificationSent
from shared.events.envelope import EventPayload
from shared.events.vocabulary import NoticeChannel

FailedStatus = Literal["rejected", "undeliverable", "expired"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float

    def delay(self, attempt: int) -> timedelta:
        """Exponential in the attempt, capped, with "equal jitter": between half and all of it,
        so that messages failed together do not all come back together."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True, slots=True)
class Move:
    """One message's next state, decided by the dispatcher or by a receipt."""

    notification_id: uuid.UUID
    result: Result | Literal["delivered", "undeliverable", "expired"]
    reason_code: str | None = None
    provider_message_id: str | None = None


def _sent(row: AnyRow, status: Literal["accepted", "delivered"]) -> NotificationSent:
    return NotificationSent(notification_id=row.id, source_event_id=row.source_event_id,
                            channel=NoticeChannel(row.channel), template=row.kind,
                            status=status, attempts=max(row.attempts, 1))


def _failed(row: AnyRow, status: FailedStatus, reason: str) -> NotificationFailed:
    return NotificationFailed(notification_id=row.id, source_event_id=row.source_event_id,
                              channel=NoticeChannel(row.channel), template=row.kind,
                              status=status, reason_code=reason, attempts=max(row.attempts, 1))


async def apply(
    session: AsyncSession, outbox: Outbox, moves: Sequence[Move], *, now: datetime,
    policy: RetryPolicy, movable: Iterable[DeliveryStatus] = (DeliveryStatus.queued,),
) -> dict[uuid.UUID, DeliveryStatus]:
    """Apply the moves of messages still in a `movable` state; returns the new states."""
    rows = await repository.lock_notifications(session, (m.notification_id for m in moves))
    allowed = {DeliveryStatus(s) for s in movable}
    changes: list[dict[str, Any]] = []
    events: list[tuple[str | None, EventPayload]] = []
    moved: dict[uuid.UUID, DeliveryStatus] = {}
    for move in moves:
        row = rows.get(move.notification_id)
        if row is None or DeliveryStatus(row.status) not in allowed:
            continue  # already further along (a receipt came first), or unknown
        change: dict[str, Any] = {"id": row.id, "lease_until": None,
                                  "reason_code": move.reason_code}
        reason = move.reason_code or "unspecified"
        match move.result:
            case Result.accepted:
                change.update(status=DeliveryStatus.submitted, submitted_at=now,
                              provider_message_id=move.provider_message_id)
                events.append((row.reference, _sent(row, "accepted")))
            case "delivered":
                change.update(status=DeliveryStatus.delivered, delivered_at=now)
                events.append((row.reference, _sent(row, "delivered")))
            case Result.refused | "undeliverable" | "expired":
                status: FailedStatus = ("rejected" if move.result is Result.refused
                                        else "expired" if move.result == "expired"
                                        else "undeliverable")
                change.update(status=DeliveryStatus.failed, failed_at=now)
                events.append((row.reference, _failed(row, status, reason)))
            case Result.retry | Result.unavailable if row.attempts >= policy.max_attempts:
                change.update(status=DeliveryStatus.dead_lettered, failed_at=now)
                events.append((row.reference, _failed(row, "undeliverable", reason)))
            case Result.retry | Result.unavailable:
                change.update(status=DeliveryStatus.queued,
                              next_attempt_at=now + policy.delay(row.attempts))
        changes.append(change)
        moved[row.id] = DeliveryStatus(change["status"])
    await repository.apply_changes(session, changes)
    # The request's reference correlates each event, as it does every event about a request.
    await outbox.add_each(session, [(payload, reference) for reference, payload in events])
    return moved


def is_final(status: DeliveryStatus) -> bool:
    return status in (DeliveryStatus.delivered, DeliveryStatus.failed,
                      DeliveryStatus.dead_lettered)


def moves_from(outcomes: Iterable[Outcome]) -> list[Move]:
    return [Move(o.notification_id, o.result, o.reason_code, o.provider_message_id)
            for o in outcomes]
