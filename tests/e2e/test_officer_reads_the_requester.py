"""The officer's request page through the gateway: who is asking, their file, the answer's preview.

Ahmad complains to Greater Amman Municipality with a photo. The Prime Ministry sector's main
liaison officer, signed in at routing, reads his name and phone (intake) and opens the photo;
the municipality's sub-liaison officer can once the request is distributed to it, not before;
a minister of another sector and a decision maker cannot. Before answering, the officer previews
the SMS Ahmad will get (notify). The CMU sees who read what. Every call goes through the
gateway, which checks each official's standing with routing first.
"""

from __future__ import annotations

import io

from PIL import Image

from tests.e2e.conftest import World, key, staff
from tests.e2e.test_citizen_journey import PHONE, registered
from tests.platform import eventually


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 90, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def test_the_officer_who_holds_the_request_reads_the_requester_and_previews_the_answer(
    world: World,
) -> None:
    client = world.platform.client
    ahmad = await registered(world)
    stored = await client.post("/api/v1/attachments", headers={**ahmad, **key()},
                               files={"file": ("حفرة.jpg", photo(), "image/jpeg")})
    assert stored.status_code == 201, stored.text
    photo_id = stored.json()["attachment_id"]
    complaint = {"kind": "complaint", "entity": "PM-GAM", "subject": "حفرة في الشارع",
                 "description": "حفرة عميقة أمام مدرسة الحي منذ أسبوعين.",
                 "governorate": "JO-AM", "city": "عمّان", "channel": "mobile_app",
                 "not_before_court": True, "attachment_ids": [photo_id]}

    async def submitted() -> str:
        response = await client.post("/api/v1/requests", json=complaint,
                                      headers={**ahmad, **key()})
        assert response.status_code == 201, response.text
        return str(response.json()["reference"])

    reference = await eventually(submitted, timeout_s=60)
    officer = await staff(client, "mlo.pm")
    requester = f"/api/v1/requests/{reference}/requester"

    async def placed() -> dict[str, object]:
        shown = await client.get(requester, headers=officer)
        assert shown.status_code == 200, shown.text
        return dict(shown.json())

    contact = await eventually(placed)
    assert (contact["phone"], contact["city"], contact["has_account"]) == (PHONE, "عمّان", True)
    files = await client.get(f"/api/v1/requests/{reference}/attachments", headers=officer)
    assert [(f["attachment_id"], f["file_name"]) for f in files.json()["items"]] == [
        (photo_id, "حفرة.jpg")]
    opened = await client.get(f"/api/v1/attachments/{photo_id}", headers=officer)
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "image/jpeg"

    for outsider, status in (("minister.moh", 404), ("decision.maker", 403)):
        refused = await client.get(requester, headers=await staff(client, outsider))
        assert refused.status_code == status, refused.text

    municipality = await staff(client, "slo.pm-gam")
    assert (await client.get(requester, headers=municipality)).status_code == 404
    distributed = await client.post(f"/api/v1/requests/{reference}/distribute",
                                    headers=officer, json={"entity": "PM-GAM"})
    assert distributed.status_code == 200, distributed.text

    async def theirs_now() -> None:
        shown = await client.get(f"/api/v1/attachments/{photo_id}", headers=municipality)
        assert shown.status_code == 200, shown.text

    await eventually(theirs_now)

    async def previewed() -> dict[str, str]:
        preview = await client.post("/api/v1/notifications/previews/response",
                                    headers=municipality, json={
                                        "reference": reference,
                                        "actions_taken": "زار فريق الصيانة الموقع",
                                        "solution": "رُدمت الحفرة"})
        assert preview.status_code == 200, preview.text
        return dict(preview.json())

    preview = await eventually(previewed)
    assert (preview["channel"], preview["language"]) == ("sms", "ar")
    assert reference in preview["text"]

    views = await client.get(f"/api/v1/requests/{reference}/requester/views",
                             headers=await staff(client, "cmu.staff"))
    assert views.status_code == 200, views.text
    assert [(v["actor_role"], v["action"]) for v in reversed(views.json()["items"])] == [
        ("main_liaison_officer", "contact_viewed"),
        ("main_liaison_officer", "attachment_read"),
        ("sub_liaison_officer", "attachment_read"),
    ]
