"""The route table: which service serves which public path (first match wins)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from gateway.routes import CASE_ACTIONS, ROUTES, BodyCap, resolve, services_in
from services import SERVICES
from services.__main__ import definition_of
from services.routing.cases.routes import router as cases_router
from shared.service import create_service_app


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("POST", "/api/v1/citizens/registrations", "intake"),
        ("POST", "/api/v1/citizens/registrations/123/verify", "intake"),
        ("POST", "/api/v1/auth/token", "intake"),
        ("POST", "/api/v1/auth/refresh", "intake"),
        ("POST", "/api/v1/requests", "intake"),
        ("GET", "/api/v1/requests", "intake"),
        ("GET", "/api/v1/requests/JO-2030-000123", "intake"),
        ("POST", "/api/v1/requests/JO-2030-000123/rating", "intake"),
        # The one-tap rating link notify sends, and the requester's answer to a question.
        ("GET", "/api/v1/requests/2030-0000123-4/rating/link", "intake"),
        ("POST", "/api/v1/requests/2030-0000123-4/rating/link", "intake"),
        ("POST", "/api/v1/requests/2030-0000123-4/information", "intake"),
        ("POST", "/api/v1/requests/2030-0000123-4/caller-lookup", "intake"),
        # The staff who hold a request: its requester, its files, who read them.
        ("GET", "/api/v1/requests/2030-0000123-4/requester", "intake"),
        ("GET", "/api/v1/requests/2030-0000123-4/requester/views", "intake"),
        ("GET", "/api/v1/requests/2030-0000123-4/attachments", "intake"),
        ("POST", "/api/v1/citizens/caller-checks", "intake"),
        ("GET", "/api/v1/citizens/me", "intake"),
        ("PATCH", "/api/v1/citizens/me", "intake"),
        ("POST", "/api/v1/citizens/me/phone-changes", "intake"),
        ("POST", "/api/v1/auth/revoke", "intake"),
        ("POST", "/api/v1/attachments", "intake"),
        ("GET", "/api/v1/attachments/0b6f8a52-3c1d-5e47-a9d0-6f2e8b1c4d73", "intake"),
        ("POST", "/api/v1/reports", "intake"),
        # A request opened by its reference and tracking code (no account).
        ("POST", "/api/v1/tracking", "intake"),
        ("POST", "/api/v1/tracking/chase", "intake"),
        ("POST", "/api/v1/requests/JO-2030-000123/chase", "intake"),
        ("GET", "/api/v1/reports/7K3QD-M2X9P-4WQ8R-Z1C5N", "integrity"),
        ("GET", "/api/v1/reports", "intake"),
        ("GET", "/api/v1/entities", "routing"),
        ("POST", "/api/v1/entities", "routing"),
        ("GET", "/api/v1/governorates", "routing"),
        ("GET", "/api/v1/sectors/health", "routing"),
        ("GET", "/api/v1/classifications", "routing"),
        ("GET", "/api/v1/directory/people", "routing"),
        ("GET", "/api/v1/staff/me", "routing"),
        ("GET", "/api/v1/inbox", "routing"),
        ("GET", "/api/v1/inbox/triage", "routing"),
        ("GET", "/api/v1/cases/JO-2030-000123", "routing"),
        ("GET", "/api/v1/cases/JO-2030-000123/timeline", "routing"),
        ("POST", "/api/v1/staff/auth/token", "routing"),
        ("GET", "/api/v1/sla/JO-1", "sla"),
        ("GET", "/api/v1/holidays", "sla"),
        ("GET", "/api/v1/calendar/working-days", "sla"),
        ("GET", "/api/v1/notifications", "notify"),
        ("GET", "/api/v1/notifications/0b6f8a52-3c1d-5e47-a9d0-6f2e8b1c4d73", "notify"),
        ("POST", "/api/v1/notifications/0b6f8a52-3c1d-5e47-a9d0-6f2e8b1c4d73/retry", "notify"),
        # The SMS gateway's delivery receipts (signed; no token).
        ("POST", "/api/v1/notifications/sms/receipts", "notify"),
        # The preview of an answer's message to the requester.
        ("POST", "/api/v1/notifications/previews/response", "notify"),
        ("GET", "/api/v1/integrity/inbox", "integrity"),
        ("GET", "/api/v1/integrity/public-key", "integrity"),
        ("POST", "/api/v1/integrity/inbox/E-1/acknowledgement", "integrity"),
        ("GET", "/api/v1/analytics/kpis", "analytics"),
        ("GET", "/api/v1/analytics/reports", "analytics"),
        ("GET", "/api/v1/analytics/live", "analytics"),
        ("GET", "/api/v1/analytics/dashboard", "analytics"),
        ("GET", "/api/v1/analytics/open-data/monthly", "analytics"),
        ("GET", "/api/v1/analytics/published-reports/6f1c2b9e", "analytics"),
        ("GET", "/dashboard/static/vendor/echarts.common.min.js", "analytics"),
        ("GET", "/dashboard", "analytics"),
        ("GET", "/dashboard/static/app.js", "analytics"),
    ],
)
def test_each_public_path_has_its_service(method: str, path: str, service: str) -> None:
    route = resolve(method, path)
    assert route is not None
    assert route.service == service


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_case_handling_actions_go_to_routing_not_intake(action: str) -> None:
    route = resolve("POST", f"/api/v1/requests/JO-2030-000123/{action}")
    assert route is not None
    assert route.service == "routing"


def test_every_case_handling_path_of_routing_goes_to_routing() -> None:
    """The table's hand-kept list of actions names each of routing's `/requests/…` paths."""
    paths: list[tuple[str, str]] = []
    for api_route in cases_router.routes:
        if isinstance(api_route, APIRoute):
            assert api_route.methods is not None  # an APIRoute always has its methods
            paths += [(method, api_route.path) for method in api_route.methods]
    assert ("POST", "/api/v1/requests/{reference}/comment") in paths
    for method, path in paths:
        route = resolve(method, path.replace("{reference}", "2030-0000123-4"))
        assert route is not None, path
        assert route.service == "routing", path


@pytest.mark.parametrize(
    "path",
    [
        "/", "/api", "/api/v1", "/api/v1/", "/api/v2/requests", "/api/v1/requestsx",
        "/api/v1/unknown", "/livez", "/readyz", "/metrics", "/ops/clock", "/openapi.json",
        "/dashboardx", "/internal/v1/staff/standing", "/api/v1/casesx",
    ],
)
def test_paths_outside_the_table_are_unknown(path: str) -> None:
    assert resolve("GET", path) is None


def test_files_get_the_larger_cap_and_nothing_else_does() -> None:
    reports = resolve("POST", "/api/v1/reports")
    assert reports is not None
    assert reports.body_cap is BodyCap.upload
    attachment = resolve("POST", "/api/v1/requests/JO-1/attachments")
    assert attachment is not None
    assert attachment.body_cap is BodyCap.upload
    upload = resolve("POST", "/api/v1/attachments")
    assert upload is not None
    assert upload.body_cap is BodyCap.upload
    submission = resolve("POST", "/api/v1/requests")
    assert submission is not None
    assert submission.body_cap is BodyCap.default
    report_status = resolve("GET", "/api/v1/reports/R-1")
    assert report_status is not None
    assert report_status.body_cap is BodyCap.default


@pytest.mark.parametrize("name", SERVICES)
def test_every_public_path_a_service_serves_is_routed_to_it(name: str) -> None:
    # A path the table sends elsewhere (or nowhere) would answer 404 and vanish from the docs.
    definition = definition_of(name)
    app = create_service_app(definition, definition.load_settings(environment="test"))
    misrouted = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith(("/api/v1/", "/dashboard")):
            continue  # the service's own (health, metrics, clock, internal): never public
        concrete = re.sub(r"\{[^}]+\}", "X-1", path)
        for method in item:
            route = resolve(method.upper(), concrete)
            if route is None or route.service != name:
                misrouted.append((method, path, route and route.service))
    assert misrouted == []


def test_every_service_is_in_the_table() -> None:
    assert services_in(ROUTES) == {
        "intake", "routing", "sla", "notify", "integrity", "analytics"
    }


def test_a_reports_status_is_integritys_while_submitting_one_is_intakes() -> None:
    status = resolve("GET", "/api/v1/reports/7K3QD-M2X9P-4WQ8R-Z1C5N")
    submit = resolve("POST", "/api/v1/reports")
    assert status is not None
    assert submit is not None
    assert (status.service, submit.service) == ("integrity", "intake")
    # Nothing else under /reports moves: a status is read, never written, through integrity.
    for method, path in (("POST", "/api/v1/reports/7K3QD-M2X9P-4WQ8R-Z1C5N"),
                         ("GET", "/api/v1/reports/7K3QD/extra")):
        route = resolve(method, path)
        assert route is not None
        assert route.service == "intake"
