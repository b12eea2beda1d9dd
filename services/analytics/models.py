"""Tables of the analytics service, in its own schema; nothing outside this service reads them.

Four kinds of table, all derived from events (docs/indicators.md says how to rebuild them):

- `event_log`: every event analytics consumed, stripped to the facts it uses (no free text, no
  person identifiers). Replaying it rebuilds everything below (`python -m services.analytics
  rebuild`).
- `requests`: the projection, one row per request, as it stands now (dimensions, status,
  milestones, working-time durations). Reports by any dimension are computed from it.
- rollups ("cubes"): per hour or per day × a set of dimensions, one column per counter, kept by
  adding each event's increments. Indicators read only these (and the open-request tallies),
  never rows of `requests`, except the ten oldest open ones (through a partial index).
- names and small tallies: `sectors`, `entities` (labels from the directory), `open_counts` and
  `open_by_day` (the open requests now), `notification_daily`, `integrity_daily`, `freshness`
  (the watermark the live feed watches), `working_rules` (SLA's calendar rules, for working
  time) and `published_reports` (scheduled periodic reports, frozen when published).

Missing dimensions are stored as '' in rollup keys (a primary key cannot be NULL): a request in
CMU triage has no entity yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    text,
)

from services.analytics.measures import COUNTERS
from shared.bus import inbox_table, outbox_table
from shared.db import BigIntegerPK, UtcDateTime, service_metadata
from shared.events.vocabulary import RequestStatus

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)



CLOSED_STATUSES = (RequestStatus.closed.value, RequestStatus.rejected.value)
# Literal, not bound: the planner uses a partial index only when it can prove the query's
# condition implies the index's, which it cannot do through a parameter.
IS_OPEN = text("status NOT IN ('closed', 'rejected')")

event_log = Table(
    "event_log",
    metadata,
    Column("seq", BigIntegerPK, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("reference", String(40), nullable=True),
    Column("facts", JSON, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("entity", String(40), nullable=True),
    Column("sector", String(20), nullable=True),
    Column("governorate", String(5), nullable=True),
    Column("city", String(200), nullable=True),
    Column("status", String(30), nullable=False),
    Column("closing_code", String(40), nullable=True),
    Column("legal_ground", String(40), nullable=True),
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("submitted_day", Date, nullable=False),
    Column("first_response_at", UtcDateTime(), nullable=True),
    Column("responded_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("rating", SmallInteger, nullable=True),
    # Where the latest rating was counted (taken back there when a new round is rated).
    Column("rated_at", UtcDateTime(), nullable=True),
    Column("rated_sector", String(20), nullable=True),
    Column("rated_entity", String(40), nullable=True),
    Column("transfers", SmallInteger, nullable=False, default=0),
    Column("escalation_level", SmallInteger, nullable=False, default=0),
    Column("reopened", SmallInteger, nullable=False, default=0),
    Column("chased", SmallInteger, nullable=False, default=0),  # by its requester
    Column("breached", Boolean, nullable=False, default=False),
    Column("on_time", Boolean, nullable=True),
    Column("paused_since", UtcDateTime(), nullable=True),
    Column("paused_s", Float, nullable=False, default=0.0),
    # Working days (docs/indicators.md): None until the milestone is reached.
    Column("first_response_wd", Float, nullable=True),
    Column("resolution_wd", Float, nullable=True),
    Index(None, "submitted_day"),
    Index(None, "entity", "submitted_day"),
    Index(None, "sector", "submitted_day"),
    # Only open requests: small however many closed ones there are (backlog, oldest open).
    Index("ix_requests_open_submitted_at", "submitted_at",
          postgresql_where=IS_OPEN, sqlite_where=IS_OPEN),
)


def _counter_columns() -> list[Column[int]]:
    return [Column(name, BigInteger, nullable=False, default=0) for name in COUNTERS]


def _cube(name: str, grain: Column[object], dimensions: Iterable[str],
          *indexes: tuple[str, ...]) -> Table:
    dims = list(dimensions)
    grain_name = grain.name
    return Table(
        name,
        metadata,
        grain,
        *(Column(d, String(40), nullable=False) for d in dims),
        *_counter_columns(),
        PrimaryKeyConstraint(grain_name, *dims),
        *(Index(None, *columns) for columns in indexes),
    )


# The cubes, coarse to fine; `services.analytics.cubes` picks the smallest that answers a query.
rollup_hour_entity = _cube(
    "rollup_hour_entity", Column("hour", UtcDateTime()), ("sector", "entity"),
    ("entity", "hour"),
)
rollup_day_entity = _cube(
    "rollup_day_entity", Column("day", Date), ("sector", "entity"), ("entity", "day"),
)
rollup_day_geo = _cube(
    "rollup_day_geo", Column("day", Date), ("sector", "governorate"), ("sector", "day"),
)
rollup_day_full = _cube(
    "rollup_day_full", Column("day", Date),
    ("sector", "entity", "governorate", "kind", "channel"), ("entity", "day"), ("sector", "day"),
)

open_counts = Table(
    "open_counts",
    metadata,
    Column("sector", String(20), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("governorate", String(5), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("n", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("sector", "entity", "governorate", "kind", "channel", "status"),
)

# Open requests by day of receipt: the backlog's ages without reading requests.
open_by_day = Table(
    "open_by_day",
    metadata,
    Column("sector", String(20), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("day", Date, nullable=False),
    Column("n", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("day", "sector", "entity"),
)

sectors = Table(
    "sectors",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name_ar", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
)

entities = Table(
    "entities",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("sector", String(20), nullable=False),
    Column("parent", String(40), nullable=True),
    Column("name_ar", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
)

notification_daily = Table(
    "notification_daily",
    metadata,
    Column("day", Date, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("sent", BigInteger, nullable=False, default=0),
    Column("failed", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("day", "channel"),
)

integrity_daily = Table(
    "integrity_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("forwarded", BigInteger, nullable=False, default=0),
    Column("acknowledged", BigInteger, nullable=False, default=0),
)

freshness = Table(
    "freshness",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("events_applied", BigInteger, nullable=False, default=0),
    Column("last_event_at", UtcDateTime(), nullable=True),
)

# The newest `sla.rules_changed` applied (its facts), for measuring working time as SLA does.
working_rules = Table(
    "working_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("rules", JSON, nullable=False),
)

published_reports = Table(
    "published_reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cadence", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    # '' for the government-wide report (the prime minister's office).
    Column("sector", String(20), nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
    Column("content", LargeBinary, nullable=False),
    # One report per cadence, period and audience, however many replicas race to publish it.
    Index("uq_published_reports_period", "cadence", "period_start", "sector", unique=True),
)
