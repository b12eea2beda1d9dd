"""A citizen's whole journey through all six services, as people live it.

Ahmad registers with his national number (checked by the civil registry over HTTP) and proves
his phone with the code notify sends him by SMS; he complains about a pothole to Greater Amman
Municipality and gets a reference number at once, and an SMS saying so. Routing places it with
the Prime Ministry sector's main liaison officer, who accepts it and answers; Ahmad reads the
answer in plain words and rates it 5 from the one-tap link in the answer's SMS, which closes the
request. The CMU sees it counted by analytics, resolved. Nothing here reaches into a service's
tables: every step is a public API call or a message a person would receive.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import World, key, staff
from tests.intake.factories import AHMAD, PASSWORD, registration
from tests.platform import eventually

PHONE = "+962791234567"  # the registration's 0791234567, in E.164
_INVISIBLE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


async def texts_to_ahmad(world: World, containing: str) -> list[str]:
    async def arrived() -> list[str]:
        texts = [_INVISIBLE.sub("", t) for t in world.sms.texts_to(PHONE)]
        matching = [t for t in texts if containing in t]
        assert matching, f"no SMS with {containing!r} among {texts}"
        return matching

    return await eventually(arrived, timeout_s=30)


async def test_register_complain_get_an_answer_rate_it_and_see_it_counted(world: World) -> None:
    client = world.platform.client

    # Registration: the registry knows Ahmad; the code comes by SMS.
    started = await client.post("/api/v1/citizens/registrations", json=registration(),
                                headers=key())
    assert started.status_code == 202, started.text
    code_sms = (await texts_to_ahmad(world, "رمز التحقق"))[-1]
    code = re.search(r"\b(\d{5})\b", code_sms)
    assert code is not None, code_sms
    verified = await client.post(
        f"/api/v1/citizens/registrations/{started.json()['registration_id']}/verify",
        json={"code": code.group(1)}, headers=key())
    assert verified.status_code == 201, verified.text
    signed_in = await client.post("/api/v1/auth/token", json={
        "id_number": AHMAD["id_number"], "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    ahmad = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    # The complaint: a reference at once, and the acknowledgement by SMS.
    complaint = {"kind": "complaint", "entity": "PM-GAM", "subject": "حفرة في الشارع",
                 "description": "حفرة عميقة أمام مدرسة الحي منذ أسبوعين تعرّض الأطفال للخطر.",
                 "governorate": "JO-AM", "channel": "mobile_app", "not_before_court": True}

    async def submitted() -> str:
        # Intake learns the entity from routing's directory announcements, moments after start.
        response = await client.post("/api/v1/requests", json=complaint,
                                     headers={**ahmad, **key()})
        assert response.status_code == 201, response.text
        reference: str = response.json()["reference"]
        return reference

    reference = await eventually(submitted, timeout_s=60)
    await texts_to_ahmad(world, reference)

    # The sector's main liaison officer finds it in the inbox, accepts it and answers.
    officer = await staff(client, "mlo.pm")

    async def in_the_inbox() -> None:
        inbox = await client.get("/api/v1/inbox", headers=officer)
        assert inbox.status_code == 200, inbox.text
        assert reference in {item["reference"] for item in inbox.json()["items"]}

    await eventually(in_the_inbox)
    accepted = await client.post(f"/api/v1/requests/{reference}/accept", headers=officer, json={
        "classification": "complaint.infrastructure", "processing_working_days": 5})
    assert accepted.status_code == 200, accepted.text
    responded = await client.post(f"/api/v1/requests/{reference}/respond", headers=officer,
                                  json={"actions_taken": "زار فريق الصيانة الموقع",
                                        "solution": "رُدمت الحفرة وأعيد تعبيد الشارع"})
    assert responded.status_code == 200, responded.text

    # Ahmad reads the answer in plain words, with what to do next.
    async def answered() -> dict[str, Any]:
        shown = await client.get(f"/api/v1/requests/{reference}", headers=ahmad)
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"]["code"] == "responded", shown.json()["status"]
        return dict(shown.json())

    view = await eventually(answered)
    assert "رُدمت الحفرة" in str(view)

    # ... and rates it from the link in the answer's SMS, without signing in.
    answer_sms = (await texts_to_ahmad(world, "rating/link"))[-1]
    token = re.search(r"token=([A-Za-z0-9_.-]+)", answer_sms)
    assert token is not None, answer_sms
    rated = await client.post(f"/api/v1/requests/{reference}/rating/link",
                              params={"token": token.group(1)}, json={"score": 5})
    assert rated.status_code == 201, rated.text

    # A rating of 5 closes it: routing and the requester's view agree.
    async def closed() -> None:
        case = await client.get(f"/api/v1/cases/{reference}", headers=officer)
        assert case.json()["status"] == "closed", case.json()["status"]
        shown = await client.get(f"/api/v1/requests/{reference}", headers=ahmad)
        assert shown.json()["status"]["code"] == "closed", shown.json()["status"]

    await eventually(closed)

    # The CMU's figures count it: received, closed, resolved.
    cmu = await staff(client, "cmu.staff")

    async def counted() -> None:
        kpis = await client.get("/api/v1/analytics/kpis", headers=cmu)
        assert kpis.status_code == 200, kpis.text
        figures = kpis.json()
        assert figures["received"] >= 1, figures
        assert figures["closed"] >= 1, figures
        assert figures["resolved"] >= 1, figures

    await eventually(counted)
