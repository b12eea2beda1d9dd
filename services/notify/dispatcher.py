"""The dispatcher: takes queued messages to their providers, outside any consumer's transaction.

One lane per channel, each with its own provider and circuit breaker, so an SMTP outage never
holds back an SMS (nor the consumers, which only ever queue). A lane claims a batch of due
messages in a short transaction (`FOR UPDATE SKIP LOCKED`, and a lease, so several replicas
share the work and a message whose sender died is taken again when its lease runs out),
renders them, hands them to the provider with no transaction open, and records every outcome
with its event in a second short transaction (`delivery.apply`). Up to `dispatch_concurrency`
batches per lane are in flight at once.

Exactly once in effect: a message is queued once (its id derives from event, recipient and
channel) and claimed by one sender at a time. Only a crash between a provider's acceptance and
our record of it sends a message again, after the lease; the provider recognises the repeat by
its id (the SMS gateway's client reference, the email's Message-ID).

Also here: the liaison officers' daily digest of overdue requests, forgetting codes that
expired unsent, and forgetting the address and words of messages past their retention period.
What it must never do: log an address or a text, or hold a transaction open while a provider
is being waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import delivery, repository, service
from services.notify.breaker import BreakerState, CircuitBreaker
from services.notify.config import NotifySettings
from services.notify.messages import AMMAN, MessageKind, Messages
from services.notify.models import Priority
from services.notify.process import CODES, HOLDER, register_dispatcher, unregister_dispatcher
from services.notify.providers import Outcome, OutgoingMessage, Provider, Result
from services.notify.providers.folder import FolderProvider
from services.notify.providers.sms_gateway import SmsGatewayProvider
from services.notify.providers.smtp import SmtpProvider
from services.notify.repository import AnyRow
from services.notify.service import Notice
from shared.bus import Outbox
from shared.calendar import WorkingCalendar
from shared.clock import Clock
from shared.events.catalog import SlaRulesChanged
from shared.events.vocabulary import Language, NoticeChannel
from shared.links import LinkSigner
from shared.waiting import wait_at_most

log = logging.getLogger(__name__)

HANDOFF = Histogram(
    "bkh_notify_handoff_seconds", "From the event to the provider's acceptance",
    ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
OUTCOMES = Counter("bkh_notify_outcomes_total", "Attempts by result", ["channel", "result"])

# The web app's page for a one-tap rating link (services/web/public/rating.py).
RATING_LINK_PATH = "/rate/{reference}"
SAMPLE_TOKEN = "preview"  # in a previewed message's rating link: no token intake accepts
DIGEST_NAMESPACE = uuid.UUID("0b6f8a52-3c1d-5e47-a9d0-6f2e8b1c4d73")


def build_providers(settings: NotifySettings, clock: Clock) -> dict[NoticeChannel, Provider]:
    """SMTP and the SMS gateway where configured; the development folder where not."""
    assert settings.messages_dir is not None
    email: Provider = (
        SmtpProvider(settings, clock=clock) if settings.smtp_host else
        FolderProvider(settings.messages_dir, NoticeChannel.email,
                       sender=settings.smtp_sender, clock=clock))
    sms: Provider = (
        SmsGatewayProvider(settings) if settings.sms_gateway_url else
        FolderProvider(settings.messages_dir, NoticeChannel.sms,
                       sender=settings.smtp_sender, clock=clock))
    return {NoticeChannel.email: email, NoticeChannel.sms: sms}


class Renderer:
    """A claimed row → the message a provider sends: its template, its links, its code."""

    def __init__(self, settings: NotifySettings, clock: Clock) -> None:
        self.messages = Messages(segment_budget=settings.sms_segment_budget)
        self.signer = LinkSigner(settings.link_secret, clock=clock)
        self.base_url = settings.public_base_url.rstrip("/")
        self.link_lifetime = timedelta(days=settings.rating_link_lifetime_days)

    def rating_link(self, reference: str, requester_id: uuid.UUID,
                    answer_round: int | None = None) -> str:
        """The one-tap link that rates this answer of the request (intake honours it)."""
        claims: dict[str, Any] = {"ref": reference, "sub": str(requester_id)}
        if answer_round is not None:
            claims["round"] = answer_round
        return self._rating_url(reference, self.signer.sign("rate", claims,
                                                             lifetime=self.link_lifetime))

    def sample_rating_link(self, reference: str) -> str:
        """A rating link as the requester will see it, whose token rates nothing (previews:
        staff must never hold a link that rates in the requester's name)."""
        return self._rating_url(reference, SAMPLE_TOKEN)

    def _rating_url(self, reference: str, token: str) -> str:
        path = RATING_LINK_PATH.format(reference=quote(reference, safe=""))
        return f"{self.base_url}{path}?token={token}"

    def render(self, row: AnyRow, code: str | None = None) -> OutgoingMessage:
        context: dict[str, Any] = dict(row.context)
        if context.pop("rating_link", False):
            context["action_url"] = self.rating_link(row.reference, row.recipient_id,
                                                     context.pop("answer_round", None))
        if path := context.pop("action_path", None):
            context["action_url"] = f"{self.base_url}{path}"
        if code is not None:
            context["code"] = code
        return self.compose(row.id, NoticeChannel(row.channel), row.address,
                            MessageKind(row.kind), Language(row.language), context)

    def compose(self, message_id: uuid.UUID, channel: NoticeChannel, address: str,
                kind: MessageKind, language: Language, context: dict[str, Any]
                ) -> OutgoingMessage:
        """The message of `kind` in `language` for `channel`, from a context ready to render."""
        if channel is NoticeChannel.sms:
            return OutgoingMessage(message_id, channel, address, language,
                                   text=self.messages.sms(kind, language, context))
        email = self.messages.email(kind, language, context)
        return OutgoingMessage(message_id, channel, address, language, text=email.text,
                               subject=email.subject, html=email.html)


class Lane:
    """The messages of one channel, through one provider, behind one breaker."""

    def __init__(
        self, provider: Provider, *, sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox, clock: Clock, settings: NotifySettings, renderer: Renderer,
    ) -> None:
        self.provider = provider
        self.channel = provider.channel
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.clock = clock
        self.settings = settings
        self.renderer = renderer
        self.policy = delivery.RetryPolicy(settings.retry_max_attempts, settings.retry_base_s,
                                           settings.retry_cap_s)
        self.breaker = CircuitBreaker(
            provider.name, threshold=settings.breaker_failure_threshold,
            open_for=timedelta(seconds=settings.breaker_open_s), clock=clock)
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._wakeup = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        while True:
            self._wakeup.clear()
            if self.breaker.state is BreakerState.open:
                await asyncio.sleep(min(self.breaker.seconds_until_trial(), 5.0))
                continue
            await self._slots.acquire()
            trial = self.breaker.state is BreakerState.half_open
            try:
                rows = await self._claim(1 if trial else self.settings.dispatch_batch_size)
                failures = 0
            except Exception as exc:
                self._slots.release()
                failures += 1
                log.warning("claiming messages failed", extra={
                    "channel": self.channel.value, "error": type(exc).__name__})
                await asyncio.sleep(min(0.1 * 2 ** failures, 5.0))
                continue
            if not rows:
                self._slots.release()
                await wait_at_most(self._wakeup, self.settings.dispatch_poll_interval_s)
                continue
            task = asyncio.create_task(self._deliver_and_release(rows, trial))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            if trial:  # one trial at a time: wait for its verdict before claiming more
                await asyncio.wait({task})
            elif len(rows) < self.settings.dispatch_batch_size:
                # A part batch: let more messages arrive rather than claim them one by one.
                await asyncio.sleep(self.settings.dispatch_linger_s)

    async def drain(self, timeout_s: float) -> None:
        """Let batches in flight finish (their messages are already with the provider)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout_s)
        for task in list(self._in_flight):
            task.cancel()

    async def _claim(self, limit: int) -> list[AnyRow]:
        now = self.clock.now()
        async with self.sessionmaker.begin() as session:
            return await repository.claim(
                session, channel=self.channel.value, now=now, limit=limit, holder=HOLDER,
                lease_until=now + timedelta(seconds=self.settings.dispatch_lease_s))

    async def _deliver_and_release(self, rows: list[AnyRow], trial: bool) -> None:
        try:
            await self.deliver(rows, trial=trial)
        except Exception as exc:
            # Unrecorded: the leases run out and the messages are claimed again. The type only:
            # a database error quotes its parameters, and those are addresses.
            log.error("delivering a batch failed", extra={
                "channel": self.channel.value, "error": type(exc).__name__})
        finally:
            self._slots.release()
            self.wake()

    async def deliver(self, rows: list[AnyRow], *, trial: bool = False) -> None:
        now = self.clock.now()
        moves: list[delivery.Move] = []
        outgoing: list[OutgoingMessage] = []
        codes: dict[uuid.UUID, tuple[str, datetime]] = {}
        for row in rows:
            if row.expires_at is not None and row.expires_at <= now:
                moves.append(delivery.Move(row.id, "expired", "expired_unsent"))
                CODES.take(row.id)
                continue
            if row.recipient_id is not None and row.recipient_active is False:
                moves.append(delivery.Move(row.id, Result.refused, "recipient_deactivated"))
                continue
            code = CODES.take(row.id) if row.holder is not None else None
            if row.holder is not None:
                if code is None:  # held by this process, yet gone: it cannot be sent
                    moves.append(delivery.Move(row.id, "expired", "code_unavailable"))
                    continue
                codes[row.id] = (code, row.expires_at)
            try:
                outgoing.append(self.renderer.render(row, code))
            except Exception as exc:
                log.error("rendering a message failed", extra={
                    "notification_id": str(row.id), "kind": row.kind,
                    "error": type(exc).__name__})
                moves.append(delivery.Move(row.id, Result.refused, "template_error"))
        outcomes = await self._send(outgoing, trial=trial)
        for outcome in outcomes:
            OUTCOMES.labels(self.channel.value, outcome.result.value).inc()
            held = codes.get(outcome.notification_id)
            if held and outcome.result in (Result.retry, Result.unavailable):
                CODES.give_back(outcome.notification_id, held[0], expires_at=held[1])
        moves += delivery.moves_from(outcomes)
        await self._record(moves)
        created = {row.id: row.created_at for row in rows}
        handed_off = self.clock.now()
        for outcome in outcomes:
            if outcome.result is Result.accepted:
                HANDOFF.labels(self.channel.value).observe(
                    (handed_off - created[outcome.notification_id]).total_seconds())

    async def _send(self, messages: list[OutgoingMessage], *, trial: bool) -> list[Outcome]:
        if not messages:
            return []
        try:
            # Within half the lease, so that no other sender takes these messages meanwhile.
            async with asyncio.timeout(self.settings.dispatch_lease_s / 2):
                outcomes = await self.provider.send(messages)
        except TimeoutError:
            log.warning("provider too slow, batch abandoned", extra={
                "provider": self.provider.name, "messages": len(messages)})
            outcomes = [Outcome(m.notification_id, Result.unavailable, "provider_too_slow")
                        for m in messages]
        except Exception as exc:  # a provider bug must not lose the batch: try again later
            log.error("provider failed", extra={"provider": self.provider.name,
                                                "error": type(exc).__name__})
            outcomes = [Outcome(m.notification_id, Result.unavailable,
                                f"provider_error_{type(exc).__name__.lower()}"[:64])
                        for m in messages]
        if any(o.result is Result.unavailable for o in outcomes):
            self.breaker.record_failure()
            if self.breaker.state is not BreakerState.closed:
                log.warning("provider unavailable, breaker open", extra={
                    "provider": self.provider.name, "trial": trial})
        else:
            self.breaker.record_success()
        return outcomes

    async def _record(self, moves: list[delivery.Move]) -> None:
        """Record outcomes; a database that is down is waited for, within the lease."""
        pause = 0.1
        give_up = self.clock.now() + timedelta(seconds=self.settings.dispatch_lease_s)
        while True:
            try:
                async with self.sessionmaker.begin() as session:
                    await delivery.apply(session, self.outbox, moves, now=self.clock.now(),
                                         policy=self.policy)
                return
            except Exception as exc:
                if self.clock.now() >= give_up:
                    raise
                log.warning("recording outcomes failed, retrying",
                            extra={"error": type(exc).__name__})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)


class OverdueDigest:
    """Once per working day, after `overdue_digest_hour` in Amman: each officer's overdue list.

    Working days as SLA announced them last (`sla.rules_changed`): holidays get no digest.

    The messages' ids derive from the day, the officer and the channel, so every replica may
    try and only the first one queues anything.
    """

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock,
                 hour: int) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.hour = hour
        self.done_for: date | None = None

    async def run_once(self) -> int:
        now = self.clock.now()
        local = now.astimezone(AMMAN)
        day = local.date()
        if local.hour < self.hour or self.done_for == day:
            return 0
        source = uuid.uuid5(DIGEST_NAMESPACE, day.isoformat())
        async with self.sessionmaker.begin() as session:
            rules = await repository.calendar_rules_now(session)
            calendar = (SlaRulesChanged.model_validate(rules).calendar() if rules
                        else WorkingCalendar())
            if not calendar.is_working_day(day):
                self.done_for = day
                return 0
            overdue: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
            for row in await repository.overdue_with_officers(session):
                overdue[row.officer_id].append(
                    {"reference": row.reference, "overdue_since": row.overdue_since})
            queued = await service.queue(session, [
                Notice(kind=MessageKind.officer_overdue_digest, source_event_id=source,
                       occurred_at=now, recipient_id=officer, priority=Priority.digest,
                       facts={"overdue": items[:50], "count": len(items)})
                for officer, items in overdue.items()
            ])
        self.done_for = day
        return queued


class Dispatcher:
    """Every lane, the digest and the code housekeeping of one notify process."""

    def __init__(self, *, settings: NotifySettings, clock: Clock,
                 sessionmaker: async_sessionmaker[AsyncSession], outbox: Outbox,
                 renderer: Renderer | None = None,
                 providers: dict[NoticeChannel, Provider] | None = None) -> None:
        self.clock = clock
        self.settings = settings
        renderer = renderer or Renderer(settings, clock)
        self.providers = providers or build_providers(settings, clock)
        self.lanes = {
            channel: Lane(provider, sessionmaker=sessionmaker, outbox=outbox, clock=clock,
                          settings=settings, renderer=renderer)
            for channel, provider in self.providers.items()
        }
        self.digest = OverdueDigest(sessionmaker=sessionmaker, clock=clock,
                                    hour=settings.overdue_digest_hour)
        self.sessionmaker = sessionmaker
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        for lane in self.lanes.values():
            lane.wake()

    def start(self) -> None:
        register_dispatcher(self.wake)
        for channel, lane in self.lanes.items():
            self._tasks.append(asyncio.create_task(lane.run(), name=f"notify:{channel}"))
        self._tasks.append(asyncio.create_task(
            self._every(self.settings.digest_check_interval_s, self._chores),
            name="notify:chores"))

    async def _chores(self) -> None:
        CODES.forget_expired(self.clock.now())
        await self.digest.run_once()
        await self.forget_past_retention()

    async def forget_past_retention(self) -> int:
        """Forget every message past its retention period, a batch per transaction."""
        cutoff = self.clock.now() - timedelta(days=self.settings.message_retention_days)
        total = 0
        while True:
            async with self.sessionmaker.begin() as session:
                batch = await repository.forget_finished(session, created_before=cutoff)
            total += batch
            if batch < repository.FORGET_BATCH:
                return total

    async def _every(self, interval_s: float, chore: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await chore()
            except Exception as exc:  # the database comes back; the next round catches up
                log.warning("notify chores failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(interval_s)

    async def stop(self) -> None:
        unregister_dispatcher(self.wake)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lane in self.lanes.values():
            await lane.drain(timeout_s=5.0)
        for provider in self.providers.values():
            await provider.close()
