"""Routing in the embedded mode (`make run`): SQLite and the in-process bus, the same code.

A request's whole life there: the directory seeded with demo staff, sign-in, placement from
the bus, the officer's actions, the requester's rating, the chain verified, and history that
SQLite refuses to rewrite as PostgreSQL does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.routing.directory.demo import DEMO_PASSWORD
from services.routing.main import DEFINITION
from services.routing.models import Case
from shared.bus import Delivery, InMemoryBus, OutgoingMessage
from shared.clock import SimulatedClock
from shared.events.catalog import RequestRated, RequestSubmitted
from shared.events.envelope import Envelope, EventPayload, decode_envelope, new_envelope
from shared.events.vocabulary import Channel, RequestKind, RequestStatus
from shared.runtime import Runtime
from shared.service import create_service_app
from tests.platform import eventually
from tests.routing.conftest import migrate

# A client of routing's app, and the app, its in-process bus and every envelope the bus carried.
Embedded = tuple[httpx.AsyncClient, tuple[FastAPI, InMemoryBus, list[Envelope]]]


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[Embedded]:
    bus = InMemoryBus()
    await bus.start()
    settings = DEFINITION.load_settings(environment="test",
                                        database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db",
                                        outbox_poll_interval_s=0.05)
    await migrate(settings)
    app = create_service_app(DEFINITION, settings, bus=bus, clock=SimulatedClock())
    seen: list[Envelope] = []

    async def observe(delivery: Delivery) -> None:
        seen.append(decode_envelope(delivery.body))
        await delivery.ack()

    await bus.subscribe(bus.queue_name("tests", "observer"), ["#"], observe, prefetch=100)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://routing.embedded") as client,
        ):
            yield client, (app, bus, seen)
    finally:
        await bus.close()


async def test_a_request_lives_its_whole_life_on_sqlite(
    embedded: Embedded,
) -> None:
    client, (app, bus, seen) = embedded
    runtime: Runtime = app.state.runtime

    async def publish(payload: EventPayload, reference: str) -> None:
        envelope = new_envelope(payload, producer="intake", clock=runtime.clock,
                                correlation_id=reference)
        await bus.publish([OutgoingMessage.from_envelope(envelope)])

    async def case(reference: str, status: RequestStatus) -> Case:
        async with runtime.sessionmaker() as session:
            found = await session.get(Case, reference)
        assert found is not None
        assert found.status is status
        return found

    signed_in = await client.post("/api/v1/staff/auth/token",
                                  json={"username": "mlo.mwi", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    officer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    reference = "BKH-2030-9000001"
    await publish(RequestSubmitted(
        reference=reference, kind=RequestKind.complaint, entity="MWI-WAJ", sector="MWI",
        governorate="JO-IR", channel=Channel.portal, subject="تسرب مياه",
        description="تسرب في الشارع الرئيسي", requester_id=uuid.uuid4(),
        submitted_at=runtime.clock.now()), reference)
    await eventually(lambda: case(reference, RequestStatus.assigned))

    for action, body in (
        ("accept", {"classification": "complaint.infrastructure",
                    "processing_working_days": 20}),
        ("respond", {"actions_taken": "أرسلنا فريق صيانة", "solution": "أُصلح التسرب"}),
    ):
        response = await client.post(f"/api/v1/requests/{reference}/{action}", json=body,
                                     headers=officer)
        assert response.status_code == 200, response.text
    await publish(RequestRated(reference=reference, score=5), reference)
    await eventually(lambda: case(reference, RequestStatus.closed))

    async def announced() -> None:
        assert [e.type for e in seen if e.correlation_id == reference
                and e.producer == "routing"] == [
            "request.assigned", "request.accepted", "request.responded", "request.closed"]

    await eventually(announced)
    cmu = await client.post("/api/v1/staff/auth/token",
                            json={"username": "cmu.staff", "password": DEMO_PASSWORD})
    verified = await client.get(
        f"/api/v1/cases/{reference}/timeline/verification",
        headers={"Authorization": f"Bearer {cmu.json()['access_token']}"})
    assert verified.json()["intact"] is True
    assert verified.json()["entries"] == 5

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as connection:
            await connection.execute(text("UPDATE audit_entries SET details = '{}'"))
    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as connection:
            await connection.execute(text("DELETE FROM directory_log"))


async def test_the_staff_search_and_the_queue_work_on_sqlite_too(
    embedded: Embedded,
) -> None:
    client, (app, bus, _seen) = embedded
    runtime: Runtime = app.state.runtime
    references = ["BKH-2030-9100001", "BKH-2030-9100002", "BKH-2030-9100003"]
    for reference, subject, name in zip(references, (
            "انقطاع المياه عن الحي", "انقطاع المياه في الشارع", "فاتورة مرتفعة"), (
            "فاطمة أبو رمّان", "خالد الزعبي", "سلمى الطراونة"), strict=True):
        envelope = new_envelope(RequestSubmitted(
            reference=reference, kind=RequestKind.complaint, entity="MWI-WAJ", sector="MWI",
            governorate="JO-IR", channel=Channel.portal, subject=subject,
            description="لا تصل المياه منذ ٣ أيام", requester_id=uuid.uuid4(),
            requester_name=name, submitted_at=runtime.clock.now()),
            producer="intake", clock=runtime.clock, correlation_id=reference)
        await bus.publish([OutgoingMessage.from_envelope(envelope)])
    signed_in = await client.post("/api/v1/staff/auth/token",
                                  json={"username": "mlo.mwi", "password": DEMO_PASSWORD})
    officer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    async def found(path: str, q: str) -> list[str]:
        response = await client.get(path, params={"q": q}, headers=officer)
        assert response.status_code == 200, response.text
        return [item["reference"] for item in response.json()["items"]]

    async def all_placed() -> None:
        assert len(await found("/api/v1/cases", "مياه")) == 3

    await eventually(all_placed)
    assert await found("/api/v1/cases", "فاطمه ابو رمان") == [references[0]]
    assert await found("/api/v1/inbox", "٩١٠٠٠٠٣") == [references[2]]  # its serial
    assert await found("/api/v1/inbox", "BKH-٢٠٣٠-٩١٠٠٠") == references  # their start
    similar = await client.get(f"/api/v1/cases/{references[0]}/similar", headers=officer)
    assert [item["reference"] for item in similar.json()["items"]] == [references[1]]
    counters = await client.get("/api/v1/inbox/counters", headers=officer)
    assert counters.json() == {"new": 3, "due_today": 0, "overdue": 0, "escalated": 0,
                               "awaiting_requester": 0, "open": 3}
