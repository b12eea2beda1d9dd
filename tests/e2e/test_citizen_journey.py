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


async def registered(world: World) -> dict[str, str]:
    """Ahmad registers (the registry knows him; the code comes by SMS) and signs in."""
    client = world.platform.client
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
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def complained(world: World, ahmad: dict[str, str]) -> str:
    """A complaint: a reference at once, and the acknowledgement by SMS."""
    complaint = {"kind": "complaint", "entity": "PM-GAM", "subject": "حفرة في الشارع",
                 "description": "حفرة عميقة أمام مدرسة الحي منذ أسبوعين تعرّض الأطفال للخطر.",
                 "governorate": "JO-AM", "channel": "mobile_app", "not_before_court": True}

    async def submitted() -> str:
        # Intake learns the entity from routing's directory announcements, moments after start.
        response = await world.platform.client.post("/api/v1/requests", json=complaint,
                                                    headers={**ahmad, **key()})
        assert response.status_code == 201, response.text
        reference: str = response.json()["reference"]
        return reference

    reference = await eventually(submitted, timeout_s=60)
    await texts_to_ahmad(world, reference)
    return reference


def rating_token(answer_sms: str) -> str:
    token = re.search(r"token=([A-Za-z0-9_.-]+)", answer_sms)
    assert token is not None, answer_sms
    return token.group(1)


async def test_register_complain_get_an_answer_rate_it_and_see_it_counted(world: World) -> None:
    client = world.platform.client
    ahmad = await registered(world)
    reference = await complained(world, ahmad)

    # The sector's main liaison officer finds it in the inbox, accepts it and answers.
    officer = await staff(client, "mlo.pm")

    async def in_the_inbox() -> None:
        inbox = await client.get("/api/v1/inbox", headers=officer)
        assert inbox.status_code == 200, inbox.text
        assert reference in {item["reference"] for item in inbox.json()["items"]}

    await eventually(in_the_inbox)
    # ... and by Ahmad's name however it is spelled (his name never shows in the answer).
    found = await client.get("/api/v1/cases", params={"q": "احمد الخطيب"}, headers=officer)
    assert found.status_code == 200, found.text
    assert reference in {item["reference"] for item in found.json()["items"]}
    assert "الخطيب" not in found.text
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
    answer_sms = (await texts_to_ahmad(world, "/rate/"))[-1]
    rated = await client.post(f"/api/v1/requests/{reference}/rating/link",
                              params={"token": rating_token(answer_sms)}, json={"score": 5})
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


async def test_a_reopened_request_is_answered_again_and_closed_by_its_requesters_rating(
    world: World,
) -> None:
    client = world.platform.client
    ahmad = await registered(world)
    reference = await complained(world, ahmad)
    officer, cmu = await staff(client, "mlo.pm"), await staff(client, "cmu.staff")
    link = f"/api/v1/requests/{reference}/rating/link"

    async def act(who: dict[str, str], action: str, body: dict[str, Any]) -> None:
        async def done() -> None:  # routing may not hold the request (or its rating) yet
            response = await client.post(f"/api/v1/requests/{reference}/{action}",
                                         headers=who, json=body)
            assert response.status_code == 200, response.text

        await eventually(done)

    async def ahmad_sees(status: str) -> dict[str, Any]:
        async def shown() -> dict[str, Any]:
            view = await client.get(f"/api/v1/requests/{reference}", headers=ahmad)
            assert view.json()["status"]["code"] == status, view.json()["status"]
            return dict(view.json())

        return await eventually(shown)

    async def answer_texts(count: int) -> list[str]:
        async def arrived() -> list[str]:
            texts = await texts_to_ahmad(world, "/rate/")
            assert len(texts) == count, texts
            return texts

        return await eventually(arrived, timeout_s=30)

    # The first answer does not solve it: Ahmad rates it 1 from its SMS; the CMU reopens.
    await act(officer, "accept", {"classification": "complaint.infrastructure",
                                  "processing_working_days": 5})
    await act(officer, "respond", {"actions_taken": "عاين الفريق الموقع",
                                   "solution": "ستُردم الحفرة الأسبوع القادم"})
    (first_sms,) = await answer_texts(1)
    await ahmad_sees("responded")
    rated = await client.post(link, params={"token": rating_token(first_sms)},
                              json={"score": 1})
    assert rated.status_code == 201, rated.text
    await act(cmu, "review-decision", {"decision": "reopen", "reason": "لم تُردم الحفرة بعد"})

    # The second answer comes with a new SMS asking for a rating, which Ahmad can give.
    await act(officer, "respond", {"actions_taken": "زار فريق الصيانة الموقع",
                                   "solution": "رُدمت الحفرة وأعيد تعبيد الشارع"})
    _, second_sms = await answer_texts(2)
    view = await ahmad_sees("responded")
    assert (view["answer_round"], view["rating"]) == (2, None)

    async def only_the_new_rating_window() -> None:  # the first round's deadlines are over
        deadlines = (await ahmad_sees("responded"))["deadlines"]
        assert [(d["clock"], d["stage"]) for d in deadlines] == [
            ("requester", "rating_window")], deadlines

    await eventually(only_the_new_rating_window)
    late = await client.post(link, params={"token": rating_token(first_sms)},
                             json={"score": 5})
    assert (late.status_code, late.json()["reason"]) == (409, "answer_superseded")
    rated = await client.post(link, params={"token": rating_token(second_sms)},
                              json={"score": 5})
    assert rated.status_code == 201, rated.text
    assert rated.json()["round"] == 2

    # Closed by Ahmad's rating, not by the platform when the rating window runs out.
    view = await ahmad_sees("closed")

    async def none_left() -> None:
        assert (await ahmad_sees("closed"))["deadlines"] == []

    await eventually(none_left)
    assert [(step["step"], step["details"].get("round")) for step in view["timeline"]
            if step["step"] in ("request.responded", "request.rated")] == [
        ("request.responded", 1), ("request.rated", 1),
        ("request.responded", 2), ("request.rated", 2)]
    timeline = await client.get(f"/api/v1/cases/{reference}/timeline", headers=officer)
    closing = timeline.json()["entries"][-1]
    assert (closing["action"], closing["details"]["closed_by"]) == ("closed", "requester")
