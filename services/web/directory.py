"""The directory's public lists (sectors, entities, classifications, governorates), as the pages
name codes and fill their choices: read from the public API and kept for a minute.

It is public data, asked for without anyone's token; a page never waits for it twice in a
minute, and a page shown while the platform is unreachable names codes as they are.

What it must never do: decide anything (who may pick what is the API's answer to a form).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from shared.errors import Language

log = logging.getLogger(__name__)

FRESH_FOR_S: Final = 60.0
LISTS: Final = {
    "sectors": "/api/v1/sectors", "entities": "/api/v1/entities",
    "classifications": "/api/v1/classifications", "governorates": "/api/v1/governorates",
}


@dataclass
class Directory:
    http: httpx.AsyncClient
    _lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _names: dict[str, dict[str, Any]] = field(default_factory=dict)
    _read_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def fresh(self) -> Directory:
        """Itself, re-read when older than a minute (one reader at a time)."""
        if time.monotonic() - self._read_at < FRESH_FOR_S:
            return self
        async with self._lock:
            if time.monotonic() - self._read_at < FRESH_FOR_S:
                return self
            try:
                answers = await asyncio.gather(*(self.http.get(path) for path in LISTS.values()))
                for name, answer in zip(LISTS, answers, strict=True):
                    answer.raise_for_status()
                    self._lists[name] = answer.json()
            except httpx.HTTPError as exc:
                log.warning("directory lists unavailable (%s); codes are shown as they are",
                            type(exc).__name__)
                return self
            self._names = {f"{name}:{row['code']}": row for name, rows in self._lists.items()
                           for row in rows}
            self._read_at = time.monotonic()
        return self

    @property
    def read_at(self) -> float:
        """When the lists were last read (`time.monotonic`): a new value, new lists."""
        return self._read_at

    def forget(self) -> None:
        """Read the lists again at the next page: this process just changed the directory."""
        self._read_at = float("-inf")

    def list(self, name: str) -> list[dict[str, Any]]:
        return self._lists.get(name, [])

    def row(self, kind: str, code: str | None) -> dict[str, Any] | None:
        return self._names.get(f"{kind}:{code}") if code else None

    def name(self, code: str | None, language: Language, kind: str = "entities") -> str:
        """An entity's (sector's, classification's, governorate's) name; the code if unknown."""
        row = self.row(kind, code)
        if row is None:
            return code or ""
        return str(row["name_ar"] if language == "ar" else row["name_en"])
