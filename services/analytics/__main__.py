"""Operator commands of analytics: `python -m services.analytics rebuild`.

Uses the service's own settings (`BKH_DATABASE_URL`, `BKH_DATABASE_SCHEMA`), like the service.
"""

from __future__ import annotations

import argparse
import asyncio

from services.analytics.main import DEFINITION
from services.analytics.rebuild import rebuild
from shared.db import create_engine, create_sessionmaker


async def _rebuild(batch_size: int) -> int:
    settings = DEFINITION.load_settings()
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name="bkh-analytics-rebuild")
    try:
        return await rebuild(create_sessionmaker(engine), batch_size=batch_size)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.analytics")
    commands = parser.add_subparsers(dest="command", required=True)
    rebuild_cmd = commands.add_parser(
        "rebuild", help="empty the read model and replay the event log (stop consumers first)")
    rebuild_cmd.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    if args.command == "rebuild":
        print(f"replayed {asyncio.run(_rebuild(args.batch_size))} events")


if __name__ == "__main__":
    main()
