"""Settings: one class per service, all deriving from `BaseServiceSettings`.

Nothing else in a service reads `os.environ`. Variables are prefixed `BKH_` (for example
`BKH_DATABASE_URL`); each process runs one service, so the prefix needs no service name.
Production refuses the conveniences of development: a simulated clock, generated dev keys,
SQLite, the in-process bus. The gateway stores nothing, so it derives from `PlatformSettings`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Environment(StrEnum):
    production = "production"
    staging = "staging"
    development = "development"
    test = "test"


class PlatformSettings(BaseSettings):
    """What every process of the platform needs, the gateway included."""

    model_config = SettingsConfigDict(env_prefix="BKH_", extra="ignore", frozen=True)

    service_name: str = ""
    environment: Environment = Environment.development

    # Tokens: verification keys (a JWKS file) for every process; the signing key for issuers.
    jwt_issuer: str = "https://bekhedmetkom.gov.jo"
    jwt_audience: str = "bekhedmetkom-api"
    jwt_public_keys_file: Path | None = None
    jwt_signing_key_file: Path | None = None

    simulated_clock: bool = False
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.environment is Environment.production

    def production_problems(self) -> list[str]:
        """What production refuses; subclasses add their own."""
        problems = []
        if self.simulated_clock:
            problems.append("BKH_SIMULATED_CLOCK must be off")
        if self.jwt_public_keys_file is None:
            problems.append("BKH_JWT_PUBLIC_KEYS_FILE must be set (no generated dev keys)")
        return problems

    @model_validator(mode="after")
    def _refuse_development_conveniences_in_production(self) -> Self:
        if self.production and (problems := self.production_problems()):
            raise ValueError("production settings refused: " + "; ".join(problems))
        return self


class BaseServiceSettings(PlatformSettings):
    """A service: it also owns a database schema and talks on the bus."""

    # Where the embedded mode keeps its SQLite files.
    data_dir: Path = VAR_DIR / "embedded"
    # Storage: PostgreSQL (postgresql+asyncpg://…) in the distributed mode; SQLite otherwise.
    database_url: str = ""
    # The PostgreSQL schema this service owns; the service name unless told otherwise.
    database_schema: str = ""
    database_pool_size: int = Field(default=10, ge=1)
    # How long a migration waits for a database still starting (a release's Job can run
    # before its PostgreSQL cluster answers), trying again with growing pauses.
    migrate_wait_s: float = Field(default=600.0, ge=0)

    # Messaging: an AMQP URL selects RabbitMQ; empty selects the in-process bus.
    amqp_url: str = ""
    bus_namespace: str = "bkh"
    consumer_prefetch: int = Field(default=512, ge=1)
    consumer_batch_size: int = Field(default=256, ge=1)
    # Delays between attempts of a failing handler; after the last, the dead-letter queue.
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 300_000)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)

    run_workers: bool = True  # relay + consumers in the API process (one process per service)

    @property
    def schema_name(self) -> str:
        return self.database_schema or self.service_name

    # Never in production: there a service without a URL is refused, not given SQLite.
    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Self:
        if not self.database_url and self.service_name and not self.production:
            path = self.data_dir / f"{self.service_name}.db"
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{path}")
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not self.database_url.startswith("postgresql"):
            problems.append("BKH_DATABASE_URL must point at PostgreSQL")
        if not self.amqp_url:
            problems.append("BKH_AMQP_URL must point at RabbitMQ")
        return problems
