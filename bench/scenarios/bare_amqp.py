"""bare_amqp: the bare limit of the event pipeline — raw aiormq, no framework, no database.

One publisher connection publishes persistent 1 KiB messages to a durable queue with publisher
confirms, pipelined (a sliding window of `in_flight` unconfirmed publishes: that many
publishing coroutines, each awaiting its own confirm before the next publish); one consumer on
its own connection, prefetch `prefetch`, acks every message. Closed loop over N messages:
throughput = N / (first publish → last consume); latency = publish call → consume callback
(the publish instant travels in the message body).
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
import uuid
from dataclasses import dataclass, field

import aiormq
from aiormq import spec
from aiormq.abc import DeliveredMessage

from bench.harness import BenchContext, CpuMeter, Figures, LatencySummary, Result
from bench.scenarios import scenario

MESSAGE_BYTES = 1024
HEADER = struct.Struct(">QQ")  # sequence number, publish instant (time.monotonic_ns)
DESCRIPTION = ("Raw aiormq: persistent 1 KiB messages to a durable queue, publisher confirms "
               "pipelined, one consumer (prefetch) acking each message; end-to-end msgs/s "
               "from first publish to last consume, latency publish → consume.")


@dataclass
class _Phase:
    expected: int
    consumed: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_consumed_ns: int = 0


@dataclass
class _PhaseResult:
    messages: int
    consumed: int
    nacked: int
    publish_errors: int
    first_publish_ns: int
    last_confirm_ns: int
    last_consume_ns: int
    latencies_ns: list[int]
    confirm_latencies_ns: list[int]


class _Pipeline:
    def __init__(self, publish_channel: aiormq.abc.AbstractChannel, queue: str,
                 in_flight: int, drain_limit_s: float) -> None:
        self.channel = publish_channel
        self.queue = queue
        self.in_flight = in_flight
        self.drain_limit_s = drain_limit_s
        self.phase = _Phase(expected=0)
        self.padding = os.urandom(MESSAGE_BYTES - HEADER.size)
        self.properties = spec.Basic.Properties(delivery_mode=2,
                                                content_type="application/octet-stream")

    async def on_message(self, message: DeliveredMessage) -> None:
        now = time.monotonic_ns()
        _, sent = HEADER.unpack_from(message.body)
        phase = self.phase
        phase.latencies_ns.append(now - sent)
        phase.consumed += 1
        phase.last_consumed_ns = now
        delivery = message.delivery
        assert isinstance(delivery, spec.Basic.Deliver)
        assert delivery.delivery_tag is not None
        await message.channel.basic_ack(delivery.delivery_tag)
        if phase.consumed >= phase.expected:
            phase.done.set()

    async def run(self, messages: int) -> _PhaseResult:
        phase = self.phase = _Phase(expected=messages)
        next_seq = 0
        nacked = errors = 0
        last_confirm = 0
        confirm_latencies: list[int] = []
        first_publish = time.monotonic_ns()

        async def publisher() -> None:
            nonlocal next_seq, nacked, errors, last_confirm
            while next_seq < messages:
                seq = next_seq
                next_seq += 1
                sent = time.monotonic_ns()
                body = HEADER.pack(seq, sent) + self.padding
                try:
                    confirm = await self.channel.basic_publish(
                        body, routing_key=self.queue, properties=self.properties)
                except aiormq.exceptions.AMQPError:
                    errors += 1
                    continue
                now = time.monotonic_ns()
                confirm_latencies.append(now - sent)
                last_confirm = max(last_confirm, now)
                if not isinstance(confirm, spec.Basic.Ack):
                    nacked += 1

        await asyncio.gather(*(publisher() for _ in range(self.in_flight)))
        lost = nacked + errors
        if lost:
            phase.expected -= lost  # nacked messages will not arrive
            if phase.consumed >= phase.expected:
                phase.done.set()
        try:
            await asyncio.wait_for(phase.done.wait(), self.drain_limit_s)
        except TimeoutError:
            pass
        return _PhaseResult(
            messages=messages, consumed=phase.consumed, nacked=nacked, publish_errors=errors,
            first_publish_ns=first_publish, last_confirm_ns=last_confirm,
            last_consume_ns=phase.last_consumed_ns, latencies_ns=phase.latencies_ns,
            confirm_latencies_ns=confirm_latencies)


@scenario("bare_amqp", description=DESCRIPTION)
async def bare_amqp(ctx: BenchContext) -> list[Result]:
    messages = ctx.pick(50_000, 5_000)
    warmup_messages = ctx.pick(5_000, 1_000)
    in_flight = 500
    prefetch = 500
    queue = f"bench.bare_amqp.{uuid.uuid4().hex[:12]}"

    publish_conn = await aiormq.connect(ctx.amqp_url)
    consume_conn = await aiormq.connect(ctx.amqp_url)
    try:
        publish_channel = await publish_conn.channel(publisher_confirms=True)
        consume_channel = await consume_conn.channel()
        await publish_channel.queue_declare(queue, durable=True)
        try:
            await consume_channel.basic_qos(prefetch_count=prefetch)
            pipeline = _Pipeline(publish_channel, queue, in_flight,
                                 drain_limit_s=ctx.pick(120.0, 60.0))
            consume_ok = await consume_channel.basic_consume(queue, pipeline.on_message)
            ctx.log(f"  warm-up: {warmup_messages:,} messages")
            await pipeline.run(warmup_messages)
            ctx.log(f"  measuring: {messages:,} messages, {in_flight} in flight, "
                    f"prefetch {prefetch}")
            meter = CpuMeter({"generator": os.getpid()}).start()
            phase = await pipeline.run(messages)
            cpu = meter.stop()
            if consume_ok.consumer_tag:
                await consume_channel.basic_cancel(consume_ok.consumer_tag)
        finally:
            await publish_channel.queue_delete(queue)
    finally:
        await consume_conn.close()
        await publish_conn.close()

    span_s = max(phase.last_consume_ns - phase.first_publish_ns, 1) / 1e9
    latency = LatencySummary.of(v / 1e9 for v in phase.latencies_ns)
    confirm = LatencySummary.of(v / 1e9 for v in phase.confirm_latencies_ns)
    missing = phase.messages - phase.consumed
    errors = phase.nacked + phase.publish_errors + max(missing - phase.nacked
                                                       - phase.publish_errors, 0)
    figures = Figures(
        throughput_per_s=phase.consumed / span_s, count=phase.consumed, errors=errors,
        duration_s=span_s, p50_ms=latency.p50_ms, p90_ms=latency.p90_ms, p99_ms=latency.p99_ms,
        max_ms=latency.max_ms)
    confirm_span_s = max(phase.last_confirm_ns - phase.first_publish_ns, 1) / 1e9
    result = Result(
        name="bare_amqp", description=DESCRIPTION, mode="closed-loop", figures=figures,
        params={"messages": messages, "message_bytes": MESSAGE_BYTES, "in_flight": in_flight,
                "prefetch": prefetch, "delivery_mode": 2, "queue": "durable, classic",
                "publisher_confirms": True, "warmup_messages": warmup_messages},
        extra={"publish_confirmed_per_s": round(messages / confirm_span_s, 1),
               "confirm_latency_ms": {"p50": confirm.p50_ms, "p99": confirm.p99_ms,
                                      "max": confirm.max_ms},
               "cpu": cpu},
        notes=["publisher and consumer are two connections in the bench process; "
               "latency includes the wait behind the other in-flight messages"])
    if phase.nacked or phase.publish_errors or missing:
        result.notes.append(f"nacked {phase.nacked}, publish errors {phase.publish_errors}, "
                            f"not consumed {missing}")
    return [result]
