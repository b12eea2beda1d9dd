"""Intake's settings refuse development secrets in production; its API is documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.intake.main import DEFINITION
from shared.auth import KeySet, generate_signing_key
from tests.intake.conftest import IntakeUnderTest


def test_production_refuses_every_development_secret_and_a_per_replica_rate_limit(
    tmp_path: Path,
) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeySet.of(generate_signing_key("prod-1")).to_jwks()))
    production = {"environment": "production", "jwt_public_keys_file": jwks,
                  "database_url": "postgresql+asyncpg://db/bkh", "amqp_url": "amqp://mq/"}
    with pytest.raises(ValueError, match="BKH_LINK_SECRET") as refused:
        DEFINITION.load_settings(**production)
    for variable in ("BKH_CODE_SECRET", "BKH_CIVIL_REGISTRY_SECRET", "BKH_CIVIL_REGISTRY_URL",
                     "BKH_RATE_LIMIT_STORAGE_URI"):
        assert variable in str(refused.value)
    settings = DEFINITION.load_settings(
        **production, link_secret="l" * 40, code_secret="c" * 40,
        civil_registry_secret="from-the-registry", civil_registry_url="https://cr.gov.jo",
        rate_limit_storage_uri="redis://redis:6379",
    )
    assert settings.production
    assert "c" * 40 not in repr(settings)  # secrets stay out of logs and tracebacks


async def test_every_public_path_of_intake_is_in_its_openapi_document(
    intake: IntakeUnderTest,
) -> None:
    document = (await intake.client.get("/openapi.json")).json()
    paths = set(document["paths"])
    assert {
        "/api/v1/citizens/registrations", "/api/v1/citizens/registrations/{registration_id}/verify",
        "/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/requests",
        "/api/v1/requests/{reference}", "/api/v1/requests/{reference}/rating",
        "/api/v1/requests/{reference}/rating/link", "/api/v1/requests/{reference}/information",
        "/api/v1/citizens/caller-checks", "/api/v1/requests/{reference}/caller-lookup",
        "/api/v1/attachments",
    } <= paths
