"""An integrating developer's first hour with `make run`, as a real process on a port of its own.

What the README promises is what happens: the SMS code is in a file under the messages folder
and never in the log; the one-tap rating link of the answer's SMS leads to the port actually
served (`PORT`), to a page a phone can use; the demo operator moves the simulated clock, twice
with one token.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, TypeVar

import httpx
import pytest

from gateway.config import GatewaySettings
from services.routing.directory.demo import DEMO_PASSWORD
from tests.intake.factories import AHMAD, PASSWORD, registration
from tests.ports import free_port
from tests.test_two_ways_to_run import ROOT, stop_with_ctrl_c, wait_until_ready

T = TypeVar("T")
_ISOLATES = re.compile("[\u2066-\u2069]")


@dataclass
class MakeRun:
    url: str
    process: subprocess.Popen[bytes]
    messages: Path
    log: Path

    def sms_to(self, phone: str, containing: str) -> str:
        """The newest SMS the development folder holds for `phone` that says `containing`."""
        texts = [path.read_text(encoding="utf-8") for path in sorted(self.messages.glob("*-sms-*"))]
        matching = [t for t in texts if t.startswith(f"To: {phone}\n") and containing in t]
        assert matching, f"no SMS to {phone} with {containing!r} yet"
        return _ISOLATES.sub("", matching[-1])


def eventually(check: Callable[[], T], limit_s: float = 30) -> T:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    port = free_port()
    log = tmp_path / "make-run.log"
    env = {**os.environ, "PORT": str(port), "BKH_DATA_DIR": str(tmp_path / "data"),
           "BKH_SIMULATED_CLOCK": "true"}
    env.pop("BKH_PUBLIC_BASE_URL", None)
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "gateway.embedded"], cwd=ROOT,
                                   env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, process)
        yield MakeRun(url, process, tmp_path / "data" / "messages", log)
        assert stop_with_ctrl_c(process) == 0
    finally:
        if process.poll() is None:
            process.kill()


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def staff(client: httpx.Client, username: str) -> dict[str, str]:
    signed_in = client.post("/api/v1/staff/auth/token",
                            json={"username": username, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def test_the_code_the_link_and_the_clock_work_as_the_readme_says_on_any_port(
    make_run: MakeRun,
) -> None:
    phone = "+962791234567"
    with httpx.Client(base_url=make_run.url, timeout=30) as client:
        started = client.post("/api/v1/citizens/registrations", json=registration(),
                              headers=key())
        assert started.status_code == 202, started.text
        code_sms = eventually(lambda: make_run.sms_to(phone, "رمز التحقق"))
        code = re.search(r"\b(\d{5})\b", code_sms)
        assert code is not None, code_sms
        assert code.group(1) not in make_run.log.read_text(encoding="utf-8")  # never logged
        verified = client.post(
            f"/api/v1/citizens/registrations/{started.json()['registration_id']}/verify",
            json={"code": code.group(1)}, headers=key())
        assert verified.status_code == 201, verified.text
        tokens = client.post("/api/v1/auth/token", json={
            "id_number": AHMAD["id_number"], "password": PASSWORD}).json()
        ahmad = {"Authorization": f"Bearer {tokens['access_token']}"}

        complaint = {"kind": "complaint", "entity": "PM-GAM", "subject": "حفرة في الشارع",
                     "description": "حفرة عميقة أمام مدرسة الحي تعرّض الأطفال للخطر.",
                     "governorate": "JO-AM", "channel": "mobile_app", "not_before_court": True}

        def submitted() -> str:  # intake learns the entities from routing's first events
            response = client.post("/api/v1/requests", json=complaint,
                                   headers={**ahmad, **key()})
            assert response.status_code == 201, response.text
            return str(response.json()["reference"])

        reference = eventually(submitted)
        officer = staff(client, "mlo.pm")

        def in_the_inbox() -> None:
            inbox = client.get("/api/v1/inbox", headers=officer).json()
            assert reference in {item["reference"] for item in inbox["items"]}

        eventually(in_the_inbox)
        for action, body in (
            ("accept", {"classification": "complaint.infrastructure",
                        "processing_working_days": 5}),
            ("respond", {"actions_taken": "زار فريق الصيانة الموقع",
                         "solution": "رُدمت الحفرة"}),
        ):
            done = client.post(f"/api/v1/requests/{reference}/{action}", json=body,
                               headers=officer)
            assert done.status_code == 200, done.text

        # The answer's SMS links to the port actually served, to a page a phone can use.
        answer = eventually(lambda: make_run.sms_to(phone, "قيّم الخدمة"))
        link = re.search(r"https?://\S+", answer)
        assert link is not None, answer
        assert link.group(0).startswith(f"{make_run.url}/"), link.group(0)
        page = httpx.get(link.group(0))
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert 'name="viewport" content="width=device-width' in page.text
        assert reference in page.text
        # Pressing "5" posts the page's form: the link's token rides in it.
        token = httpx.URL(link.group(0)).params["token"]
        rated = httpx.post(f"{make_run.url}/rate/{reference}", data={"token": token,
                                                                    "score": "5"})
        assert rated.status_code == 200, rated.text
        assert "سُجّل تقييمك: 5 من 5" in rated.text

        # The demo operator moves the simulated clock, and its token outlives the jumps.
        operator = staff(client, "operator")
        for _ in range(2):
            moved = client.post("/api/v1/ops/clock/advance", json={"seconds": 86_400},
                                headers=operator)
            assert moved.status_code == 200, moved.text
        assert client.get(f"/api/v1/requests/{reference}", headers=ahmad).status_code == 200


class Served(TypedDict, total=False):
    """Where the gateway listens and the address it gives in links (GatewaySettings' fields)."""

    host: str
    port: int
    public_base_url: str


@pytest.mark.parametrize(("given", "public_url"), [
    ({"port": 8080}, "http://127.0.0.1:8080"),
    ({"host": "0.0.0.0", "port": 9000}, "http://127.0.0.1:9000"),
    ({"host": "::1", "port": 9000}, "http://[::1]:9000"),
    ({"port": 8080, "public_base_url": "https://bekhedmetkom.gov.jo/"},
     "https://bekhedmetkom.gov.jo"),
])
def test_links_lead_to_the_address_served_unless_a_public_one_is_set(
    given: Served, public_url: str
) -> None:
    served: Served = {"public_base_url": "", **given}
    settings = GatewaySettings(environment="test", **served)
    assert settings.public_url == public_url
