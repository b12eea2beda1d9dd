"""Structured JSON logs, one object per line, each carrying the service, request and correlation id.

What must never be logged: tokens, codes, passwords, request bodies, phone numbers, national
numbers, report content. Log identifiers (reference numbers, event ids), never the person.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

_service_name: ContextVar[str] = ContextVar("service_name", default="bekhedmetkom")


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.service = getattr(record, "service", None) or _service_name.get()
        record.request_id = request_id.get()
        record.correlation_id = correlation_id.get()
        return True


def configure_logging(service_name: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, aio-pika's) to one JSON handler on stdout."""
    _service_name.set(service_name)
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiormq", "aio_pika", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def bind_service(service_name: str) -> Any:
    """Name the service in this context (the embedded mode runs several in one process)."""
    return _service_name.set(service_name)
