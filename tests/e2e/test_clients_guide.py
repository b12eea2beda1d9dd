"""docs/clients.md, run: every example of the guide is sent to the whole platform, in order, and
every answer it shows is compared with the real one, so the guide cannot go stale.

The guide's fenced blocks are its examples, of three kinds (any other kind fails this test: an
example nobody runs goes stale):

- ```http starting with a method: a request; `{name}` is a value an earlier answer named.
- ```http starting with `HTTP/1.1`: the answer to the request above it (several in a row: the
  request is sent once for each, each answer in turn). The status must be the one shown, each
  header shown must be there with that value, and the JSON body shows a part of the real one:
  an object the keys shown, a list all its items (or the first ones, when the last is "…").
  `"…"` stands for any value; `"{name}"` names the real value for later examples (named
  before, it must be that value). A GET is sent again until its answer is the one shown, since
  the services learn of each other's steps by events, moments later.
- ```sms: the SMS a phone receives (`To:` line, blank line, text), waited for; `\\u2066` and
  `\\u2069` are the invisible directional isolates, `{name}` a part that varies or is named.

Each `##` section is sent from a client address of its own, as from another device (the
gateway counts anonymous requests per address).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.intake.models import Entity
from shared.calendar import AMMAN
from shared.clock import SimulatedClock
from tests.e2e.conftest import World, whole_platform
from tests.notify.conftest import SmtpServer
from tests.platform import eventually

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_NAME = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_ANY = "…"


@dataclass(frozen=True)
class Example:
    kind: str  # "request", "response" or "sms"
    text: str
    section: int
    line: int

    def __str__(self) -> str:
        return f"docs/clients.md, line {self.line}"


def examples(markdown: str) -> list[Example]:
    found = []
    for match in _FENCE.finditer(markdown):
        language, text = match.group(1), match.group(2)
        line = markdown.count("\n", 0, match.start()) + 1
        section = len(re.findall(r"^## ", markdown[:match.start()], re.MULTILINE))
        if language == "http":
            kind = "response" if text.startswith("HTTP/") else "request"
        elif language == "sms":
            kind = "sms"
        else:
            raise AssertionError(f"docs/clients.md, line {line}: a ```{language} block is an "
                                 "example no test runs; write it as ```http or ```sms")
        found.append(Example(kind, text.rstrip("\n"), section, line))
    return found


def _head_and_body(text: str) -> tuple[list[str], str]:
    head, _, body = text.partition("\n\n")
    return head.splitlines(), body.strip()


def _pattern(shown: str, values: dict[str, Any]) -> re.Pattern[str]:
    """A text with `{name}` and `…` parts as a regular expression; a name not yet known
    captures (a name may recur: the later ones must repeat what the first captured)."""
    parts, seen = [], set()
    for piece in re.split(r"(\{[a-z][a-z0-9_]*\}|…)", shown):
        name = _NAME.fullmatch(piece)
        if piece == _ANY:
            parts.append(".*?")
        elif name and name.group(1) in values:
            parts.append(re.escape(str(values[name.group(1)])))
        elif name and name.group(1) in seen:
            parts.append(f"(?P={name.group(1)})")
        elif name:
            seen.add(name.group(1))
            parts.append(f"(?P<{name.group(1)}>.+?)")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts), re.DOTALL)


def _text_matches(shown: str, real: str, values: dict[str, Any], captured: dict[str, Any],
                  where: str) -> list[str]:
    found = _pattern(shown, values).fullmatch(real)
    if found is None:
        return [f"{where}: shown {shown!r}, real {real!r}"]
    captured.update(found.groupdict())
    return []


def _matches(shown: Any, real: Any, values: dict[str, Any], captured: dict[str, Any],
             where: str = "body") -> list[str]:
    """What differs between the part of an answer the guide shows and the real answer."""
    if shown == _ANY:
        return []
    if isinstance(shown, str) and (name := _NAME.fullmatch(shown)):
        key = name.group(1)
        known = values.get(key, captured.get(key, real))
        if known != real:
            return [f"{where}: {{{key}}} was {known!r}, now {real!r}"]
        captured[key] = real
        return []
    if isinstance(shown, str) and isinstance(real, str):
        return _text_matches(shown, real, values, captured, where)
    if isinstance(shown, dict) and isinstance(real, dict):
        problems = []
        for key, value in shown.items():
            if key not in real:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += _matches(value, real[key], values, captured, f"{where}.{key}")
        return problems
    if isinstance(shown, list) and isinstance(real, list):
        prefix = bool(shown) and shown[-1] == _ANY
        items = shown[:-1] if prefix else shown
        if len(real) < len(items) or (not prefix and len(real) != len(items)):
            return [f"{where}: {len(items)} items shown, {len(real)} real"]
        return [p for index, (s, r) in enumerate(zip(items, real, strict=False))
                for p in _matches(s, r, values, captured, f"{where}[{index}]")]
    if type(shown) is not type(real) or shown != real:
        return [f"{where}: shown {shown!r}, real {real!r}"]
    return []


@dataclass
class Reader:
    """Follows the guide: sends its requests, checks its answers and text messages."""

    world: World
    values: dict[str, Any] = field(default_factory=dict)
    clients: dict[int, httpx.AsyncClient] = field(default_factory=dict)
    sms_read: set[tuple[str, int]] = field(default_factory=set)
    sent: int = 0

    def client(self, section: int) -> httpx.AsyncClient:
        if section not in self.clients:
            transport = httpx.ASGITransport(app=self.world.platform.gateway,
                                            client=(f"198.51.100.{100 + section}", 40000))
            self.clients[section] = httpx.AsyncClient(
                transport=transport, base_url="http://gateway.test", timeout=30)
        return self.clients[section]

    def fill(self, text: str, example: Example) -> str:
        def value(name: re.Match[str]) -> str:
            assert name.group(1) in self.values, f"{example}: {{{name.group(1)}}} not named yet"
            return str(self.values[name.group(1)])

        return _NAME.sub(value, text)

    async def send(self, request: Example, answer: Example) -> None:
        lines, body = _head_and_body(self.fill(request.text, request))
        method, target = lines[0].split()[:2]
        headers = dict(line.split(": ", 1) for line in lines[1:])
        status_line, *shown_headers = _head_and_body(answer.text)[0]
        shown_body = _head_and_body(answer.text)[1]
        status = int(status_line.split()[1])
        shown = json.loads(shown_body) if shown_body else None

        async def answered() -> None:
            response = await self.client(request.section).request(
                method, target, headers=headers, content=body.encode() or None)
            self.sent += 1
            captured: dict[str, Any] = {}
            problems = [] if response.status_code == status else [
                f"status: shown {status}, real {response.status_code} {response.text}"]
            for header in shown_headers:
                name, _, value = header.partition(": ")
                if name not in response.headers:
                    problems.append(f"header {name}: missing")
                else:
                    problems += _text_matches(value, response.headers[name], self.values,
                                              captured, f"header {name}")
            if shown is not None and not problems:
                problems += _matches(shown, response.json(), self.values, captured)
            assert not problems, f"{answer}: " + "; ".join(problems)
            self.values.update(captured)

        if method == "GET":
            await eventually(answered, timeout_s=30)
        else:
            await answered()

    async def receive(self, sms: Example) -> None:
        lines, text = _head_and_body(sms.text)
        phone = lines[0].removeprefix("To: ")
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
        pattern = _pattern(text, self.values)

        async def arrived() -> None:
            texts = self.world.sms.texts_to(phone)
            unread = [(i, t) for i, t in enumerate(texts) if (phone, i) not in self.sms_read]
            matching = [(i, m) for i, t in unread if (m := pattern.fullmatch(t.strip()))]
            assert matching, f"{sms}: no such SMS to {phone} among {[t for _, t in unread]}"
            index, found = matching[-1]
            self.sms_read.add((phone, index))
            self.values.update(found.groupdict())

        await eventually(arrived, timeout_s=30)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest.fixture
async def world(postgres_url: str, amqp_url: str, smtp_server: SmtpServer
                ) -> AsyncIterator[World]:
    clock = SimulatedClock()
    clock.set(datetime(2027, 9, 5, 9, 0, tzinfo=AMMAN))  # a Sunday morning, working time
    async with whole_platform(postgres_url, amqp_url, smtp_server, clock) as world:
        async def intake_knows_the_directory() -> None:
            async with world.platform.runtime("intake").sessionmaker() as session:
                assert await session.scalar(select(Entity.code).where(Entity.code == "PM-GAM"))

        await eventually(intake_knows_the_directory, timeout_s=60)
        yield world


def test_the_reader_refuses_blocks_it_cannot_run_and_checks_the_parts_shown() -> None:
    with pytest.raises(AssertionError, match="no test runs"):
        examples("## A\n\n```sh\ncurl http://127.0.0.1:8000/livez\n```\n")
    shown = {"items": [{"reference": "{reference}"}, "…"], "next_before": None}
    captured: dict[str, Any] = {}
    real = {"items": [{"reference": "2027-1-2", "kind": "x"}, {}], "next_before": None}
    assert _matches(shown, real, {}, captured) == []
    assert captured == {"reference": "2027-1-2"}
    assert _matches({"score": 5}, {"score": "5"}, {}, {}) != []
    assert _matches("{reference}", "2027-9-9", {"reference": "2027-1-2"}, {}) != []


async def test_every_example_of_the_clients_guide_runs_as_shown(world: World) -> None:
    reader = Reader(world)
    request: Example | None = None
    try:
        for example in examples(GUIDE.read_text(encoding="utf-8")):
            if example.kind == "request":
                request = example
            elif example.kind == "response":
                assert request is not None, f"{example}: an answer to no request"
                await reader.send(request, example)
            else:
                await reader.receive(example)
    finally:
        await reader.aclose()
    assert reader.sent >= 20, "the guide lost its examples"
    assert len(reader.sms_read) >= 4, "the guide lost its text messages"
