"""The intake service's settings: the only reader of `BKH_*` variables for intake.

Secrets have development defaults so that `make run` works out of the box; production refuses
every one of them (`production_problems`), so a deployment that forgot one does not start.
"""

from __future__ import annotations

from pydantic import Field

from shared.links import DEVELOPMENT_SECRET as DEVELOPMENT_LINK_SECRET
from shared.links import secret_problem
from shared.settings import BaseServiceSettings

DEVELOPMENT_CODE_SECRET = "development-only-code-secret-change-me"
DEVELOPMENT_REGISTRY_SECRET = "development-only-registry-secret"


class IntakeSettings(BaseServiceSettings):
    # The civil registry (in development and tests: `simulators.civil_registry`).
    civil_registry_url: str = "http://127.0.0.1:8190"
    civil_registry_client_id: str = "bekhedmetkom"
    civil_registry_secret: str = Field(default=DEVELOPMENT_REGISTRY_SECRET, repr=False)
    civil_registry_timeout_s: float = Field(default=5.0, gt=0)

    # One-time SMS codes: stored only as an HMAC under this key (which also keys the
    # pseudonyms of phone and identity numbers in the rate-limit storage).
    code_secret: str = Field(default=DEVELOPMENT_CODE_SECRET, repr=False)
    code_length: int = Field(default=5, ge=4, le=8)
    code_lifetime_s: int = Field(default=600, ge=60)
    code_max_wrong_attempts: int = Field(default=3, ge=1)
    registration_lifetime_s: int = Field(default=24 * 3600, ge=600)

    # Rate limits (the `limits` notation). The storage must be shared by every replica:
    # Redis (`redis://host:6379`) when distributed; `memory://` only for one process.
    rate_limit_storage_uri: str = "memory://"
    rate_limit_prefix: str = "intake"
    codes_per_phone: str = "3/10 minutes;10/day"
    codes_per_identity: str = "5/hour;10/day"
    codes_per_address: str = "20/hour;100/day"
    codes_everywhere: str = "300/minute;5000/hour"  # the global SMS budget
    sign_ins_per_identity: str = "10/15 minutes;50/day"
    tracking_tries_per_address: str = "30/hour;100/day"
    tracking_tries_per_reference: str = "10/hour;30/day"
    # How many proxies in front of intake append to X-Forwarded-For besides the gateway
    # (the gateway's own BKH_TRUSTED_PROXIES, so one variable sets both).
    trusted_proxies: int = Field(default=0, ge=0)

    # Sign-in: access tokens live `shared.auth.DEFAULT_LIFETIME`; refresh tokens rotate.
    refresh_token_lifetime_s: int = Field(default=30 * 24 * 3600, ge=3600)

    # Call-center identity checks are good for one call.
    caller_check_lifetime_s: int = Field(default=30 * 60, ge=60)

    # Attachments: checked by content, images re-encoded without their metadata.
    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    attachments_per_request: int = Field(default=5, ge=0, le=20)
    # One-tap rating links (`shared.links`); notify signs them with the same secret.
    link_secret: str = Field(default=DEVELOPMENT_LINK_SECRET, repr=False)

    # Corruption reports (`services.intake.reports`): integrity publishes the commission's
    # public key; intake asks for it again after this long (a rotation takes effect then).
    integrity_url: str = "http://127.0.0.1:8105"
    integrity_timeout_s: float = Field(default=5.0, gt=0)
    commission_key_max_age_s: float = Field(default=60.0, ge=0)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if link_problem := secret_problem(self.link_secret, production=True):
            problems.append(link_problem)
        if self.code_secret == DEVELOPMENT_CODE_SECRET or len(self.code_secret.encode()) < 32:
            problems.append("BKH_CODE_SECRET must be set to at least 32 random bytes")
        if self.civil_registry_secret == DEVELOPMENT_REGISTRY_SECRET:
            problems.append("BKH_CIVIL_REGISTRY_SECRET must be set")
        if not self.civil_registry_url.startswith("https://"):
            problems.append("BKH_CIVIL_REGISTRY_URL must be an https:// URL")
        if self.rate_limit_storage_uri.removeprefix("async+").startswith("memory"):
            problems.append("BKH_RATE_LIMIT_STORAGE_URI must be shared by replicas (redis://)")
        return problems
