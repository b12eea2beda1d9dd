"""Event handlers of the integrity service: sealed reports arrive from intake to be filed.

A report that fails the checks (an unknown key, a malformed or mismatched envelope) raises, so
the consumer retries it and finally dead-letters it with the reason's code; the reason never
repeats the envelope.
"""

from __future__ import annotations

from services.integrity import service
from shared.bus import Handlers
from shared.events.catalog import ReportSealed

SEALED_REPORTS = Handlers()
SEALED_REPORTS.on_runs(ReportSealed)(service.file_sealed_reports)
