"""Event handlers of case handling, wired into two queues in `main.py`:

- `placement`: `request.submitted` (intake), placed in runs;
- `lifecycle`: `request.rated`, `request.info_provided`, `request.chased` (intake) and
  `sla.deadline_set`, `sla.escalated`, `sla.breached`, `sla.rating_window_expired` (sla).

Each handler gets its event typed, with the service's outbox stamped with the event's instant
(`shared.bus.Received`): a redelivered event writes exactly what the first delivery would have,
and the timeline follows the time of the platform (simulated in tests), not the consumer's.
"""

from __future__ import annotations

from services.routing.cases import service
from services.routing.cases.placement import place_submitted
from shared.bus import Handlers
from shared.events.catalog import (
    RequestChased,
    RequestInfoProvided,
    RequestRated,
    RequestSubmitted,
    SlaBreached,
    SlaDeadlineSet,
    SlaEscalated,
    SlaRatingWindowExpired,
)

PLACEMENT = Handlers()
PLACEMENT.on_runs(RequestSubmitted)(place_submitted)

LIFECYCLE = Handlers()
LIFECYCLE.on(RequestRated)(service.rated)
LIFECYCLE.on(RequestInfoProvided)(service.info_provided)
LIFECYCLE.on(RequestChased)(service.chased)
LIFECYCLE.on(SlaRatingWindowExpired)(service.rating_window_expired)
LIFECYCLE.on(SlaEscalated)(service.escalated)
LIFECYCLE.on(SlaBreached)(service.breached)
LIFECYCLE.on(SlaDeadlineSet)(service.deadline_set)
