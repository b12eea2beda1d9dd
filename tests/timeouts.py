"""When a test times out, show where each of its asyncio tasks was waiting.

pytest-timeout fails a test that runs too long, with the stacks of the process's threads. In an
asyncio test the main thread is the event loop, and its stack ends in `select()` whatever is
stuck. The coroutines waiting on something are what locate a hang, so this plugin prints them
first, then lets pytest-timeout fail the test as usual.
"""

from __future__ import annotations

import asyncio
import io
import signal
from collections.abc import Generator
from types import FrameType

import pytest

#: frames shown per task: enough to reach the test's own code from the library's innermost await
STACK_LIMIT = 20


@pytest.hookimpl(wrapper=True)
def pytest_timeout_set_timer(
    item: pytest.Item, settings: object
) -> Generator[None, object, object]:
    armed = yield
    fail_the_test = signal.getsignal(signal.SIGALRM)
    if callable(fail_the_test):  # the signal method, pytest-timeout's default on Linux

        def show_tasks_then_fail(signum: int, frame: FrameType | None) -> None:
            item.config.get_terminal_writer().write(waiting_tasks())
            fail_the_test(signum, frame)

        signal.signal(signal.SIGALRM, show_tasks_then_fail)
    return armed


def waiting_tasks() -> str:
    """The stack of every task of the running event loop ('' outside one)."""
    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:
        return ""
    out = io.StringIO()
    out.write(f"\n{'+' * 20} asyncio tasks at the timeout: {len(tasks)} {'+' * 20}\n")
    for task in sorted(tasks, key=lambda t: t.get_name()):
        task.print_stack(limit=STACK_LIMIT, file=out)
    return out.getvalue()
