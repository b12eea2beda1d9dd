"""The bus: one interface (`Bus`), RabbitMQ and in-process transports, outbox and inbox."""

from shared.bus.base import Bus, Delivery, OutgoingMessage, RetryPolicy
from shared.bus.consumer import BatchHandler, EventConsumer, Handler, ReceivedEvent, inbox_table
from shared.bus.memory import InMemoryBus
from shared.bus.outbox import Outbox, OutboxRelay, outbox_table
from shared.bus.rabbitmq import RabbitMQBus

__all__ = [
    "BatchHandler",
    "Bus",
    "Delivery",
    "EventConsumer",
    "Handler",
    "InMemoryBus",
    "Outbox",
    "OutboxRelay",
    "OutgoingMessage",
    "RabbitMQBus",
    "ReceivedEvent",
    "RetryPolicy",
    "inbox_table",
    "outbox_table",
]
