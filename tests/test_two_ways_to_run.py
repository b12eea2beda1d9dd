"""The README's promise: `make run` and `make up` each start the whole platform with one command
and stop cleanly on Ctrl-C, and `make migrate` brings every schema to head. All run here as real
processes on real ports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services import SERVICES
from services.__main__ import definition_of, ensure_database
from shared.bus.rabbitmq import delete_declared
from shared.migrations import head_revision
from shared.settings import BaseServiceSettings
from tests.ports import free_port, listening

ROOT = Path(__file__).resolve().parents[1]


def wait_until_ready(base_url: str, process: subprocess.Popen[Any],
                     limit_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited early with {process.returncode}"
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            body = response.json()
            if response.status_code == 200 and all(
                body["upstreams"].get(name) == "ok" for name in SERVICES
            ):
                return dict(body)
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base_url} never became ready")


def stop_with_ctrl_c(process: subprocess.Popen[Any]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def check_the_door(base_url: str) -> None:
    assert httpx.get(f"{base_url}/livez").json() == {"status": "ok"}
    docs = httpx.get(f"{base_url}/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr" not in docs.text  # served from the project, not a CDN
    document = httpx.get(f"{base_url}/api/v1/openapi.json").json()
    assert document.get("x-unavailable-services", []) == []
    missing = httpx.get(f"{base_url}/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "غير موجود"


def check_the_pages(base_url: str, wait_s: float = 0) -> None:
    """The back office answers: its sign-in page, in Arabic, with its own stylesheet."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            page = httpx.get(f"{base_url}/office/sign-in")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the web app never answered"
            time.sleep(0.3)
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert httpx.get(f"{base_url}/office/static/office.css").status_code == 200
    # A demo officer signs in and reads their queue: the pages reach the platform's API.
    with httpx.Client(base_url=base_url) as browser:
        form = browser.get("/office/sign-in")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        signed = browser.post("/office/sign-in", data={
            "csrf_token": csrf.group(1), "username": "mlo.moh",
            "password": "Bekhedmetkom-Demo-2030", "next": "/office/queue"})
        assert signed.status_code == 303, signed.text
        queue = browser.get("/office/queue")
    assert queue.status_code == 200, queue.text
    assert "صندوق الطلبات" in queue.text


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "BKH_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "gateway.embedded"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()


def test_make_run_serves_everything_on_one_port_and_stops_on_ctrl_c(
    embedded: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base_url, process = embedded
    ready = wait_until_ready(base_url, process)
    assert set(ready["upstreams"]) == set(SERVICES)
    check_the_door(base_url)
    check_the_pages(base_url)
    assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(f"{s}.db" for s in SERVICES)
    assert stop_with_ctrl_c(process) == 0


@pytest.fixture
def distributed_env(postgres_url: str, amqp_url: str) -> Iterator[dict[str, str]]:
    database = f"bkh_up_{uuid.uuid4().hex[:8]}"
    url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
    namespace = f"bkhtest-up-{uuid.uuid4().hex[:8]}"
    yield {**os.environ, "BKH_DATABASE_URL": url, "BKH_AMQP_URL": amqp_url,
           "BKH_BUS_NAMESPACE": namespace}
    import asyncio

    async def drop() -> None:
        admin = await asyncpg.connect(postgres_url.replace("+asyncpg", "").rsplit("/", 1)[0]
                                      + "/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        queues = [q for name in SERVICES for q in definition_of(name).queue_names(namespace)]
        await delete_declared(amqp_url, namespace, queues,
                              retry_delays_ms=BaseServiceSettings().retry_delays_ms)

    asyncio.run(drop())


def test_make_up_runs_each_service_as_its_own_process_restarts_one_that_dies_and_stops_on_ctrl_c(
    distributed_env: dict[str, str],
) -> None:
    port, first = free_port(), free_port()
    while any(listening(p) for p in range(first, first + len(SERVICES) + 1)):  # + the web app
        first = free_port()
    # The ports as `make up PORT=… FIRST_SERVICE_PORT=…` sets them.
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "up"], cwd=ROOT,
        env={**distributed_env, "PORT": str(port), "FIRST_SERVICE_PORT": str(first)},
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    said: list[str] = []
    output = process.stdout
    assert output is not None
    threading.Thread(target=lambda: said.extend(iter(output.readline, "")), daemon=True).start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process)
        check_the_door(base_url)
        for index, name in enumerate(SERVICES):
            service = httpx.get(f"http://127.0.0.1:{first + index}/readyz").json()
            assert service["checks"] == {"database": "ok", "schema": "ok", "bus": "ok"}, name
        assert development_commission_key(base_url).startswith("dev-")  # reports are taken
        check_the_pages(f"http://127.0.0.1:{first + len(SERVICES)}", wait_s=30)

        # A service dies: it is started again, and the rest never stopped.
        notify_port = first + SERVICES.index("notify")
        dead = _pid_of("services", "serve", "notify", "--port", str(notify_port))
        os.kill(dead, signal.SIGKILL)
        wait_until_ready(base_url, process)
        assert _pid_of("services", "serve", "notify", "--port", str(notify_port)) != dead
        assert any("notify exited with code -9; starting it again in 1 s" in line
                   for line in said), said
        assert any(line.startswith("notify started again") for line in said), said

        assert stop_with_ctrl_c(process) == 0
        for index in range(len(SERVICES) + 1):
            assert not listening(first + index), "a service outlived Ctrl-C"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        output.close()


def _pid_of(*arguments: str) -> int:
    """The process whose command line ends with these arguments (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if [part.decode() for part in command if part][-len(arguments):] == list(arguments):
            found.append(int(entry.name))
    assert len(found) == 1, found
    return found[0]


def test_make_migrate_brings_every_schema_to_head_and_names_a_service_it_does_not_know(
    distributed_env: dict[str, str],
) -> None:
    import asyncio

    url = distributed_env["BKH_DATABASE_URL"]
    asyncio.run(ensure_database(url))
    migrated = subprocess.run(["make", "--no-print-directory", "migrate"], cwd=ROOT,
                              env=distributed_env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    for name in SERVICES:
        assert f"{name}: schema at head" in migrated.stdout

    async def revisions() -> dict[str, str]:
        connection = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            return {name: await connection.fetchval(
                f'SELECT version_num FROM "{name}".alembic_version') for name in SERVICES}
        finally:
            await connection.close()

    assert asyncio.run(revisions()) == {
        name: head_revision(definition_of(name).migrations) for name in SERVICES}
    # One service by name; a name it does not know is refused, and nothing runs.
    one = subprocess.run([sys.executable, "-m", "services", "migrate", "routing"], cwd=ROOT,
                         env=distributed_env, capture_output=True, text=True, timeout=120)
    assert (one.returncode, one.stdout) == (0, "routing: schema at head\n"), one.stderr
    wrong = subprocess.run([sys.executable, "-m", "services", "migrate", "routing", "nowhere"],
                           cwd=ROOT, env=distributed_env, capture_output=True, text=True,
                           timeout=120)
    assert wrong.returncode == 2
    assert "unknown service nowhere" in wrong.stderr
    assert wrong.stdout == ""


def development_commission_key(base_url: str, limit_s: float = 60) -> str:
    """The key id integrity publishes, once the launcher registered its development key."""
    deadline = time.monotonic() + limit_s
    while (published := httpx.get(f"{base_url}/api/v1/integrity/public-key")).status_code != 200:
        assert time.monotonic() < deadline, published.json()
        time.sleep(0.3)
    return str(published.json()["key_id"])
