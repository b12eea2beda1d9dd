"""Tables of the intake service, in its own schema; nothing outside this service reads them."""

from shared.bus import inbox_table, outbox_table
from shared.db import service_metadata
from shared.idempotency import idempotency_table

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
