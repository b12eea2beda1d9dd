"""The first CMU administrator of a deployment: production seeds no demo staff, and only a CMU
administrator can create people through the API, so the operators create the first one here.

    python -m services.routing.bootstrap --username cmu.admin.1 --full-name "…" \\
        --phone +9627… [--email …] [--language ar|en] < password-file

The password is read from standard input (or asked for at a terminal), never from the command
line or the environment, where it would stay in shell histories and process listings. The
person is created like anyone else: the password judged by the same policy, the change written
to the directory's log (with no actor: the operators), `directory.person_changed` and
`directory.role_changed` through the outbox. They then sign in at `POST
/api/v1/staff/auth/token` and create everyone else through the API.

The schema must be at head (`python -m services migrate routing`). Settings as for the service
(`BKH_DATABASE_URL`, `BKH_DATABASE_SCHEMA`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Sequence

from pydantic import ValidationError

from services.routing.config import RoutingSettings
from services.routing.directory.schemas import PersonCreate, RoleGrant
from services.routing.directory.service import create_person
from services.routing.models import outbox as outbox_table
from shared.bus import Outbox
from shared.clock import Clock, clock_for
from shared.db import create_engine, create_sessionmaker
from shared.errors import Problem
from shared.events.vocabulary import Language, NoticeChannel, Role


async def create_administrator(settings: RoutingSettings, *, username: str, full_name: str,
                               phone: str | None, email: str | None, language: Language,
                               password: str, clock: Clock) -> uuid.UUID:
    new = PersonCreate(
        username=username, full_name=full_name, phone=phone, email=email, language=language,
        notice_channel=NoticeChannel.sms if phone else NoticeChannel.email, password=password,
        role=RoleGrant(role=Role.cmu_admin),
    )
    engine = create_engine(settings.database_url, schema=settings.schema_name,
                           application_name="bkh-routing-bootstrap")
    try:
        async with create_sessionmaker(engine).begin() as session:
            person = await create_person(
                session, outbox=Outbox(outbox_table, producer="routing", clock=clock),
                clock=clock, actor_id=None, new=new)
            return person.id
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.bootstrap",
                                     description="Create a CMU administrator.")
    parser.add_argument("--username", required=True)
    parser.add_argument("--full-name", required=True)
    parser.add_argument("--phone")
    parser.add_argument("--email")
    parser.add_argument("--language", choices=[lang.value for lang in Language], default="ar")
    args = parser.parse_args(argv)
    password = (getpass.getpass("Password: ") if sys.stdin.isatty()
                else sys.stdin.readline().rstrip("\r\n"))
    settings = RoutingSettings()
    try:
        person_id = asyncio.run(create_administrator(
            settings, username=args.username, full_name=args.full_name, phone=args.phone,
            email=args.email, language=Language(args.language), password=password,
            clock=clock_for(simulated=False, production=settings.production)))
    except Problem as refused:
        print(f"refused: {refused.detail.en if refused.detail else refused.title.en}",
              file=sys.stderr)
        return 1
    except ValidationError as invalid:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in invalid.errors())
        print(f"refused: invalid {fields}", file=sys.stderr)  # never the values
        return 1
    print(f"created the CMU administrator {args.username} ({person_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
