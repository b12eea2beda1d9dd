"""A creating POST repeated with the same Idempotency-Key has its effect once (real PostgreSQL).

A tiny service with one creating route stands in for the real ones; every service that takes
creating POSTs uses the same `shared.idempotency` and is tested for it at its own routes too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel
from sqlalchemy import Column, String, Table, Uuid, func, select

from shared.auth import TokenIssuer, load_keys
from shared.bus import inbox_table, outbox_table
from shared.clock import SimulatedClock
from shared.db import service_metadata
from shared.dependencies import IdempotencyKeyDep, PrincipalDep, SessionDep
from shared.errors import Conflict
from shared.events.vocabulary import Role
from shared.idempotency import ANONYMOUS, RETENTION, idempotency_table, purge_expired_keys
from shared.runtime import Runtime, ServiceDefinition
from shared.service import create_service_app
from shared.settings import BaseServiceSettings

metadata = service_metadata()
outbox_table(metadata)
inbox_table(metadata)
keys = idempotency_table(metadata)
things = Table(
    "things", metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(50), nullable=False),
)


class NewThing(BaseModel):
    name: str


class Thing(BaseModel):
    id: uuid.UUID
    name: str


router = APIRouter()


@router.post("/things", status_code=201)
async def create_thing(
    body: NewThing, session: SessionDep, idempotency: IdempotencyKeyDep, response: Response,
    principal: PrincipalDep,
) -> Thing:
    async def create() -> Thing:
        if body.name == "taken":
            raise Conflict()
        thing = Thing(id=uuid.uuid4(), name=body.name)
        await session.execute(things.insert().values(id=thing.id, name=thing.name))
        await asyncio.sleep(0.05)  # long enough for a concurrent repeat to arrive meanwhile
        return thing

    return await idempotency.once(
        session, owner=principal.subject, request=body, response=response, result_type=Thing,
        create=create,
    )


@router.post("/anonymous-things", status_code=201)
async def create_anonymous_thing(
    body: NewThing, session: SessionDep, idempotency: IdempotencyKeyDep, response: Response
) -> Thing:
    async def create() -> Thing:
        thing = Thing(id=uuid.uuid4(), name=body.name)
        await session.execute(things.insert().values(id=thing.id, name=thing.name))
        return thing

    return await idempotency.once(
        session, owner=ANONYMOUS, request=body, response=response, result_type=Thing,
        create=create,
    )



def token(subject: str) -> dict[str, str]:
    """Minted when a test asks (one minted at import would expire in a long suite run)."""
    settings = BaseServiceSettings(service_name="things")
    _keys, signing = load_keys(settings)
    assert signing is not None
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         clock=SimulatedClock())
    return {"Authorization": f"Bearer {issuer.issue(subject, Role.citizen)}"}




class Service:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def count(self, table: Table = things) -> int:
        runtime: Runtime = self.app.state.runtime
        async with runtime.sessionmaker() as session:
            return (await session.execute(select(func.count()).select_from(table))).scalar_one()

    async def post(self, key: str | None, name: str, *, who: str | None = "alice",
                   path: str = "/things") -> httpx.Response:
        headers = token(who) if who else {}  # None: nobody signed in
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.client.post(path, json={"name": name}, headers=headers)


@pytest.fixture
async def service(postgres_url: str, pg_schema: str, tmp_path: Path) -> AsyncIterator[Service]:
    (tmp_path / "versions").mkdir()  # no migrations: the test creates its tables directly
    definition = ServiceDefinition(
        name="things", title="things", metadata=metadata, migrations=tmp_path, routers=[router]
    )
    settings = definition.load_settings(
        database_url=postgres_url, database_schema=pg_schema, run_workers=False
    )
    app = create_service_app(definition, settings, clock=SimulatedClock())
    async with app.router.lifespan_context(app):
        async with app.state.runtime.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://things") as client:
            yield Service(client, app)


async def test_a_creating_post_without_a_key_is_refused_and_changes_nothing(
    service: Service,
) -> None:
    response = await service.post(None, "lamp")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/idempotency-key-missing"
    assert "Idempotency-Key" in response.json()["detail"]
    assert await service.count() == 0


@pytest.mark.parametrize("key", ["short", "x" * 256, "has space inside", "مفتاح-عربي-طويل"])
async def test_a_malformed_key_is_refused(service: Service, key: str) -> None:
    response = await service.client.post(
        "/things", json={"name": "lamp"},
        headers={**{name.encode(): value.encode() for name, value in token("alice").items()},
                 b"Idempotency-Key": key.encode()},  # raw UTF-8 bytes on the wire
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/idempotency-key-invalid"
    assert await service.count() == 0


async def test_the_same_key_and_body_replays_the_first_answer_with_one_effect(
    service: Service,
) -> None:
    key = str(uuid.uuid4())
    first = await service.post(key, "lamp")
    again = await service.post(key, "lamp")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await service.count() == 1


async def test_the_same_key_with_another_body_is_refused(service: Service) -> None:
    key = str(uuid.uuid4())
    assert (await service.post(key, "lamp")).status_code == 201
    reused = await service.post(key, "chair")
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert await service.count() == 1


async def test_the_same_key_on_another_route_is_refused(service: Service) -> None:
    key = str(uuid.uuid4())
    assert (await service.post(key, "lamp", path="/anonymous-things")).status_code == 201
    assert (await service.post(key, "lamp", who=None, path="/anonymous-things")).status_code == 201
    # The anonymous scope is one owner: the key is taken there, whoever sends it.
    assert await service.count() == 1


async def test_keys_are_scoped_by_caller(service: Service) -> None:
    key = str(uuid.uuid4())
    alice = await service.post(key, "lamp", who="alice")
    bob = await service.post(key, "lamp", who="bob")
    assert alice.status_code == bob.status_code == 201
    assert alice.json()["id"] != bob.json()["id"]  # Bob never sees Alice's answer
    assert await service.count() == 2


async def test_a_failed_request_leaves_no_claim_and_can_be_retried(service: Service) -> None:
    key = str(uuid.uuid4())
    failed = await service.post(key, "taken")
    assert failed.status_code == 409
    assert await service.count(keys) == 0
    assert (await service.post(key, "lamp")).status_code == 201
    assert await service.count() == 1


async def test_concurrent_repeats_wait_for_the_first_and_replay_it(service: Service) -> None:
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(service.post(key, "lamp") for _ in range(5)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 4
    assert await service.count() == 1


async def test_keys_older_than_the_retention_are_purged(service: Service) -> None:
    assert (await service.post(str(uuid.uuid4()), "lamp")).status_code == 201
    runtime: Runtime = service.app.state.runtime
    now = runtime.clock.now()
    async with runtime.sessionmaker.begin() as session:
        assert await purge_expired_keys(session, keys, now=now + timedelta(hours=1)) == 0
    async with runtime.sessionmaker.begin() as session:
        assert await purge_expired_keys(session, keys, now=now + RETENTION + timedelta(1)) == 1
    assert await service.count(keys) == 0
