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
    # The civil registry (in development and tests: `services.intake.registry_simulator`).
    civil_registry_url: str = "http://127.0.0.1:8190"
    civil_registry_client_id: str = "bekhedmetkom"
    civil_registry_secret: str = Field(default=DEVELOPMENT_REGISTRY_SECRET, repr=False)
    civil_registry_timeout_s: float = Field(default=5.0, gt=0)

    # One-time SMS codes: stored only as an HMAC under this key.
    code_secret: str = Field(default=DEVELOPMENT_CODE_SECRET, repr=False)
    # One-tap rating links (`shared.links`); notify signs them with the same secret.
    link_secret: str = Field(default=DEVELOPMENT_LINK_SECRET, repr=False)

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
        return problems
