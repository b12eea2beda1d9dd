"""A stand-in for the operator's bulk SMS gateway: the same HTTP API, for tests and demos.

It speaks the API described in `services.notify.providers.sms_gateway`: takes batches of
messages (Bearer key), refuses numbers no numbering plan knows, remembers client references (a
batch sent twice is sent once), and posts signed delivery receipts to notify's callback in
batches. Tests start it on a free port and steer it (`fail_next`, `answer_after_s`,
`undeliverable`); `python -m simulators.sms_gateway` runs it as a demo gateway:

    BKH_SMS_GATEWAY_API_KEY=… BKH_SMS_RECEIPT_SECRET=… \
    python -m simulators.sms_gateway --port 8191 \
        --receipts-to http://127.0.0.1:8000/api/v1/notifications/sms/receipts

Never for production: it sends nothing to any phone. Its log names message ids, never numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import phonenumbers
import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from services.notify.providers.sms_gateway import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    receipt_signature,
)
from shared.clock import Clock, SystemClock

log = logging.getLogger(__name__)

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _dialable(number: str) -> bool:
    """What an operator would dial: E.164, and a number its numbering plan knows."""
    if not _E164.fullmatch(number):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


@dataclass
class SentSms:
    message_id: str
    client_reference: str
    to: str
    text: str
    sender_id: str


@dataclass
class SimulatedSmsGateway:
    api_key: str
    receipt_url: str | None = None
    receipt_secret: str = ""
    clock: Clock = field(default_factory=SystemClock)
    receipt_transport: httpx.AsyncBaseTransport | None = None
    # Steering, for tests.
    undeliverable: set[str] = field(default_factory=set)   # numbers whose receipts say so
    answer_after_s: float = 0.0                             # a slow gateway
    sent: list[SentSms] = field(default_factory=list)
    requests: int = 0
    receipt_answers: list[int] = field(default_factory=list)  # notify's status codes
    _failures: list[int] = field(default_factory=list)
    _by_reference: dict[str, SentSms] = field(default_factory=dict)
    _pending_receipts: list[dict[str, Any]] = field(default_factory=list)
    _receipts_due: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` batches with `status` and send nothing."""
        self._failures += [status] * count

    def texts_to(self, number: str) -> list[str]:
        return [sms.text for sms in self.sent if sms.to == number]

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            task = asyncio.create_task(self._post_receipts())
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        app = FastAPI(title="SMS gateway (simulator)", lifespan=lifespan)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/messages")
        async def messages(request: Request,
                           authorization: str | None = Header(default=None)) -> JSONResponse:
            self.requests += 1
            if authorization != f"Bearer {self.api_key}":
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if self.answer_after_s:
                await asyncio.sleep(self.answer_after_s)
            if self._failures:
                return JSONResponse({"error": "unavailable"}, status_code=self._failures.pop(0))
            try:
                batch = json.loads(await request.body())
                sender_id = str(batch["sender_id"])
                items = list(batch["messages"])
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": "bad_request"}, status_code=400)
            return JSONResponse({"messages": [self._accept(item, sender_id) for item in items]})

        return app

    def _accept(self, item: dict[str, Any], sender_id: str) -> dict[str, Any]:
        reference = str(item.get("client_reference", ""))
        known = self._by_reference.get(reference)
        if known is not None:  # the same message again: acknowledged, not sent twice
            return {"client_reference": reference, "status": "accepted",
                    "message_id": known.message_id}
        to = str(item.get("to", ""))
        if not _dialable(to):
            return {"client_reference": reference, "status": "rejected",
                    "error": "invalid_number"}
        sms = SentSms(f"sim-{uuid.uuid4().hex[:16]}", reference, to, str(item.get("text", "")),
                      sender_id)
        self.sent.append(sms)
        self._by_reference[reference] = sms
        log.info("simulated SMS accepted", extra={"message_id": sms.message_id})
        status = "undeliverable" if to in self.undeliverable else "delivered"
        self._pending_receipts.append({
            "message_id": sms.message_id, "client_reference": reference, "status": status,
            "error": "absent_subscriber" if status == "undeliverable" else None})
        self._receipts_due.set()
        return {"client_reference": reference, "status": "accepted",
                "message_id": sms.message_id}

    async def _post_receipts(self) -> None:
        while True:
            await self._receipts_due.wait()
            await asyncio.sleep(0.05)  # gather a batch, as real gateways do
            self._receipts_due.clear()
            batch = self._pending_receipts[:500]
            del self._pending_receipts[:500]
            if self._pending_receipts:
                self._receipts_due.set()
            if batch and self.receipt_url:
                await self._post(batch)

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        assert self.receipt_url is not None
        body = json.dumps({"receipts": batch}).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: receipt_signature(self.receipt_secret, timestamp, body)}
        try:
            async with httpx.AsyncClient(transport=self.receipt_transport, timeout=10) as client:
                response = await client.post(self.receipt_url, content=body, headers=headers)
            self.receipt_answers.append(response.status_code)
            if response.status_code >= 500:
                raise httpx.HTTPStatusError("retry", request=response.request,
                                            response=response)
        except httpx.HTTPError:
            self._pending_receipts[:0] = batch  # the real ones retry; so do we
            await asyncio.sleep(1.0)
            self._receipts_due.set()


def create_app(receipts_to: str | None = None) -> FastAPI:
    """A demo gateway keyed like notify (`uvicorn --factory …:create_app`, or `main`)."""
    gateway = SimulatedSmsGateway(
        api_key=os.environ.get("BKH_SMS_GATEWAY_API_KEY", ""),
        receipt_url=receipts_to or os.environ.get("BKH_SMS_RECEIPTS_TO") or None,
        receipt_secret=os.environ.get("BKH_SMS_RECEIPT_SECRET", ""),
    )
    return gateway.app()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.sms_gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8191)
    parser.add_argument("--receipts-to", default=None, help="notify's receipt callback URL")
    args = parser.parse_args()
    uvicorn.run(create_app(args.receipts_to), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
