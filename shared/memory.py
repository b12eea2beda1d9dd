"""Python's cyclic garbage collector, tuned for a process that serves requests.

CPython collects its youngest generation every 700 net allocations of container objects, and now
and then all three, walking every object the process holds. In a service with FastAPI,
SQLAlchemy and pydantic loaded, each full walk is a pause of tens of milliseconds for whatever
requests are in flight: it was most of the p99 of intake's submissions at 300/s (see
bench/results/). Two standard remedies, applied once a process has started:

- `gc.freeze()`: what imports and start-up built lives as long as the process, so collections
  stop walking it;
- a larger first threshold: reference counting frees almost all of a request's garbage at once;
  the collector is there for cycles, and finding them can wait for more allocations.

Cycles are still collected: the collector is tuned, never disabled.
"""

from __future__ import annotations

import gc
from typing import Final

# Container objects allocated (net of those freed) between collections of the youngest
# generation: 50,000 instead of 700; the older generations keep CPython's ratios.
THRESHOLDS: Final = (50_000, 10, 10)
_tuned = False


def tune_for_serving() -> None:
    """Call once start-up is done (in the app's lifespan, before serving); once per process,
    since a later call would also freeze the garbage made in between (tests start many apps)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
