"""The AsyncAPI 3.0 document of the bus, built from the catalog; `docs/asyncapi.json` is its output.

Regenerate after any catalog change (a test fails until the committed file matches):

    .venv/bin/python -m shared.events.asyncapi
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from shared.events.catalog import PRODUCERS, EventType
from shared.events.envelope import REGISTRY, Envelope, EventPayload

EXCHANGE = "bkh.events"
DOCUMENT_VERSION = "1.0.0"
DOCUMENT_PATH = Path(__file__).parents[2] / "docs" / "asyncapi.json"
REGENERATE_COMMAND = ".venv/bin/python -m shared.events.asyncapi"

_SCHEMA_REF = "#/components/schemas/{model}"
_AMQP_BINDING_VERSION = "0.3.0"


def build_asyncapi() -> dict[str, Any]:
    """The document as plain data; every event type of `EventType` and model of `REGISTRY`."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for event_type in sorted(EventType, key=str):
        models = sorted(
            (model for (t, _), model in REGISTRY.items() if t == event_type.value),
            key=lambda m: m.event_version,
        )
        producer = PRODUCERS[event_type]
        channel_messages: dict[str, Any] = {}
        for model in models:
            message_id = f"{event_type.value}.v{model.event_version}"
            _add_schema(schemas, model)
            messages[message_id] = _message(model, producer)
            channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}

        channels[event_type.value] = {
            "address": event_type.value,
            "title": event_type.value,
            "description": f"Routing key `{event_type.value}` on the topic exchange `{EXCHANGE}`.",
            "messages": channel_messages,
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": EXCHANGE,
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": _AMQP_BINDING_VERSION,
                }
            },
        }
        operations[f"publish.{event_type.value}"] = {
            "action": "send",
            "title": f"{producer} publishes {event_type.value}",
            "channel": {"$ref": f"#/channels/{event_type.value}"},
            "messages": [
                {"$ref": f"#/channels/{event_type.value}/messages/{message_id}"}
                for message_id in channel_messages
            ],
            "tags": [{"name": producer}],
            "x-producer": producer,
            "bindings": {
                "amqp": {
                    "deliveryMode": 2,  # persistent: the outbox relay waits for publisher confirms
                    "mandatory": False,
                    "bindingVersion": _AMQP_BINDING_VERSION,
                }
            },
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Bekhedmetkom events",
            "version": DOCUMENT_VERSION,
            "description": (
                "Every event on the Bekhedmetkom bus. Each message is a JSON envelope "
                "(id, type, version, occurred_at, producer, correlation_id, payload) published "
                f"to the topic exchange `{EXCHANGE}` with the event type as its routing key. "
                "Delivery is at least once; consumers deduplicate by envelope id. "
                "An incompatible payload change is a new version, never an edit. "
                f"Generated from shared/events/catalog.py by `{REGENERATE_COMMAND}`."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The RabbitMQ broker of the deployment.",
                "variables": {
                    "host": {"default": "rabbitmq"},
                    "port": {"default": "5672"},
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _message(model: type[EventPayload], producer: str) -> dict[str, Any]:
    envelope = copy.deepcopy(Envelope.model_json_schema(ref_template=_SCHEMA_REF))
    envelope["title"] = f"{model.event_type} v{model.event_version}"
    envelope.pop("description", None)
    properties = envelope["properties"]
    properties["type"] = {"const": model.event_type, "type": "string", "title": "Type"}
    properties["version"] = {"const": model.event_version, "type": "integer", "title": "Version"}
    properties["payload"] = {"$ref": _SCHEMA_REF.format(model=model.__name__)}
    return {
        "name": model.__name__,
        "title": f"{model.event_type} v{model.event_version}",
        "summary": _summary(model),
        "contentType": "application/json",
        "payload": envelope,
        "x-producer": producer,
        "bindings": {
            "amqp": {
                "contentEncoding": "utf-8",
                "messageType": model.event_type,
                "bindingVersion": _AMQP_BINDING_VERSION,
            }
        },
    }


def _add_schema(schemas: dict[str, Any], model: type[EventPayload]) -> None:
    schema = model.model_json_schema(ref_template=_SCHEMA_REF)
    definitions = schema.pop("$defs", {})
    definitions[model.__name__] = schema
    for name, definition in definitions.items():
        # Enums are shared between models; two different things under one name would be a bug.
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are named {name}")


def _summary(model: type[EventPayload]) -> str:
    lines = (model.__doc__ or "").strip().splitlines()
    return lines[0] if lines else model.__name__


def render_asyncapi() -> str:
    """The document exactly as committed: sorted keys, so it only changes when the catalog does."""
    return json.dumps(build_asyncapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT_PATH.write_text(render_asyncapi(), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")


if __name__ == "__main__":
    main()
