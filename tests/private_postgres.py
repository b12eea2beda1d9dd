"""A PostgreSQL of a test's own: `initdb` and `pg_ctl` in a temporary directory, on a free port,
so a test may stop it, restart it and watch it refuse connections without touching the shared
server every other test uses.

    with private_postgres() as database:
        database.stop(mode="smart", wait=False)   # refuses new connections (57P03)
        database.start()

The binaries are PostgreSQL's own (`pg_config --bindir`, else Debian's /usr/lib/postgresql/*);
as root, the server runs as the `postgres` account (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from tests.ports import free_port


def _binaries() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    check=True).stdout.strip())
        if (found / "pg_ctl").exists():
            return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are missing: the machine's "
                "postgresql package provides them")


@dataclass
class PrivatePostgres:
    directory: Path
    port: int
    binaries: Path
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *arguments: str) -> None:
        subprocess.run([*self.run_as, str(self.binaries / "pg_ctl"), "-D",
                        str(self.directory / "data"), *arguments],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c unix_socket_directories={self.directory}")
        self._pg_ctl("start", "-w", "-l", str(self.directory / "log"), "-o", options)

    def stop(self, *, mode: Literal["smart", "fast", "immediate"] = "fast",
             wait: bool = True) -> None:
        """`smart` waits for the open sessions to end, refusing new ones meanwhile."""
        self._pg_ctl("stop", "-m", mode, "-w" if wait else "-W")

    def wait_stopped(self, limit_s: float = 30) -> None:
        """Until the server has exited (after a stop that did not wait)."""
        deadline = time.monotonic() + limit_s
        while (self.directory / "data" / "postmaster.pid").exists():
            assert time.monotonic() < deadline, f"PostgreSQL never stopped:\n{self.log_tail()}"
            time.sleep(0.05)

    def log_tail(self) -> str:
        log = self.directory / "log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    binaries = _binaries()
    directory = Path(tempfile.mkdtemp(prefix="bkh-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(directory, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    database = PrivatePostgres(directory, free_port(), binaries, run_as)
    try:
        subprocess.run([*run_as, str(binaries / "initdb"), "-D", str(directory / "data"),
                        "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        database.start()
        yield database
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            database.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)
