"""The operators create a deployment's first CMU administrator from the command line; the
password goes through standard input only, and must pass the same policy as any other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from services.routing.models import DirectoryLog, Person
from tests.platform import eventually
from tests.routing.conftest import RoutingService

ROOT = Path(__file__).parents[2]
PASSWORD = "the operators' long phrase 2030"


async def bootstrap(routing: RoutingService, username: str,
                    password: str) -> subprocess.CompletedProcess[str]:
    settings = routing.runtime.settings
    env = {**os.environ, "BKH_DATABASE_URL": settings.database_url,
           "BKH_DATABASE_SCHEMA": settings.schema_name, "BKH_ENVIRONMENT": "test"}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "services.routing.bootstrap", "--username", username,
         "--full-name", "مسؤول الوحدة الأول", "--phone", "+962795550000"],
        input=password + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
        check=False)


async def test_the_first_administrator_is_created_and_signs_in(routing: RoutingService) -> None:
    done = await bootstrap(routing, "first.admin", PASSWORD)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    signed_in = await routing.client.post("/api/v1/staff/auth/token",
                                          json={"username": "first.admin", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "cmu_admin"
    async with routing.runtime.sessionmaker() as session:
        person = await session.scalar(select(Person).where(Person.username == "first.admin"))
        assert person is not None
        created = await session.scalar(select(DirectoryLog).where(
            DirectoryLog.key == str(person.id), DirectoryLog.change == "created"))
    assert created is not None
    assert created.actor_id is None  # the operators, not a person

    async def announced() -> None:
        told = {e.type for e in routing.observed.envelopes
                if e.payload.get("person_id") == str(person.id)}
        assert told == {"directory.person_changed", "directory.role_changed"}

    await eventually(announced)


async def test_a_weak_password_or_a_taken_username_is_refused(routing: RoutingService) -> None:
    weak = await bootstrap(routing, "second.admin", "password123")
    assert weak.returncode == 1
    assert "too common" in weak.stderr
    assert "password123" not in weak.stderr
    assert (await bootstrap(routing, "third.admin", PASSWORD)).returncode == 0
    taken = await bootstrap(routing, "third.admin", PASSWORD)
    assert taken.returncode == 1
    assert "taken" in taken.stderr
