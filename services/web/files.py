"""Files through the web app: bodies bounded as they arrive, files passed on without being held.

Every request body is capped as it arrives (`BodyLimitMiddleware`): a form at `max_form_bytes`,
a form with a file (multipart) at `max_upload_bytes` plus that. A body that says it is larger is
refused before a byte is read; one that grows past its cap mid-way stops there. Either way the
person sees a page saying the file is too large (`BodyTooLarge`).

A file in a form is spooled by Starlette's parser (memory up to 1 MiB, then a temporary file) and
streamed from there to `POST /api/v1/attachments` (`upload`), which judges it by its content. A
file from the platform is relayed to the browser chunk by chunk as it arrives (`relay`).

What it must never do: read a body past its cap; trust a file's name or declared type (intake
judges the bytes); keep, decode or change a file on its way through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import httpx
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.office import Office

ATTACHMENTS_PATH: Final = "/api/v1/attachments"


class BodyTooLarge(Exception):
    """The body is larger than this app accepts: nothing of it is used."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"body over {cap} bytes")
        self.cap = cap


class BodyLimitMiddleware:
    """Caps every request body as it is received (pure ASGI: nothing is buffered here)."""

    def __init__(self, app: ASGIApp, *, max_form_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_form_bytes = max_form_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        cap = self.max_form_bytes + (
            self.max_upload_bytes if content_type == b"multipart/form-data" else 0)
        declared = headers.get(b"content-length", b"")
        received = 0

        async def capped_receive() -> Message:
            # Raised into whoever reads the body (the form parser, in a route), which stops
            # reading; the app's handler then answers with the page that says so.
            nonlocal received
            if declared.isdigit() and int(declared) > cap:
                raise BodyTooLarge(cap)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        await self.app(scope, capped_receive, send)


def file_in(form: FormData, name: str) -> UploadFile | None:
    """The file chosen in the form's `name` input; None when none was (browsers then send an
    empty part without a file name)."""
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename and (value.size or 0) > 0:
        return value
    return None


async def upload(office: Office, file: UploadFile, *, idempotency_key: str) -> dict[str, Any]:
    """The file, streamed from its spool to the platform; its `AttachmentStored` answer."""
    await file.seek(0)
    response = await office.platform.call(
        office.caller, "POST", ATTACHMENTS_PATH,
        files={"file": (file.filename or "file", file.file,
                        file.content_type or "application/octet-stream")},
        headers={"Idempotency-Key": idempotency_key},
    )
    stored: dict[str, Any] = response.json()
    return stored


def relay(upstream: httpx.Response, headers: Mapping[str, str]) -> StreamingResponse:
    """A file the platform is sending (`Platform.call(..., stream=True)`), relayed as it comes
    with these headers (and its length, when the platform said it); closed in every case."""
    sent = dict(headers)
    if length := upstream.headers.get("content-length"):
        sent["Content-Length"] = length
    return StreamingResponse(upstream.aiter_raw(), headers=sent,
                             background=BackgroundTask(upstream.aclose))
