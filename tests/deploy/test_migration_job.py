"""A release's migration Job can start before its PostgreSQL cluster answers: the migration
waits for it (pauses growing to 15 s, for `BKH_MIGRATE_WAIT_S`), then migrates; past that
deadline it says why in one line and fails, having changed nothing. The command the Job runs,
against a PostgreSQL of the test's own that is really down, then really started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.private_postgres import private_postgres

ROOT = Path(__file__).resolve().parents[2]


def test_a_migration_waits_for_a_database_still_starting_and_gives_up_at_its_deadline() -> None:
    with private_postgres() as database:
        database.stop()
        env = {**os.environ, "BKH_DATABASE_URL": database.url, "BKH_MIGRATE_WAIT_S": "120"}
        env.pop("BKH_AMQP_URL", None)
        job = subprocess.Popen([sys.executable, "-m", "services", "migrate", "routing"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            # Started only once two attempts were refused, however slowly the job started.
            assert job.stderr is not None
            early = [job.stderr.readline(), job.stderr.readline()]
            database.start()
            said, rest = job.communicate(timeout=120)
            complained = "".join(early) + rest
        finally:
            if job.poll() is None:
                job.kill()
        assert job.returncode == 0, complained
        assert said == "routing: schema at head\n"
        assert early == [
            "routing: the database is not reachable yet (ConnectionRefusedError); trying again "
            f"in {pause} s\n" for pause in (1, 2)], complained

        database.stop()
        gave_up = subprocess.run([sys.executable, "-m", "services", "migrate", "routing"],
                                 cwd=ROOT, env={**env, "BKH_MIGRATE_WAIT_S": "2"},
                                 capture_output=True, text=True, timeout=120)
        assert gave_up.returncode == 1
        assert gave_up.stderr.splitlines()[-1] == (
            "routing: the database was not reachable within 2 s (ConnectionRefusedError); "
            "nothing was migrated")
        assert "Traceback" not in gave_up.stderr
