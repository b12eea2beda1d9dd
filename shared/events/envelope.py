"""The envelope every event travels in, and the base class of every payload.

A payload class names its type and version when it is declared:

    class RequestSubmitted(EventPayload, type=EventType.request_submitted, version=1): ...

and is registered in the catalog by that act, so `parse_payload` can turn bytes from the bus
back into the exact model. An incompatible change is a new class with `version=2`, never an edit.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.clock import Clock


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    type: str = Field(min_length=1, max_length=120)
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1, max_length=60)
    correlation_id: str | None = Field(default=None, max_length=120)
    payload: dict[str, Any]


class EventPayload(BaseModel):
    """Base of every payload model; subclasses register themselves in `REGISTRY`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int]

    def __init_subclass__(cls, *, type: str | None = None, version: int = 1, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if type is None:  # an abstract intermediate class
            return
        key = (str(type), version)
        if key in REGISTRY:
            raise TypeError(f"event {key} is declared twice: {REGISTRY[key]} and {cls}")
        cls.event_type = str(type)
        cls.event_version = version
        REGISTRY[key] = cls


REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


class UnknownEvent(Exception):
    """The message is well formed but names a type/version the catalog does not know."""


class MalformedEvent(Exception):
    """The message is not an envelope, or its payload does not match its declared model."""


def new_envelope(
    payload: EventPayload,
    *,
    producer: str,
    clock: Clock,
    correlation_id: str | None = None,
    event_id: UUID | None = None,
) -> Envelope:
    return Envelope(
        id=event_id or uuid4(),
        type=payload.event_type,
        version=payload.event_version,
        occurred_at=clock.now(),
        producer=producer,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )


def decode_envelope(body: bytes) -> Envelope:
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedEvent(f"not an event envelope: {_summary(exc)}") from None


def parse_payload(envelope: Envelope) -> EventPayload:
    model = REGISTRY.get((envelope.type, envelope.version))
    if model is None:
        raise UnknownEvent(f"unknown event {envelope.type} v{envelope.version}")
    try:
        return model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise MalformedEvent(
            f"{envelope.type} v{envelope.version} payload invalid: {_summary(exc)}"
        ) from None


def _summary(exc: ValidationError) -> str:
    # Field paths and error kinds only: the values may carry personal data, and so may the
    # name of a field we do not know (a sender may put anything there).
    return "; ".join(
        f"{_path(e['loc']) if e['type'] != 'extra_forbidden' else '<unexpected field>'}: "
        f"{e['type']}"
        for e in exc.errors()
    )[:500]


def _path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "<root>"
