"""The public API keeps to its own document: every operation of the aggregated OpenAPI, called
with generated data by schemathesis against the whole platform, answers no server error and
nothing its document does not describe (status, content type, headers, body).

Data both valid and invalid (schemathesis' positive and negative modes), with each operation's
boundary values first: an invalid query parameter, or an absurd but valid one (`month=0000-01`,
`from=9999-12-31`), is a 422 problem, never a 500. Authenticated operations are called with the
token of a role that may use them (a demo official signed in, or a citizen's token), so the run
reaches past the door; a commission key is registered, as in production, so that reports are
taken. Bounded: a fixed number of examples per operation, derandomized under `CI=true`, so a
landing is judged by the change and not by the draw.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.routes import CASE_ACTIONS
from services.routing.directory.demo import DEMO_PASSWORD, demo_person_id
from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair
from tests.conftest import IN_CI
from tests.platform import ServedPlatform, served_platform

EXAMPLES_PER_OPERATION = 25
# Every operation in one test: a few minutes on an idle machine; far past that, it has hung.
RUN_TIMEOUT_S = 900
# Access tokens live ten minutes; a run of every operation may take longer.
TOKEN_REUSE_S = 240
# The live feed streams until its token expires: its calls carry one that soon does.
LIVE_FEED = "/api/v1/analytics/live"
LIVE_TOKEN_LIFETIME = timedelta(seconds=2)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

_CASE_ACTION = re.compile(rf"/api/v1/requests/{{reference}}/(?:{'|'.join(CASE_ACTIONS)})")
# Who calls what: the role that may use each part of the API (a demo account, or a citizen).
CALLERS: tuple[tuple[re.Pattern[str], str | Role | None], ...] = (
    (re.compile(r"/api/v1/ops/"), None),  # moving the clock would expire every token: nobody
    # Re-permissioning roles at random would take the officers' rights for the rest of the run.
    (re.compile(r"/api/v1/directory/permissions/roles/"), None),
    # What the complaints unit alone does.
    (re.compile(r"/api/v1/(?:requests/{reference}/review-decision|inbox/(?:review|triage)"
                r"|cases/{reference}/timeline/verification)"), "cmu.staff"),
    (_CASE_ACTION, "mlo.moh"),
    (re.compile(r"/api/v1/(?:citizens/caller-checks|requests/{reference}/caller-lookup)"),
     "call.center"),
    (re.compile(r"/api/v1/(?:citizens|requests|attachments|reports)"), Role.citizen),
    (re.compile(r"/api/v1/(?:cases|inbox)"), "mlo.moh"),
    (re.compile(r"/api/v1/integrity"), "commission"),
    (re.compile(r"/api/v1/"), "cmu.admin"),
    (re.compile(r""), None),  # the dashboard page
)


@dataclass
class Callers:
    """Tokens for the roles of `CALLERS`, minted or signed in once and renewed before expiry."""

    served: ServedPlatform
    _tokens: dict[str | Role, tuple[float, str]] = field(default_factory=dict)

    def headers_for(self, path: str) -> dict[str, str]:
        if path == LIVE_FEED:
            token = self.served.platform.issuer.issue(
                str(demo_person_id("cmu.admin")), Role.cmu_admin, lifetime=LIVE_TOKEN_LIFETIME)
            return {"Authorization": f"Bearer {token}"}
        caller = next(who for pattern, who in CALLERS if pattern.match(path))
        if caller is None:
            return {}
        minted, token = self._tokens.get(caller, (0.0, ""))
        if time.monotonic() - minted > TOKEN_REUSE_S:
            token = self._mint(caller)
            self._tokens[caller] = (time.monotonic(), token)
        return {"Authorization": f"Bearer {token}"}

    def _mint(self, caller: str | Role) -> str:
        if isinstance(caller, Role):
            return self.served.platform.token(caller)
        signed_in = requests.post(f"{self.served.base_url}/api/v1/staff/auth/token",
                                  json={"username": caller, "password": DEMO_PASSWORD},
                                  timeout=30)
        assert signed_in.status_code == 200, signed_in.text
        token: str = signed_in.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def served(postgres_url: str, amqp_url: str) -> Iterator[ServedPlatform]:
    # Rate limits are proven elsewhere; here they would only stop the run at the door.
    with served_platform(postgres_url, amqp_url,
                         gateway_overrides={"rate_limit_enabled": False}) as served:
        yield served


@pytest.fixture(scope="module")
def callers(served: ServedPlatform) -> Callers:
    return Callers(served)


def _register_a_commission_key(served: ServedPlatform, callers: Callers) -> None:
    """As the commission does before anyone can report; then wait until intake knows it."""
    public = CommissionKeyPair.generate("commission-contract").public
    registered = requests.post(
        f"{served.base_url}/api/v1/integrity/keys",
        json={"key_id": public.key_id, "public_key": public.encoded,
              "fingerprint": public.fingerprint},
        headers={**callers.headers_for("/api/v1/integrity/keys"),
                 "Idempotency-Key": str(uuid.uuid4())}, timeout=30)
    assert registered.status_code == 201, registered.text
    deadline = time.monotonic() + 30
    while True:
        report = requests.post(f"{served.base_url}/api/v1/reports",
                               json={"text": "Reports are taken."},
                               headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30)
        if report.status_code == 201 or time.monotonic() > deadline:
            assert report.status_code == 201, report.text
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def document(served: ServedPlatform) -> dict[str, Any]:
    """The aggregated OpenAPI document, where client generators look for it."""
    answer = requests.get(f"{served.base_url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    assert document["x-unavailable-services"] == []
    return document


@pytest.fixture(scope="module")
def api(served: ServedPlatform, callers: Callers, document: dict[str, Any]) -> Any:
    _register_a_commission_key(served, callers)
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=served.base_url)
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION, deterministic=IN_CI, database="none",
    )
    return schema


@pytest.fixture(autouse=True)
def _node_id(request: pytest.FixtureRequest) -> None:
    # Schemathesis names each operation's subtest through `_nodeid`, which pytest 9 dropped.
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@pytest.mark.timeout(RUN_TIMEOUT_S)
def test_every_operation_keeps_to_its_document(case: Any, callers: Callers) -> None:
    case.call_and_validate(headers=callers.headers_for(case.path), checks=CHECKS, timeout=30)


# --- authorization before the request's own shape ----------------------------------------------

# Where citizens are the callers: an official is the one refused there.
CITIZENS_ROUTES = {
    ("GET", "/api/v1/citizens/me"), ("PATCH", "/api/v1/citizens/me"),
    ("POST", "/api/v1/citizens/me/phone-changes"),
    ("POST", "/api/v1/citizens/me/phone-changes/{challenge_id}/verify"),
    ("GET", "/api/v1/requests"), ("POST", "/api/v1/requests"), ("POST", "/api/v1/attachments"),
    ("POST", "/api/v1/requests/{reference}/rating"),
    ("POST", "/api/v1/requests/{reference}/information"),
    ("POST", "/api/v1/requests/{reference}/chase"),
}
# Judged by what is the caller's own (their request, file or messages, their entity's deadlines):
# whatever is not answers 404, as if absent, whoever asks.
JUDGED_BY_OWNERSHIP = {
    ("GET", "/api/v1/requests/{reference}"), ("GET", "/api/v1/attachments/{attachment_id}"),
    ("GET", "/api/v1/notifications"), ("GET", "/api/v1/notifications/{notification_id}"),
    ("GET", "/api/v1/sla/requests/{reference}/deadlines"),
}
# The commission's inbox and keys are not there for anyone else: 404, not 403.
HIDDEN_FROM_OTHERS = re.compile(r"/api/v1/integrity/")
_EVERY_SHAPE_WRONG: dict[str, Any] = {"unexpected": True}


def _token_required(operation: dict[str, Any]) -> bool:
    return operation.get("security") == [{"bearer": []}]


def test_a_caller_a_route_refuses_is_refused_before_the_request_is_read(
    served: ServedPlatform, callers: Callers, document: dict[str, Any]
) -> None:
    """Every route that takes a token, in every service, called by a role it refuses with
    parameters and a body that are all wrong: 403 (404 where the route hides itself), never
    the 422 that would list its fields."""
    citizen = {"Authorization": f"Bearer {served.platform.token(Role.citizen)}"}
    official = callers.headers_for("/api/v1/directory")  # the CMU's administrator
    called, wrong = 0, []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method.upper(), path)
            if not _token_required(operation) or key in JUDGED_BY_OWNERSHIP:
                continue
            parameters = operation.get("parameters", [])
            url = served.base_url + re.sub(r"{[^}]+}", "x", path)
            answer = requests.request(
                method, url, timeout=30,
                headers=official if key in CITIZENS_ROUTES else citizen,
                params={p["name"]: "not valid!" for p in parameters if p["in"] == "query"},
                json=_EVERY_SHAPE_WRONG if "requestBody" in operation else None,
            )
            called += 1
            refused = 404 if HIDDEN_FROM_OTHERS.match(path) else 403
            if (answer.status_code, answer.headers.get("content-type")) != (
                    refused, "application/problem+json"):
                wrong.append((*key, answer.status_code, answer.text[:200]))
    assert called > 60  # every service's token-taking routes, not a handful
    assert wrong == []


# --- text the platform can store -----------------------------------------------------------------


def test_text_with_a_nul_character_is_refused_wherever_it_is_sent(
    served: ServedPlatform, callers: Callers
) -> None:
    """PostgreSQL cannot store U+0000: a 422 naming the field, not the 500 of a failed query."""
    base = served.base_url
    in_query = requests.get(f"{base}/api/v1/directory/people", params={"sector": "MO\x00H"},
                            headers=callers.headers_for("/api/v1/directory"), timeout=30)
    in_path = requests.get(f"{base}/api/v1/sectors/MO%00H", timeout=30)
    in_body = requests.post(f"{base}/api/v1/auth/token", timeout=30,
                            json={"id_number": "98610\x0012345", "password": "long enough 1"})
    for answer, place in ((in_query, "query.sector"), (in_path, "path.code"),
                          (in_body, "body.id_number")):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [
            (place, "nul_character")]
