"""The bus: one interface (`Bus`), RabbitMQ and in-process transports, outbox and inbox."""

from shared.bus.base import Bus, Delivery, OutgoingMessage, RetryPolicy
from shared.bus.consumer import (
    EventConsumer,
    Handlers,
    Received,
    ReceivedEvent,
    WrongPayload,
    inbox_table,
)
from shared.bus.memory import InMemoryBus
from shared.bus.outbox import Outbox, OutboxRelay, outbox_table
from shared.bus.rabbitmq import RabbitMQBus

__all__ = [
    "Bus",
    "Delivery",
    "EventConsumer",
    "Handlers",
    "InMemoryBus",
    "Outbox",
    "OutboxRelay",
    "OutgoingMessage",
    "RabbitMQBus",
    "Received",
    "ReceivedEvent",
    "RetryPolicy",
    "WrongPayload",
    "inbox_table",
    "outbox_table",
]
