"""Idempotency keys: a creating POST sent twice has its effect once and gets the same answer.

Every POST that creates something requires an `Idempotency-Key` header (the IETF draft "The
Idempotency-Key HTTP Header Field"). The key is claimed in the route's own transaction, so the
claim, the effect (rows and outbox events) and the stored answer commit together or not at all:

- a new key runs the route and stores its answer;
- the same key with the same request replays the stored answer (`Idempotent-Replayed: true`);
- the same key with another request (other body or other path) is refused with 422;
- a repeat that arrives while the first is still running waits for it (PostgreSQL holds the
  claimed row's lock until the first commits) and then replays it;
- a route that fails (a problem, a crash) leaves no claim behind: the retry runs afresh.

Writes grouped into one transaction (`shared.group_commit`) claim their keys together with
`claim_answered`, each stored at once with its answer, and replay the others with `replay`.

A service that takes creating POSTs adds `idempotency_table(metadata)` to its models and calls
`create_idempotency_keys_v1()` in a migration. Keys are kept `RETENTION` long; the service's
runtime purges older ones.

What it must never do: let one caller replay another's answer (keys are scoped by owner: the
token's subject, or the anonymous scope for sign-up style routes), or store a request body.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final, TypeVar

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock
from shared.errors import Problem, Text

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
RETENTION: Final = timedelta(hours=24)
ANONYMOUS: Final = "anonymous"
KEY_PATTERN: Final = r"[\x21-\x7e]{8,255}"  # visible ASCII: UUIDs, ULIDs, random strings
_KEY: Final = re.compile(KEY_PATTERN)

Result = TypeVar("Result", bound=BaseModel)


class IdempotencyKeyMissing(Problem):
    status = 400
    code = "idempotency-key-missing"
    title = Text("ترويسة Idempotency-Key مطلوبة", "The Idempotency-Key header is required")
    detail_text = Text(
        "أرسل مفتاحاً فريداً (مثل UUID) في ترويسة Idempotency-Key لكل عملية إنشاء، وأعد "
        "استخدامه عند إعادة المحاولة.",
        "Send a unique key (such as a UUID) in the Idempotency-Key header of every creating "
        "request, and reuse it when you retry.",
    )


class IdempotencyKeyInvalid(Problem):
    status = 400
    code = "idempotency-key-invalid"
    title = Text("ترويسة Idempotency-Key غير صالحة", "The Idempotency-Key header is not valid")
    detail_text = Text(
        "المفتاح من 8 إلى 255 حرفاً لاتينياً مرئياً.",
        "A key is 8 to 255 visible ASCII characters.",
    )


class IdempotencyKeyReused(Problem):
    status = 422
    code = "idempotency-key-reused"
    title = Text(
        "استُخدم مفتاح Idempotency-Key هذا لطلب آخر",
        "This Idempotency-Key was used for a different request",
    )


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("owner", String(160), nullable=False),
        Column("key", String(255), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("response", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("owner", "key"),
        Index(None, "created_at"),
    )


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """The key of this request, ready to guard the route's effect."""

    value: str
    path: str
    table: Table
    clock: Clock

    async def once(
        self,
        session: AsyncSession,
        *,
        owner: str,
        request: BaseModel | bytes | str,
        response: Response,
        result_type: type[Result],
        create: Callable[[], Awaitable[Result]],
        status_code: int = 201,
    ) -> Result:
        """Run `create` once for this (owner, key); replay its result for an exact repeat."""
        claim = self.claim(owner, request)
        if not await self._claim(session, claim):
            replayed = await self.replay(session, claim, response=response,
                                         result_type=result_type)
            if replayed is None:  # claimed, then purged as expired in between
                raise IdempotencyKeyReused()
            return replayed
        result = await create()
        await session.execute(
            _statements(self.table, _dialect_of(session)).store,
            {"b_owner": owner, "b_key": self.value, "status_code": status_code,
             "response": result.model_dump_json().encode()},
        )
        return result

    def claim(self, owner: str, request: BaseModel | bytes | str) -> KeyClaim:
        """This key for `owner`'s `request`, to claim (here, or with `claim_answered`)."""
        if isinstance(request, BaseModel):
            body = request.model_dump_json().encode()
        elif isinstance(request, str):
            body = request.encode()
        else:
            body = request
        fingerprint = hashlib.sha256(self.path.encode() + b"\n" + body).hexdigest()
        return KeyClaim(owner=owner, key=self.value, fingerprint=fingerprint)

    async def replay(
        self, session: AsyncSession, claim: KeyClaim, *, response: Response,
        result_type: type[Result],
    ) -> Result | None:
        """The answer stored for this key, None when it was never claimed; 422 when it was
        claimed for another request."""
        stored = (
            await session.execute(
                select(self.table.c.fingerprint, self.table.c.status_code, self.table.c.response)
                .where(self.table.c.owner == claim.owner, self.table.c.key == claim.key)
            )
        ).one_or_none()
        if stored is None:
            return None
        if stored.fingerprint != claim.fingerprint or stored.response is None:
            raise IdempotencyKeyReused()
        response.status_code = stored.status_code
        response.headers[REPLAYED_HEADER] = "true"
        return result_type.model_validate_json(stored.response)

    async def _claim(self, session: AsyncSession, claim: KeyClaim) -> bool:
        claimed = await session.execute(
            _statements(self.table, _dialect_of(session)).claim,
            {"owner": claim.owner, "key": claim.key, "fingerprint": claim.fingerprint,
             "created_at": self.clock.now()},
        )
        return claimed.first() is not None


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """An Idempotency-Key as its owner sent it, with the fingerprint of the request it came on."""

    owner: str
    key: str
    fingerprint: str


async def claim_answered(
    session: AsyncSession, table: Table, answers: Sequence[tuple[KeyClaim, BaseModel]], *,
    now: datetime, status_code: int = 201,
) -> set[tuple[str, str]]:
    """Claim many keys in one statement, each stored at once with its answer (for writes grouped
    by `shared.group_commit`, whose answers are known before their rows are written). Returns
    the (owner, key) pairs claimed here: write their effects in the same transaction. A pair
    repeated in `answers` is claimed by its first occurrence only. The others were claimed
    before: once this transaction has committed, answer them with `IdempotencyKey.replay`."""
    if not answers:
        return set()
    claimed = await session.execute(
        _statements(table, _dialect_of(session)).claim,
        [
            {"owner": claim.owner, "key": claim.key, "fingerprint": claim.fingerprint,
             "status_code": status_code, "response": answer.model_dump_json().encode(),
             "created_at": now}
            for claim, answer in answers
        ],
    )
    return {(row.owner, row.key) for row in claimed}


@dataclass(frozen=True, slots=True)
class _Statements:
    claim: Any  # one key, or many with their answers: the pairs it claimed come back
    store: Any


def _dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@cache
def _statements(table: Table, dialect_name: str) -> _Statements:
    """Built once per table: values are bound at execution, so SQLAlchemy's compiled cache
    serves every request instead of keying a new statement each time."""
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    return _Statements(
        claim=dialect.insert(table).on_conflict_do_nothing().returning(table.c.owner, table.c.key),
        store=update(table)
        .where(table.c.owner == bindparam("b_owner"), table.c.key == bindparam("b_key"))
        .values(status_code=bindparam("status_code"), response=bindparam("response")),
    )


async def purge_expired_keys(session: AsyncSession, table: Table, *, now: datetime) -> int:
    result = await session.execute(delete(table).where(table.c.created_at < now - RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)


def key_from_header(value: str | None, *, path: str, table: Table, clock: Clock
                    ) -> IdempotencyKey:
    """The key a request sent, checked: missing or malformed is refused (400). The service's
    routes get it through `shared.dependencies.IdempotencyKeyDep`."""
    if value is None:
        raise IdempotencyKeyMissing(IdempotencyKeyMissing.detail_text)
    if not _KEY.fullmatch(value):
        raise IdempotencyKeyInvalid(IdempotencyKeyInvalid.detail_text)
    return IdempotencyKey(value=value, path=path, table=table, clock=clock)
