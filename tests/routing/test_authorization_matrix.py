"""The authorization matrix: every route × every role × every target.

Declared here, independently of the code: which roles may call each route (`MATRIX`) and which
requests each role's scope covers (`SEES`). The test calls every route as every role (plus
nobody) on a request of their own entity, of another entity of the same sector, of another
sector, and on one that does not exist, and compares each answer with the declaration:

    nobody → 401; a role the route does not admit → 403; a request outside the scope, or none
    at all → 404 (never 403: another entity's requests are not confirmed to exist); else 2xx.

It fails when the service has a route the matrix does not declare, or the other way round.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.routing.directory.demo import DEMO_PASSWORD
from shared.events.catalog import RequestRated
from shared.events.vocabulary import RequestStatus, Role
from tests.platform import eventually
from tests.routing.conftest import RoutingService

NOBODY = "nobody"
R = Role
# Each staff role is a demo account scoped to MOH (sector) or MOH-HQ (entity).
ACCOUNTS = {
    R.main_liaison_officer: "mlo.moh", R.sub_liaison_officer: "slo.moh-hq",
    R.entity_head: "head.moh-hq", R.minister: "minister.moh", R.cmu_staff: "cmu.staff",
    R.cmu_admin: "cmu.admin", R.decision_maker: "decision.maker",
    R.call_center_agent: "call.center", R.complaint_box_clerk: "complaint.box",
    R.integrity_commission: "commission",
}
CALLERS: list[Role | str] = [*Role, NOBODY]

OWN, OTHER_ENTITY, OTHER_SECTOR, NONEXISTENT = "own", "other entity", "other sector", "none"
TARGETS = (OWN, OTHER_ENTITY, OTHER_SECTOR, NONEXISTENT)
ENTITY_OF = {OWN: "MOH-HQ", OTHER_ENTITY: "MOH-JFDA", OTHER_SECTOR: "MOI-HQ"}
OFFICER_OF = {"MOH-HQ": "mlo.moh", "MOH-JFDA": "mlo.moh", "MOI-HQ": "mlo.moi"}

SEES: dict[Role, set[str]] = {
    R.main_liaison_officer: {OWN, OTHER_ENTITY},  # the sector
    R.sub_liaison_officer: {OWN},                 # what was distributed to the entity
    R.entity_head: {OWN},                         # the entity
    R.minister: {OWN, OTHER_ENTITY},              # the sector
    R.cmu_staff: {OWN, OTHER_ENTITY, OTHER_SECTOR},
    R.cmu_admin: {OWN, OTHER_ENTITY, OTHER_SECTOR},
}

STAFF = {R.main_liaison_officer, R.sub_liaison_officer, R.entity_head, R.minister, R.cmu_staff,
         R.cmu_admin, R.decision_maker, R.call_center_agent, R.complaint_box_clerk,
         R.integrity_commission}
# Decision makers watch figures in analytics; requests (personal data) are for those handling.
READERS = {R.main_liaison_officer, R.sub_liaison_officer, R.entity_head, R.minister,
           R.cmu_staff, R.cmu_admin}
CMU = {R.cmu_staff, R.cmu_admin}
OFFICERS = {R.main_liaison_officer, R.sub_liaison_officer}
MAIN_OR_CMU = {R.main_liaison_officer} | CMU
# A comment for the record: those who oversee (heads, ministers), the CMU and main officers.
COMMENTERS = {R.main_liaison_officer, R.entity_head, R.minister} | CMU
ADMIN = {R.cmu_admin}
EVERYONE = {*Role, NOBODY}


@dataclass(frozen=True)
class Rule:
    admits: set[Any]
    status: RequestStatus | None = None  # a case route: the status its target must be in
    ok: int = 200


A, P, T = RequestStatus.assigned, RequestStatus.in_progress, RequestStatus.under_review
MATRIX: dict[tuple[str, str], Rule] = {
    # Public: the directory as citizens and intake read it; signing in.
    ("GET", "/api/v1/sectors"): Rule(EVERYONE),
    ("GET", "/api/v1/sectors/{code}"): Rule(EVERYONE),
    ("GET", "/api/v1/entities"): Rule(EVERYONE),
    ("GET", "/api/v1/entities/{code}"): Rule(EVERYONE),
    ("GET", "/api/v1/governorates"): Rule(EVERYONE),
    ("GET", "/api/v1/classifications"): Rule(EVERYONE),
    ("POST", "/api/v1/staff/auth/token"): Rule(EVERYONE),
    ("POST", "/api/v1/staff/auth/refresh"): Rule(EVERYONE),
    ("POST", "/api/v1/staff/auth/sign-out"): Rule(EVERYONE, ok=204),
    # Every staff member's own account.
    ("GET", "/api/v1/staff/me"): Rule(STAFF),
    ("POST", "/api/v1/staff/me/password"): Rule(STAFF, ok=204),
    # Inboxes and queues (scope shows in what they list: tests/routing/test_inbox.py).
    ("GET", "/api/v1/inbox"): Rule(READERS),
    ("GET", "/api/v1/inbox/triage"): Rule(CMU),
    ("GET", "/api/v1/inbox/review"): Rule(CMU),
    ("GET", "/api/v1/inbox/counters"): Rule(READERS),
    ("GET", "/api/v1/cases"): Rule(READERS),
    # One request: own entity, other entity, other sector, none.
    ("GET", "/api/v1/cases/{reference}"): Rule(READERS, A),
    ("GET", "/api/v1/cases/{reference}/timeline"): Rule(READERS, A),
    ("GET", "/api/v1/cases/{reference}/timeline/verification"): Rule(CMU, A),
    ("GET", "/api/v1/cases/{reference}/similar"): Rule(READERS, A),
    ("GET", "/api/v1/cases/{reference}/distribution-targets"): Rule(READERS, A),
    ("POST", "/api/v1/requests/{reference}/accept"): Rule(OFFICERS, A),
    ("POST", "/api/v1/requests/{reference}/refuse-jurisdiction"):
        Rule({R.main_liaison_officer}, A),
    ("POST", "/api/v1/requests/{reference}/distribute"): Rule({R.main_liaison_officer}, A),
    ("POST", "/api/v1/requests/{reference}/transfer"): Rule(MAIN_OR_CMU, A),
    ("POST", "/api/v1/requests/{reference}/ask-info"): Rule(OFFICERS, P),
    ("POST", "/api/v1/requests/{reference}/extend"): Rule(OFFICERS, P),
    ("POST", "/api/v1/requests/{reference}/respond"): Rule(OFFICERS, P),
    ("POST", "/api/v1/requests/{reference}/reject"): Rule(MAIN_OR_CMU, A),
    ("POST", "/api/v1/requests/{reference}/close"): Rule(MAIN_OR_CMU, P),
    ("POST", "/api/v1/requests/{reference}/merge"): Rule(MAIN_OR_CMU, A),
    ("POST", "/api/v1/requests/{reference}/review-decision"): Rule(CMU, T),
    ("POST", "/api/v1/requests/{reference}/comment"): Rule(COMMENTERS, A, ok=201),
    # The directory's administration: CMU administrators only.
    ("POST", "/api/v1/sectors"): Rule(ADMIN, ok=201),
    ("PATCH", "/api/v1/sectors/{code}"): Rule(ADMIN),
    ("DELETE", "/api/v1/sectors/{code}"): Rule(ADMIN),
    ("POST", "/api/v1/entities"): Rule(ADMIN, ok=201),
    ("PATCH", "/api/v1/entities/{code}"): Rule(ADMIN),
    ("DELETE", "/api/v1/entities/{code}"): Rule(ADMIN),
    ("POST", "/api/v1/classifications"): Rule(ADMIN, ok=201),
    ("PATCH", "/api/v1/classifications/{code}"): Rule(ADMIN),
    ("DELETE", "/api/v1/classifications/{code}"): Rule(ADMIN),
    ("POST", "/api/v1/directory/announcements"): Rule(ADMIN),
    ("GET", "/api/v1/directory/log"): Rule(ADMIN),
    ("GET", "/api/v1/directory/people"): Rule(ADMIN),
    ("POST", "/api/v1/directory/people"): Rule(ADMIN, ok=201),
    ("GET", "/api/v1/directory/people/{person_id}"): Rule(ADMIN),
    ("PATCH", "/api/v1/directory/people/{person_id}"): Rule(ADMIN),
    ("POST", "/api/v1/directory/people/{person_id}/password"): Rule(ADMIN, ok=204),
    ("POST", "/api/v1/directory/people/{person_id}/roles"): Rule(ADMIN, ok=201),
    ("DELETE", "/api/v1/directory/people/{person_id}/roles/{assignment_id}"): Rule(ADMIN),
    ("GET", "/api/v1/directory/permissions"): Rule(ADMIN),
    ("PUT", "/api/v1/directory/permissions/roles/{role}"): Rule(ADMIN),
    ("GET", "/api/v1/directory/people/{person_id}/permissions"): Rule(ADMIN),
    ("PUT", "/api/v1/directory/people/{person_id}/permissions"): Rule(ADMIN),
}

ACTION_BODIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "accept": lambda _: {"classification": "complaint.other", "processing_working_days": 3},
    "refuse-jurisdiction": lambda _: {"reason": "ليس من اختصاصنا"},
    "distribute": lambda entity: {"entity": entity},
    "transfer": lambda _: {"to_entity": "MWI-WAJ", "reason": "من اختصاص المياه"},
    "ask-info": lambda _: {"question": "ما رقم المعاملة؟"},
    "extend": lambda _: {"added_working_days": 1, "reason": "بانتظار رد"},
    "respond": lambda _: {"actions_taken": "متابعة", "solution": "حُلّت"},
    "reject": lambda _: {"legal_ground": "before_court", "reason": "منظورة أمام القضاء"},
    "close": lambda _: {"closing_code": "withdrawn"},
    "review-decision": lambda _: {"decision": "confirm", "reason": "الرد وافٍ"},
    "comment": lambda _: {"text": "يُتابع مع المدير العام"},
}


def expected(rule: Rule, caller: Role | str, target: str | None) -> int:
    if caller not in rule.admits:
        return 401 if caller == NOBODY else 403
    if target is None:
        return rule.ok
    sees = SEES.get(caller, set()) if isinstance(caller, Role) else set()  # NOBODY sees nothing
    if target == NONEXISTENT or target not in sees:
        return 404
    return rule.ok


class Caller:
    """Each caller's headers, minted once per test (as sign-in would give them)."""

    def __init__(self, routing: RoutingService) -> None:
        self.routing = routing
        self._headers: dict[Role | str, dict[str, str]] = {NOBODY: {}}

    async def headers(self, caller: Role | str) -> dict[str, str]:
        if caller not in self._headers:
            self._headers[caller] = (
                await self.routing.auth(ACCOUNTS[caller]) if caller in ACCOUNTS  # type: ignore[index]
                else {"Authorization": f"Bearer {self.routing.token(Role(caller))}"})
        return self._headers[caller]


@dataclass
class Cases:
    """Requests in the state each route needs, at each target's entity, distributed there
    (so that the entity's sub-liaison officer holds them)."""

    routing: RoutingService

    async def make(self, target: str, status: RequestStatus) -> str:
        if target == NONEXISTENT:
            return f"BKH-NONE-{uuid.uuid4().hex[:8]}"
        entity = ENTITY_OF[target]
        officer = OFFICER_OF[entity]
        reference = await self.routing.submit(entity=entity)
        await self._do(officer, reference, "distribute", {"entity": entity})
        if status in (RequestStatus.in_progress, RequestStatus.under_review):
            await self._do(officer, reference, "accept", ACTION_BODIES["accept"](entity))
        if status is RequestStatus.under_review:
            await self._do(officer, reference, "respond", ACTION_BODIES["respond"](entity))
            await self.routing.publish(RequestRated(reference=reference, score=1))

            async def in_review() -> None:
                case = await self.routing.case(reference)
                assert case is not None
                assert case.status is RequestStatus.under_review

            await eventually(in_review)
        return reference

    async def _do(self, who: str, reference: str, action: str, body: dict[str, Any]) -> None:
        response = await self.routing.act(who, reference, action, body)
        assert response.status_code == 200, response.text


def operations(routing: RoutingService) -> set[tuple[str, str]]:
    document = routing.app.openapi()
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def test_every_route_is_in_the_matrix_and_the_matrix_has_no_other(
    routing: RoutingService,
) -> None:
    assert operations(routing) == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), [key for key, rule in MATRIX.items()
                                              if rule.status is not None])
async def test_requests_answer_as_the_matrix_says(
    routing: RoutingService, method: str, path: str
) -> None:
    rule = MATRIX[(method, path)]
    assert rule.status is not None
    cases, caller = Cases(routing), Caller(routing)
    action = path.rsplit("/", 1)[-1]
    mismatches = []
    for target in TARGETS:
        shared = await cases.make(target, rule.status)  # for every caller that changes nothing
        for who in CALLERS:
            want = expected(rule, who, target)
            acts = method == "POST" and want < 300  # changes the request: a fresh one each
            reference = await cases.make(target, rule.status) if acts else shared
            body: dict[str, Any] | None = None
            if action == "merge":
                duplicate = await cases.make(target, A) if acts else "BKH-NONE-DUP"
                body = {"duplicates": [duplicate]}
            elif method == "POST":
                body = ACTION_BODIES[action](ENTITY_OF.get(target, "MOH-HQ"))
            headers = await caller.headers(who)
            if method == "POST":  # a comment creates: it takes one (the actions ignore it)
                headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
            response = await routing.client.request(
                method, path.replace("{reference}", reference), json=body, headers=headers)
            if response.status_code != want:
                mismatches.append((str(who), target, want, response.status_code,
                                   response.text[:160]))
    assert mismatches == []


async def test_the_other_routes_answer_as_the_matrix_says(routing: RoutingService) -> None:
    calls = await _directory_calls(routing)
    caller = Caller(routing)
    declared = {key for key, rule in MATRIX.items() if rule.status is None}
    assert set(calls) == declared
    mismatches = []
    for (method, path), call in calls.items():
        rule = MATRIX[(method, path)]
        # The admitted callers go last: the first refused ones must not have changed anything.
        for who in sorted(CALLERS, key=lambda c: c in rule.admits):
            want = expected(rule, who, None)
            response = await call(await caller.headers(who), who)
            if response.status_code != want:
                mismatches.append((method, path, str(who), want, response.status_code,
                                   response.text[:160]))
    assert mismatches == []


Call = Callable[[dict[str, str], Any], Awaitable[Any]]


async def _directory_calls(routing: RoutingService) -> dict[tuple[str, str], Call]:
    """One well-formed call per route without a request in its path; the admitted callers'
    calls succeed (fresh objects where a call changes something)."""
    client = routing.client
    admin = await routing.auth("cmu.admin")
    made = await client.post("/api/v1/directory/people", headers={
        **admin, "Idempotency-Key": str(uuid.uuid4())}, json={
        "username": f"matrix.{uuid.uuid4().hex[:6]}", "full_name": "مصفوفة",
        "phone": "+962791230000", "password": "a long private phrase 9"})
    assert made.status_code == 201, made.text
    person = made.json()["id"]
    grants: list[str] = []
    for path, body in (
        ("/api/v1/sectors", {"code": "MOX", "name_ar": "للإيقاف", "name_en": "To retire"}),
        ("/api/v1/entities", {"code": "MOY-OLD", "sector": "MOY", "kind": "department",
                              "name_ar": "للإيقاف", "name_en": "To retire"}),
    ):
        setup = await client.post(path, json=body,
                                  headers={**admin, "Idempotency-Key": str(uuid.uuid4())})
        assert setup.status_code == 201, setup.text

    def fresh(prefix: str) -> str:
        return f"{prefix}{uuid.uuid4().hex[:6].upper()}"

    def idem(headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "Idempotency-Key": str(uuid.uuid4())}

    async def grant(headers: dict[str, str], _: Any) -> Any:
        response = await client.post(f"/api/v1/directory/people/{person}/roles",
                                     headers=idem(headers), json={"role": "decision_maker"})
        if response.status_code == 201:
            grants.append(response.json()["id"])
        return response

    async def revoke(headers: dict[str, str], _: Any) -> Any:
        assignment = grants[-1] if grants else str(uuid.uuid4())
        return await client.delete(f"/api/v1/directory/people/{person}/roles/{assignment}",
                                   headers=headers)

    async def sign_in(headers: dict[str, str], _: Any) -> Any:
        return await client.post("/api/v1/staff/auth/token", headers=headers,
                                 json={"username": "decision.maker", "password": DEMO_PASSWORD})

    async def refresh(headers: dict[str, str], _: Any) -> Any:
        tokens = (await sign_in({}, None)).json()
        return await client.post("/api/v1/staff/auth/refresh", headers=headers,
                                 json={"refresh_token": tokens["refresh_token"]})

    async def sign_out(headers: dict[str, str], _: Any) -> Any:
        tokens = (await sign_in({}, None)).json()
        return await client.post("/api/v1/staff/auth/sign-out", headers=headers,
                                 json={"refresh_token": tokens["refresh_token"]})

    async def own_password(headers: dict[str, str], who: Any) -> Any:
        return await client.post("/api/v1/staff/me/password", headers=headers, json={
            "current_password": DEMO_PASSWORD, "new_password": f"a new long phrase {who}"})

    def get(path: str) -> Call:
        return lambda headers, _: client.get(path, headers=headers)

    def send(method: str, path: str, body: Callable[[], dict[str, Any]] | None = None) -> Call:
        return lambda headers, _: client.request(
            method, path, headers=idem(headers), json=body() if body else None)

    return {
        ("GET", "/api/v1/sectors"): get("/api/v1/sectors"),
        ("GET", "/api/v1/sectors/{code}"): get("/api/v1/sectors/MOH"),
        ("GET", "/api/v1/entities"): get("/api/v1/entities"),
        ("GET", "/api/v1/entities/{code}"): get("/api/v1/entities/MOH-HQ"),
        ("GET", "/api/v1/governorates"): get("/api/v1/governorates"),
        ("GET", "/api/v1/classifications"): get("/api/v1/classifications"),
        ("POST", "/api/v1/staff/auth/token"): sign_in,
        ("POST", "/api/v1/staff/auth/refresh"): refresh,
        ("POST", "/api/v1/staff/auth/sign-out"): sign_out,
        ("GET", "/api/v1/staff/me"): get("/api/v1/staff/me"),
        ("POST", "/api/v1/staff/me/password"): own_password,
        ("GET", "/api/v1/inbox"): get("/api/v1/inbox"),
        ("GET", "/api/v1/inbox/triage"): get("/api/v1/inbox/triage"),
        ("GET", "/api/v1/inbox/review"): get("/api/v1/inbox/review"),
        ("GET", "/api/v1/inbox/counters"): get("/api/v1/inbox/counters"),
        ("GET", "/api/v1/cases"): get("/api/v1/cases?q=water"),
        ("POST", "/api/v1/sectors"): send("POST", "/api/v1/sectors", lambda: {
            "code": fresh("MX"), "name_ar": "قطاع", "name_en": "Sector"}),
        ("PATCH", "/api/v1/sectors/{code}"): send("PATCH", "/api/v1/sectors/MOY",
                                                   lambda: {"name_en": "Ministry of Youth"}),
        ("DELETE", "/api/v1/sectors/{code}"): send("DELETE", "/api/v1/sectors/MOX"),
        ("POST", "/api/v1/entities"): send("POST", "/api/v1/entities", lambda: {
            "code": fresh("MOY-"), "sector": "MOY", "kind": "department",
            "name_ar": "دائرة", "name_en": "Department"}),
        ("PATCH", "/api/v1/entities/{code}"): send("PATCH", "/api/v1/entities/MOY-HQ",
                                                    lambda: {"name_en": "Ministry of Youth"}),
        ("DELETE", "/api/v1/entities/{code}"): send("DELETE", "/api/v1/entities/MOY-OLD"),
        ("POST", "/api/v1/classifications"): send("POST", "/api/v1/classifications", lambda: {
            "code": fresh("complaint.m").lower(), "kind": "complaint", "name_ar": "تصنيف",
            "name_en": "Classification", "max_working_days": 5}),
        ("PATCH", "/api/v1/classifications/{code}"): send(
            "PATCH", "/api/v1/classifications/complaint.other", lambda: {"max_working_days": 15}),
        ("DELETE", "/api/v1/classifications/{code}"): send(
            "DELETE", "/api/v1/classifications/suggestion.service_improvement"),
        ("POST", "/api/v1/directory/announcements"): send("POST",
                                                          "/api/v1/directory/announcements"),
        ("GET", "/api/v1/directory/log"): get("/api/v1/directory/log"),
        ("GET", "/api/v1/directory/people"): get("/api/v1/directory/people"),
        ("POST", "/api/v1/directory/people"): send("POST", "/api/v1/directory/people", lambda: {
            "username": f"m.{uuid.uuid4().hex[:8]}", "full_name": "موظف",
            "phone": "+962791230001", "password": "a long private phrase 10"}),
        ("GET", "/api/v1/directory/people/{person_id}"): get(f"/api/v1/directory/people/{person}"),
        ("PATCH", "/api/v1/directory/people/{person_id}"): send(
            "PATCH", f"/api/v1/directory/people/{person}", lambda: {"full_name": "مصفوفة"}),
        ("POST", "/api/v1/directory/people/{person_id}/password"): send(
            "POST", f"/api/v1/directory/people/{person}/password",
            lambda: {"new_password": "a long private phrase 11"}),
        ("POST", "/api/v1/directory/people/{person_id}/roles"): grant,
        ("DELETE", "/api/v1/directory/people/{person_id}/roles/{assignment_id}"): revoke,
        ("GET", "/api/v1/directory/permissions"): get("/api/v1/directory/permissions"),
        ("PUT", "/api/v1/directory/permissions/roles/{role}"): send(
            "PUT", "/api/v1/directory/permissions/roles/decision_maker",
            lambda: {"permissions": []}),
        ("GET", "/api/v1/directory/people/{person_id}/permissions"): get(
            f"/api/v1/directory/people/{person}/permissions"),
        ("PUT", "/api/v1/directory/people/{person_id}/permissions"): send(
            "PUT", f"/api/v1/directory/people/{person}/permissions",
            lambda: {"grants": [], "denials": []}),
    }
