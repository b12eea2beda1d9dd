"""The staff's search: by reference, subject, description and the requester's name, however
either side spelled the Arabic; in the caller's scope only; and similar open requests.

Each test works in a sector of its own, so the module's shared service does not mix them.
"""

from __future__ import annotations

from typing import Any

import httpx

from shared.events.catalog import RequestRated
from shared.events.vocabulary import RequestStatus
from tests.platform import eventually
from tests.routing.conftest import RoutingService, problem


async def found(routing: RoutingService, who: str, path: str = "/api/v1/cases",
                **query: Any) -> list[str]:
    response = await routing.client.get(path, params=query, headers=await routing.auth(who))
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_name_is_found_however_its_hamza_taa_marbuta_and_tashkeel_are_written(
    routing: RoutingService,
) -> None:
    wanted = await routing.submit(entity="MOE-HQ", requester_name="فاطِمة أبو رُمّان")
    other = await routing.submit(entity="MOE-HQ", requester_name="خالد الزعبي")
    for typed in ("فاطمه ابو رمان", "فاطمة أبو رمّان", "ابو رمان", "فاطم"):
        assert await found(routing, "mlo.moe", q=typed) == [wanted], typed
        assert await found(routing, "mlo.moe", "/api/v1/inbox", q=typed) == [wanted], typed
    assert await found(routing, "mlo.moe", q="الزعبي") == [other]


async def test_the_name_is_searched_but_never_shown(routing: RoutingService) -> None:
    reference = await routing.submit(entity="MOE-HQ", requester_name="سلمى الطراونة")
    headers = await routing.auth("mlo.moe")
    for path in ("/api/v1/cases?q=سلمى", "/api/v1/inbox?q=سلمى", f"/api/v1/cases/{reference}",
                 f"/api/v1/cases/{reference}/timeline", f"/api/v1/cases/{reference}/similar"):
        response = await routing.client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert "سلمى" not in response.text
        assert "الطراونه" not in response.text


async def test_a_reference_is_found_by_its_arabic_indic_digits_and_by_its_start(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOHE-HQ")
    await routing.submit(entity="MOHE-HQ")
    arabic = reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert await found(routing, "mlo.mohe", q=arabic) == [reference]
    assert await found(routing, "mlo.mohe", q=reference.lower()) == [reference]
    start = reference[:-1]  # the serial's last digit left off
    assert reference in await found(routing, "mlo.mohe", q=start)
    serial = arabic.rsplit("-", 1)[-1]  # as read out on the phone, in Arabic digits
    assert await found(routing, "mlo.mohe", q=serial) == [reference]


async def test_a_word_of_the_description_finds_it_with_or_without_its_article(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(
        entity="MOT-HQ", subject="تأخر إصدار الرخصة",
        description="راجعتُ دائرة الترخيص بالكهرباء مرتين ولم تُصدَر الرخصة بعد.")
    await routing.submit(entity="MOT-HQ", subject="حافلات النقل العام",
                         description="لا تلتزم الحافلات بمواعيدها.")
    for typed in ("الترخيص", "ترخيص", "كهرباء", "بالكهرباء", "الرخصه", "رخص", "دائره مرتين"):
        assert await found(routing, "mlo.mot", q=typed) == [reference], typed
    assert await found(routing, "mlo.mot", q="ترخيص حافلات") == []  # every word must match


async def test_the_search_page_covers_every_status_newest_first_and_the_inbox_open_ones(
    routing: RoutingService,
) -> None:
    first = await routing.submit(entity="MPWH-HQ", subject="حفرة في طريق المطار")
    closed = await routing.submit(entity="MPWH-HQ", subject="حفرة أمام المدرسة")
    await ok(await routing.act("mlo.mpwh", closed, "close", {"closing_code": "withdrawn"}))
    newest = await routing.submit(entity="MPWH-HQ", subject="حفرة عميقة في الشارع")
    assert await found(routing, "mlo.mpwh", q="حفره") == [newest, closed, first]
    assert set(await found(routing, "mlo.mpwh", "/api/v1/inbox", q="حفرة")) == {first, newest}
    assert await found(routing, "mlo.mpwh", q="حفرة", status="closed") == [closed]
    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {
            "q": "حفرة", "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await ok(await routing.client.get("/api/v1/cases", params=params,
                                                     headers=await routing.auth("mlo.mpwh")))
        pages += [item["reference"] for item in response["items"]]
        if (cursor := response["next_cursor"]) is None:
            break
    assert pages == [newest, closed, first]


async def test_the_search_stays_in_the_callers_scope_and_the_cmu_sees_all_of_government(
    routing: RoutingService,
) -> None:
    mine = await routing.submit(entity="MOSD-HQ", subject="تأخر صرف المعونة الوطنية")
    elsewhere = await routing.submit(entity="MOL-HQ", subject="تأخر صرف المعونة الشهرية")
    assert await found(routing, "mlo.mosd", q="المعونة") == [mine]
    assert await found(routing, "mlo.mosd", q="المعونة", entity="MOL-HQ") == []
    assert await found(routing, "slo.mosd-hq", q="المعونة") == []  # not distributed to them
    assert set(await found(routing, "cmu.staff", q="المعونة")) == {mine, elsewhere}
    assert await found(routing, "cmu.staff", q="المعونة", entity="MOL-HQ") == [elsewhere]


async def test_a_query_without_a_letter_or_digit_is_refused_in_both_languages(
    routing: RoutingService,
) -> None:
    headers = await routing.auth("mlo.moh")
    for path in ("/api/v1/cases", "/api/v1/inbox"):
        arabic = await routing.client.get(path, params={"q": "!!! ؟"}, headers=headers)
        assert arabic.status_code == 422
        (error,) = problem(arabic)["errors"]
        assert (error["field"], error["code"]) == ("query.q", "search_without_words")
        assert error["message"] == "اكتب حرفاً أو رقماً واحداً على الأقل للبحث"
        english = await routing.client.get(path, params={"q": "x" * 201},
                                           headers={**headers, "Accept-Language": "en"})
        assert english.status_code == 422
        assert problem(english)["errors"][0]["message"].startswith("String should have at most")


async def test_tsquery_syntax_typed_in_a_query_is_only_punctuation(
    routing: RoutingService,
) -> None:
    reference = await routing.submit(entity="MOA-HQ", subject="أعلاف الماشية")
    headers = await routing.auth("mlo.moa")
    for typed in ("أعلاف' & !الماشية:*", "أعلاف\\ | (الماشية)", "'", "أعلاف＇ <-> ماشية"):
        response = await routing.client.get("/api/v1/cases", params={"q": typed},
                                            headers=headers)
        assert response.status_code in (200, 422), (typed, response.text)
        if response.status_code == 200:
            assert [i["reference"] for i in response.json()["items"]] == [reference], typed


# --- similar requests --------------------------------------------------------------------------


async def similar(routing: RoutingService, who: str, reference: str) -> list[str]:
    response = await routing.client.get(f"/api/v1/cases/{reference}/similar",
                                        headers=await routing.auth(who))
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def test_similar_requests_share_subject_words_at_the_same_entity_most_alike_first(
    routing: RoutingService,
) -> None:
    this = await routing.submit(entity="MWI-WAJ", subject="انقطاع المياه عن حي الزهور")
    alike = await routing.submit(entity="MWI-WAJ", subject="إنقطاع المياه عن حيّ الزهور")
    closer = await routing.submit(entity="MWI-WAJ", subject="انقطاع المياه منذ أسبوع")
    far = await routing.submit(entity="MWI-WAJ", subject="انقطاع الكهرباء")
    await routing.submit(entity="MWI-WAJ", subject="فاتورة مرتفعة")  # no word in common
    await routing.submit(entity="MWI-JVA", subject="انقطاع المياه عن حي الزهور")  # elsewhere
    merged = await routing.submit(entity="MWI-WAJ", subject="انقطاع المياه عن حي الزهور")
    await ok(await routing.act("mlo.mwi", alike, "merge", {"duplicates": [merged]}))
    rated = await routing.submit(entity="MWI-WAJ", subject="انقطاع المياه عن حي الزهور")
    await ok(await routing.act("mlo.mwi", rated, "close", {"closing_code": "withdrawn"}))

    assert await similar(routing, "mlo.mwi", this) == [alike, closer, far]
    body = (await routing.client.get(f"/api/v1/cases/{this}/similar",
                                     headers=await routing.auth("mlo.mwi"))).json()
    assert body["items"][0]["similarity"] == 1.0
    assert [item["similarity"] > 0 for item in body["items"]] == [True] * 3


async def test_similar_requests_are_at_most_five_and_only_in_scope(
    routing: RoutingService,
) -> None:
    this = await routing.submit(entity="MOLA-HQ", subject="تراكم النفايات في الحي")
    others = [await routing.submit(entity="MOLA-HQ", subject="تراكم النفايات") for _ in range(6)]
    shown = await similar(routing, "mlo.mola", this)
    assert len(shown) == 5
    assert set(shown) <= set(others)
    # A sub-liaison officer holds what was distributed to them, and sees only that.
    for reference in (this, others[0]):
        await ok(await routing.act("mlo.mola", reference, "distribute", {"entity": "MOLA-HQ"}))
    assert await similar(routing, "slo.mola-hq", this) == [others[0]]
    for outsider in ("mlo.moh", "slo.mola-irbid"):
        outside = await routing.client.get(f"/api/v1/cases/{this}/similar",
                                           headers=await routing.auth(outsider))
        assert outside.status_code == 404, outsider


async def test_a_request_under_review_lists_open_similar_ones(routing: RoutingService) -> None:
    this = await routing.submit(entity="MODEE-HQ", subject="تعطل خدمة الدفع الإلكتروني")
    other = await routing.submit(entity="MODEE-HQ", subject="خدمة الدفع لا تعمل")
    await ok(await routing.act("mlo.modee", this, "accept", {
        "classification": "complaint.electronic_services", "processing_working_days": 2}))
    await ok(await routing.act("mlo.modee", this, "respond", {
        "actions_taken": "فُحصت الخدمة", "solution": "أُصلحت"}))
    await routing.publish(RequestRated(reference=this, score=1))

    async def in_review() -> None:
        case = await routing.case(this)
        assert case is not None
        assert case.status is RequestStatus.under_review

    await eventually(in_review)
    assert await similar(routing, "cmu.staff", this) == [other]
