"""Each request's audit trail: append-only entries, each chained to the one before by SHA-256.

An entry's hash covers the previous entry's hash and every field of its own (reference,
sequence number, instant, actor, role, channel, action, statuses, details as stored), so
changing, removing or reordering any entry breaks every hash after it; the case row keeps the
chain's head (`audit_seq`, `audit_head`), so cutting off the newest entries shows too.

The database refuses UPDATE and DELETE on `audit_entries` (triggers from the migration); the
chain is what still tells when someone with the power to bypass them did it anyway.

What it must never do: hash anything but the stored spelling of a field (verification
recomputes from what is stored), or let two entries share a sequence number.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from services.routing.directory.service import canonical_json
from services.routing.models import AuditEntry

GENESIS: Final = "0" * 64
"""The `prev_hash` of a request's first entry."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it, and through which door: a person (`id`, role) or the platform's rules."""

    id: uuid.UUID | None
    role: str
    channel: str


PLATFORM: Final = Actor(id=None, role="system", channel="routing")
SLA: Final = Actor(id=None, role="system", channel="sla")


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *, prev_hash: str, reference: str, seq: int, occurred_at: datetime,
    actor_id: uuid.UUID | None, actor_role: str, channel: str, action: str,
    from_status: str | None, to_status: str | None, details: str,
) -> str:
    material = canonical_json([
        reference, seq, _instant(occurred_at), str(actor_id) if actor_id else None, actor_role,
        channel, action, from_status, to_status, details,
    ])
    return hashlib.sha256(f"{prev_hash}\n{material}".encode()).hexdigest()


def entry_row(
    *, reference: str, seq: int, prev_hash: str, at: datetime, actor: Actor, action: str,
    from_status: str | None, to_status: str | None, details: Mapping[str, Any],
) -> dict[str, Any]:
    """The columns of the next entry of a chain (`seq` and `prev_hash` from its head): a plain
    row for bulk inserts."""
    stored_details = canonical_json(details)
    return {
        "reference": reference, "seq": seq, "occurred_at": at, "actor_id": actor.id,
        "actor_role": actor.role, "channel": actor.channel, "action": action,
        "from_status": from_status, "to_status": to_status, "details": stored_details,
        "prev_hash": prev_hash,
        "hash": entry_hash(prev_hash=prev_hash, reference=reference, seq=seq, occurred_at=at,
                           actor_id=actor.id, actor_role=actor.role, channel=actor.channel,
                           action=action, from_status=from_status, to_status=to_status,
                           details=stored_details),
    }


def entry(**fields: Any) -> AuditEntry:
    """The next entry of a chain as a mapped object (see `entry_row` for the fields)."""
    return AuditEntry(**entry_row(**fields))


@dataclass(frozen=True, slots=True)
class Verification:
    intact: bool
    entries: int
    broken_at: int | None = None  # the first sequence number that does not hold
    reason: str | None = None


def verify(entries: Sequence[AuditEntry], *, head_seq: int, head_hash: str) -> Verification:
    """Recompute the chain from the stored entries (in sequence order) against its head."""
    prev = GENESIS
    for expected_seq, stored in enumerate(entries, start=1):
        if stored.seq != expected_seq:
            return Verification(False, len(entries), expected_seq, "an entry is missing")
        if stored.prev_hash != prev:
            return Verification(False, len(entries), stored.seq, "the link to the previous "
                                "entry does not match")
        recomputed = entry_hash(
            prev_hash=stored.prev_hash, reference=stored.reference, seq=stored.seq,
            occurred_at=stored.occurred_at, actor_id=stored.actor_id,
            actor_role=stored.actor_role, channel=stored.channel, action=stored.action,
            from_status=stored.from_status, to_status=stored.to_status, details=stored.details,
        )
        if recomputed != stored.hash:
            return Verification(False, len(entries), stored.seq, "the entry was changed")
        prev = stored.hash
    if len(entries) != head_seq or prev != head_hash:
        return Verification(False, len(entries), len(entries) + 1,
                            "entries are missing at the end")
    return Verification(True, len(entries))
