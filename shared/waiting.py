"""Background loops pause until woken or until their poll interval ends, whichever is first.

Why not `asyncio.wait_for(event.wait(), timeout)`: on Python 3.11 it loses a cancellation that
arrives in the same loop iteration as the wake-up (CPython gh-86296, fixed in 3.12): it returns
as if woken, the loop goes round again, and whoever cancelled the task to shut it down waits
forever. A relay woken by a last commit while its worker stopped hung a test run that way.
`asyncio.timeout` does not swallow the cancellation.
"""

from __future__ import annotations

import asyncio


async def wait_at_most(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event`, at most `seconds`; True when it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
