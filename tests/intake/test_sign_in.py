"""Sign-in, rotating refresh tokens, the profile and changing the phone."""

from __future__ import annotations

from datetime import timedelta

from shared.auth import Role, TokenVerifier, load_keys
from shared.settings import BaseServiceSettings
from tests.intake.conftest import IntakeUnderTest
from tests.intake.factories import AHMAD, PASSWORD, bearer, key, last_code, register, sign_in
from tests.sessions import two_refreshes_at_once_keep_the_session


async def test_a_registered_citizen_signs_in_with_a_short_lived_citizen_token(
    intake: IntakeUnderTest,
) -> None:
    citizen_id = await register(intake)
    tokens = await sign_in(intake)
    assert tokens["expires_in"] == 600
    settings = BaseServiceSettings(service_name="tests")
    keys, _ = load_keys(settings)
    principal = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                              clock=intake.wall_clock).verify(tokens["access_token"])
    assert principal.subject == citizen_id
    assert principal.role is Role.citizen
    me = await intake.client.get("/api/v1/citizens/me", headers=bearer(tokens))
    assert me.json()["id_number_last_digits"] == "345"


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    intake: IntakeUnderTest,
) -> None:
    await register(intake)
    wrong = await intake.client.post("/api/v1/auth/token", json={
        "id_number": AHMAD["id_number"], "password": "not-the-password"})
    unknown = await intake.client.post("/api/v1/auth/token", json={
        "id_number": "9000000001", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() | {"instance": None} == unknown.json() | {"instance": None}


async def test_sign_in_attempts_per_account_are_limited(intake: IntakeUnderTest) -> None:
    await register(intake)
    body = {"id_number": AHMAD["id_number"], "password": "not-the-password"}
    answers = [await intake.client.post("/api/v1/auth/token", json=body) for _ in range(11)]
    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_whole_session(
    intake: IntakeUnderTest,
) -> None:
    await register(intake)
    first = await sign_in(intake)
    second = (await intake.client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = await intake.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    assert third.headers["cache-control"] == "no-store"
    # The first token again, long after its rotation: stolen. The whole family stops working.
    intake.wall_clock.advance(timedelta(seconds=11))
    reused = await intake.client.post("/api/v1/auth/refresh",
                                      json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["type"] == "/problems/refresh-token-refused"
    latest = await intake.client.post("/api/v1/auth/refresh",
                                      json={"refresh_token": third.json()["refresh_token"]})
    assert latest.status_code == 401
    # Another device's session is another family, untouched.
    other = await sign_in(intake)
    assert (await intake.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": other["refresh_token"]})
            ).status_code == 200


async def test_two_refreshes_with_one_token_at_once_rotate_it_once_and_keep_the_session(
    intake: IntakeUnderTest,
) -> None:
    await register(intake)
    tokens = await sign_in(intake)
    await two_refreshes_at_once_keep_the_session(
        intake.client, "/api/v1/auth/refresh", tokens["refresh_token"], intake.wall_clock
    )


async def test_signing_out_ends_the_refresh_token(intake: IntakeUnderTest) -> None:
    await register(intake)
    tokens = await sign_in(intake)
    out = await intake.client.post("/api/v1/auth/revoke",
                                   json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    assert (await intake.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": tokens["refresh_token"]})
            ).status_code == 401


async def test_changing_the_phone_needs_the_password_and_a_code_to_the_new_number(
    intake: IntakeUnderTest,
) -> None:
    await register(intake)
    me = bearer(await sign_in(intake))
    changes = "/api/v1/citizens/me/phone-changes"
    wrong = await intake.client.post(changes, json={"phone": "0781234567", "password": "nope"},
                                     headers={**me, **key()})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["code"] == "password_wrong"
    started = await intake.client.post(changes, json={"phone": "0781234567",
                                                      "password": PASSWORD},
                                       headers={**me, **key()})
    assert started.status_code == 202, started.json()
    code_event = (await intake.events("citizen.code_requested"))[-1]
    assert code_event["phone"] == "+962781234567"
    assert code_event["purpose"] == "contact_change"
    assert (await intake.client.get("/api/v1/citizens/me", headers=me)).json()["phone"] == \
        "+962791234567"  # unchanged until the code comes back
    verified = await intake.client.post(
        f"{changes}/{started.json()['challenge_id']}/verify",
        json={"code": await last_code(intake)}, headers=me,
    )
    assert verified.status_code == 200, verified.json()
    assert verified.json()["phone"] == "+962781234567"
    (changed,) = await intake.events("citizen.contact_changed")
    assert changed["phone"] == "+962781234567"


async def test_another_citizen_cannot_use_my_phone_change_code(intake: IntakeUnderTest) -> None:
    from tests.intake.factories import SARA

    await register(intake)
    await register(intake, SARA, phone="0797777777")
    ahmad, sara = bearer(await sign_in(intake)), bearer(await sign_in(intake, SARA))
    started = await intake.client.post("/api/v1/citizens/me/phone-changes",
                                       json={"phone": "0781234567", "password": PASSWORD},
                                       headers={**ahmad, **key()})
    stolen = await intake.client.post(
        f"/api/v1/citizens/me/phone-changes/{started.json()['challenge_id']}/verify",
        json={"code": await last_code(intake)}, headers=sara,
    )
    assert stolen.status_code == 404


async def test_contact_preferences_reach_notify_by_event(intake: IntakeUnderTest) -> None:
    await register(intake)
    me = bearer(await sign_in(intake))
    updated = await intake.client.patch("/api/v1/citizens/me", headers=me,
                                        json={"language": "en", "notice_channel": "email"})
    assert updated.status_code == 200
    (changed,) = await intake.events("citizen.contact_changed")
    assert (changed["language"], changed["notice_channel"]) == ("en", "email")
    no_email = await intake.client.patch("/api/v1/citizens/me", headers=me,
                                         json={"email": None})
    assert no_email.status_code == 422
    assert len(await intake.events("citizen.contact_changed")) == 1
