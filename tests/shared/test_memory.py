"""The collector tuned for serving: start-up frozen, young generation larger, never disabled."""

from __future__ import annotations

import gc

from shared.memory import THRESHOLDS, tune_for_serving


def test_serving_processes_freeze_their_start_up_and_still_collect_cycles() -> None:
    tune_for_serving()
    tune_for_serving()  # a second app in the same process changes nothing
    assert gc.isenabled()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0

    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first  # a cycle reference counting cannot free
    del first, second
    assert gc.collect() > 0
