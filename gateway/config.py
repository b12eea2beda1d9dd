"""The gateway's settings (`BKH_` environment variables, like every service's).

What the gateway needs to know: where each service listens, how long to wait for it, how large a
body may be, who may call from a browser, and how hard one client may push. It owns no database
and no bus, so it derives from `PlatformSettings`, not from a service's settings.

It must never read `os.environ` elsewhere: everything configurable is a field here.
"""

from __future__ import annotations

from limits import parse_many
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from services import SERVICES
from shared.settings import PlatformSettings

MIB = 1024 * 1024

SERVICE_NAMES = SERVICES


class RouteLimit(BaseModel):
    """A stricter limit for one route, counted per client on top of the global one.

    `limit` uses the limits library's notation, several joined by `;` ("5/minute;20/hour").
    `methods` empty means every method; `path` is a regular expression matched from the start.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    methods: frozenset[str] = frozenset()
    path: str
    limit: str

    @field_validator("limit")
    @classmethod
    def _parsable(cls, value: str) -> str:
        parse_many(value)  # raises ValueError on a typo, at start-up rather than at first hit
        return value

    @field_validator("methods")
    @classmethod
    def _upper(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(m.upper() for m in value)


# What an attacker would hammer: guessing passwords, SMS codes, flooding registrations (each
# costs an SMS) and reports (each is sealed and filed for the commission).
DEFAULT_ROUTE_LIMITS: tuple[RouteLimit, ...] = (
    RouteLimit(name="auth-token", methods=frozenset({"POST"}),
               path=r"^/api/v1/auth/token/?$", limit="10/minute;60/hour"),
    RouteLimit(name="auth-refresh", methods=frozenset({"POST"}),
               path=r"^/api/v1/auth/refresh/?$", limit="30/minute"),
    RouteLimit(name="registrations", methods=frozenset({"POST"}),
               path=r"^/api/v1/citizens/registrations(/.*)?$", limit="5/minute;30/hour"),
    RouteLimit(name="reports", methods=frozenset({"POST"}),
               path=r"^/api/v1/reports/?$", limit="5/minute;20/hour"),
    RouteLimit(name="staff-auth-token", methods=frozenset({"POST"}),
               path=r"^/api/v1/staff/auth/token/?$", limit="10/minute;60/hour"),
    RouteLimit(name="staff-auth-refresh", methods=frozenset({"POST"}),
               path=r"^/api/v1/staff/auth/refresh/?$", limit="30/minute"),
)


class GatewaySettings(PlatformSettings):
    service_name: str = "gateway"

    # Where to listen (BKH_HOST; BKH_PORT, or PORT as platforms and the README say).
    host: str = "127.0.0.1"
    port: int = Field(
        default=8000, ge=1, le=65535, validation_alias=AliasChoices("BKH_PORT", "PORT", "port")
    )
    # Where people reach the platform (BKH_PUBLIC_BASE_URL, the address links in messages
    # point at). Empty: this gateway's own address, `public_url`.
    public_base_url: str = ""

    # Base URLs of the services (BKH_INTAKE_URL, …). The path a client asked for is appended
    # unchanged: each service serves its public routes under /api/v1 itself.
    intake_url: str = "http://127.0.0.1:8101"
    routing_url: str = "http://127.0.0.1:8102"
    sla_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    integrity_url: str = "http://127.0.0.1:8105"
    analytics_url: str = "http://127.0.0.1:8106"

    # Browser origins allowed to call the API (BKH_CORS_ORIGINS='["https://portal.gov.jo"]').
    cors_origins: list[str] = Field(default_factory=list)

    # Bodies: the default cap, and the larger one for routes that carry files (attachments,
    # corruption reports with evidence); which routes those are is said in gateway/routes.py.
    max_body_bytes: int = Field(default=1 * MIB, ge=0)
    max_upload_bytes: int = Field(default=20 * MIB, ge=0)

    # Upstream HTTP: every wait is bounded, so a stuck service costs a 503/504, never a hang.
    upstream_connect_timeout_s: float = Field(default=2.0, gt=0)
    upstream_read_timeout_s: float = Field(default=30.0, gt=0)
    upstream_write_timeout_s: float = Field(default=30.0, gt=0)
    upstream_pool_timeout_s: float = Field(default=5.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    # As many kept alive as may be open: a connection closed after each burst and opened anew
    # costs a TCP handshake and the pool's bookkeeping on the hot path.
    upstream_max_keepalive_connections: int = Field(default=200, ge=0)
    # Health probes and the OpenAPI fetch answer a person or a kubelet: keep them short.
    upstream_probe_timeout_s: float = Field(default=2.0, gt=0)

    # How many proxies in front of the gateway (the ingress: 1) append to X-Forwarded-For.
    # 0 means the gateway is the edge: a client's own X-Forwarded-For is discarded, not trusted.
    trusted_proxies: int = Field(default=0, ge=0)

    # Rate limits (shared.ratelimit). "memory://" counts per replica; "redis://host:6379"
    # shares the counts between replicas.
    rate_limit_enabled: bool = True
    rate_limit_storage_uri: str = "memory://"
    rate_limit_per_client: str = "600/minute"
    rate_limit_routes: tuple[RouteLimit, ...] = DEFAULT_ROUTE_LIMITS

    # Ask routing, for every staff token, whether the person still stands as the token says
    # (gateway/standing.py). Off only for tests of the gateway alone; production refuses off.
    staff_standing_check: bool = True
    # While routing cannot answer, a token it vouched for this recently still goes through:
    # the longest a person deactivated during a routing outage keeps working.
    staff_standing_grace_s: float = Field(default=60.0, ge=0, le=600)

    # The merged OpenAPI document is rebuilt at most this often.
    openapi_cache_s: float = Field(default=30.0, ge=0)

    @property
    def public_url(self) -> str:
        """The public base URL: the configured one, else the address served here (a wildcard
        host is reached on this machine as 127.0.0.1)."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @field_validator("rate_limit_per_client")
    @classmethod
    def _parsable(cls, value: str) -> str:
        parse_many(value)
        return value

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not self.staff_standing_check:
            problems.append("BKH_STAFF_STANDING_CHECK must be on (deactivations count at once)")
        return problems

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url") for name in SERVICE_NAMES}

