"""Event handlers of the sla service: the request lifecycle, and who hears escalations.

Lifecycle events go in runs (one run of a type at a time, in arrival order); each is kept as
a fact of its request, whose deadlines are then derived again, so late, repeated and reordered
events all come to the same deadlines. An event that cannot be applied raises: the consumer
retries it and finally dead-letters it with the reason.
"""

from __future__ import annotations

from services.sla import service
from services.sla.deadlines import LIFECYCLE_EVENTS
from shared.bus import Handlers
from shared.events.catalog import DirectoryRoleChanged

LIFECYCLE = Handlers()
for lifecycle_event in LIFECYCLE_EVENTS:
    LIFECYCLE.on_runs(lifecycle_event)(service.apply_lifecycle_events)

DIRECTORY = Handlers()
DIRECTORY.on(DirectoryRoleChanged)(service.record_role_change)
