"""Answers of the last moment: a board watched by many asks the same question many times a second.

The headline indicators and the dashboard of one scope are the same for every minister, head and
CMU officer who looks at them within the same second; computing them once per question and
second keeps the rollup queries off PostgreSQL while submissions flow. The answer says when it
was computed (`as_of`), and a second is far inside the dashboard's promise of freshness (5 s).

What it must never do: share an answer between different scopes or filters (the key is the whole
question, scope included), or keep more than `max_entries` answers.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class RecentAnswers:
    def __init__(self, *, ttl_s: float, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()  # when, answer

    async def get(self, question: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        known = self._answers.get(question)
        # A cache's age, not a time of the domain: the monotonic clock is right here.
        if known is not None and time.monotonic() - known[0] < self.ttl_s:
            return known[1]
        answer = await compute()
        if self.ttl_s > 0:
            self._answers[question] = (time.monotonic(), answer)
            self._answers.move_to_end(question)
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)
        return answer
