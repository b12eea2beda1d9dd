"""Events: the envelope, the catalog of every event type, the AsyncAPI document built from it."""

from shared.events.catalog import EventType
from shared.events.envelope import (
    REGISTRY,
    Envelope,
    EventPayload,
    MalformedEvent,
    UnknownEvent,
    decode_envelope,
    new_envelope,
    parse_payload,
)

__all__ = [
    "REGISTRY",
    "Envelope",
    "EventPayload",
    "EventType",
    "MalformedEvent",
    "UnknownEvent",
    "decode_envelope",
    "new_envelope",
    "parse_payload",
]
