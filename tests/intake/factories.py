"""Request bodies and whole journeys the intake tests build on (demo people of the simulator)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.intake.conftest import IntakeUnderTest

AHMAD = {  # an ordinary citizen in the registry simulator
    "id_number": "9861012345",
    "first_name": "أحمد", "father_name": "محمد", "grandfather_name": "علي",
    "family_name": "الخطيب", "date_of_birth": "1986-01-01",
}
SARA = {
    "id_number": "2001234567",
    "first_name": "سارة", "father_name": "خالد", "grandfather_name": "يوسف",
    "family_name": "النعيمي", "date_of_birth": "1990-05-12",
}
PASSWORD = "ورد-الربيع-2030"


# person positional-only, so that no overridden field can be taken for it
def registration(person: dict[str, str] = AHMAD, /, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        **person,
        "id_type": "national_number",
        "nationality": "JO",
        "phone": "0791234567",
        "email": "citizen@example.org",
        "country": "JO",
        "city": "عمّان",
        "address": "جبل عمّان، الدوار الثالث",
        "password": PASSWORD,
        "password_confirmation": PASSWORD,
        "policy_accepted": True,
        "language": "ar",
        "notice_channel": "sms",
    }
    body.update(overrides)
    return body


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def last_code(intake: IntakeUnderTest) -> str:
    codes = await intake.events("citizen.code_requested")
    assert codes, "no code was sent"
    return str(codes[-1]["code"])


async def register(
    intake: IntakeUnderTest, person: dict[str, str] = AHMAD, **overrides: Any
) -> str:
    """Register and verify a demo person; returns the citizen id."""
    started = await intake.client.post("/api/v1/citizens/registrations",
                                       json=registration(person, **overrides), headers=key())
    assert started.status_code == 202, started.json()
    verified = await intake.client.post(
        f"/api/v1/citizens/registrations/{started.json()['registration_id']}/verify",
        json={"code": await last_code(intake)}, headers=key(),
    )
    assert verified.status_code == 201, verified.json()
    return str(verified.json()["citizen_id"])


async def sign_in(intake: IntakeUnderTest, person: dict[str, str] = AHMAD,
                  password: str = PASSWORD) -> dict[str, Any]:
    response = await intake.client.post(
        "/api/v1/auth/token", json={"id_number": person["id_number"], "password": password}
    )
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
