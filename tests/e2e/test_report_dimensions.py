"""Every dimension of analytics' reports has real values once a request that sets it has lived
its life: what the requester gave at submission (governorate, city, entity, kind, channel) and
what happened to it (status, closing code, processing time) travel from intake and routing
through the bus into the reports, with nothing left "not set" on the way.
"""

from __future__ import annotations

from typing import Any

from services.analytics.reports import GROUPABLE
from services.analytics.repository import NOT_CLOSED_BUCKET
from shared.auth import Role
from tests.e2e.conftest import World, key, staff
from tests.platform import eventually

SUBMITTED = {"governorate": "JO-IR", "city": "إربد", "entity": "PM-GAM", "sector": "PM",
             "kind": "complaint", "channel": "portal"}
LIVED = {"status": "closed", "closing_code": "resolved"}
PERIODS = {"day", "week", "month", "processing_time"}  # derived: any real value


async def test_every_report_dimension_has_real_values_after_a_submission_that_sets_it(
    world: World,
) -> None:
    assert set(GROUPABLE) == set(SUBMITTED) | set(LIVED) | PERIODS, "a dimension left untested"
    client = world.platform.client
    citizen = world.platform.auth(Role.citizen)
    complaint = {"kind": SUBMITTED["kind"], "entity": SUBMITTED["entity"],
                 "governorate": SUBMITTED["governorate"], "city": SUBMITTED["city"],
                 "channel": SUBMITTED["channel"], "subject": "انقطاع المياه",
                 "description": "انقطعت المياه عن الحي منذ ثلاثة أيام دون إشعار مسبق.",
                 "not_before_court": True}

    async def submitted() -> str:
        # Intake learns the entity from routing's directory announcements, moments after start.
        response = await client.post("/api/v1/requests", json=complaint,
                                     headers={**citizen, **key()})
        assert response.status_code == 201, response.text
        return str(response.json()["reference"])

    reference = await eventually(submitted, timeout_s=60)
    officer = await staff(client, "mlo.pm")

    async def accepted() -> None:
        response = await client.post(f"/api/v1/requests/{reference}/accept", headers=officer,
                                     json={"classification": "complaint.infrastructure",
                                           "processing_working_days": 5})
        assert response.status_code == 200, response.text

    await eventually(accepted)
    responded = await client.post(f"/api/v1/requests/{reference}/respond", headers=officer,
                                  json={"actions_taken": "أُصلح الخط الرئيسي",
                                        "solution": "عادت المياه إلى الحي"})
    assert responded.status_code == 200, responded.text

    async def rated() -> None:
        response = await client.post(f"/api/v1/requests/{reference}/rating",
                                     json={"score": 4}, headers={**citizen, **key()})
        assert response.status_code == 201, response.text

    await eventually(rated)
    cmu = await staff(client, "cmu.staff")

    async def grouped_by(dimension: str) -> dict[str, Any]:
        report = await client.get("/api/v1/analytics/reports",
                                  params={"group_by": dimension}, headers=cmu)
        assert report.status_code == 200, report.text
        (row,) = report.json()["rows"]
        return dict(row)

    async def closed_and_counted() -> None:
        assert (await grouped_by("status"))["status"] == "closed"

    await eventually(closed_and_counted)
    for dimension in GROUPABLE:
        row = await grouped_by(dimension)
        value = row[dimension]
        assert value not in (None, "", NOT_CLOSED_BUCKET), (dimension, row)
        assert row[f"{dimension}_name"] not in ("غير محدد", "Not set"), (dimension, row)
        assert value == {**SUBMITTED, **LIVED}.get(dimension, value), (dimension, row)
