"""A test that hangs fails, and says which coroutine it was waiting in (`tests/timeouts.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HANGING_TEST = '''
import asyncio


async def wait_for_a_reply_that_never_comes() -> None:
    await asyncio.Event().wait()


async def test_hangs() -> None:
    await asyncio.create_task(wait_for_a_reply_that_never_comes(), name="the-stuck-one")


async def test_after_it() -> None:
    # The timeout interrupted the shared event loop: it must still run the next test's awaits.
    assert await asyncio.wait_for(asyncio.sleep(0, result="ran"), 5) == "ran"
'''


def test_a_hanging_test_fails_and_its_waiting_tasks_are_shown(tmp_path: Path) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING_TEST)
    # The project's own plugin and settings, on a test file of its own.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path / "test_hanging.py"), "-c",
         str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), "-o", "timeout=2",
         "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "1 failed, 1 passed" in output, output
    assert "Timeout (>2.0s) from pytest-timeout" in output, output
    assert "asyncio tasks at the timeout" in output, output
    # The stuck task is named, with the line it waits on.
    assert "the-stuck-one" in output, output
    assert "in wait_for_a_reply_that_never_comes" in output, output
