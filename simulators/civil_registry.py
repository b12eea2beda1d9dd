"""A stand-in for the national civil registry: a small separate HTTP server with demo people.

Started by `make run` beside the platform (on `BKH_REGISTRY_SIMULATOR_PORT`, by default any free
port, which intake is pointed at) and by the tests; run it alone with
`BKH_REGISTRY_SIMULATOR_PORT=8190 python -m simulators.civil_registry`.

Protocol (what intake's adapter, `services.intake.civil_registry`, speaks):

    POST /v1/verifications            HTTP Basic auth: the client id and secret
    {"id_type": "national_number" | "personal_number" | "passport", "id_number": "9861012345",
     "full_name": "أحمد محمد علي الخطيب", "date_of_birth": "1986-01-01"}
    200 {"result": "match" | "mismatch" | "not_found" | "deceased",
         "mismatches": ["name", "date_of_birth"]}          (only for "mismatch")
    401 wrong credentials · 503 the registry is down

Names are compared as the registry would: diacritics, hamza forms and spacing do not count.

Demo people (every branch of registration and of call-center identity checks):

    number      type      registered name             born        shows
    9861012345  national  أحمد محمد علي الخطيب         1986-01-01  an ordinary citizen
    2001234567  national  سارة خالد يوسف النعيمي       1990-05-12  an ordinary citizen
    9751234560  national  محمود سليم حسن العبادي       1950-03-03  a deceased person
    9880000003  national  يوسف إبراهيم أحمد المومني    1988-08-08  a name mismatch when
                          registered as "يوسف إبراهيم أحمد الموسى"
    9920000004  national  رنا سمير فؤاد الحسن          1992-02-20  a date-of-birth mismatch
                          when registered as born 1992-02-21
    4000123456  personal  Maria Jose Santos Cruz      1985-07-15  a non-Jordanian resident
    9999999999  national  —                           —           the registry is down (503)

("national" is `national_number`, "personal" is `personal_number`.)

Any other number is `not_found`. Never for production: it knows six people.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.intake.config import DEVELOPMENT_REGISTRY_SECRET
from shared.text import search_key
from simulators.serving import serving

DOWN = "9999999999"


@dataclass(frozen=True, slots=True)
class Person:
    id_type: str
    id_number: str
    full_name: str
    date_of_birth: date
    alive: bool = True


DEMO_PEOPLE: tuple[Person, ...] = (
    Person("national_number", "9861012345", "أحمد محمد علي الخطيب", date(1986, 1, 1)),
    Person("national_number", "2001234567", "سارة خالد يوسف النعيمي", date(1990, 5, 12)),
    Person("national_number", "9751234560", "محمود سليم حسن العبادي", date(1950, 3, 3),
           alive=False),
    Person("national_number", "9880000003", "يوسف إبراهيم أحمد المومني", date(1988, 8, 8)),
    Person("national_number", "9920000004", "رنا سمير فؤاد الحسن", date(1992, 2, 20)),
    Person("personal_number", "4000123456", "Maria Jose Santos Cruz", date(1985, 7, 15)),
)


_basic = HTTPBasic()


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BKH_REGISTRY_SIMULATOR_", extra="ignore")

    host: str = "127.0.0.1"
    # 0: any free port (`make run` hands the URL to intake itself); set one to reach it from
    # outside, e.g. BKH_REGISTRY_SIMULATOR_PORT=8190 with BKH_CIVIL_REGISTRY_URL to match.
    port: int = Field(default=0, ge=0, le=65535)
    client_id: str = "bekhedmetkom"
    secret: str = DEVELOPMENT_REGISTRY_SECRET


class VerificationQuestion(BaseModel):
    id_type: Literal["national_number", "personal_number", "passport"]
    id_number: str = Field(max_length=20)
    full_name: str = Field(max_length=300)
    date_of_birth: date


class VerificationAnswer(BaseModel):
    result: Literal["match", "mismatch", "not_found", "deceased"]
    mismatches: list[Literal["name", "date_of_birth"]] = Field(default_factory=list)


def create_simulator(
    settings: SimulatorSettings | None = None, people: tuple[Person, ...] = DEMO_PEOPLE
) -> FastAPI:
    settings = settings or SimulatorSettings()
    index = {(p.id_type, p.id_number): p for p in people}

    def authenticated(credentials: Annotated[HTTPBasicCredentials, Depends(_basic)]) -> None:
        good_id = secrets.compare_digest(credentials.username.encode(),
                                         settings.client_id.encode())
        good_secret = secrets.compare_digest(credentials.password.encode(),
                                             settings.secret.encode())
        if not (good_id and good_secret):
            raise HTTPException(401, headers={"WWW-Authenticate": "Basic"})

    app = FastAPI(title="Civil registry (simulator)", docs_url=None, redoc_url=None)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/verifications", dependencies=[Depends(authenticated)])
    async def verify(question: VerificationQuestion) -> VerificationAnswer:
        if question.id_number == DOWN:
            raise HTTPException(503, "the registry is down (demo)")
        person = index.get((question.id_type, question.id_number))
        if person is None:
            return VerificationAnswer(result="not_found")
        if not person.alive:
            return VerificationAnswer(result="deceased")
        mismatches: list[Literal["name", "date_of_birth"]] = []
        if search_key(question.full_name) != search_key(person.full_name):
            mismatches.append("name")
        if question.date_of_birth != person.date_of_birth:
            mismatches.append("date_of_birth")
        return VerificationAnswer(
            result="mismatch" if mismatches else "match", mismatches=mismatches
        )

    return app


async def _serve_alone(settings: SimulatorSettings) -> None:
    async with serving(create_simulator(settings), host=settings.host,
                       port=settings.port) as url:
        print(f"Civil registry simulator on {url}. Ctrl-C stops it.", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_alone(SimulatorSettings()))


if __name__ == "__main__":
    main()
