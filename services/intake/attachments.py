"""Attachments: judged by what the bytes are, not what they are called; images cleaned first.

A file is accepted only when its content is one of the allowed types (magic bytes, `filetype`):
an `.exe` renamed `.jpg` is an executable and is refused. Images are decoded and encoded again
from their pixels alone, so nothing of their metadata (EXIF, GPS position, camera serial, XMP,
comments) is stored; their orientation is applied first so that they still look the same.
Uploaded files wait unattached until a submission (or an answer to a question) names them, and
are purged if none does within a day. The name a file was uploaded with is kept, cleaned, to be
shown; nothing is decided by it.

A file is read by its uploader, by the requester of the request it is on, and by the staff who
hold that request (`staff_reads.holds`); each staff read is recorded.

What it must never do: store an image's metadata, trust a file name or a declared content type,
or decode an image so large that decoding itself is the attack (Pillow's pixel limit holds).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.context import REQUESTERS, Intake
from services.intake.exceptions import AttachmentRefused
from services.intake.schemas import AttachmentStored, StaffAction
from services.intake.staff_reads import holds
from services.intake.submissions import audit
from shared.auth import Principal, Role
from shared.clock import Clock
from shared.errors import Forbidden, NotFound, PayloadTooLarge, Text

IMAGE_TYPES: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
ALLOWED_TYPES: Final = frozenset({*IMAGE_TYPES, "application/pdf"})
UNATTACHED_FOR: Final = timedelta(days=1)
MAX_PIXELS: Final = 40_000_000  # a 40-megapixel photo; more is no phone's
MAX_FILE_NAME: Final = 200

_EMPTY = Text("الملف فارغ.", "The file is empty.")
_WRONG_TYPE = Text(
    "نوع الملف غير مسموح؛ المسموح: صور JPEG وPNG وWebP وملفات PDF (يُحكم على النوع من محتوى "
    "الملف لا من اسمه).",
    "This type of file is not allowed; allowed are JPEG, PNG and WebP images and PDF "
    "documents (the type is judged by the content, not the name).",
)
_BROKEN_IMAGE = Text("الصورة تالفة أو كبيرة جداً.", "The image is damaged or too large.")


@dataclass(frozen=True, slots=True)
class CleanFile:
    media_type: str
    content: bytes


def _without_metadata(content: bytes, media_type: str) -> bytes:
    """The image's pixels, re-encoded in its own format with nothing else."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise AttachmentRefused(_BROKEN_IMAGE, reason="image_too_large")
                upright = ImageOps.exif_transpose(image) or image
                if upright.mode not in ("RGB", "RGBA", "L"):
                    upright = upright.convert("RGBA" if "A" in upright.mode else "RGB")
                if media_type == "image/jpeg" and upright.mode == "RGBA":
                    upright = upright.convert("RGB")
                pixels_only = Image.frombytes(upright.mode, upright.size, upright.tobytes())
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
                Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AttachmentRefused(_BROKEN_IMAGE, reason="image_unreadable") from None
    cleaned = io.BytesIO()
    options = {"quality": 90} if media_type in ("image/jpeg", "image/webp") else {}
    pixels_only.save(cleaned, format=IMAGE_TYPES[media_type], **options)
    return cleaned.getvalue()


def clean_file_name(name: str | None) -> str | None:
    """The name as it may be shown: its last path part, NFC, without control, format (direction
    marks, zero-width) or unassigned characters, single spaces, at most `MAX_FILE_NAME`
    characters keeping its extension; None when nothing is left."""
    if not name:
        return None
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in unicodedata.normalize("NFC", last)
                   if not unicodedata.category(c).startswith("C"))
    kept = " ".join(kept.split()).strip(" .")
    if len(kept) > MAX_FILE_NAME:
        stem, dot, extension = kept.rpartition(".")
        extension = extension[:20] if dot and stem else ""
        kept = (kept[:MAX_FILE_NAME - len(extension) - 1].rstrip() + "." + extension
                if extension else kept[:MAX_FILE_NAME])
    return kept or None


def inspect(content: bytes, *, max_bytes: int) -> CleanFile:
    """What the file really is, cleaned; or the reason it is refused."""
    if not content:
        raise AttachmentRefused(_EMPTY, reason="empty")
    if len(content) > max_bytes:
        raise PayloadTooLarge(
            Text(f"الحد الأقصى لحجم المرفق {max_bytes} بايت.",
                 f"The largest accepted attachment is {max_bytes} bytes."),
            max_bytes=max_bytes,
        )
    kind = filetype.guess(content)
    media_type = kind.mime if kind is not None else None
    if media_type not in ALLOWED_TYPES:
        raise AttachmentRefused(_WRONG_TYPE, reason="type_not_allowed")
    if media_type in IMAGE_TYPES:
        content = _without_metadata(content, media_type)
    return CleanFile(media_type, content)


async def store(
    session: AsyncSession, intake: Intake, *, principal: Principal, content: bytes,
    file_name: str | None,
) -> AttachmentStored:
    if principal.role not in REQUESTERS:
        raise Forbidden()
    clean = await asyncio.to_thread(
        inspect, content, max_bytes=intake.settings.attachment_max_bytes
    )
    now = intake.clock.now()
    stored = AttachmentStored(
        attachment_id=uuid.uuid4(), media_type=clean.media_type, size=len(clean.content),
        sha256=hashlib.sha256(clean.content).hexdigest(), file_name=file_name,
    )
    await repository.purge_unattached(session, older_than=now - UNATTACHED_FOR)
    await repository.add_attachment(session, values={
        "id": stored.attachment_id, "owner_id": principal.subject, "reference": None,
        "file_name": stored.file_name, "media_type": stored.media_type, "size": stored.size,
        "sha256": stored.sha256, "content": clean.content, "created_at": now,
    })
    return stored


async def fetch(
    session: AsyncSession, clock: Clock, *, principal: Principal, attachment_id: uuid.UUID
) -> CleanFile:
    """The file for its uploader, the requester of the request it is on, or the staff who hold
    that request (recorded); anyone else is answered as if it did not exist."""
    found = await repository.attachment(session, attachment_id=attachment_id)
    if found is None:
        raise NotFound()
    if found.owner_id != principal.subject:
        request = (await repository.request(session, reference=found.reference)
                   if found.reference is not None else None)
        if request is None:
            raise NotFound()
        if principal.role is Role.citizen:
            if str(request.requester_id) != principal.subject:
                raise NotFound()
        elif holds(principal, request):
            await audit(session, principal, StaffAction.attachment_read, clock.now(),
                        reference=request.reference, requester_id=request.requester_id,
                        attachment_id=found.id)
        else:
            raise NotFound()
    return CleanFile(
        found.media_type, await repository.attachment_bytes(session, attachment_id=attachment_id)
    )
