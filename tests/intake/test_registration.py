"""Registration: identity checked with the civil registry over HTTP, phone proven by SMS code."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from simulators.civil_registry import DOWN
from tests.intake.conftest import IntakeUnderTest, intake_app, sunday_clock
from tests.intake.factories import AHMAD, SARA, key, last_code, register, registration

REGISTRATIONS = "/api/v1/citizens/registrations"
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


async def start(intake: IntakeUnderTest, body: dict[str, Any]) -> Any:
    return await intake.client.post(REGISTRATIONS, json=body, headers=key())


async def verify(intake: IntakeUnderTest, registration_id: str, code: str) -> Any:
    return await intake.client.post(f"{REGISTRATIONS}/{registration_id}/verify",
                                    json={"code": code}, headers=key())


async def test_an_ordinary_citizen_registers_by_proving_the_phone(
    intake: IntakeUnderTest,
) -> None:
    started = await start(intake, registration())
    assert started.status_code == 202
    body = started.json()
    assert body["code_sent_to"] == "+96279*****67"
    assert body["code_length"] == 5
    (code_event,) = await intake.events("citizen.code_requested")
    assert code_event["phone"] == "+962791234567"
    assert code_event["purpose"] == "registration"
    assert code_event["challenge_id"] == body["registration_id"]
    assert len(code_event["code"]) == 5
    assert await intake.count("citizens") == 0

    verified = await verify(intake, body["registration_id"], code_event["code"])
    assert verified.status_code == 201, verified.json()
    (registered,) = await intake.events("citizen.registered")
    assert registered == {
        "citizen_id": verified.json()["citizen_id"], "phone": "+962791234567",
        "email": "citizen@example.org", "language": "ar", "notice_channel": "sms",
    }
    assert await intake.count("citizens") == 1


async def test_the_code_is_stored_only_as_an_hmac(intake: IntakeUnderTest) -> None:
    await start(intake, registration())
    code = await last_code(intake)
    async with intake.runtime.sessionmaker() as session:
        from sqlalchemy import text

        stored = (await session.execute(text("SELECT code_hmac FROM phone_codes"))).scalar_one()
    assert code not in stored
    assert len(stored) == 64


async def test_known_and_unknown_identity_numbers_get_identical_answers(
    intake: IntakeUnderTest,
) -> None:
    known = await start(intake, registration(AHMAD, phone="0791111111"))
    unknown = await start(intake, registration({**AHMAD, "id_number": "9000000001"},
                                               phone="0792222222"))
    deceased = await start(intake, registration({**AHMAD, "id_number": "9751234560"},
                                                phone="0793333333"))
    answers = [known, unknown, deceased]
    assert {a.status_code for a in answers} == {202}
    assert len({tuple(sorted(a.json())) for a in answers}) == 1
    assert len({tuple(sorted(a.headers)) for a in answers}) == 1
    assert len(await intake.events("citizen.code_requested")) == 3


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        ({**AHMAD, "id_number": "9751234560", "first_name": "محمود", "father_name": "سليم",
          "grandfather_name": "حسن", "family_name": "العبادي", "date_of_birth": "1950-03-03"},
         "deceased"),
        ({"id_number": "9880000003", "first_name": "يوسف", "father_name": "إبراهيم",
          "grandfather_name": "أحمد", "family_name": "الموسى", "date_of_birth": "1988-08-08"},
         "name_mismatch"),
        ({"id_number": "9920000004", "first_name": "رنا", "father_name": "سمير",
          "grandfather_name": "فؤاد", "family_name": "الحسن", "date_of_birth": "1992-02-21"},
         "date_of_birth_mismatch"),
        ({**AHMAD, "id_number": "9000000001"}, "not_found"),
    ],
)
async def test_what_the_registry_said_is_told_once_the_phone_is_proven_and_nothing_is_created(
    intake: IntakeUnderTest, person: dict[str, str], reason: str
) -> None:
    started = await start(intake, registration(person))
    assert started.status_code == 202
    refused = await verify(intake, started.json()["registration_id"], await last_code(intake))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/identity-not-verified"
    assert refused.json()["reason"] == reason
    assert await intake.count("citizens") == 0
    assert await intake.events("citizen.registered") == []


async def test_the_registry_matches_names_as_people_spell_them(intake: IntakeUnderTest) -> None:
    # Hamza and diacritics vary between what people type and what the registry holds.
    citizen_id = await register(intake, {**AHMAD, "first_name": "احمد", "family_name": "الخَطيب"})
    assert citizen_id


async def test_a_non_jordanian_resident_registers_with_a_personal_number(
    intake: IntakeUnderTest,
) -> None:
    maria = {"id_number": "4000123456", "first_name": "Maria", "father_name": "Jose",
             "grandfather_name": "Santos", "family_name": "Cruz", "date_of_birth": "1985-07-15"}
    assert await register(intake, maria, id_type="personal_number", nationality="PH")


async def test_arabic_indic_digits_are_accepted_and_normalised(intake: IntakeUnderTest) -> None:
    await register(intake, {**AHMAD, "id_number": "٩٨٦١٠١٢٣٤٥"}, phone="٠٧٩١٢٣٤٥٦٧")
    (registered,) = await intake.events("citizen.registered")
    assert registered["phone"] == "+962791234567"


async def test_a_registry_that_is_down_gives_a_clear_try_again_and_keeps_nothing(
    postgres_url: str, pg_schema: str
) -> None:
    nowhere = "http://127.0.0.1:9"  # the discard port: nothing listens there
    async with intake_app(postgres_url, pg_schema, nowhere, clock=sunday_clock(),
                          civil_registry_timeout_s=1.0) as intake:
        refused = await start(intake, registration())
        assert refused.status_code == 503
        assert refused.json()["type"] == "/problems/civil-registry-unavailable"
        assert refused.headers["retry-after"] == "30"
        assert await intake.count("registrations") == 0
        assert await intake.events("citizen.code_requested") == []


async def test_a_registry_answering_503_is_the_same_clear_try_again(
    intake: IntakeUnderTest,
) -> None:
    refused = await start(intake, registration({**AHMAD, "id_number": DOWN}))
    assert refused.status_code == 503
    assert refused.json()["title"] == "خدمة الأحوال المدنية غير متاحة حالياً، حاول بعد قليل"
    assert await intake.count("registrations") == 0


async def test_wrong_registry_credentials_are_an_outage_not_a_verdict(
    postgres_url: str, pg_schema: str, registry_url: str
) -> None:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          civil_registry_secret="not-the-secret") as intake:
        refused = await start(intake, registration())
        assert refused.status_code == 503
        assert await intake.count("registrations") == 0


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"id_number": "98610123"}, "national_number_format", "national_number_format"),
        ({"id_number": "98610123AB"}, "national_number_format", "national_number_format"),
        ({"phone": "065000000"}, "phone", "phone_not_mobile"),
        ({"phone": "12"}, "phone", "phone_format"),
        ({"first_name": "أحمد\u202e"}, "first_name", "name_characters"),
        ({"family_name": "<b>الخطيب</b>"}, "family_name", "name_characters"),
        ({"nationality": "EG"}, "nationality_mismatch", "nationality_mismatch"),
        ({"surprise": "field"}, "surprise", "extra_forbidden"),
        ({"date_of_birth": "not a date"}, "date_of_birth", "date_from_datetime_parsing"),
    ],
)
async def test_malformed_fields_are_refused_and_nothing_is_stored(
    intake: IntakeUnderTest, change: dict[str, str], field: str, code: str
) -> None:
    refused = await start(intake, registration(**change))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert any(e["code"] == code for e in errors), errors
    assert "98610123" not in refused.text  # values are never echoed
    # Each field's message in the caller's language: Arabic by default, English when asked.
    english = await intake.client.post(REGISTRATIONS, json=registration(**change),
                                       headers={**key(), "Accept-Language": "en"})
    for arabic_error, english_error in zip(errors, english.json()["errors"], strict=True):
        assert ARABIC_LETTER.search(arabic_error["message"]), arabic_error
        assert not ARABIC_LETTER.search(english_error["message"]), english_error
    assert await intake.count("registrations") == 0
    assert await intake.events("citizen.code_requested") == []


@pytest.mark.parametrize(
    ("change", "problem", "code"),
    [
        ({"password_confirmation": "another-password-9"}, "password-refused", "passwords_differ"),
        ({"password": "12345678", "password_confirmation": "12345678"}, "password-refused",
         "password_weak"),
        ({"policy_accepted": False}, "invalid-input", "policy_not_accepted"),
        ({"date_of_birth": "2031-01-01"}, "invalid-input", "date_of_birth_future"),
        ({"notice_channel": "email", "email": None}, "invalid-input", "email_required"),
    ],
)
async def test_rules_beyond_the_format_are_refused_in_both_languages(
    intake: IntakeUnderTest, change: dict[str, Any], problem: str, code: str
) -> None:
    arabic = await start(intake, registration(**change))
    english = await intake.client.post(REGISTRATIONS, json=registration(**change),
                                       headers={**key(), "Accept-Language": "en"})
    assert arabic.status_code == english.status_code == 422
    assert arabic.json()["type"] == f"/problems/{problem}"
    assert arabic.json()["errors"][0]["code"] == code
    assert arabic.json()["detail"] != english.json()["detail"]
    assert arabic.json()["errors"][0]["message"] == arabic.json()["detail"]
    assert english.json()["errors"][0]["message"] == english.json()["detail"]
    assert await intake.count("registrations") == 0


async def test_three_wrong_codes_kill_the_code_but_a_new_one_works(
    intake: IntakeUnderTest,
) -> None:
    registration_id = (await start(intake, registration())).json()["registration_id"]
    code = await last_code(intake)
    wrong = "00000" if code != "00000" else "11111"
    for attempts_left in (2, 1, 0):
        refused = await verify(intake, registration_id, wrong)
        assert refused.status_code == 422
        assert refused.json()["type"] == "/problems/code-invalid"
        assert refused.json()["attempts_left"] == attempts_left
    dead = await verify(intake, registration_id, code)
    assert dead.status_code == 422
    assert await intake.count("citizens") == 0

    resent = await intake.client.post(f"{REGISTRATIONS}/{registration_id}/code")
    assert resent.status_code == 202
    assert (await verify(intake, registration_id, await last_code(intake))).status_code == 201


async def test_an_expired_code_is_refused(intake: IntakeUnderTest) -> None:
    registration_id = (await start(intake, registration())).json()["registration_id"]
    code = await last_code(intake)
    intake.clock.advance(timedelta(minutes=10, seconds=1))
    refused = await verify(intake, registration_id, code)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/code-invalid"
    assert await intake.count("citizens") == 0


async def test_a_code_is_single_use(intake: IntakeUnderTest) -> None:
    registration_id = (await start(intake, registration())).json()["registration_id"]
    code = await last_code(intake)
    assert (await verify(intake, registration_id, code)).status_code == 201
    again = await verify(intake, registration_id, code)
    assert again.status_code == 422
    assert again.json()["type"] == "/problems/code-invalid"
    assert await intake.count("citizens") == 1


async def test_an_identity_with_an_account_cannot_register_again(
    intake: IntakeUnderTest,
) -> None:
    await register(intake)
    started = await start(intake, registration(phone="0798888888"))
    assert started.status_code == 202  # the same answer as for anyone
    refused = await verify(intake, started.json()["registration_id"], await last_code(intake))
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/already-registered"
    assert await intake.count("citizens") == 1


async def test_a_repeated_registration_with_the_same_key_is_one_registration(
    intake: IntakeUnderTest,
) -> None:
    same = key()
    first = await intake.client.post(REGISTRATIONS, json=registration(), headers=same)
    again = await intake.client.post(REGISTRATIONS, json=registration(), headers=same)
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await intake.events("citizen.code_requested")) == 1
    other = await intake.client.post(REGISTRATIONS, json=registration(SARA), headers=same)
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
