"""SMS over the operator's bulk gateway: its HTTP API with httpx, and its signed receipts.

The API (what `simulators.sms_gateway` also serves):

    POST {BKH_SMS_GATEWAY_URL}/messages          Authorization: Bearer {BKH_SMS_GATEWAY_API_KEY}
    {"sender_id": "BKHEDMETKOM",
     "messages": [{"client_reference": "<notification id>", "to": "+9627…", "text": "…"}, …]}
    → 200 {"messages": [{"client_reference": …, "status": "accepted", "message_id": "…"}
                        | {"client_reference": …, "status": "rejected", "error": "invalid_number"}]}

    The gateway keeps client references: a batch sent again after a lost answer is not sent twice.

    Delivery receipts, POSTed by the gateway to notify's public callback, in batches:
    {"receipts": [{"message_id": …, "client_reference": …, "status": "delivered" | "undeliverable"
                   | "expired", "error": "…" | null}]}
    with X-Signature-Timestamp (unix seconds) and
    X-Signature: "v1=" + hex HMAC-SHA256(BKH_SMS_RECEIPT_SECRET, timestamp + "." + body).

A 4xx answer to a batch refuses it for good (our request was wrong) except 401/403/408/429,
which say the gateway will not serve us now; those, 5xx, timeouts and connection errors make
the provider unavailable: retried later and counted by the circuit breaker.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, Final

import httpx

from services.notify.config import NotifySettings
from services.notify.providers import Outcome, OutgoingMessage, Result
from shared.events.vocabulary import NoticeChannel

SIGNATURE_HEADER: Final = "X-Signature"
TIMESTAMP_HEADER: Final = "X-Signature-Timestamp"
_NOT_NOW: Final = frozenset({401, 403, 408, 429})


def receipt_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(receipt_signature(secret, timestamp, body), signature)


class SmsGatewayProvider:
    name = "sms_gateway"
    channel = NoticeChannel.sms

    def __init__(self, settings: NotifySettings, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._sender_id = settings.sms_sender_id
        self._batch_size = settings.sms_batch_size
        self._client = httpx.AsyncClient(
            base_url=settings.sms_gateway_url.rstrip("/"),
            headers={"Authorization":
                     f"Bearer {settings.sms_gateway_api_key.get_secret_value()}"},
            timeout=httpx.Timeout(settings.sms_timeout_s),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            transport=transport,
        )

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]:
        chunks = [messages[i:i + self._batch_size]
                  for i in range(0, len(messages), self._batch_size)]
        results = await asyncio.gather(*(self._send_chunk(chunk) for chunk in chunks))
        return [outcome for result in results for outcome in result]

    async def _send_chunk(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]:
        body = {
            "sender_id": self._sender_id,
            "messages": [{"client_reference": str(m.notification_id), "to": m.address,
                          "text": m.text} for m in messages],
        }
        try:
            response = await self._client.post("/messages", json=body)
        except httpx.TimeoutException:
            return _all(messages, Result.unavailable, "sms_gateway_timeout")
        except httpx.HTTPError:
            return _all(messages, Result.unavailable, "sms_gateway_unreachable")
        status = response.status_code
        if status >= 500 or status in _NOT_NOW:
            return _all(messages, Result.unavailable, f"sms_gateway_http_{status}")
        if status >= 400:
            return _all(messages, Result.refused, f"sms_gateway_http_{status}")
        return _per_message(messages, response)

    async def close(self) -> None:
        await self._client.aclose()


def _all(messages: Sequence[OutgoingMessage], result: Result, reason: str) -> list[Outcome]:
    return [Outcome(m.notification_id, result, reason) for m in messages]


def _per_message(messages: Sequence[OutgoingMessage], response: httpx.Response) -> list[Outcome]:
    try:
        answers: dict[str, Any] = {
            str(item["client_reference"]): item for item in response.json()["messages"]}
    except (ValueError, KeyError, TypeError):
        return _all(messages, Result.unavailable, "sms_gateway_bad_answer")
    outcomes = []
    for message in messages:
        answer = answers.get(str(message.notification_id))
        if answer is None:  # not answered for: it may or may not be sent; the retry is safe
            outcomes.append(Outcome(message.notification_id, Result.retry, "sms_gateway_silent"))
        elif answer.get("status") == "accepted":
            outcomes.append(Outcome.accepted(message.notification_id,
                                             str(answer.get("message_id") or "")[:100] or None))
        else:
            error = "".join(ch for ch in str(answer.get("error") or "rejected").lower()
                            if ch.isalnum() or ch == "_")[:40] or "rejected"
            outcomes.append(Outcome(message.notification_id, Result.refused, f"sms_{error}"))
    return outcomes
