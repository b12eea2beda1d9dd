"""Database engines and sessions: PostgreSQL through asyncpg (distributed), SQLite (embedded).

Each service owns one PostgreSQL schema and reaches it through `search_path`, so models and
migrations carry no schema name and the same code runs on SQLite, where each service has its
own file. The caller that opens a transaction owns it (`async with sessionmaker.begin()`);
services and repositories never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import asyncpg
from sqlalchemy import DateTime, Dialect, Integer, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import BigInteger

# Constraint names that alembic can diff and ops can read.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntegerPK = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on both backends (SQLite would hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: take the time from the Clock")
        value = value.astimezone(UTC)
        # SQLite keeps text: one offset-free spelling keeps its ordering chronological.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = value
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def service_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, schema: str, application_name: str, pool_size: int = 10, **kwargs: Any
) -> AsyncEngine:
    """An engine bound to one service's schema (PostgreSQL) or file (SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: for asyncpg it is BEGIN, a ping and ROLLBACK before every transaction,
        # three round trips that cost a tenth of a request's CPU. A connection found dead in
        # use invalidates the whole pool instead (SQLAlchemy's default), so after a database
        # restart the operations in flight fail once (HTTP 503, a consumer waits and retries)
        # and the next ones get fresh connections.
        pool_recycle=1800,
        # A database error's text must not quote the row it failed on (personal data in logs).
        hide_parameters=True,
        connect_args={
            "server_settings": {"search_path": schema, "application_name": application_name}
        },
        **kwargs,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while the relay or a consumer writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    """Create the service's schema (PostgreSQL only); migrations then fill it."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


# What PostgreSQL says while it cannot serve: starting up or shutting down (57P03), stopped by
# an operator or a crash (57P01, 57P02), out of connections (53300), a connection lost (08xxx).
# SQLAlchemy wraps them in a bare `DBAPIError` (only a connection it sees closed counts as a
# disconnect), so they are recognised by what they wrap.
_POSTGRES_AWAY: Final = (
    asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError, asyncpg.PostgresConnectionError,
)
_AWAY: Final = (OperationalError, InterfaceError, PoolTimeout, ConnectionError, TimeoutError,
                *_POSTGRES_AWAY)


def is_infrastructure_failure(exc: BaseException) -> bool:
    """The database or the network failed, not the caller: the same thing later will work."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _AWAY) or (isinstance(cause, DBAPIError)
                                        and cause.connection_invalidated):
            return True
        wrapped = cause.orig if isinstance(cause, DBAPIError) else None
        cause = wrapped if isinstance(wrapped, BaseException) else cause.__cause__
    return False


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
