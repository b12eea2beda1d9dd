"""Attachments: judged by their bytes, images stripped of EXIF and GPS, limits on size and count."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import pytest
from PIL import Image

from shared.auth import Role
from tests.intake.conftest import IntakeUnderTest, intake_app, seed_directory, sunday_clock
from tests.intake.factories import key
from tests.intake.test_submissions import REQUESTS, complaint

ATTACHMENTS = "/api/v1/attachments"
GPS_IFD = 0x8825
MAKE = 0x010F


def photo_with_gps(fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 57.0, 0.0), 3: "E", 4: (35.0, 55.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, exif=exif)
    return buffer.getvalue()


async def upload(intake: IntakeUnderTest, who: dict[str, str], content: bytes,
                 name: str = "photo.jpg", media_type: str = "image/jpeg") -> Any:
    return await intake.client.post(ATTACHMENTS, files={"file": (name, content, media_type)},
                                    headers={**who, **key()})


LETTER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def upload_letter(intake: IntakeUnderTest, who: dict[str, str]) -> str:
    """A small PDF uploaded by `who`; its attachment id."""
    stored = await upload(intake, who, LETTER, "letter.pdf", "application/pdf")
    assert stored.status_code == 201, stored.json()
    return str(stored.json()["attachment_id"])


async def test_a_photo_is_stored_without_its_exif_and_gps_and_still_upright(
    intake: IntakeUnderTest,
) -> None:
    me = intake.auth(Role.citizen)
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    stored = await upload(intake, me, original)
    assert stored.status_code == 201, stored.json()
    assert stored.json()["media_type"] == "image/jpeg"
    downloaded = await intake.client.get(f"{ATTACHMENTS}/{stored.json()['attachment_id']}",
                                         headers=me)
    assert downloaded.status_code == 200
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    cleaned = Image.open(io.BytesIO(downloaded.content))
    assert dict(cleaned.getexif()) == {}
    assert b"PhoneMaker" not in downloaded.content
    assert cleaned.size == (48, 64)  # the orientation was applied, not dropped


async def test_png_metadata_is_stripped_too(intake: IntakeUnderTest) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "31.95,35.91")
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(buffer, format="PNG", pnginfo=info)
    me = intake.auth(Role.citizen)
    stored = await upload(intake, me, buffer.getvalue(), "map.png", "image/png")
    content = (await intake.client.get(f"{ATTACHMENTS}/{stored.json()['attachment_id']}",
                                       headers=me)).content
    assert b"31.95" not in content


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "photo.jpg"),
        (b"#!/bin/sh\nrm -rf /\n", "photo.jpg"),
        (b"PK\x03\x04" + b"\x00" * 64, "document.pdf"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "broken.jpg"),  # a JPEG header and nothing else
        (b"", "empty.pdf"),
    ],
)
async def test_disguised_broken_or_empty_files_are_refused_and_nothing_is_stored(
    intake: IntakeUnderTest, content: bytes, name: str
) -> None:
    refused = await upload(intake, intake.auth(Role.citizen), content, name)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/attachment-refused"
    assert await intake.count("attachments") == 0


async def test_an_oversized_file_is_refused(
    postgres_url: str, pg_schema: str, registry_url: str
) -> None:
    async with intake_app(postgres_url, pg_schema, registry_url, clock=sunday_clock(),
                          attachment_max_bytes=2048) as intake:
        pdf = b"%PDF-1.4\n" + b"0" * 4096
        refused = await upload(intake, intake.auth(Role.citizen), pdf, "big.pdf",
                               "application/pdf")
        assert refused.status_code == 413
        assert await intake.count("attachments") == 0


async def test_attachments_go_with_a_submission_and_only_their_owner_sees_them(
    intake: IntakeUnderTest,
) -> None:
    await seed_directory(intake)
    me, other = intake.auth(Role.citizen), intake.auth(Role.citizen)
    attachment_id, theirs = await upload_letter(intake, me), await upload_letter(intake, other)
    stolen = await intake.client.post(REQUESTS, json=complaint(attachment_ids=[theirs]),
                                      headers={**me, **key()})
    assert stolen.status_code == 422
    assert stolen.json()["reason"] == "unknown_attachment"
    assert await intake.count("requests") == 0
    submitted = await intake.client.post(REQUESTS, json=complaint(attachment_ids=[attachment_id]),
                                         headers={**me, **key()})
    assert submitted.status_code == 201, submitted.json()
    (event,) = await intake.events("request.submitted")
    assert event["attachment_ids"] == [attachment_id]
    view = await intake.client.get(f"{REQUESTS}/{submitted.json()['reference']}", headers=me)
    assert view.json()["attachment_ids"] == [attachment_id]
    assert (await intake.client.get(f"{ATTACHMENTS}/{attachment_id}", headers=other)
            ).status_code == 404
    again = await intake.client.post(REQUESTS, json=complaint(
        subject="موضوع آخر تماماً", attachment_ids=[attachment_id],
        confirm_despite_similar=True), headers={**me, **key()})
    assert again.status_code == 422  # one file, one request


async def test_a_refused_attachment_fails_only_its_own_submission_among_concurrent_ones(
    intake: IntakeUnderTest,
) -> None:
    # Written in one group commit, the bad one makes the batch fail; each is then tried alone.
    await seed_directory(intake)
    me, other = intake.auth(Role.citizen), intake.auth(Role.citizen)
    theirs = await upload_letter(intake, other)
    answers = await asyncio.gather(
        *(intake.client.post(REQUESTS, json=complaint(subject=f"طلب رقم {i} عن الخدمات"),
                             headers={**intake.auth(Role.citizen), **key()}) for i in range(4)),
        intake.client.post(REQUESTS, json=complaint(attachment_ids=[theirs]),
                           headers={**me, **key()}),
    )
    assert [answer.status_code for answer in answers] == [201, 201, 201, 201, 422]
    assert answers[-1].json()["reason"] == "unknown_attachment"
    assert await intake.count("requests") == 4
    assert len(await intake.events("request.submitted")) == 4


async def test_too_many_attachments_are_refused(intake: IntakeUnderTest) -> None:
    await seed_directory(intake)
    refused = await intake.client.post(
        REQUESTS, json=complaint(attachment_ids=[str(uuid.uuid4())
                                                 for _ in range(6)]),
        headers={**intake.auth(Role.citizen), **key()})
    assert refused.status_code == 422
    assert refused.json()["reason"] == "too_many"
