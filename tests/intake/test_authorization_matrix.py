"""Intake's authorization matrix: every route × every caller, and for one request, every target.

Declared here, independently of the code (as `tests/routing/test_authorization_matrix.py` does
for routing): who may call each route (`MATRIX`), what a refused caller is answered, and which
requests each staff role's scope holds (`SEES`). The routes about one request are called by
every role, the request's own requester, another citizen and nobody, on a request of their own
entity, of another entity of the same sector, of another sector, and on none:

    nobody → 401; a caller the route does not admit → its refusal (403, or 404 where even the
    existence of someone else's request or file is not confirmed); a request outside the
    caller's scope, or none at all → 404; else 200.

The other routes (sign-up, sign-in, submitting, the call center's) are answered 401 without a
token; what each role may do there is each feature's own tests. It fails when intake has a route
the matrix does not declare, or the other way round.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.events.catalog import DirectoryEntityChanged, RequestAssigned, RequestDistributed
from shared.events.vocabulary import Role
from tests.intake.conftest import IntakeUnderTest, feed, seed_directory
from tests.intake.factories import key, register
from tests.intake.test_attachments import LETTER, upload
from tests.intake.test_submissions import complaint

R = Role
NOBODY, REQUESTER = "nobody", "requester"  # no token; the citizen who sent the requests
CALLERS: list[Role | str] = [*Role, REQUESTER, NOBODY]

OWN, OTHER_ENTITY, OTHER_SECTOR, NONEXISTENT = "own", "other entity", "other sector", "none"
TARGETS = (OWN, OTHER_ENTITY, OTHER_SECTOR, NONEXISTENT)
ENTITY_OF = {OWN: "MOH-HOSP", OTHER_ENTITY: "MOH-JFDA", OTHER_SECTOR: "PM-GAM"}
SECTOR_OF = {OWN: "MOH", OTHER_ENTITY: "MOH", OTHER_SECTOR: "PM"}
# Each staff token is scoped to the sector MOH or the entity MOH-HOSP.
SCOPE: dict[Role, dict[str, list[str]]] = {
    R.main_liaison_officer: {"sector_ids": ["MOH"]},
    R.minister: {"sector_ids": ["MOH"]},
    R.sub_liaison_officer: {"entity_ids": ["MOH-HOSP"]},
    R.entity_head: {"entity_ids": ["MOH-HOSP"]},
}

EXISTING = {OWN, OTHER_ENTITY, OTHER_SECTOR}
# Every request is distributed to its own entity, so its sub-liaison officers hold it.
SEES: dict[Role | str, set[str]] = {
    R.main_liaison_officer: {OWN, OTHER_ENTITY},  # the sector
    R.sub_liaison_officer: {OWN},                 # what was distributed to the entity
    R.entity_head: {OWN},                         # the entity
    R.minister: {OWN, OTHER_ENTITY},              # the sector
    R.cmu_staff: EXISTING,
    R.cmu_admin: EXISTING,
    REQUESTER: EXISTING,                          # their own
}

PUBLIC = {*Role, REQUESTER, NOBODY}
CITIZENS = {R.citizen, REQUESTER}
KEYING_IN = CITIZENS | {R.call_center_agent, R.complaint_box_clerk}
# Those who handle requests read their requester; decision makers watch figures only.
HOLDERS = {R.main_liaison_officer, R.sub_liaison_officer, R.entity_head, R.minister,
           R.cmu_staff, R.cmu_admin}
CMU = {R.cmu_staff, R.cmu_admin}


@dataclass(frozen=True)
class Rule:
    admits: set[Any]
    refusal: int = 403
    one_request: bool = field(default=False)  # called on each target, by every caller


def _one(admits: set[Any], refusal: int = 403) -> Rule:
    return Rule(admits, refusal, one_request=True)


MATRIX: dict[tuple[str, str], Rule] = {
    # Signing up and in: anyone (the body proves who they are).
    ("POST", "/api/v1/citizens/registrations"): Rule(PUBLIC),
    ("POST", "/api/v1/citizens/registrations/{registration_id}/code"): Rule(PUBLIC),
    ("POST", "/api/v1/citizens/registrations/{registration_id}/verify"): Rule(PUBLIC),
    ("POST", "/api/v1/auth/token"): Rule(PUBLIC),
    ("POST", "/api/v1/auth/refresh"): Rule(PUBLIC),
    ("POST", "/api/v1/auth/revoke"): Rule(PUBLIC),
    # A citizen's own account.
    ("GET", "/api/v1/citizens/me"): Rule(CITIZENS),
    ("PATCH", "/api/v1/citizens/me"): Rule(CITIZENS),
    ("POST", "/api/v1/citizens/me/phone-changes"): Rule(CITIZENS),
    ("POST", "/api/v1/citizens/me/phone-changes/{challenge_id}/verify"): Rule(CITIZENS),
    # Submitting, and one's own list (agents and clerks: what they keyed in); files.
    ("POST", "/api/v1/requests"): Rule(KEYING_IN),
    ("GET", "/api/v1/requests"): Rule(KEYING_IN),
    ("POST", "/api/v1/attachments"): Rule(KEYING_IN),
    # The requester's own request: anyone else is answered as if it did not exist.
    ("GET", "/api/v1/requests/{reference}"): _one({REQUESTER}, refusal=404),
    ("POST", "/api/v1/requests/{reference}/rating"): Rule({REQUESTER}, refusal=404),
    ("POST", "/api/v1/requests/{reference}/information"): Rule({REQUESTER}, refusal=404),
    ("POST", "/api/v1/requests/{reference}/chase"): Rule({REQUESTER}, refusal=404),
    # The one-tap rating link: its signed token is the credential.
    ("GET", "/api/v1/requests/{reference}/rating/link"): Rule(PUBLIC),
    ("POST", "/api/v1/requests/{reference}/rating/link"): Rule(PUBLIC),
    ("GET", "/api/v1/requests/{reference}/rating/link/state"): Rule(PUBLIC),
    # By reference and tracking code: anyone (the code proves it is theirs; tests/intake/
    # test_tracking.py).
    ("POST", "/api/v1/tracking"): Rule(PUBLIC),
    ("POST", "/api/v1/tracking/chase"): Rule(PUBLIC),
    # The call center.
    ("POST", "/api/v1/citizens/caller-checks"): Rule({R.call_center_agent}),
    ("POST", "/api/v1/requests/{reference}/caller-lookup"): Rule({R.call_center_agent}),
    # Corruption reports: anonymous is allowed.
    ("POST", "/api/v1/reports"): Rule(PUBLIC),
    # The staff who hold a request read its requester and files; the CMU, who read them.
    ("GET", "/api/v1/requests/{reference}/requester"): _one(HOLDERS),
    ("GET", "/api/v1/requests/{reference}/attachments"): _one(HOLDERS),
    ("GET", "/api/v1/requests/{reference}/requester/views"): _one(CMU),
    # A file: its uploader, its request's requester, and the staff who hold that request.
    ("GET", "/api/v1/attachments/{attachment_id}"): _one(HOLDERS | {REQUESTER}, refusal=404),
}


def expected(rule: Rule, caller: Role | str, target: str) -> int:
    if caller == NOBODY:
        return 401
    if caller not in rule.admits:
        return rule.refusal
    if target not in SEES.get(caller, set()):  # NONEXISTENT is in nobody's
        return 404
    return 200


def operations(intake: IntakeUnderTest) -> set[tuple[str, str]]:
    document = intake.app.openapi()
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def test_every_route_is_in_the_matrix_and_the_matrix_has_no_other(
    intake: IntakeUnderTest,
) -> None:
    assert operations(intake) == set(MATRIX)


@dataclass
class Targets:
    """One request of the requester at each target's entity, with a file, held by that entity's
    main liaison officer and distributed to the entity itself."""

    references: dict[str, str]
    attachments: dict[str, str]
    requester: dict[str, str]


async def _targets(intake: IntakeUnderTest) -> Targets:
    await seed_directory(intake)
    await feed(intake, DirectoryEntityChanged(entity="MOH-JFDA", sector="MOH",
                                              name_ar="المؤسسة العامة للغذاء والدواء",
                                              name_en="Food and Drug Administration",
                                              change="created"))
    requester = intake.auth(Role.citizen, await register(intake))
    references = {NONEXISTENT: "2030-0009999-1"}
    attachments = {NONEXISTENT: str(uuid.uuid4())}
    for target in EXISTING:
        stored = await upload(intake, requester, LETTER, "letter.pdf", "application/pdf")
        attachments[target] = stored.json()["attachment_id"]
        submitted = await intake.client.post(
            "/api/v1/requests", headers={**requester, **key()},
            json=complaint(entity=ENTITY_OF[target], attachment_ids=[attachments[target]]))
        assert submitted.status_code == 201, submitted.json()
        reference = references[target] = submitted.json()["reference"]
        entity, sector = ENTITY_OF[target], SECTOR_OF[target]
        officer = uuid.uuid4()
        await feed(intake, RequestAssigned(reference=reference, entity=entity, sector=sector,
                                           officer_ids=[officer]))
        await feed(intake, RequestDistributed(reference=reference, entity=entity, sector=sector,
                                              officer_ids=[officer], actor_id=officer))
    return Targets(references, attachments, requester)


def _headers(intake: IntakeUnderTest, targets: Targets, caller: Role | str) -> dict[str, str]:
    if caller == NOBODY:
        return {}
    if caller == REQUESTER:
        return targets.requester
    role = Role(caller)
    return intake.auth(role, **SCOPE.get(role, {}))  # type: ignore[arg-type]


async def test_the_routes_about_one_request_answer_as_the_matrix_says(
    intake: IntakeUnderTest,
) -> None:
    targets = await _targets(intake)
    mismatches = []
    for (method, path), rule in MATRIX.items():
        if not rule.one_request:
            continue
        for target in TARGETS:
            concrete = path.replace("{reference}", targets.references[target]).replace(
                "{attachment_id}", targets.attachments[target])
            for caller in CALLERS:
                response = await intake.client.request(
                    method, concrete, headers=_headers(intake, targets, caller))
                want = expected(rule, caller, target)
                if response.status_code != want:
                    mismatches.append((path, str(caller), target, want, response.status_code,
                                       response.text[:120]))
    assert mismatches == []


async def test_every_other_route_but_the_public_ones_wants_a_token(
    intake: IntakeUnderTest,
) -> None:
    mismatches = []
    for (method, path), rule in MATRIX.items():
        if rule.one_request or NOBODY in rule.admits:
            continue
        concrete = (path.replace("{reference}", "2030-0000001-1")
                    .replace("{challenge_id}", str(uuid.uuid4())))
        response = await intake.client.request(method, concrete, json={})
        if response.status_code != 401:
            mismatches.append((method, path, response.status_code, response.text[:120]))
    assert mismatches == []
