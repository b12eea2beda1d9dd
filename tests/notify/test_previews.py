"""The preview of an answer: the requester's own message, word for word, before it is sent.

Shown to the officers who answer and to the CMU, for a request their scope holds as notify
knows it from routing's events; its rating link rates nothing; nothing is queued.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.notify.dispatcher import SAMPLE_TOKEN
from services.notify.models import DeliveryStatus
from shared.events import catalog as c
from shared.events.vocabulary import Language, NoticeChannel, Role
from tests.notify import factories as f
from tests.notify.conftest import Notify
from tests.notify.test_delivery import statuses_become
from tests.platform import eventually

PREVIEW = "/api/v1/notifications/previews/response"
OFFICER = uuid.uuid4()
ANSWER = {"actions_taken": "أصلحنا الخط الرئيسي المغذّي للحي",
          "solution": "عادت المياه إلى الحي صباح اليوم", "outcome": "resolved"}


async def request_of(notify: Notify, person: c.CitizenRegistered) -> str:
    """A request of `person` to the water authority (sector MWI), assigned and acknowledged."""
    await notify.publish(person)
    submitted = f.submitted(person.citizen_id, entity="MWI-WAJ", sector="MWI")
    await notify.publish(submitted)
    await statuses_become(notify, [DeliveryStatus.delivered if person.email is None
                                   else DeliveryStatus.submitted],
                          reference=submitted.reference)
    return submitted.reference


async def preview(notify: Notify, reference: str, who: dict[str, str], **body: Any
                  ) -> httpx.Response:
    return await notify.client.post(PREVIEW, json={"reference": reference, **ANSWER, **body},
                                    headers=who)


def mlo(notify: Notify, sector: str = "MWI") -> dict[str, str]:
    return notify.auth(Role.main_liaison_officer, sectors=[sector])


async def test_an_arabic_sms_preview_is_the_message_the_requester_then_gets(
    notify: Notify,
) -> None:
    person = f.citizen(language=Language.ar)
    reference = await request_of(notify, person)
    shown = await preview(notify, reference, mlo(notify))
    assert shown.status_code == 200, shown.json()
    assert shown.headers["cache-control"] == "no-store"
    body = shown.json()
    assert (body["channel"], body["language"], body["subject"]) == ("sms", "ar", None)
    assert body["text"].startswith("بخدمتكم: تمت الإجابة عن طلبك رقم")
    assert f"token={SAMPLE_TOKEN}" in body["text"]
    assert await notify.rows(kind="requester.responded") == []  # nothing queued

    await notify.publish(c.RequestResponded(reference=reference, actor_id=OFFICER, round=1,
                                            actions_taken=ANSWER["actions_taken"],
                                            solution=ANSWER["solution"]))
    await statuses_become(notify, [DeliveryStatus.delivered, DeliveryStatus.delivered],
                          reference=reference)
    sent = notify.gateway.texts_to(person.phone)[-1]
    link_at = sent.index("token=") + len("token=")
    assert sent[:link_at] == body["text"][:body["text"].index("token=") + len("token=")]
    assert sent[link_at:] != SAMPLE_TOKEN  # the real link rates; the preview's did not


async def test_an_english_email_preview_shows_the_answer_in_the_requesters_words(
    notify: Notify,
) -> None:
    person = f.citizen(language=Language.en, channel=NoticeChannel.email,
                       email="rana@example.jo")
    reference = await request_of(notify, person)
    shown = (await preview(notify, reference, notify.auth(Role.cmu_staff))).json()
    assert (shown["channel"], shown["language"]) == ("email", "en")
    assert shown["subject"] == f"Your request {reference} has been answered"
    assert f"Actions taken:\n{ANSWER['actions_taken']}" in shown["text"]
    assert f"Solution:\n{ANSWER['solution']}" in shown["text"]

    await notify.publish(c.RequestResponded(reference=reference, actor_id=OFFICER, round=1,
                                            actions_taken=ANSWER["actions_taken"],
                                            solution=ANSWER["solution"]))
    await statuses_become(notify, [DeliveryStatus.submitted, DeliveryStatus.submitted],
                          reference=reference)
    sent = notify.smtp.to("rana@example.jo")[-1]
    assert sent["Subject"] == shown["subject"]
    plain = sent.get_body(("plain",))
    assert plain is not None
    before_link = shown["text"].split("token=")[0]
    assert plain.get_content().replace("\r\n", "\n").startswith(before_link)


async def test_the_request_chooses_the_language_over_the_requesters_account(
    notify: Notify,
) -> None:
    person = f.citizen(language=Language.ar)
    await notify.publish(person)
    submitted = f.submitted(person.citizen_id, language=Language.en)
    await notify.publish(submitted)
    await statuses_become(notify, [DeliveryStatus.delivered], reference=submitted.reference)
    shown = (await preview(notify, submitted.reference, mlo(notify))).json()
    assert (shown["channel"], shown["language"]) == ("sms", "en")
    assert shown["text"].startswith("Bekhedmetkom: your request")


async def test_only_those_who_answer_and_hold_the_request_preview_it(notify: Notify) -> None:
    reference = await request_of(notify, f.citizen())
    sub_officer = notify.auth(Role.sub_liaison_officer, entities=["MWI-WAJ"])
    assert (await preview(notify, reference, sub_officer)).status_code == 404
    await notify.publish(c.RequestDistributed(reference=reference, entity="MWI-WAJ",
                                              sector="MWI", officer_ids=[OFFICER],
                                              actor_id=OFFICER))

    async def distributed() -> None:
        assert (await preview(notify, reference, sub_officer)).status_code == 200

    await eventually(distributed)
    for holder in (mlo(notify), notify.auth(Role.cmu_admin)):
        assert (await preview(notify, reference, holder)).status_code == 200
    for outsider in (mlo(notify, "MOH"),
                     notify.auth(Role.sub_liaison_officer, entities=["MWI-AQABA"])):
        refused = await preview(notify, reference, outsider)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    for not_answering in (notify.auth(Role.minister, sectors=["MWI"]),
                          notify.auth(Role.entity_head, entities=["MWI-WAJ"]),
                          notify.auth(Role.decision_maker), notify.auth(Role.citizen)):
        assert (await preview(notify, reference, not_answering)).status_code == 403
    assert (await notify.client.post(PREVIEW, json={"reference": reference, **ANSWER})
            ).status_code == 401
    assert (await preview(notify, "BKH-2026-999999", notify.auth(Role.cmu_staff))
            ).status_code == 404

    # Transferred to another sector: the water officers no longer hold it.
    await notify.publish(c.RequestTransferred(reference=reference, from_entity="MWI-WAJ",
                                              to_entity="MOH-HQ", to_sector="MOH",
                                              reason="ليس من اختصاص المياه", transfer_count=1,
                                              actor_id=OFFICER))

    async def transferred() -> None:
        assert (await preview(notify, reference, sub_officer)).status_code == 404

    await eventually(transferred)
    assert (await preview(notify, reference, mlo(notify))).status_code == 404
    assert (await preview(notify, reference, mlo(notify, "MOH"))).status_code == 200


async def test_a_requester_notify_cannot_reach_is_a_conflict(notify: Notify) -> None:
    submitted = f.submitted(uuid.uuid4())  # their contact points never reached notify
    await notify.publish(submitted)

    async def known() -> None:
        assert (await preview(notify, submitted.reference, notify.auth(Role.cmu_staff))
                ).status_code == 409

    await eventually(known)


@pytest.mark.parametrize(("language", "title"), [
    ("ar", "البيانات المدخلة غير صحيحة"), ("en", "The submitted data is not valid"),
])
async def test_a_bad_preview_is_a_problem_in_the_callers_language(
    notify: Notify, language: str, title: str,
) -> None:
    refused = await notify.client.post(
        PREVIEW, json={"reference": "BKH-2026-000001", "actions_taken": "", "outcome": "maybe",
                       "extra": 1},
        headers={**notify.auth(Role.cmu_staff), "Accept-Language": language})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["title"] == title
    assert {error["field"] for error in problem["errors"]} == {
        "body.actions_taken", "body.solution", "body.outcome", "body.extra"}
    assert all(error["message"] for error in problem["errors"])
