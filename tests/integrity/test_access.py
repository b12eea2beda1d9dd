"""Only the commission sees its account: every other role gets 404 on every integrity route
except the public key and a receipt's status."""

from __future__ import annotations

import uuid

from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair, ReporterIdentity, new_receipt
from tests.integrity.conftest import Integrity

PUBLIC = {"/api/v1/integrity/public-key", "/api/v1/reports/{receipt}"}


def integrity_routes(integrity: Integrity) -> list[tuple[str, str]]:
    document = integrity.platform.apps["integrity"].openapi()
    routes = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    ]
    assert len(routes) >= 10  # read from the app: a route added later is covered too
    return routes


async def test_every_role_but_the_commission_gets_404_on_every_commission_route(
    integrity: Integrity, commission_key: CommissionKeyPair
) -> None:
    await integrity.register(commission_key)
    receipt = new_receipt()
    report = integrity.seal(commission_key, identity=ReporterIdentity(name="Someone"))
    await integrity.file(report, receipt)
    bodies = {"/api/v1/integrity/keys": {"key_id": "k", "public_key": "A" * 44,
                                         "fingerprint": "0" * 64},
              "/api/v1/integrity/inbox/{envelope_id}/notes": {"text": "hello"}}
    outsiders: list[dict[str, str]] = [{}] + [
        integrity.platform.auth(role, entities=["PM-GAM"], sectors=["PM"])
        for role in Role if role is not Role.integrity_commission
    ]
    for method, template in integrity_routes(integrity):
        path = template.format(envelope_id=report.envelope_id, receipt=receipt)
        body = bodies.get(template)
        for headers in outsiders:
            response = await integrity.client.request(
                method, path, json=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            if template in PUBLIC:
                assert response.status_code == 200, (method, path, headers)
            else:
                assert response.status_code == 404, (method, path, headers)
                assert response.json()["type"] == "/problems/report-not-found"
        # Positive control: the same request from the commission is not a 404.
        answer = await integrity.client.request(
            method, path, json=body,
            headers={**integrity.commission(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code != 404, (method, path, answer.text)


async def test_an_outsider_learns_nothing_even_from_a_malformed_request(
    integrity: Integrity,
) -> None:
    cmu = integrity.platform.auth(Role.cmu_admin)
    for path, body in (("/api/v1/integrity/keys", {"nonsense": True}),
                       ("/api/v1/integrity/inbox/not-a-uuid/notes", None)):
        response = await integrity.client.post(path, json=body, headers=cmu)
        assert response.status_code == 404  # not 422: the route's shape stays unknown
