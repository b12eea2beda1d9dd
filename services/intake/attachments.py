"""Attachments: judged by what the bytes are, not what they are called; images cleaned first.

A file is accepted only when its content is one of the allowed types (magic bytes, `filetype`):
an `.exe` renamed `.jpg` is an executable and is refused. Images are decoded and encoded again
from their pixels alone, so nothing of their metadata (EXIF, GPS position, camera serial, XMP,
comments) is stored; their orientation is applied first so that they still look the same.
Uploaded files wait unattached until a submission (or an answer to a question) names them, and
are purged if none does within a day.

What it must never do: store an image's metadata, trust a file name or a declared content type,
or decode an image so large that decoding itself is the attack (Pillow's pixel limit holds).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.exceptions import AttachmentRefused
from services.intake.schemas import AttachmentStored
from services.intake.submissions import REQUESTERS
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound, PayloadTooLarge, Text

if TYPE_CHECKING:  # the context opens the chores, which purge uploads: no import at run time
    from services.intake.context import Intake

IMAGE_TYPES: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
ALLOWED_TYPES: Final = frozenset({*IMAGE_TYPES, "application/pdf"})
UNATTACHED_FOR: Final = timedelta(days=1)
MAX_PIXELS: Final = 40_000_000  # a 40-megapixel photo; more is no phone's

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
    session: AsyncSession, intake: Intake, *, principal: Principal, content: bytes
) -> AttachmentStored:
    if principal.role not in REQUESTERS:
        raise Forbidden()
    clean = await asyncio.to_thread(
        inspect, content, max_bytes=intake.settings.attachment_max_bytes
    )
    now = intake.clock.now()
    stored = AttachmentStored(
        attachment_id=uuid.uuid4(), media_type=clean.media_type, size=len(clean.content),
        sha256=hashlib.sha256(clean.content).hexdigest(),
    )
    await repository.purge_unattached(session, older_than=now - UNATTACHED_FOR)
    await repository.add_attachment(session, values={
        "id": stored.attachment_id, "owner_id": principal.subject, "reference": None,
        "media_type": stored.media_type, "size": stored.size, "sha256": stored.sha256,
        "content": clean.content, "created_at": now,
    })
    return stored


async def fetch(
    session: AsyncSession, *, principal: Principal, attachment_id: uuid.UUID
) -> CleanFile:
    """The file for its uploader, or for the requester of the request it is on."""
    found = await repository.attachment(session, attachment_id=attachment_id)
    if found is None:
        raise NotFound()
    allowed = found.owner_id == principal.subject
    if not allowed and found.reference is not None and principal.role is Role.citizen:
        request = await repository.request(session, reference=found.reference)
        allowed = request is not None and str(request.requester_id) == principal.subject
    if not allowed:
        raise NotFound()
    return CleanFile(
        found.media_type, await repository.attachment_bytes(session, attachment_id=attachment_id)
    )
